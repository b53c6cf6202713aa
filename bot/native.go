package bot

import (
	"context"
	"log/slog"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/settings"
)

// nativeEvent is a Discord Scheduled Event as the bot follows it, on the
// tick goroutine. Each tick reconciles it with disgo's cache, so a status
// change is noticed by the first tick after it arrives.
type nativeEvent struct {
	guild, id, channel snowflake.ID
	title              string
	status             discord.ScheduledEventStatus
	scheduledStart     time.Time
	scheduledEnd       *time.Time
	activeAt           time.Time // first tick that saw it ACTIVE
	completedAt        time.Time // first tick that saw it COMPLETED (or deleted while running)
	gone               bool      // canceled, or deleted before it ran

	recording bool
	start     time.Time // fixed once recording begins
}

func (b *Bot) nativeGuild(gid snowflake.ID) *settings.Guild {
	g, ok := b.reg.Get(uint64(gid))
	if !ok || !g.NativeEvents {
		return nil
	}
	return g
}

// reconcileNative brings b.native up to date with the cache.
func (b *Bot) reconcileNative(now time.Time) {
	seen := map[snowflake.ID]bool{}
	for _, g := range b.reg.All() {
		if !g.NativeEvents {
			continue
		}
		for e := range b.client.Caches.GuildScheduledEvents(snowflake.ID(g.ID)) {
			if e.EntityType == discord.ScheduledEventEntityTypeExternal || e.ChannelID == nil {
				continue // not in a voice channel: nothing to measure (logged when created)
			}
			seen[e.ID] = true
			n, ok := b.native[e.ID]
			if !ok {
				n = &nativeEvent{guild: e.GuildID, id: e.ID}
				b.native[e.ID] = n
			}
			switch e.Status {
			case discord.ScheduledEventStatusActive:
				if n.activeAt.IsZero() {
					n.activeAt = now
				}
			case discord.ScheduledEventStatusCompleted:
				if n.completedAt.IsZero() {
					n.completedAt = now
				}
			case discord.ScheduledEventStatusCancelled:
				n.gone = true
			}
			n.title, n.channel, n.status = e.Name, *e.ChannelID, e.Status
			n.scheduledStart, n.scheduledEnd = e.ScheduledStartTime, e.ScheduledEndTime
		}
	}
	for id, n := range b.native {
		if seen[id] {
			continue
		}
		if n.recording && n.completedAt.IsZero() && n.status == discord.ScheduledEventStatusActive {
			n.completedAt = now // deleted while running: it ends now
		} else if n.completedAt.IsZero() {
			n.gone = true
		}
	}
}

func (b *Bot) onScheduledEventCreate(e *events.GuildScheduledEventCreate) {
	ev := e.GuildScheduled
	if b.nativeGuild(ev.GuildID) == nil {
		return
	}
	if ev.EntityType == discord.ScheduledEventEntityTypeExternal || ev.ChannelID == nil {
		b.log.Info("ignoring a scheduled event in an external location", slog.String("event", ev.Name), slog.Uint64("event_id", uint64(ev.ID)))
		return
	}
	go b.loadInterested(e.Client(), ev.GuildID, ev.ID)
}

func (b *Bot) onScheduledEventUserAdd(e *events.GuildScheduledEventUserAdd) {
	if b.nativeGuild(e.GuildID) == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.AddInterested(ctx, uint64(e.GuildID), uint64(e.GuildScheduledEventID), uint64(e.UserID)); err != nil {
		b.log.Error("store interested user", slog.Any("error", err))
	}
}

func (b *Bot) onScheduledEventUserRemove(e *events.GuildScheduledEventUserRemove) {
	if b.nativeGuild(e.GuildID) == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.RemoveInterested(ctx, uint64(e.GuildScheduledEventID), uint64(e.UserID)); err != nil {
		b.log.Error("remove interested user", slog.Any("error", err))
	}
}

// loadNative fetches who is interested in each of a guild's scheduled
// events when the guild arrives (the gateway only sends changes after).
func (b *Bot) loadNative(client *disgobot.Client, gid snowflake.ID) {
	if b.nativeGuild(gid) == nil {
		return
	}
	for e := range client.Caches.GuildScheduledEvents(gid) {
		if e.ChannelID != nil {
			b.loadInterested(client, gid, e.ID)
		}
	}
}

// loadInterested pages through GET .../scheduled-events/{id}/users.
func (b *Bot) loadInterested(client *disgobot.Client, gid, eventID snowflake.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var users []uint64
	var after snowflake.ID
	for {
		page, err := client.Rest.GetGuildScheduledEventUsers(gid, eventID, false, 0, after, 100, rest.WithCtx(ctx))
		if err != nil {
			b.log.Error("fetch interested users", slog.Uint64("event_id", uint64(eventID)), slog.Any("error", err))
			return
		}
		for _, u := range page {
			users = append(users, uint64(u.User.ID))
			after = max(after, u.User.ID)
		}
		if len(page) < 100 {
			break
		}
	}
	if err := b.store.SetInterested(ctx, uint64(gid), uint64(eventID), users); err != nil {
		b.log.Error("store interested users", slog.Any("error", err))
	}
}

