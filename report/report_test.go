package report_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
	"rollcall/config"
	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/store/storetest"
)

func guildConfig(t *testing.T, extra string) *settings.Guild {
	t.Helper()
	tok := base64.RawStdEncoding.EncodeToString([]byte("1")) + ".a.b"
	c, err := config.Parse(`
[[guilds]]
id = "1"
timezone = "Europe/Berlin"
report_channels = ["2"]
`+extra+`
  [[guilds.schedules]]
  name = "raid"
  times = ["20:00"]
  voice_channel_names = ["raid"]
  count_self_deafened = false
`, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": tok, "DATABASE_URL": "postgres://x"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.Validated[0]
}

// TestBuildWeekMatchesIndependentCount seeds a week of random attendance and
// checks totals, rates and the never-attended list against a count made here
// from the raw minutes.
func TestBuildWeekMatchesIndependentCount(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	g := guildConfig(t, "")
	ber := g.Location
	week := attendance.WeekOf(time.Date(2026, 10, 28, 12, 0, 0, 0, ber), ber) // the week of the October DST change
	start := week.Start
	// Members 1-8 humans; 9 a bot; 7 joined on Wednesday; 8 left on Tuesday.
	var ms []store.Member
	for id := uint64(1); id <= 9; id++ {
		m := store.Member{UserID: id, Username: fmt.Sprintf("user%d", id), JoinedAt: start.AddDate(0, -1, 0), Bot: id == 9}
		if id == 7 {
			m.JoinedAt = start.AddDate(0, 0, 2).Add(12 * time.Hour)
		}
		ms = append(ms, m)
	}
	if err := st.UpsertMembers(ctx, 1, ms); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkLeft(ctx, 1, 8, start.AddDate(0, 0, 1).Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	wantMinutes := map[uint64]int{}
	wantAttended := map[uint64]int{}
	for d := range 7 {
		occStart := time.Date(start.Year(), start.Month(), start.Day()+d, 20, 0, 0, 0, ber)
		id, err := st.EnsureOccurrence(ctx, 1, "raid", occStart, occStart.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var samples []store.Sample
		for _, uid := range []uint64{1, 2, 3, 9} { // 4, 5, 6 never come; 9 is a bot
			if uid == 3 && d > 0 {
				continue
			}
			var present, deaf uint64
			from, to := rng.IntN(30), 30+rng.IntN(30)
			for m := from; m < to; m++ {
				present |= 1 << m
			}
			if uid == 2 {
				deaf = present & 0xFF // deafened minutes do not count in this schedule
			}
			samples = append(samples, store.Sample{OccurrenceID: id, UserID: uid, Present: present, SelfDeaf: deaf})
			if uid != 9 {
				n := 0
				for m := 0; m < 60; m++ {
					if present&^deaf&(1<<m) != 0 {
						n++
					}
				}
				wantMinutes[uid] += n
				if n > 0 {
					wantAttended[uid]++
				}
			}
		}
		if err := st.Record(ctx, samples, nil); err != nil {
			t.Fatal(err)
		}
	}
	p, err := report.Build(ctx, st, g, week.Start, week.End, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Held() != 7 {
		t.Fatalf("held = %d", p.Held())
	}
	if len(p.Totals) != 3 {
		t.Fatalf("totals: %+v", p.Totals)
	}
	for _, tot := range p.Totals {
		id := tot.Member.UserID
		if tot.Minutes != wantMinutes[id] || tot.Attended != wantAttended[id] || tot.Expected != 7 {
			t.Errorf("user %d: minutes %d attended %d expected %d; want %d %d 7", id, tot.Minutes, tot.Attended, tot.Expected, wantMinutes[id], wantAttended[id])
		}
	}
	if p.Totals[0].Minutes < p.Totals[1].Minutes || p.Totals[1].Minutes < p.Totals[2].Minutes {
		t.Error("not ranked by minutes")
	}
	// Never: 4, 5, 6 (all week), 7 (joined Wednesday: expected at 5 events), 8 (left Tuesday: expected at 1).
	var never []string
	for _, m := range p.Never {
		never = append(never, m.Username)
	}
	if fmt.Sprint(never) != "[user4 user5 user6 user7 user8]" {
		t.Fatalf("never = %v", never)
	}
	if e := p.TotalFor(7).Expected; e != 5 {
		t.Errorf("member who joined Wednesday expected at %d events, want 5", e)
	}
	if e := p.TotalFor(8).Expected; e != 1 {
		t.Errorf("member who left Tuesday expected at %d events, want 1", e)
	}
	// Per-member mode loads one member and agrees.
	one, err := report.Build(ctx, st, g, week.Start, week.End, 2)
	if err != nil || one.TotalFor(2).Minutes != wantMinutes[2] || len(one.Totals) != 1 {
		t.Fatalf("member mode: %+v %v", one.Totals, err)
	}
}

func TestRosterRoles(t *testing.T) {
	g := guildConfig(t, `roster_roles = ["77"]`)
	at := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	if report.Expected(g, store.Member{UserID: 1}, at) {
		t.Error("member without the roster role expected")
	}
	if !report.Expected(g, store.Member{UserID: 1, Roles: []uint64{5, 77}}, at) {
		t.Error("member with the roster role not expected")
	}
}

// Changing a rule changes past totals: masks are stored separately and the
// rules apply on read, so nothing is migrated.
func TestDeafenedRuleRecomputesHistory(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	counting := guildConfig(t, "")                       // count_self_deafened = false in the schedule
	counting.Schedules[0].Rules.CountSelfDeafened = true // the same guild with the rule flipped
	notCounting := guildConfig(t, "")
	start := time.Date(2026, 11, 23, 20, 0, 0, 0, notCounting.Location)
	id, err := st.EnsureOccurrence(ctx, 1, "raid", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// 60 minutes present, 25 of them self-deafened.
	if err := st.Record(ctx, []store.Sample{{OccurrenceID: id, UserID: 3, Present: 1<<60 - 1, SelfDeaf: 1<<25 - 1}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		g    *settings.Guild
		want int
	}{{counting, 60}, {notCounting, 35}} {
		p, err := report.Build(ctx, st, tc.g, start, start.AddDate(0, 0, 1), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.TotalFor(3).Minutes; got != tc.want {
			t.Errorf("count_self_deafened=%v: %d minutes, want %d", tc.g.Schedules[0].Rules.CountSelfDeafened, got, tc.want)
		}
	}
}

// BuildAbsent stops loading members once they came; whatever it skips, its
// never-attended list, their figures and the excused list are Build's.
// A hundred events (batches of 16, 64 and the rest), members who come often,
// rarely or never, a late joiner, a leaver, a bot, deafened minutes that do
// not count, excuses (of members who came before, and one event) and
// corrections (adding minutes to a member never recorded, removing all of
// a rare attender's).
func TestBuildAbsentAgreesWithBuild(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	g := guildConfig(t, "")
	ber := g.Location
	start := time.Date(2026, 6, 1, 20, 0, 0, 0, ber)
	const events = 100
	var ms []store.Member
	for id := uint64(1); id <= 24; id++ {
		m := store.Member{UserID: id, Username: fmt.Sprintf("user%02d", id), JoinedAt: start.AddDate(0, -1, 0), Bot: id == 24}
		if id == 20 {
			m.JoinedAt = start.AddDate(0, 0, 40).Add(time.Hour) // from the 42nd event
		}
		ms = append(ms, m)
	}
	if err := st.UpsertMembers(ctx, 1, ms); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkLeft(ctx, 1, 21, start.AddDate(0, 0, 30).Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// How often each comes: 1-8 often, 9-14 rarely (some only deafened,
	// which does not count), 15-23 never.
	chance := func(id uint64) float64 {
		switch {
		case id <= 8 || id == 24:
			return 0.6
		case id <= 14:
			return 0.04
		}
		return 0
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var occs []int64
	for d := range events {
		at := start.AddDate(0, 0, d)
		id, err := st.EnsureOccurrence(ctx, 1, "raid", at, at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		occs = append(occs, id)
		var samples []store.Sample
		for uid := uint64(1); uid <= 24; uid++ {
			if rng.Float64() >= chance(uid) {
				continue
			}
			present := uint64(1)<<(10+rng.IntN(50)) - 1
			var deaf uint64
			if uid >= 12 {
				deaf = present // there, but deafened throughout: a no-show here
			}
			samples = append(samples, store.Sample{OccurrenceID: id, UserID: uid, Present: present, SelfDeaf: deaf})
		}
		if err := st.Record(ctx, samples, nil); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
		change := store.Change{Action: "test"}
		for _, e := range []store.Excuse{
			{UserID: 3, OccurrenceID: occs[50]},                                     // came often before
			{UserID: 5, From: start.AddDate(0, 0, 60), To: start.AddDate(0, 0, 65)}, // a week off, late on
			{UserID: 16, OccurrenceID: occs[2]},                                     // never comes
			{UserID: 17, From: start, To: start.AddDate(0, 0, events)},              // excused from everything
		} {
			e.GuildID, e.AuthorID, e.CreatedAt = 1, 99, start
			if _, err := q.AddExcuse(ctx, e, change); err != nil {
				return err
			}
		}
		for _, c := range []store.Correction{
			{OccurrenceID: occs[90], UserID: 18, From: 0, To: 30, Add: true}, // never recorded, came in the last batch
			{OccurrenceID: occs[5], UserID: 9, From: 0, To: 60, Add: false},
		} {
			c.GuildID, c.AuthorID = 1, 99
			if _, err := q.AddCorrection(ctx, c, change); err != nil {
				return err
			}
		}
		return nil
	}))
	from, to := start, start.AddDate(0, 0, events)
	want, err := report.Build(ctx, st, g, from, to, 0)
	must(err)
	got, err := report.BuildAbsent(ctx, st, g, from, to)
	must(err)
	names := func(ms []store.Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Username)
		}
		return out
	}
	if !slices.Equal(names(got.Never), names(want.Never)) {
		t.Errorf("never attended: %v, Build says %v", names(got.Never), names(want.Never))
	}
	if len(want.Never) < 8 || slices.Contains(names(want.Never), "user18") {
		t.Fatalf("the test's world is not what it means to be: never %v", names(want.Never))
	}
	for _, m := range want.Never {
		if g, w := got.TotalFor(m.UserID), want.TotalFor(m.UserID); g.Expected != w.Expected || g.Excused != w.Excused {
			t.Errorf("%s: expected at %d, excused from %d; Build says %d and %d", m.Username, g.Expected, g.Excused, w.Expected, w.Excused)
		}
	}
	excused := func(ts []report.Total) []string {
		var out []string
		for _, t := range ts {
			out = append(out, fmt.Sprintf("%s:%d", t.Member.Username, t.Excused))
		}
		return out
	}
	if !slices.Equal(excused(got.Excused), excused(want.Excused)) {
		t.Errorf("excused: %v, Build says %v", excused(got.Excused), excused(want.Excused))
	}
	if len(want.Excused) < 3 {
		t.Fatalf("the test's world is not what it means to be: excused %v", excused(want.Excused))
	}
	if got.Held() != want.Held() || got.Paused != want.Paused {
		t.Errorf("held %d, paused %d; Build says %d and %d", got.Held(), got.Paused, want.Held(), want.Paused)
	}
}
