package bot

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/render"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// lateAfter is how long after an event's end a report counts as late (the
// bot was down when the event ended) and says so.
const lateAfter = 2 * time.Minute

// postJob is an automatic post still to be delivered to some channels.
type postJob struct {
	kind, ref string // the claim's identity: "event" + occurrence id, "weekly" + guild and week
	guild     *settings.Guild
	channels  []uint64
	prepare   func(ctx context.Context) error // optional: fills ref before the first claim
	build     func(ctx context.Context, now time.Time) (*reportMessage, error)
	desc      string
	tries     int
}

type reporter struct {
	lastTick time.Time
	queue    []*postJob
	queued   map[string]bool
}

func (r *reporter) init() { r.queued = map[string]bool{} }

func (b *Bot) enqueue(j *postJob) {
	key := j.kind + "/" + j.desc
	if b.reports.queued[key] {
		return
	}
	b.reports.queued[key] = true
	b.reports.queue = append(b.reports.queue, j)
}

// eventJob posts an occurrence's report. id is its row id when known; 0
// means "the occurrence this process sampled", resolved when posting (the
// database may have been down when the event ran).
func (b *Bot) eventJob(g *settings.Guild, channels []uint64, k occKey, id int64, occ attendance.Occurrence) *postJob {
	j := &postJob{
		kind: "event", guild: g, channels: channels,
		desc: fmt.Sprintf("guild %d %s %s", g.ID, occ.Schedule, occ.Start.Format(time.RFC3339)),
	}
	j.prepare = func(ctx context.Context) error {
		if id == 0 {
			var err error
			if id, err = b.occurrenceID(ctx, k); err != nil {
				return err
			}
		}
		j.ref = strconv.FormatInt(id, 10)
		return nil
	}
	j.build = func(ctx context.Context, now time.Time) (*reportMessage, error) {
		return b.buildReport(ctx, g, id, occ, now)
	}
	return j
}

// catchUp queues the posts that fell due within the catch-up window while no
// process made them (the bot was down). Posts already made are skipped by
// their claims, so this is safe to run on every start.
func (b *Bot) catchUp(ctx context.Context, now time.Time) {
	b.reports.lastTick = now
	window := b.opts.CatchUp
	for _, g := range b.reg.All() {
		b.queueWeekly(g, now.Add(-window), now)
		occs, err := b.store.Occurrences(ctx, uint64(g.ID), now.Add(-window-attendance.MaxDuration), now)
		if err != nil {
			b.log.Error("look for missed reports", slog.Uint64("guild_id", uint64(g.ID)), slog.Any("error", err))
			continue
		}
		for _, o := range occs {
			if o.End.After(now) || !o.End.After(now.Add(-window)) {
				continue
			}
			channels := g.ReportChannels
			if !o.Native() {
				s := g.ScheduleByName(o.Schedule)
				if s == nil {
					continue // a schedule since removed from the config
				}
				channels = s.ReportChannels
			}
			occ := attendance.Occurrence{Schedule: o.Schedule, Start: o.Start.In(g.Location), End: o.End.In(g.Location)}
			k := keyOf(snowflake.ID(g.ID), occ)
			k.native = snowflake.ID(o.NativeEventID)
			b.enqueue(b.eventJob(g, channels, k, o.ID, occ))
		}
	}
	b.deliver(ctx, now)
}

// reportEnded queues what fell due since the last tick (events that ended,
// weekly reports) and tries to deliver everything queued.
func (b *Bot) reportEnded(ctx context.Context, now time.Time) {
	last := b.reports.lastTick
	b.reports.lastTick = now
	if !last.IsZero() {
		for _, g := range b.reg.All() {
			b.queueWeekly(g, last, now)
			for j := range g.Schedules {
				s := &g.Schedules[j]
				for _, occ := range s.Parsed.Occurrences(last.Add(-attendance.MaxDuration), now) {
					if !occ.End.After(last) || occ.End.After(now) {
						continue
					}
					k := keyOf(snowflake.ID(g.ID), occ)
					if _, ok := b.poll.occs[k]; !ok {
						continue // never sampled by this process; catch-up on the next start covers it
					}
					b.enqueue(b.eventJob(g, s.ReportChannels, k, 0, occ))
				}
			}
		}
	}
	b.deliver(ctx, now)
}

