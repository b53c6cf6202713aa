package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"rollcall/store/storetest"
)

// Leases share the shards out among the live processes: a second process
// gets half, a third a third; a process that stops renewing loses its
// shards to the others once its lease runs out; a clean stop hands them
// over at once.
func TestShardLeasesShareAndTakeOver(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	const lease = 2 * time.Second
	round := func(who string) []int {
		t.Helper()
		got, err := s.ClaimShards(ctx, who, 4, lease)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if a := round("a"); !slices.Equal(a, []int{0, 1, 2, 3}) {
		t.Fatalf("alone: %v", a)
	}
	// b joins: a gives up half at its next round, b takes them at its next.
	if b := round("b"); len(b) != 0 {
		t.Fatalf("b while a holds everything: %v", b)
	}
	if a := round("a"); !slices.Equal(a, []int{0, 1}) {
		t.Fatalf("a after b joined: %v", a)
	}
	if b := round("b"); !slices.Equal(b, []int{2, 3}) {
		t.Fatalf("b: %v", b)
	}
	// c joins: 4 over 3 is 2, 1, 1 (the first in holder order gets the extra).
	round("c")
	a, b := round("a"), round("b")
	c := round("c")
	all := append(append(append([]int{}, a...), b...), c...)
	slices.Sort(all)
	if !slices.Equal(all, []int{0, 1, 2, 3}) || len(a) != 2 || len(b) != 1 || len(c) != 1 {
		t.Fatalf("three processes: a %v b %v c %v, want 2, 1, 1 of all four", a, b, c)
	}
	// b dies (stops renewing): once its lease has run out (made so here
	// rather than waited for), a and c hold everything.
	for _, sql := range []string{
		`UPDATE shard_members SET seen_at = now() - interval '1 hour' WHERE holder = 'b'`,
		`UPDATE shard_leases SET expires_at = now() - interval '1 second' WHERE holder = 'b'`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	a, c = round("a"), round("c")
	a = round("a")
	all = append(append([]int{}, a...), c...)
	slices.Sort(all)
	if !slices.Equal(all, []int{0, 1, 2, 3}) {
		t.Fatalf("after b died: a %v c %v", a, c)
	}
	// a stops cleanly: c takes its shards at once.
	if err := s.ReleaseShards(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if c := round("c"); !slices.Equal(c, []int{0, 1, 2, 3}) {
		t.Fatalf("after a released: c %v", c)
	}
}

// One IDENTIFY slot per bucket per interval, whoever asks.
func TestIdentifySlots(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	if w, err := s.TakeIdentifySlot(ctx, 0, 5*time.Second); err != nil || w != 0 {
		t.Fatalf("first: %v %v", w, err)
	}
	if w, err := s.TakeIdentifySlot(ctx, 0, 5*time.Second); err != nil || w <= 4*time.Second || w > 5*time.Second {
		t.Fatalf("second in the same bucket: wait %v, %v", w, err)
	}
	if w, err := s.TakeIdentifySlot(ctx, 1, 5*time.Second); err != nil || w != 0 {
		t.Fatalf("another bucket: %v %v", w, err)
	}
}
