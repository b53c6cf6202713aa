// Package report turns stored attendance into the numbers people read: one
// event's rows and classes, a period's leaderboard, who never came. The
// post-event and weekly posts and every slash command use it, so they all
// apply the same rules and the same roster to the same data.
package report

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"rollcall/attendance"
	"rollcall/settings"
	"rollcall/store"
)

// Source is what the reports read: *store.Queries, best inside a
// store.Snapshot so every statement sees the same data.
type Source interface {
	EachOccurrence(ctx context.Context, guildID uint64, from, to time.Time, userID uint64, fn func(store.OccurrenceRecord) error) error
	Members(ctx context.Context, guildID uint64) ([]store.Member, error)
}

// Paused reports whether a member chose not to be recorded (or the guild
// records nobody who did not opt in): reports leave them out entirely.
func Paused(g *settings.Guild, m store.Member) bool {
	if m.Paused != nil {
		return *m.Paused
	}
	return g.PausedByDefault
}

// Expected reports whether m is on the roster for an occurrence starting at
// t: not a bot, not paused, a member at that time, and holding a roster
// role if the guild limits the roster.
func Expected(g *settings.Guild, m store.Member, t time.Time) bool {
	return onRoster(g, &m) && memberAt(&m, t)
}

// onRoster is the part of Expected that does not depend on the time.
func onRoster(g *settings.Guild, m *store.Member) bool {
	if m.Bot || Paused(g, *m) {
		return false
	}
	if len(g.RosterRoles) == 0 {
		return true
	}
	for _, r := range m.Roles {
		if slices.Contains(g.RosterRoles, r) {
			return true
		}
	}
	return false
}

// memberAt reports whether m was a member of the guild at t.
func memberAt(m *store.Member, t time.Time) bool {
	return (m.JoinedAt.IsZero() || !m.JoinedAt.After(t)) && (m.LeftAt.IsZero() || m.LeftAt.After(t))
}

// Row is one member in one event.
type Row struct {
	Member  store.Member
	Masks   attendance.Masks
	Class   attendance.Class
	Counted int
}

// Event is one occurrence with everyone who was seen in it.
type Event struct {
	Occurrence   store.Occurrence // times in the guild's zone
	Minutes      int
	Rows         []Row // attendees (class != no-show) first by arrival, then no-shows seen briefly
	Participants int
	Total        int
	Median       float64
	Classes      map[attendance.Class]int
	// Native events only: who marked "Interested" and came, who did not
	// come, and who came without marking it. By name.
	InterestedCame, InterestedMissed, CameUninterested []store.Member
	// Corrected: a moderator corrected the minutes of someone in it.
	Corrected bool
	// Excused are the members excused from it, by name.
	Excused []store.Member
}

// BuildEvent judges one occurrence record, rows in timeline order.
func BuildEvent(g *settings.Guild, rec store.OccurrenceRecord, members map[uint64]store.Member) Event {
	ev := judgeEvent(g, rec, members, nil)
	sortRows(ev.Rows)
	return ev
}

