package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
	"rollcall/store"
	"rollcall/store/storetest"
)

func TestHistory(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	var ids []int64
	for d := range 3 {
		id, err := s.EnsureOccurrence(ctx, 1, "x", t0.AddDate(0, 0, d), t0.AddDate(0, 0, d).Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := s.EnsureOccurrence(ctx, 2, "x", t0, t0.Add(time.Hour)); err != nil { // another guild
		t.Fatal(err)
	}
	err := s.Record(ctx, []store.Sample{
		{OccurrenceID: ids[0], UserID: 5, Chunk: 0, Present: 0b111, SelfDeaf: 0b1},
		{OccurrenceID: ids[0], UserID: 6, Chunk: 0, Present: 0b1},
		{OccurrenceID: ids[2], UserID: 5, Chunk: 0, Present: 0b11},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, 1, t0, t0.AddDate(0, 0, 7), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || len(h[0].Seen) != 2 || len(h[1].Seen) != 0 || len(h[2].Seen) != 1 {
		t.Fatalf("history shape: %+v", h)
	}
	if h[0].Seen[0].UserID != 5 || h[0].Seen[0].Masks.Present.Count() != 3 || !h[0].Seen[0].Masks.SelfDeaf.Has(0) {
		t.Fatalf("member 5: %+v", h[0].Seen[0])
	}
	one, err := s.History(ctx, 1, t0, t0.AddDate(0, 0, 7), 6)
	if err != nil || len(one) != 3 || len(one[0].Seen) != 1 || one[0].Seen[0].UserID != 6 || len(one[2].Seen) != 0 {
		t.Fatalf("member 6 only: %+v %v", one, err)
	}
	// A real Discord id does not fit in 32 bits: the filter must compare as bigint.
	const snowflake = 1575858691113222153
	if err := s.Record(ctx, []store.Sample{{OccurrenceID: ids[1], UserID: snowflake, Present: 0b1}}, nil); err != nil {
		t.Fatal(err)
	}
	big, err := s.History(ctx, 1, t0, t0.AddDate(0, 0, 7), snowflake)
	if err != nil || len(big) != 3 || len(big[1].Seen) != 1 || big[1].Seen[0].UserID != snowflake || len(big[0].Seen) != 0 {
		t.Fatalf("member %d only: %+v %v", uint64(snowflake), big, err)
	}
}

// A period is read by its span of occurrence ids where that is cheaper
// than their list: what else falls in the span, another guild's events and
// the guild's own outside the period, with their attendance, corrections
// and excuses, stays out of every record, and the period's own come in.
func TestHistoryKeepsToThePeriodsOccurrences(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	const member = 5
	occ := func(guild uint64, day int) int64 {
		t.Helper()
		id, err := s.EnsureOccurrence(ctx, guild, "x", t0.AddDate(0, 0, day), t0.AddDate(0, 0, day).Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Ids interleave: in, other guild, outside the period, in, other guild.
	in0, other0, outside, in1, other1 := occ(1, 0), occ(2, 0), occ(1, 30), occ(1, 1), occ(2, 1)
	want := map[int64]int{in0: 1, in1: 2} // minutes recorded in the period's events
	var samples []store.Sample
	for id, minutes := range map[int64]int{in0: 1, other0: 7, outside: 9, in1: 2, other1: 11} {
		samples = append(samples, store.Sample{OccurrenceID: id, UserID: member, Present: 1<<minutes - 1})
	}
	if err := s.Record(ctx, samples, nil); err != nil {
		t.Fatal(err)
	}
	// A correction and an excuse for each event, the period's first too.
	for _, id := range []int64{in0, other0, outside, other1} {
		guild := uint64(2)
		if id == outside || id == in0 {
			guild = 1
		}
		err := s.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
			if _, err := q.AddCorrection(ctx, store.Correction{OccurrenceID: id, GuildID: guild, UserID: member, From: 0, To: 30, Add: true,
				Reason: "r", CreatedAt: t0}, store.Change{Action: "correct"}); err != nil {
				return err
			}
			_, err := q.AddExcuse(ctx, store.Excuse{GuildID: guild, UserID: member, OccurrenceID: id, Reason: "r", CreatedAt: t0},
				store.Change{Action: "excuse add"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Leaves: the other guild's over the whole period, this guild's over
	// the event outside it only.
	for _, leave := range []store.Excuse{
		{GuildID: 2, UserID: member, From: t0.AddDate(0, 0, -1), To: t0.AddDate(0, 0, 7), Reason: "leave", CreatedAt: t0},
		{GuildID: 1, UserID: member, From: t0.AddDate(0, 0, 29), To: t0.AddDate(0, 0, 31), Reason: "leave", CreatedAt: t0},
	} {
		if err := s.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
			_, err := q.AddExcuse(ctx, leave, store.Change{Action: "excuse add"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(how string, recs []store.OccurrenceRecord) {
		t.Helper()
		if len(recs) != len(want) {
			t.Fatalf("%s: %d records, want %d: %+v", how, len(recs), len(want), recs)
		}
		for _, r := range recs {
			n, ok := want[r.ID]
			switch {
			case !ok:
				t.Errorf("%s: occurrence %d is not in the period", how, r.ID)
			case len(r.Seen) != 1 || r.Seen[0].UserID != member || r.Seen[0].Masks.Present.Count() != n:
				t.Errorf("%s: occurrence %d seen %+v, want member %d for %d minutes", how, r.ID, r.Seen, member, n)
			case r.ID == in0 && (len(r.Corrections) != 1 || r.Corrections[0].OccurrenceID != in0 || len(r.Excused) != 1 || r.Excused[0] != member):
				t.Errorf("%s: the period's first event has corrections %+v and excused %v; want its own correction and member %d", how, r.Corrections, r.Excused, member)
			case r.ID != in0 && (len(r.Corrections) != 0 || len(r.Excused) != 0):
				t.Errorf("%s: occurrence %d has corrections %+v and excused %v of other events", how, r.ID, r.Corrections, r.Excused)
			}
		}
	}
	from, to := t0, t0.AddDate(0, 0, 7)
	for _, user := range []uint64{0, member} {
		h, err := s.History(ctx, 1, from, to, user)
		if err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("History of member %d", user), h)
	}
	var among []store.OccurrenceRecord
	err := s.Snapshot(ctx, func(q *store.Queries) error {
		return q.EachOccurrenceAmong(ctx, 1, from, to, func() []uint64 { return []uint64{member} }, func(r store.OccurrenceRecord) error {
			among = append(among, r)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	check("EachOccurrenceAmong", among)
}

// One member's history (attendance_seen_of) shows exactly what everyone's
// (the attendance_seen view) shows of that member, and so does their data
// export: compacted rows, log rows, both for one chunk, a member twice in
// one log row, voice states, and another guild's events and log between.
func TestOneMembersHistoryAgreesWithEveryones(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	var mine []int64
	for d := range 3 {
		for _, guild := range []uint64{1, 2} {
			id, err := s.EnsureOccurrence(ctx, guild, "x", t0.AddDate(0, 0, d), t0.AddDate(0, 0, d).Add(2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if guild == 1 {
				mine = append(mine, id)
			}
			var samples []store.Sample
			for u := uint64(10); u < 13; u++ {
				k := id*7 + int64(u)
				samples = append(samples,
					store.Sample{OccurrenceID: id, UserID: u, Chunk: 0, Present: uint64(k), SelfMute: uint64(k % 3), ServerDeaf: uint64(k % 5)},
					store.Sample{OccurrenceID: id, UserID: u, Chunk: 1, Present: uint64(k) << 3, SelfDeaf: uint64(k % 2)})
			}
			if err := s.Record(ctx, samples, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first two events of the guild compacted, then more recorded in
	// the second: one chunk in attendance and in the log.
	if _, err := s.Compact(ctx, mine[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, []store.Sample{{OccurrenceID: mine[1], UserID: 10, Chunk: 0, Present: 1 << 40, ServerMute: 1 << 40}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO attendance_log (occurrence_id, chunk, user_ids, present, self_mute)
		VALUES ($1, 0, '{11,12,11}', '{256,1,512}', '{0,0,512}')`, mine[2]); err != nil {
		t.Fatal(err)
	}

	from, to := t0, t0.AddDate(0, 0, 3)
	all, err := s.History(ctx, 1, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	for u := uint64(10); u < 14; u++ { // 13 was never seen
		want := map[int64]attendance.Masks{}
		for _, r := range all {
			for _, seen := range r.Seen {
				if seen.UserID == u {
					want[r.ID] = seen.Masks
				}
			}
		}
		one, err := s.History(ctx, 1, from, to, u)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]attendance.Masks{}
		for _, r := range one {
			for _, seen := range r.Seen {
				if seen.UserID != u {
					t.Errorf("member %d's history has member %d in occurrence %d", u, seen.UserID, r.ID)
				}
				got[r.ID] = seen.Masks
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("member %d alone:\n%+v\nin everyone's:\n%+v", u, got, want)
		}
		var d store.MemberData
		if err := s.Snapshot(ctx, func(q *store.Queries) error {
			var err error
			d, err = q.MemberData(ctx, 1, u)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		exported := map[int64]attendance.Masks{}
		for _, a := range d.Attendance {
			exported[a.Occurrence.ID] = a.Seen.Masks
		}
		if !reflect.DeepEqual(exported, want) {
			t.Errorf("member %d's export:\n%+v\nin everyone's history:\n%+v", u, exported, want)
		}
	}
	if m := all[2].Seen[1].Masks; all[2].Seen[1].UserID != 11 || !m.Present.Has(8) || !m.Present.Has(9) || !m.SelfMute.Has(9) {
		t.Errorf("member 11 twice in a log row: %+v, want minutes 8 and 9 present and 9 muted, OR-ed with the rest", all[2].Seen[1])
	}
}
