package bot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/config"
	"rollcall/render"
	"rollcall/store"
)

// lateAfter is how long after an event's end a report counts as late (the
// bot was down when the event ended) and says so.
const lateAfter = 2 * time.Minute

// reportJob is a post-event report still to be delivered.
type reportJob struct {
	guild    *config.Guild
	schedule *config.Schedule
	occID    int64
	occ      attendance.Occurrence
	tries    int
}

type reporter struct {
	lastTick time.Time
	queue    []*reportJob
	queued   map[int64]bool
}

func (r *reporter) init() { r.queued = map[int64]bool{} }

func (b *Bot) enqueue(j *reportJob) {
	if b.reports.queued[j.occID] {
		return
	}
	b.reports.queued[j.occID] = true
	b.reports.queue = append(b.reports.queue, j)
}

// catchUp queues the reports of occurrences that ended within the catch-up
// window while no process posted them (the bot was down). Posts already
// made are skipped by their claims, so this is safe to run on every start.
func (b *Bot) catchUp(ctx context.Context, now time.Time) {
	b.reports.lastTick = now
	window := b.cfg.CatchUp.D()
	for i := range b.cfg.Guilds {
		g := &b.cfg.Guilds[i]
		occs, err := b.store.Occurrences(ctx, uint64(g.ID), now.Add(-window-attendance.MaxDuration), now)
		if err != nil {
			b.log.Error("look for missed reports", slog.Uint64("guild_id", uint64(g.ID)), slog.Any("error", err))
			continue
		}
		for _, o := range occs {
			if o.End.After(now) || !o.End.After(now.Add(-window)) {
				continue
			}
			s := g.ScheduleByName(o.Schedule)
			if s == nil {
				continue // a schedule since removed from the config
			}
			b.enqueue(&reportJob{guild: g, schedule: s, occID: o.ID,
				occ: attendance.Occurrence{Schedule: o.Schedule, Start: o.Start.In(g.Location), End: o.End.In(g.Location)}})
		}
	}
	b.deliver(ctx, now)
}

// reportEnded queues the occurrences that ended since the last tick and
// tries to deliver everything queued.
func (b *Bot) reportEnded(ctx context.Context, now time.Time) {
	last := b.reports.lastTick
	b.reports.lastTick = now
	if !last.IsZero() {
		for i := range b.cfg.Guilds {
			g := &b.cfg.Guilds[i]
			for j := range g.Schedules {
				s := &g.Schedules[j]
				for _, occ := range s.Parsed.Occurrences(last.Add(-attendance.MaxDuration), now) {
					if !occ.End.After(last) || occ.End.After(now) {
						continue
					}
					id, ok := b.poll.occIDs[occKey{guild: snowflake.ID(g.ID), schedule: occ.Schedule, start: occ.Start.Unix()}]
					if !ok {
						continue // never sampled by this process; catch-up on the next start covers it
					}
					b.enqueue(&reportJob{guild: g, schedule: s, occID: id, occ: occ})
				}
			}
		}
	}
	b.deliver(ctx, now)
}

// deliver tries every queued report; what fails stays queued for the next
// tick. A report is only dropped once every channel has it.
func (b *Bot) deliver(ctx context.Context, now time.Time) {
	var keep []*reportJob
	for _, j := range b.reports.queue {
		if err := b.postReport(ctx, j, now); err != nil {
			j.tries++
			b.log.Error("post report (will retry)", slog.String("schedule", j.occ.Schedule),
				slog.Time("start", j.occ.Start), slog.Int("tries", j.tries), slog.Any("error", err))
			keep = append(keep, j)
			continue
		}
		delete(b.reports.queued, j.occID)
	}
	b.reports.queue = keep
}

func (b *Bot) postReport(ctx context.Context, j *reportJob, now time.Time) error {
	var msg *reportMessage
	for _, ch := range j.schedule.ReportChannels {
		post := store.Post{Kind: "event", Ref: strconv.FormatInt(j.occID, 10), ChannelID: uint64(ch), GuildID: uint64(j.guild.ID)}
		ok, err := b.store.ClaimPost(ctx, post, b.inst, now, b.lease)
		if err != nil {
			return err
		}
		if !ok {
			continue // posted already, or another process is posting it
		}
		if msg == nil {
			if msg, err = b.buildReport(ctx, j, now); err != nil {
				_ = b.store.ReleasePost(ctx, post, b.inst)
				return err
			}
		}
		var id snowflake.ID
		if !msg.skip {
			m, err := b.client.Rest.CreateMessage(snowflake.ID(ch), msg.create(), rest.WithCtx(ctx))
			if err != nil {
				_ = b.store.ReleasePost(ctx, post, b.inst)
				return fmt.Errorf("send to channel %d: %w", ch, err)
			}
			id = m.ID
		}
		if err := b.store.MarkPosted(ctx, post, uint64(id), now); err != nil {
			// The message is out; the claim expires unmarked, and after the
			// lease another process could post it again. Log loudly.
			b.log.Error("report posted but not marked", slog.Int64("occurrence_id", j.occID), slog.Any("error", err))
		}
		b.log.Info("report posted", slog.String("schedule", j.occ.Schedule), slog.Time("start", j.occ.Start),
			slog.Uint64("channel_id", uint64(ch)), slog.Bool("skipped_empty", msg.skip))
	}
	return nil
}