// deliver tries every queued post; what fails stays queued for the next
// tick. A job is only dropped once every channel has it.
func (b *Bot) deliver(ctx context.Context, now time.Time) {
	var keep []*postJob
	for _, j := range b.reports.queue {
		if err := b.post(ctx, j, now); err != nil {
			j.tries++
			b.log.Error("post report (will retry)", slog.String("kind", j.kind), slog.String("report", j.desc),
				slog.Int("tries", j.tries), slog.Any("error", err))
			keep = append(keep, j)
			continue
		}
		delete(b.reports.queued, j.kind+"/"+j.desc)
	}
	b.reports.queue = keep
}

func (b *Bot) post(ctx context.Context, j *postJob, now time.Time) error {
	if j.prepare != nil {
		if err := j.prepare(ctx); err != nil {
			return err
		}
	}
	var msg *reportMessage
	for _, ch := range j.channels {
		post := store.Post{Kind: j.kind, Ref: j.ref, ChannelID: ch, GuildID: j.guild.ID}
		ok, err := b.store.ClaimPost(ctx, post, b.inst, now, b.lease)
		if err != nil {
			return err
		}
		if !ok {
			continue // posted already, or another process is posting it
		}
		if msg == nil {
			if msg, err = j.build(ctx, now); err != nil {
				_ = b.store.ReleasePost(ctx, post, b.inst)
				return err
			}
		}
		var id snowflake.ID
		if !msg.skip {
			m, err := b.client.Rest.CreateMessage(snowflake.ID(ch), msg.create(postNonce(post)), rest.WithCtx(ctx))
			if err != nil {
				_ = b.store.ReleasePost(ctx, post, b.inst)
				return fmt.Errorf("send to channel %d: %w", ch, err)
			}
			id = m.ID
		}
		if err := b.store.MarkPosted(ctx, post, uint64(id), now); err != nil {
			// The message is out; the claim expires unmarked, and after the
			// lease another process could post it again. Log loudly.
			b.log.Error("report posted but not marked", slog.String("report", j.desc), slog.Any("error", err))
		}
		b.log.Info("report posted", slog.String("kind", j.kind), slog.String("report", j.desc),
			slog.Uint64("channel_id", uint64(ch)), slog.Bool("skipped_empty", msg.skip))
	}
	return nil
}

// reportMessage is a built report, sent to one or more channels.
type reportMessage struct {
	skip    bool
	embed   discord.Embed
	text    string
	png     []byte
	pngName string
	files   []textFile // text tables and CSVs
}

type textFile struct{ name, data string }

// postNonce is the post's idempotency key for Discord: with enforce_nonce,
// a retry after a lost answer (a 5xx after the message was created, a
// timeout) returns the message already made instead of posting twice.
func postNonce(p store.Post) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", p.Kind, p.Ref, p.ChannelID)
	return fmt.Sprintf("rc%x", h.Sum64())
}

// create builds a fresh MessageCreate: file readers are consumed by a send,
// so each channel needs its own.
func (m *reportMessage) create(nonce string) discord.MessageCreate {
	mc := discord.MessageCreate{Content: m.text, Nonce: nonce, EnforceNonce: true}
	if m.embed.Title != "" {
		mc.Embeds = []discord.Embed{m.embed}
	}
	if m.png != nil {
		mc.Files = append(mc.Files, discord.NewFile(m.pngName, "", bytes.NewReader(m.png)))
	}
	for _, f := range m.files {
		mc.Files = append(mc.Files, discord.NewFile(f.name, "", strings.NewReader(f.data)))
	}
	return mc
}

