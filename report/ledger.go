package report

import (
	"context"
	"slices"
	"time"

	"rollcall/settings"
	"rollcall/store"
)

// LedgerLookback is how far back streaks and role rules look: a streak is
// events in a row within the last year, and no rule's window is longer.
const LedgerLookback = 366 * 24 * time.Hour

// Ledger is every member's record of a span of events, in time order:
// which events they were expected at (on the roster, not excused) and which
// they attended, judged with the same rules and corrections as every
// report. Streaks and role rules read it. Memory is a few bits per member
// and event, and the counted minutes of the events attended.
type Ledger struct {
	Events  []LedgerEvent // ended events, oldest first
	Members map[uint64]store.Member
	people  map[uint64]*record
	// Since is the start of the span: what the ledger cannot know about
	// before it.
	Since time.Time
}

// LedgerEvent is one event of a ledger.
type LedgerEvent struct {
	Start    time.Time
	Schedule string // "" for a Discord Scheduled Event (its title is not a schedule)
}

type record struct {
	expected, attended bits
	minutes            map[int]int // event index -> counted minutes, attended events only
}

type bits []uint64

func (b *bits) set(i int) {
	for len(*b) <= i/64 {
		*b = append(*b, 0)
	}
	(*b)[i/64] |= 1 << (i % 64)
}

func (b bits) has(i int) bool { return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }

// LoadLedger reads the events that started in [from, to) and ended by to,
// with userID non-zero only that member's record.
func LoadLedger(ctx context.Context, src Source, g *settings.Guild, from, to time.Time, userID uint64) (*Ledger, error) {
	ms, err := src.Members(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	l := &Ledger{Members: make(map[uint64]store.Member, len(ms)), people: map[uint64]*record{}, Since: from}
	for _, m := range ms {
		l.Members[m.UserID] = m
	}
	type judged struct {
		ev       LedgerEvent
		expected []uint64
		attended map[uint64]int
	}
	var evs []judged
	err = src.EachOccurrence(ctx, g.ID, from, to, userID, func(rec store.OccurrenceRecord) error {
		if rec.End.After(to) {
			return nil // still running: it would break every streak
		}
		ev := judgeEvent(g, rec, l.Members, nil)
		j := judged{ev: LedgerEvent{Start: rec.Start}, attended: map[uint64]int{}}
		if !rec.Native() {
			j.ev.Schedule = rec.Schedule
		}
		for _, r := range ev.Rows {
			if r.Class.Attends() {
				j.attended[r.Member.UserID] = r.Counted
			}
		}
		for _, m := range ms {
			if userID != 0 && m.UserID != userID {
				continue
			}
			_, came := j.attended[m.UserID]
			if came || Expected(g, m, rec.Start) && !slices.Contains(rec.Excused, m.UserID) {
				j.expected = append(j.expected, m.UserID)
			}
		}
		evs = append(evs, j)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(evs, func(a, b judged) int { return a.ev.Start.Compare(b.ev.Start) })
	for i, j := range evs {
		l.Events = append(l.Events, j.ev)
		for _, id := range j.expected {
			r := l.person(id)
			r.expected.set(i)
			if n, ok := j.attended[id]; ok {
				r.attended.set(i)
				r.minutes[i] = n
			}
		}
	}
	return l, nil
}

func (l *Ledger) person(id uint64) *record {
	r, ok := l.people[id]
	if !ok {
		r = &record{minutes: map[int]int{}}
		l.people[id] = r
	}
	return r
}

// Streak is a member's events in a row of one schedule ("" for every event).
type Streak struct {
	Schedule      string
	Current, Best int
}

// Streak counts a member's events in a row, of schedule or (schedule "")
// of every event: the current run from the latest event back, and the
// longest in the ledger. Events the member was not expected at (excused,
// not yet a member) neither count nor break a run.
func (l *Ledger) Streak(userID uint64, schedule string) Streak {
	s := Streak{Schedule: schedule}
	r, ok := l.people[userID]
	if !ok {
		return s
	}
	run, current := 0, -1
	for i := len(l.Events) - 1; i >= 0; i-- {
		if schedule != "" && l.Events[i].Schedule != schedule || !r.expected.has(i) {
			continue
		}
		if r.attended.has(i) {
			run++
		} else {
			if current < 0 {
				current = run
			}
			run = 0
		}
		s.Best = max(s.Best, run)
	}
	if current < 0 {
		current = run
	}
	s.Current = current
	return s
}

// Schedules are the schedules with events in the ledger, in the order of
// their first event.
func (l *Ledger) Schedules() []string {
	var out []string
	for _, e := range l.Events {
		if e.Schedule != "" && !slices.Contains(out, e.Schedule) {
			out = append(out, e.Schedule)
		}
	}
	return out
}

// LastOf counts the member's attended events among the last n events they
// were expected at (of schedule, or every event), and how many such events
// there were (fewer than n for a newcomer).
func (l *Ledger) LastOf(userID uint64, schedule string, n int) (attended, of int) {
	r, ok := l.people[userID]
	if !ok {
		return 0, 0
	}
	for i := len(l.Events) - 1; i >= 0 && of < n; i-- {
		if schedule != "" && l.Events[i].Schedule != schedule || !r.expected.has(i) {
			continue
		}
		of++
		if r.attended.has(i) {
			attended++
		}
	}
	return attended, of
}

// MinutesSince sums the member's counted minutes of events starting at or
// after t.
func (l *Ledger) MinutesSince(userID uint64, t time.Time) int {
	r, ok := l.people[userID]
	if !ok {
		return 0
	}
	n := 0
	for i, m := range r.minutes {
		if !l.Events[i].Start.Before(t) {
			n += m
		}
	}
	return n
}

// LastAttended is the start of the member's latest attended event; zero if
// none in the ledger.
func (l *Ledger) LastAttended(userID uint64) time.Time {
	r, ok := l.people[userID]
	if !ok {
		return time.Time{}
	}
	for i := len(l.Events) - 1; i >= 0; i-- {
		if r.attended.has(i) {
			return l.Events[i].Start
		}
	}
	return time.Time{}
}