// reportMessage is a built report, sent to one or more channels.
type reportMessage struct {
	skip  bool
	embed discord.Embed
	text  string
	png   []byte
	file  string // name of an attached text table, when too long for the embed
	table string
}

func (m *reportMessage) create() discord.MessageCreate {
	mc := discord.MessageCreate{Content: m.text}
	if m.embed.Title != "" {
		mc.Embeds = []discord.Embed{m.embed}
	}
	if m.png != nil {
		mc.Files = append(mc.Files, discord.NewFile("timeline.png", "", bytes.NewReader(m.png)))
	}
	if m.file != "" {
		mc.Files = append(mc.Files, discord.NewFile(m.file, "", strings.NewReader(m.table)))
	}
	return mc
}

// Stats are an occurrence's key numbers.
type Stats struct {
	Participants int
	Total        int
	Median       float64
}

func (b *Bot) buildReport(ctx context.Context, j *reportJob, now time.Time) (*reportMessage, error) {
	members, cov, err := b.store.OccurrenceMinutes(ctx, j.occID)
	if err != nil {
		return nil, err
	}
	occ := j.occ
	occ.Start, occ.End = occ.Start.In(j.guild.Location), occ.End.In(j.guild.Location)
	title := fmt.Sprintf("%s · %s", occ.Schedule, FormatSpan(occ.Start, occ.End))
	var notes []string
	if gaps := Gaps(cov, occ); gaps != "" {
		notes = append(notes, "Not recorded "+gaps+" (the bot was offline).")
	}
	if now.Sub(occ.End) > lateAfter {
		notes = append(notes, fmt.Sprintf("Posted late (%s after the event ended): the bot was offline.", roundDuration(now.Sub(occ.End))))
	}
	chart := render.TimelineChart{Title: title, Start: occ.Start, Minutes: occ.Minutes()}
	var counts []int
	for _, m := range members {
		if m.Member.Bot || m.Present.Count() == 0 {
			continue
		}
		counts = append(counts, m.Present.Count())
		chart.Rows = append(chart.Rows, render.TimelineRow{
			Name:    m.Member.Name(),
			Present: m.Present.Bools(occ.Minutes()),
			Muted:   m.SelfMute.Or(m.SelfDeaf).Bools(occ.Minutes()),
		})
	}
	st := Stats{Participants: len(counts), Median: attendance.Median(counts)}
	for _, c := range counts {
		st.Total += c
	}
	if st.Participants == 0 {
		if j.guild.EmptyReport == "skip" {
			return &reportMessage{skip: true}, nil
		}
		text := fmt.Sprintf("**%s**: nobody attended.", title)
		if len(notes) > 0 {
			text += "\n" + strings.Join(notes, "\n")
		}
		return &reportMessage{text: text}, nil
	}
	embed := discord.Embed{
		Title: title,
		Color: 0x5865F2,
		Fields: []discord.EmbedField{
			{Name: "Participants", Value: strconv.Itoa(st.Participants), Inline: ptr(true)},
			{Name: "Total minutes", Value: strconv.Itoa(st.Total), Inline: ptr(true)},
			{Name: "Median minutes", Value: FormatNumber(st.Median), Inline: ptr(true)},
		},
	}
	if len(notes) > 0 {
		embed.Footer = &discord.EmbedFooter{Text: strings.Join(notes, " ")}
	}
	msg := &reportMessage{embed: embed}
	png, err := b.renderTimeline(ctx, chart)
	if err == nil {
		msg.png = png
		msg.embed.Image = &discord.EmbedResource{URL: "attachment://timeline.png"}
		return msg, nil
	}
	// A report is never lost to a chart: fall back to a text table.
	b.log.Error("render timeline: posting a text table instead", slog.Any("error", err))
	table := render.TimelineText(chart)
	if len(table)+8 <= 4096 {
		msg.embed.Description = "```\n" + table + "\n```"
	} else {
		msg.file, msg.table = "timeline.txt", table
		msg.embed.Description = "The chart could not be drawn; the timeline is attached as text."
	}
	return msg, nil
}

func (b *Bot) renderTimeline(ctx context.Context, c render.TimelineChart) ([]byte, error) {
	if b.render == nil {
		return nil, render.ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return b.render.Timeline(ctx, c)
}

func ptr[T any](v T) *T { return &v }

// FormatSpan writes an occurrence as people read it, under the date it
// started on: "Fri 27 Nov 2026, 23:00–00:00 MSK".
func FormatSpan(start, end time.Time) string {
	return start.Format("Mon 2 Jan 2006, 15:04") + "–" + end.Format("15:04 MST")
}

// FormatNumber prints 12 as "12" and 12.5 as "12.5".
func FormatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func roundDuration(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Gaps lists the minutes of occ not in cov as local clock ranges, e.g.
// "16:20–16:24, 16:50–17:00". Empty when every minute was sampled.
func Gaps(cov attendance.Mask, occ attendance.Occurrence) string {
	var parts []string
	n := occ.Minutes()
	for m := 0; m < n; {
		if cov.Has(m) {
			m++
			continue
		}
		from := m
		for m < n && !cov.Has(m) {
			m++
		}
		parts = append(parts, occ.Start.Add(time.Duration(from)*time.Minute).Format("15:04")+"–"+occ.Start.Add(time.Duration(m)*time.Minute).Format("15:04"))
	}
	return strings.Join(parts, ", ")
}
