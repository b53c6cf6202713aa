// Package report turns stored attendance into the numbers people read: one
// event's rows and classes, a period's leaderboard, who never came. The
// post-event and weekly posts and every slash command use it, so they all
// apply the same rules and the same roster to the same data.
package report

import (
	"cmp"
	"context"
	"errors"
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
	// Member is one member; store.ErrNotFound if rollcall never saw them.
	Member(ctx context.Context, guildID, userID uint64) (store.Member, error)
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
	Classes      map[attendance.Class]int // nil when nobody came
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
	ev := Event{Occurrence: o, Minutes: int(o.End.Sub(o.Start) / time.Minute), Rows: rows[:0]}
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
			if ev.Classes == nil {
				// Only events someone came to need one: a member's year
				// is mostly events without them.
				ev.Classes = map[attendance.Class]int{}
			}
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
	// opted in): moderators see only how many. Not counted in a one-member
	// period.
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
	b, err := newBuilder(ctx, src, g, from, to, userID, false)
	if err != nil {
		return nil, err
	}
	if err := src.EachOccurrence(ctx, g.ID, from, to, userID, b.add); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// AbsentSource is a Source that can load fewer members as it goes:
// *store.Queries.
type AbsentSource interface {
	Source
	EachOccurrenceAmong(ctx context.Context, guildID uint64, from, to time.Time, among func() []uint64, fn func(store.OccurrenceRecord) error) error
}

// BuildAbsent is Build for who never came: it fills Never (with each one's
// Expected and Excused in TotalFor), Excused, Paused and the events, and
// stops loading a member's attendance once they attended. So Totals stay
// empty, TotalFor is whole only for the members of Never (for those of
// Excused only its Excused count is), and the events carry no figures. /absent over years reads a few events of
// most members rather than every event of all of them.
func BuildAbsent(ctx context.Context, src AbsentSource, g *settings.Guild, from, to time.Time) (*Period, error) {
	b, err := newBuilder(ctx, src, g, from, to, 0, true)
	if err != nil {
		return nil, err
	}
	if err := src.EachOccurrenceAmong(ctx, g.ID, from, to, b.undecided, b.add); err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// builder accumulates a Period from its events, in any order.
type builder struct {
	g      *settings.Guild
	userID uint64
	// absent: only who never came matters (BuildAbsent).
	absent bool
	p      *Period
	totals map[uint64]*Total
	// roster are the members the period's absences are counted for: those
	// on the roster, everyone or the one asked about, each with their
	// total once it exists. The loop over them runs for every event; with
	// absent, roster[:pending] are those who have not attended yet, the
	// only ones it runs for, and at holds each member's index.
	roster            []rosterMember
	pending           int
	at                map[uint64]int
	attended, excused map[uint64]bool
	rows              []Row // one event's, reused when the events keep none
}

type rosterMember struct {
	m *store.Member
	t *Total
}

func newBuilder(ctx context.Context, src Source, g *settings.Guild, from, to time.Time, userID uint64, absent bool) (*builder, error) {
	var ms []store.Member
	var err error
	if userID == 0 {
		ms, err = src.Members(ctx, g.ID)
	} else {
		// One member's period needs only them (Paused stays 0).
		var m store.Member
		if m, err = src.Member(ctx, g.ID, userID); err == nil {
			ms = []store.Member{m}
		} else if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	b := &builder{g: g, userID: userID, absent: absent, totals: map[uint64]*Total{},
		attended: map[uint64]bool{}, excused: map[uint64]bool{}, at: map[uint64]int{},
		p: &Period{From: from.In(g.Location), To: to.In(g.Location), Members: make(map[uint64]store.Member, len(ms))}}
	for _, m := range ms {
		b.p.Members[m.UserID] = m
		if !m.Bot && m.LeftAt.IsZero() && Paused(g, m) {
			b.p.Paused++
		}
	}
	for i := range ms {
		if (userID == 0 || ms[i].UserID == userID) && onRoster(g, &ms[i]) {
			b.at[ms[i].UserID] = len(b.roster)
			b.roster = append(b.roster, rosterMember{m: &ms[i]})
		}
	}
	b.pending = len(b.roster)
	return b, nil
}

func (b *builder) total(id uint64) *Total {
	t, ok := b.totals[id]
	if !ok {
		m, known := b.p.Members[id]
		if !known {
			m = store.Member{GuildID: b.g.ID, UserID: id}
		}
		t = &Total{Member: m}
		b.totals[id] = t
	}
	return t
}

// undecided are the members who may still turn out never to have come:
// for BuildAbsent's source, nil (everyone) until the first event is in.
func (b *builder) undecided() []uint64 {
	if len(b.p.Events) == 0 {
		return nil
	}
	out := make([]uint64, b.pending)
	for i, r := range b.roster[:b.pending] {
		out[i] = r.m.UserID
	}
	return out
}

// add judges one event into the period.
func (b *builder) add(rec store.OccurrenceRecord) error {
	g := b.g
	ev := judgeEvent(g, rec, b.p.Members, b.rows)
	clear(b.attended)
	clear(b.excused)
	for _, r := range ev.Rows {
		if !r.Class.Attends() {
			continue
		}
		t := b.total(r.Member.UserID)
		t.Minutes += r.Counted
		t.Attended++
		if ev.Occurrence.Start.After(t.LastSeen) {
			t.LastSeen = ev.Occurrence.Start
		}
		b.attended[r.Member.UserID] = true
		if !Expected(g, r.Member, rec.Start) {
			t.Expected++ // came though not on the roster: held for them too
		}
	}
	for _, id := range rec.Excused {
		b.excused[id] = true
	}
	counted := b.roster
	if b.absent {
		counted = b.roster[:b.pending]
		// Those who came before are not absent whatever happens: only
		// whether they were excused and away still counts.
		for id := range b.excused {
			if i, ok := b.at[id]; ok && i >= b.pending {
				if r := &b.roster[i]; memberAt(r.m, rec.Start) && !b.attended[id] {
					b.total(id).Excused++
				}
			}
		}
	}
	for i := range counted {
		r := &counted[i]
		if !memberAt(r.m, rec.Start) {
			continue
		}
		if r.t == nil {
			r.t = b.total(r.m.UserID)
		}
		if b.excused[r.m.UserID] && !b.attended[r.m.UserID] {
			// Excused and away: not expected, not absent. (Excused but
			// there anyway counts as any attendance.)
			r.t.Excused++
			continue
		}
		r.t.Expected++
	}
	if b.absent {
		// Who came leaves the pending part of the roster.
		for i := 0; i < b.pending; {
			if id := b.roster[i].m.UserID; b.attended[id] {
				b.pending--
				b.roster[i], b.roster[b.pending] = b.roster[b.pending], b.roster[i]
				b.at[b.roster[i].m.UserID], b.at[id] = i, b.pending
				continue
			}
			i++
		}
		b.rows = ev.Rows
		ev = Event{Occurrence: ev.Occurrence, Minutes: ev.Minutes}
	} else if b.userID == 0 {
		// The period's totals have what they need; keeping every
		// event's rows is what made a five-year /absent take 600 MB.
		b.rows = ev.Rows
		ev.Rows, ev.InterestedCame, ev.InterestedMissed, ev.CameUninterested = nil, nil, nil, nil
	}
	b.p.Events = append(b.p.Events, ev)
	return nil
}

// finish orders the events and the lists.
func (b *builder) finish() *Period {
	p := b.p
	p.Events = sortEvents(p.Events)
	p.byUser = make(map[uint64]Total, len(b.totals))
	for id, t := range b.totals {
		p.byUser[id] = *t
		if t.Attended > 0 {
			if !b.absent {
				p.Totals = append(p.Totals, *t)
			}
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
	return p
}

// sortEvents returns the events in time order, those at the same time by
// schedule. It sorts their positions and moves each event once: sorting
// the events themselves moved them many times, which was a large part of
// /member on a year.
func sortEvents(evs []Event) []Event {
	before := func(a, b *Event) int {
		if c := a.Occurrence.Start.Compare(b.Occurrence.Start); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Occurrence.Schedule, b.Occurrence.Schedule), cmp.Compare(a.Occurrence.ID, b.Occurrence.ID))
	}
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return before(&evs[a], &evs[b]) })
	sorted := make([]Event, len(evs))
	for to, from := range order {
		sorted[to] = evs[from]
	}
	return sorted
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