// judgeEvent is BuildEvent without ordering the rows: a period's totals do
// not need the order, and sorting a big guild's events was a large part of
// a week's cost. The rows are appended to rows[:0], so a period can reuse
// one buffer for all its events.
func judgeEvent(g *settings.Guild, rec store.OccurrenceRecord, members map[uint64]store.Member, rows []Row) Event {
	o := rec.Occurrence
	o.Start, o.End = o.Start.In(g.Location), o.End.In(g.Location)
	ev := Event{Occurrence: o, Minutes: int(o.End.Sub(o.Start) / time.Minute), Classes: map[attendance.Class]int{}, Rows: rows[:0]}
	rules := g.RulesFor(o.Schedule, o.Native())
	var counts []int
	for _, s := range corrected(rec) {
		m, ok := members[s.UserID]
		if !ok {
			m = store.Member{GuildID: g.ID, UserID: s.UserID}
		}
		if m.Bot || Paused(g, m) {
			continue
		}
		class, n := rules.Classify(s.Masks, ev.Minutes)
		ev.Rows = append(ev.Rows, Row{Member: m, Masks: s.Masks, Class: class, Counted: n})
		if class.Attends() {
			ev.Classes[class]++
			counts = append(counts, n)
			ev.Total += n
		}
	}
	ev.Participants = len(counts)
	ev.Corrected = len(rec.Corrections) > 0
	for _, id := range rec.Excused {
		if m, ok := members[id]; ok && !m.Bot && !Paused(g, m) {
			ev.Excused = append(ev.Excused, m)
		} else if !ok {
			ev.Excused = append(ev.Excused, store.Member{GuildID: g.ID, UserID: id})
		}
	}
	sortByName(ev.Excused)
	ev.Median = attendance.Median(counts)
	if o.Native() {
		ev.groupInterest(g, rec.Interested, members)
	}
	return ev
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Total is one member's figures over a period.
type Total struct {
	Member   store.Member
	Minutes  int
	Attended int       // events attended (any class but no-show)
	Expected int       // events held while the member was on the roster
	LastSeen time.Time // start of the last attended event; zero if none
	Excused  int       // events the member was excused from (not expected there)
}

// Rate is attended over expected, 0 when nothing was expected.
func (t Total) Rate() float64 {
	if t.Expected == 0 {
		return 0
	}
	return float64(t.Attended) / float64(t.Expected)
}

// Period is everything about a span of time in one guild.
type Period struct {
	From, To time.Time // in the guild's zone
	// Events are in time order, with their figures; their rows (not in
	// timeline order) and interest lists only in a one-member period.
	Events []Event
	Totals []Total        // attendees ranked by minutes, then name
	Never  []store.Member // expected at least once, attended none; by name
	// Excused are the members excused from an event of the period they did
	// not come to, by name, with their figures (Total.Excused).
	Excused []Total
	// Paused counts the current members who paused recording (or never
	// opted in): moderators see only how many.
	Paused  int
	Members map[uint64]store.Member
	byUser  map[uint64]Total
}

// Held is the number of events in the period.
func (p *Period) Held() int { return len(p.Events) }

// Build loads and judges [from, to), streaming the period's attendance:
// memory holds the members and one event's rows, not the period's. With
// userID non-zero only that member's attendance is loaded and judged (the
// roster still decides Expected), and each event keeps that member's row and
// interest; otherwise events keep only their figures.
func Build(ctx context.Context, src Source, g *settings.Guild, from, to time.Time, userID uint64) (*Period, error) {
	ms, err := src.Members(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	p := &Period{From: from.In(g.Location), To: to.In(g.Location), Members: make(map[uint64]store.Member, len(ms))}
	for _, m := range ms {
		p.Members[m.UserID] = m
		if !m.Bot && m.LeftAt.IsZero() && Paused(g, m) {
			p.Paused++
		}
	}
	totals := map[uint64]*Total{}
	total := func(id uint64) *Total {
		t, ok := totals[id]
		if !ok {
			m, known := p.Members[id]
			if !known {
				m = store.Member{GuildID: g.ID, UserID: id}
			}
			t = &Total{Member: m}
			totals[id] = t
		}
		return t
	}
	// The members the period's absences are counted for: those on the
	// roster, everyone or the one asked about, each with their total once
	// it exists. The loop over them runs for every event.
	type rosterMember struct {
		m *store.Member
		t *Total
	}
	var roster []rosterMember
	for i := range ms {
		if (userID == 0 || ms[i].UserID == userID) && onRoster(g, &ms[i]) {
			roster = append(roster, rosterMember{m: &ms[i]})
		}
	}
	attended, excused := map[uint64]bool{}, map[uint64]bool{}
	var rows []Row // one event's, reused when the events keep none
	err = src.EachOccurrence(ctx, g.ID, from, to, userID, func(rec store.OccurrenceRecord) error {
		ev := judgeEvent(g, rec, p.Members, rows)
		clear(attended)
		clear(excused)
		for _, r := range ev.Rows {
			if !r.Class.Attends() {
				continue
			}
			t := total(r.Member.UserID)
			t.Minutes += r.Counted
			t.Attended++
			if ev.Occurrence.Start.After(t.LastSeen) {
				t.LastSeen = ev.Occurrence.Start
			}
			attended[r.Member.UserID] = true
			if !Expected(g, r.Member, rec.Start) {
				t.Expected++ // came though not on the roster: held for them too
			}
		}
		for _, id := range rec.Excused {
			excused[id] = true
		}
		for i := range roster {
			r := &roster[i]
			if !memberAt(r.m, rec.Start) {
				continue
			}
			if r.t == nil {
				r.t = total(r.m.UserID)
			}
			if excused[r.m.UserID] && !attended[r.m.UserID] {
				// Excused and away: not expected, not absent. (Excused but
				// there anyway counts as any attendance.)
				r.t.Excused++
				continue
			}
			r.t.Expected++
		}
		if userID == 0 {
			// The period's totals have what they need; keeping every
			// event's rows is what made a five-year /absent take 600 MB.
			rows = ev.Rows
			ev.Rows, ev.InterestedCame, ev.InterestedMissed, ev.CameUninterested = nil, nil, nil, nil
		}
		p.Events = append(p.Events, ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(p.Events, func(a, b Event) int { return a.Occurrence.Start.Compare(b.Occurrence.Start) })
	p.byUser = make(map[uint64]Total, len(totals))
	for id, t := range totals {
		p.byUser[id] = *t
		if t.Attended > 0 {
			p.Totals = append(p.Totals, *t)
		} else if t.Expected > 0 {
			p.Never = append(p.Never, t.Member)
		}
		if t.Excused > 0 {
			p.Excused = append(p.Excused, *t)
		}
	}
	slices.SortFunc(p.Totals, func(a, b Total) int {
		if c := cmp.Compare(b.Minutes, a.Minutes); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Member.Name()), strings.ToLower(b.Member.Name()))
	})
	sortByName(p.Never)
	slices.SortFunc(p.Excused, func(a, b Total) int {
		return strings.Compare(strings.ToLower(a.Member.Name()), strings.ToLower(b.Member.Name()))
	})
	return p, nil
}

// TotalFor returns the member's total in p (zero figures if absent).
func (p *Period) TotalFor(userID uint64) Total {
	if t, ok := p.byUser[userID]; ok {
		return t
	}
	m, ok := p.Members[userID]
	if !ok {
		m = store.Member{UserID: userID}
	}
	return Total{Member: m}
}

// groupInterest splits people by interest and attendance, with the same
// rules as everything else: "came" means attended by the schedule's rules.
func (ev *Event) groupInterest(g *settings.Guild, interested []uint64, members map[uint64]store.Member) {
	came := map[uint64]bool{}
	for _, r := range ev.Rows {
		if r.Class.Attends() {
			came[r.Member.UserID] = true
		}
	}
	isInterested := map[uint64]bool{}
	for _, id := range interested {
		isInterested[id] = true
		m, ok := members[id]
		if !ok {
			m = store.Member{GuildID: g.ID, UserID: id}
		}
		if m.Bot || Paused(g, m) {
			continue
		}
		if came[id] {
			ev.InterestedCame = append(ev.InterestedCame, m)
		} else {
			ev.InterestedMissed = append(ev.InterestedMissed, m)
		}
	}
	for _, r := range ev.Rows {
		if r.Class.Attends() && !isInterested[r.Member.UserID] {
			ev.CameUninterested = append(ev.CameUninterested, r.Member)
		}
	}
	for _, l := range [][]store.Member{ev.InterestedCame, ev.InterestedMissed, ev.CameUninterested} {
		slices.SortFunc(l, func(a, b store.Member) int {
			return strings.Compare(strings.ToLower(a.Name()), strings.ToLower(b.Name()))
		})
	}
}

// NativeHeld counts the period's Discord Scheduled Events.
func (p *Period) NativeHeld() int {
	n := 0
	for _, e := range p.Events {
		if e.Occurrence.Native() {
			n++
		}
	}
	return n
}

// sortRows orders rows as a timeline reads: attendees first, by arrival,
// then by name. The keys are computed once per row: comparing lower-cased
// names inside the sort was half the cost of a big guild's week.
func sortRows(rows []Row) {
	type key struct {
		absent, first int
		name          string
	}
	keys := make([]key, len(rows))
	idx := make([]int, len(rows))
	for i, r := range rows {
		keys[i] = key{absent: boolInt(!r.Class.Attends()), first: r.Masks.Present.First(), name: strings.ToLower(r.Member.Name())}
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ka, kb := keys[a], keys[b]
		if c := cmp.Compare(ka.absent, kb.absent); c != 0 {
			return c
		}
		if c := cmp.Compare(ka.first, kb.first); c != 0 {
			return c
		}
		return strings.Compare(ka.name, kb.name)
	})
	sorted := make([]Row, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

// corrected is what was recorded of each member with the moderators'
// corrections applied, in the order they were made; a member only a
// correction mentions gets a row of their own.
func corrected(rec store.OccurrenceRecord) []store.Seen {
	if len(rec.Corrections) == 0 {
		return rec.Seen
	}
	out := make([]store.Seen, len(rec.Seen))
	copy(out, rec.Seen)
	at := make(map[uint64]int, len(out))
	for i, s := range out {
		at[s.UserID] = i
		// The masks are shared with the record: copy before changing.
		out[i].Masks = cloneMasks(s.Masks)
	}
	for _, c := range rec.Corrections {
		i, ok := at[c.UserID]
		if !ok {
			out = append(out, store.Seen{UserID: c.UserID})
			i = len(out) - 1
			at[c.UserID] = i
		}
		out[i].Masks.Correct(c.From, c.To, c.Add)
	}
	return out
}

func cloneMasks(m attendance.Masks) attendance.Masks {
	cl := func(x attendance.Mask) attendance.Mask { return slices.Clone(x) }
	return attendance.Masks{Present: cl(m.Present), SelfMute: cl(m.SelfMute), SelfDeaf: cl(m.SelfDeaf),
		ServerMute: cl(m.ServerMute), ServerDeaf: cl(m.ServerDeaf), Added: cl(m.Added), Removed: cl(m.Removed)}
}

func sortByName(ms []store.Member) {
	slices.SortFunc(ms, func(a, b store.Member) int {
		return strings.Compare(strings.ToLower(a.Name()), strings.ToLower(b.Name()))
	})
}
