package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"rollcall/store"
	"rollcall/store/storetest"
)

// What readers see must not depend on whether the log was compacted, and
// a minute recorded after compaction (a straggler) still counts.
func TestCompactFoldsTheLogWithoutChangingWhatIsRead(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	occ, err := s.EnsureOccurrence(ctx, 1, "БЗС", start, start.Add(90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rec := func(samples ...store.Sample) {
		t.Helper()
		if err := s.Record(ctx, samples, []store.Coverage{{OccurrenceID: occ, Sampled: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	// Minute by minute as the ticks write them, the same minute twice (a
	// restart), voice states on some, a second chunk.
	rec(store.Sample{OccurrenceID: occ, UserID: 10, Present: 1 << 0}, store.Sample{OccurrenceID: occ, UserID: 11, Present: 1 << 0, SelfDeaf: 1 << 0})
	rec(store.Sample{OccurrenceID: occ, UserID: 10, Present: 1 << 1, SelfMute: 1 << 1}, store.Sample{OccurrenceID: occ, UserID: 11, Present: 1 << 1})
	rec(store.Sample{OccurrenceID: occ, UserID: 10, Present: 1 << 1})
	rec(store.Sample{OccurrenceID: occ, UserID: 10, Chunk: 1, Present: 1 << 2, ServerMute: 1 << 2, ServerDeaf: 1 << 2})

	type view struct {
		Record  store.OccurrenceRecord
		Minutes []store.MemberMinutes
		History []store.OccurrenceRecord
		One     []store.OccurrenceRecord
		Data    store.MemberData
	}
	read := func() view {
		t.Helper()
		var v view
		var err error
		if v.Record, err = s.OccurrenceRecord(ctx, occ); err != nil {
			t.Fatal(err)
		}
		if v.Minutes, _, err = s.OccurrenceMinutes(ctx, occ); err != nil {
			t.Fatal(err)
		}
		if v.History, err = s.History(ctx, 1, start, start.Add(time.Hour), 0); err != nil {
			t.Fatal(err)
		}
		if v.One, err = s.History(ctx, 1, start, start.Add(time.Hour), 10); err != nil {
			t.Fatal(err)
		}
		if v.Data, err = s.MemberData(ctx, 1, 10); err != nil {
			t.Fatal(err)
		}
		return v
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := s.Pool().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := read()
	if got := before.Record.Seen; len(got) != 2 || got[0].Masks.Present.Count() != 3 || !got[0].Masks.SelfMute.Has(1) ||
		!got[0].Masks.ServerDeaf.Has(66) || got[1].Masks.Present.Count() != 2 || !got[1].Masks.SelfDeaf.Has(0) || got[1].Masks.SelfDeaf.Has(1) {
		t.Fatalf("before compaction: %+v", got)
	}
	if n := count(`SELECT count(*) FROM attendance_log`); n != 4 {
		t.Fatalf("%d log rows, want one per Record and chunk: 4", n)
	}

	ids, err := s.EndedUncompacted(ctx, start.Add(2*time.Hour))
	if err != nil || len(ids) != 1 || ids[0] != occ {
		t.Fatalf("EndedUncompacted = %v, %v", ids, err)
	}
	if ids, _ := s.EndedUncompacted(ctx, start.Add(time.Hour)); len(ids) != 0 {
		t.Fatalf("an event still running is listed: %v", ids)
	}
	if n, err := s.Compact(ctx, []int64{occ}); err != nil || n != 3 {
		t.Fatalf("Compact = %d, %v; want 3 rows (10 in two chunks, 11)", n, err)
	}
	if n := count(`SELECT count(*) FROM attendance_log`); n != 0 {
		t.Fatalf("%d log rows left after compaction", n)
	}
	if n := count(`SELECT count(*) FROM attendance WHERE self_mute IS NULL AND self_deaf IS NULL AND server_mute IS NULL AND server_deaf IS NULL`); n != 0 {
		t.Fatalf("%d rows without voice states, want 0: each row has one", n)
	}
	if after := read(); !reflect.DeepEqual(before, after) {
		t.Fatalf("reads changed by compaction:\nbefore %+v\nafter  %+v", before, after)
	}

	// A straggler after compaction, then compacted onto the existing row.
	rec(store.Sample{OccurrenceID: occ, UserID: 11, Present: 1 << 5, SelfDeaf: 1 << 5})
	check := func(when string) {
		t.Helper()
		r, err := s.OccurrenceRecord(ctx, occ)
		if err != nil {
			t.Fatal(err)
		}
		if z := r.Seen[1]; z.UserID != 11 || z.Masks.Present.Count() != 3 || !z.Masks.Present.Has(5) || z.Masks.SelfDeaf.Count() != 2 {
			t.Fatalf("%s: member 11 = %+v", when, z)
		}
	}
	check("straggler in the log")
	if _, err := s.Compact(ctx, []int64{occ}); err != nil {
		t.Fatal(err)
	}
	check("straggler compacted")
	if n := count(`SELECT count(*) FROM attendance`); n != 3 {
		t.Fatalf("%d attendance rows, want 3", n)
	}
}

// A member deleted while their minutes are still in the log, in arrays
// with everyone else's, leaves nothing behind and takes nobody else's.
func TestDeleteMemberReachesTheLog(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	occ, err := s.EnsureOccurrence(ctx, 1, "БЗС", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, []store.Sample{
		{OccurrenceID: occ, UserID: 10, Present: 0b11},
		{OccurrenceID: occ, UserID: 11, Present: 0b01},
	}, nil); err != nil {
		t.Fatal(err)
	}
	counts, err := s.DeleteMember(ctx, 1, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	if counts["attendance"] != 1 {
		t.Fatalf("counts = %v, want 1 attendance row", counts)
	}
	r, err := s.OccurrenceRecord(ctx, occ)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Seen) != 1 || r.Seen[0].UserID != 11 || r.Seen[0].Masks.Present.Count() != 1 {
		t.Fatalf("after deleting member 10: %+v", r.Seen)
	}
}

// A minute being written while a member is deleted (another process's
// tick, its transaction not yet committed) is deleted too: the deletion
// waits for it rather than compacting without it.
func TestDeleteMemberWaitsForAWriteInFlight(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	occ, err := s.EnsureOccurrence(ctx, 1, "БЗС", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `INSERT INTO attendance_log (occurrence_id, chunk, user_ids, present) VALUES ($1, 0, '{10,11}', '{3,1}')`, occ); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.DeleteMember(ctx, 1, 10, false)
		done <- err
	}()
	// The deletion waits on the log's lock while the write is open.
	storetest.WaitForLock(t, s, "LOCK TABLE attendance_log", done, "the deletion of a member with an open write")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, err := s.OccurrenceRecord(ctx, occ)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Seen) != 1 || r.Seen[0].UserID != 11 {
		t.Fatalf("after deleting member 10 during their write: %+v", r.Seen)
	}
}
