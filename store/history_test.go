package store_test

import (
	"context"
	"testing"
	"time"

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
