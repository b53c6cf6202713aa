package bot

import (
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/settings"
)

// startNative brings the followed Discord Scheduled Events up to date with
// the cache: an event that goes live (or reaches its scheduled start)
// becomes an active occurrence, one that completes ends it, one canceled
// before it was started by hand is dropped with what was recorded.
func (s *Sampler) startNative(now time.Time, b *Batch) {
	s.reconcileNative(now)
	for id, n := range s.native {
		g, ok := s.reg.Get(n.guild)
		if !ok || !g.NativeEvents || !s.owns(n.guild) {
			continue
		}
		if !n.recording {
			if n.gone || n.status == discord.ScheduledEventStatusCompleted {
				delete(s.native, id) // over before it ran: nothing to record or report
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
			// After a restart the event may already have a row: keep its
			// start, or the minutes would shift. The recorder looks it up
			// in the background; until it answers (a tick at most) the
			// event waits.
			stored, known := s.rec.NativeStart(n.guild, n.id, start.Truncate(time.Minute))
			if !known {
				continue
			}
			n.recording, n.start = true, stored
			n.key = occKey{guild: n.guild, schedule: n.title, start: n.start.Unix(), native: n.id}
		}
		occ := attendance.Occurrence{Schedule: n.title, Start: n.start.In(g.Location), End: n.plannedEnd().In(g.Location)}
		end, over := n.endAt(now)
		if n.gone && !over {
			// Canceled after recording began on its own (never started by
			// hand): a canceled event posts nothing.
			delete(s.native, id)
			s.forget(n.key)
			b.drops = append(b.drops, n.key)
			continue
		}
		if over {
			occ.End = end.In(g.Location)
			delete(s.native, id)
		}
		a, ok := s.active[n.key]
		if !ok {
			a = &activeOcc{key: n.key, channel: n.channel}
			s.active[n.key] = a
		}
		// A native event's title, channel and planned end may change
		// while it runs; its report goes to the guild's channels.
		a.occ, a.channel, a.reportTo = occ, n.channel, g.ReportChannels
	}
}

// reconcileNative updates s.native from the cache.
func (s *Sampler) reconcileNative(now time.Time) {
	seen := map[uint64]bool{}
	for _, g := range s.reg.All() {
		if !g.NativeEvents {
			continue
		}
		for _, e := range s.src.ScheduledEvents(g.ID) {
			seen[e.ID] = true
			n, ok := s.native[e.ID]
			if !ok {
				n = &nativeEvent{guild: g.ID, id: e.ID}
				s.native[e.ID] = n
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
			n.title, n.channel, n.status = e.Title, e.Channel, e.Status
			n.scheduledStart, n.scheduledEnd = e.ScheduledStart, e.ScheduledEnd
		}
	}
	for id, n := range s.native {
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

var _ = settings.FromFile