// nativeRuns returns the native events to sample now, and ends (and queues
// the report of) those that finished.
func (b *Bot) nativeRuns(ctx context.Context, now time.Time) []run {
	b.reconcileNative(now)
	var out []run
	for id, n := range b.native {
		g := b.nativeGuild(n.guild)
		if g == nil {
			continue
		}
		if !n.recording {
			if n.gone || n.status == discord.ScheduledEventStatusCompleted {
				delete(b.native, id) // over before it ran: nothing to record or report
				continue
			}
			auto := n.status == discord.ScheduledEventStatusScheduled && !now.Before(n.scheduledStart) &&
				(n.scheduledEnd == nil || now.Before(*n.scheduledEnd))
			if n.status != discord.ScheduledEventStatusActive && !auto {
				continue
			}
			start := n.scheduledStart
			if n.status == discord.ScheduledEventStatusActive && !n.activeAt.IsZero() && n.activeAt.Before(start) {
				start = n.activeAt // started by hand before its time
			}
			if start.After(now) {
				start = now
			}
			n.recording, n.start = true, start.Truncate(time.Minute)
			// After a restart the event may already have a row: keep its
			// start, or the minutes would shift.
			if o, err := b.store.NativeOccurrence(ctx, uint64(n.guild), uint64(n.id)); err == nil {
				n.start = o.Start
			}
		}
		occ := attendance.Occurrence{Schedule: n.title, Start: n.start.In(g.Location), End: n.plannedEnd().In(g.Location)}
		k := occKey{guild: n.guild, schedule: n.title, start: n.start.Unix(), native: n.id}
		end, over := n.endAt(now)
		if n.gone && !over {
			// Canceled after recording began on its own (never started by
			// hand): a canceled event posts nothing.
			delete(b.native, id)
			b.dropOccurrence(k)
			continue
		}
		if over {
			occ.End = end.In(g.Location)
			delete(b.native, id)
			b.finishNative(g, k, occ)
			continue
		}
		out = append(out, run{guild: g, key: k, occ: occ, watched: map[snowflake.ID]bool{n.channel: true}})
	}
	return out
}

// plannedEnd is the scheduled end, or a day after the start when the event
// has none (Discord does not require one for voice events).
func (n *nativeEvent) plannedEnd() time.Time {
	if n.scheduledEnd != nil && n.scheduledEnd.After(n.start) {
		return n.scheduledEnd.Truncate(time.Minute)
	}
	return n.start.Add(attendance.MaxDuration)
}

// endAt says whether a recording event is over at now, and when it ended:
// completed (rounded up to the minute it happened in), its scheduled end
// passed, or a day went by.
func (n *nativeEvent) endAt(now time.Time) (time.Time, bool) {
	if !n.completedAt.IsZero() {
		end := n.completedAt.Truncate(time.Minute)
		if end.Before(n.completedAt) {
			end = end.Add(time.Minute)
		}
		if first := n.start.Add(time.Minute); end.Before(first) {
			end = first // an occurrence is at least a minute long
		}
		return end, true
	}
	if p := n.plannedEnd(); !now.Before(p) {
		return p, true
	}
	return time.Time{}, false
}

// finishNative queues the report of a native event that ended.
func (b *Bot) finishNative(g *settings.Guild, k occKey, occ attendance.Occurrence) {
	b.poll.occs[k] = occ
	j := b.eventJob(g, g.ReportChannels, k, 0, occ)
	prepare := j.prepare
	j.prepare = func(ctx context.Context) error {
		if err := prepare(ctx); err != nil {
			return err
		}
		id := b.poll.occIDs[k]
		return b.store.SetOccurrenceEnd(ctx, id, occ.End)
	}
	b.enqueue(j)
}

// dropOccurrence forgets a native event canceled after it began recording
// on its own, and deletes what was stored of it.
func (b *Bot) dropOccurrence(k occKey) {
	p := &b.poll
	for sk := range p.pending {
		if sk.occ == k {
			delete(p.pending, sk)
		}
	}
	for ck := range p.pendCov {
		if ck.occ == k {
			delete(p.pendCov, ck)
		}
	}
	if id, ok := p.occIDs[k]; ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.store.DeleteOccurrence(ctx, id); err != nil {
			b.log.Error("delete canceled event", slog.Any("error", err))
		}
	}
	delete(p.occs, k)
	delete(p.occIDs, k)
	delete(p.covered, k)
}