// loadEvent judges one stored occurrence with the same code the commands use.
func (b *Bot) loadEvent(ctx context.Context, g *settings.Guild, occ attendance.Occurrence, occID int64) (report.Event, error) {
	recs, err := b.store.History(ctx, uint64(g.ID), occ.Start, occ.Start.Add(time.Second), 0)
	if err != nil {
		return report.Event{}, err
	}
	members, err := b.store.Members(ctx, uint64(g.ID))
	if err != nil {
		return report.Event{}, err
	}
	byID := make(map[uint64]store.Member, len(members))
	for _, m := range members {
		byID[m.UserID] = m
	}
	for _, r := range recs {
		if r.ID == occID {
			return report.BuildEvent(g, r, byID), nil
		}
	}
	return report.Event{}, fmt.Errorf("occurrence %d: %w", occID, store.ErrNotFound)
}

func (b *Bot) buildReport(ctx context.Context, g *settings.Guild, occID int64, occ attendance.Occurrence, now time.Time) (*reportMessage, error) {
	ev, err := b.loadEvent(ctx, g, occ, occID)
	if err != nil {
		return nil, err
	}
	cov, err := b.store.CoverageOf(ctx, occID)
	if err != nil {
		return nil, err
	}
	l := b.lang(g)
	title := l.EventTitle(ev)
	var notes []string
	if gaps := view.Gaps(cov, ev.Occurrence.Start, ev.Minutes); gaps != "" {
		notes = append(notes, l.T("not_recorded", gaps))
	}
	if d := now.Sub(ev.Occurrence.End); d > lateAfter {
		notes = append(notes, l.T("posted_late", l.Duration(d)))
	}
	if ev.Participants == 0 && !ev.Occurrence.Native() {
		if g.EmptyReport == "skip" {
			return &reportMessage{skip: true}, nil
		}
		return &reportMessage{text: strings.Join(append([]string{l.T("nobody_attended", title)}, notes...), "\n")}, nil
	}
	embed := discord.Embed{Title: title, Color: view.ColorEvent, Fields: l.EventFields(ev)}
	if ev.Occurrence.Native() {
		embed.Fields = append(embed.Fields, l.InterestFields(ev)...)
	}
	if len(notes) > 0 {
		embed.Footer = &discord.EmbedFooter{Text: strings.Join(notes, " ")}
	}
	msg := &reportMessage{embed: embed}
	if ev.Participants == 0 {
		return msg, nil // a native event nobody came to: the groups say it all
	}
	chart := l.TimelineChart(ev)
	png, err := b.draw(ctx, func(ctx context.Context, r Renderer) ([]byte, error) { return r.Timeline(ctx, chart) })
	if err == nil {
		msg.png, msg.pngName = png, "timeline.png"
		msg.embed.Image = &discord.EmbedResource{URL: "attachment://timeline.png"}
		return msg, nil
	}
	// A report is never lost to a chart: fall back to a text table.
	b.log.Error("render timeline: posting a text table instead", slog.Any("error", err))
	msg.attachText(render.TimelineText(chart), "timeline.txt", l.T("chart_failed"))
	return msg, nil
}

// lang is the guild's language for automatic posts: its community locale.
func (b *Bot) lang(g *settings.Guild) view.Lang {
	locale := ""
	if guild, ok := b.client.Caches.Guild(snowflake.ID(g.ID)); ok {
		locale = guild.PreferredLocale
	}
	return view.PostLang(g.Language, locale)
}

// attachText puts a text table in the embed when it fits, else attaches it.
func (m *reportMessage) attachText(table, name, note string) {
	if len(table)+8 <= 4096-len(m.embed.Description) {
		m.embed.Description += "```\n" + table + "\n```"
		return
	}
	m.files = append(m.files, textFile{name: name, data: table})
	m.embed.Description += note
}

// draw runs one render with a deadline; without a renderer it fails at once.
func (b *Bot) draw(ctx context.Context, f func(context.Context, Renderer) ([]byte, error)) ([]byte, error) {
	if b.render == nil {
		return nil, render.ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return f(ctx, b.render)
}
