package store_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"rollcall/store"
	"rollcall/store/storetest"
)

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	// Two processes starting at once must not both apply a block.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.Migrate(ctx, storetest.Schema(t)) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	migs, err := store.ParseMigrations(storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(migs) {
		t.Fatalf("version = %d, %v; want %d", v, err, len(migs))
	}
}

// Processes started together on an empty database (a fresh install of
// several machines, a bench) must not fail each other: schema_migrations
// itself is created under the lock, since two concurrent CREATE TABLE IF
// NOT EXISTS of one table can both try to create it.
func TestMigrateConcurrentlyOnAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		url := storetest.URL(t)
		const procs = 6
		var wg sync.WaitGroup
		errs := make(chan error, procs)
		for range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(ctx, url)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				errs <- s.Migrate(ctx, storetest.Schema(t))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// The migration lock is held on a connection outside the pool: with a
// pool of one connection, River's migrations waited for it forever.
func TestMigrateWithAPoolOfOneConnection(t *testing.T) {
	u, err := url.Parse(storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, storetest.Schema(t)); err != nil {
		t.Fatal(err)
	}
}

func TestParseMigrationsRejectsGaps(t *testing.T) {
	if _, err := store.ParseMigrations("-- migrate: 1\nSELECT 1;\n-- migrate: 3\nSELECT 1;"); err == nil {
		t.Fatal("a gap in migration numbers was accepted")
	}
	if _, err := store.ParseMigrations("SELECT 1;"); err == nil {
		t.Fatal("a schema without blocks was accepted")
	}
}

func TestRecordMergesMasksAndCoverage(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	occ, err := s.EnsureOccurrence(ctx, 1, "БЗС", start, start.Add(90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.EnsureOccurrence(ctx, 1, "БЗС", start, start.Add(90*time.Minute))
	if err != nil || again != occ {
		t.Fatalf("EnsureOccurrence not idempotent: %d vs %d (%v)", occ, again, err)
	}
	if err := s.UpsertMembers(ctx, 1, []store.Member{
		{UserID: 10, Username: "alexey", DisplayName: "Алексей 🎮", Roles: []uint64{5, 6}, JoinedAt: start.AddDate(0, -1, 0)},
		{UserID: 11, Username: "zoe", DisplayName: ""},
	}); err != nil {
		t.Fatal(err)
	}
	rec := func(samples []store.Sample, cov []store.Coverage) {
		t.Helper()
		if err := s.Record(ctx, samples, cov); err != nil {
			t.Fatal(err)
		}
	}
	rec([]store.Sample{
		{OccurrenceID: occ, UserID: 10, Chunk: 0, Present: 1 << 3, SelfMute: 1 << 3},
		{OccurrenceID: occ, UserID: 11, Chunk: 1, Present: 1 << 0}, // minute 64
		{OccurrenceID: occ, UserID: 12, Chunk: 0, Present: 1 << 63},
	}, []store.Coverage{{OccurrenceID: occ, Chunk: 0, Sampled: 1<<3 | 1<<63}, {OccurrenceID: occ, Chunk: 1, Sampled: 1}})
	rec([]store.Sample{{OccurrenceID: occ, UserID: 10, Chunk: 0, Present: 1<<3 | 1<<4}}, []store.Coverage{{OccurrenceID: occ, Chunk: 0, Sampled: 1 << 4}})
	rec(nil, nil) // nothing new: no statement, no error

	got, cov, err := s.OccurrenceMinutes(ctx, occ)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d members, want 3", len(got))
	}
	// Ordered by first minute: 10 (minute 3), 12 (63), 11 (64).
	if got[0].Member.UserID != 10 || got[1].Member.UserID != 12 || got[2].Member.UserID != 11 {
		t.Fatalf("order: %d %d %d", got[0].Member.UserID, got[1].Member.UserID, got[2].Member.UserID)
	}
	if got[0].Present.Count() != 2 || !got[0].SelfMute.Has(3) || got[0].SelfMute.Has(4) || got[0].Member.Name() != "Алексей 🎮" {
		t.Fatalf("member 10: %+v", got[0])
	}
	if !got[1].Present.Has(63) || got[1].Member.Name() != "user 12" {
		t.Fatalf("member 12 (unknown to members): %+v", got[1])
	}
	if !got[2].Present.Has(64) || got[2].Member.Name() != "zoe" {
		t.Fatalf("member 11: %+v", got[2])
	}
	if cov.Count() != 4 || !cov.Has(64) {
		t.Fatalf("coverage = %v", cov)
	}
}

func TestMembersLeaveAndReturn(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := s.UpsertMembers(ctx, 7, []store.Member{{UserID: 1, Username: "a", Roles: []uint64{9}, JoinedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkLeft(ctx, 7, 1, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Members(ctx, 7)
	if err != nil || len(ms) != 1 || !ms[0].LeftAt.Equal(t0.Add(time.Hour)) || ms[0].Roles[0] != 9 {
		t.Fatalf("after leave: %+v, %v", ms, err)
	}
	// Rejoining clears left_at and keeps joined_at when the gateway sends none.
	if err := s.UpsertMembers(ctx, 7, []store.Member{{UserID: 1, Username: "a2"}}); err != nil {
		t.Fatal(err)
	}
	ms, _ = s.Members(ctx, 7)
	if !ms[0].LeftAt.IsZero() || !ms[0].JoinedAt.Equal(t0) || ms[0].Username != "a2" {
		t.Fatalf("after rejoin: %+v", ms[0])
	}
}

func TestPostLedger(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	p := store.Post{Kind: "event", Ref: "1", ChannelID: 5, GuildID: 1}
	if st, err := s.PostState(ctx, p); err != nil || !st.AttemptedAt.IsZero() || st.Posted {
		t.Fatalf("a new post: %+v %v", st, err)
	}
	if err := s.MarkAttempted(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PostState(ctx, p); !st.AttemptedAt.Equal(now) || st.Posted {
		t.Fatalf("after an attempt: %+v", st)
	}
	if err := s.MarkPosted(ctx, p, 99, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PostState(ctx, p); !st.Posted || st.MessageID != 99 || !st.AttemptedAt.Equal(now) {
		t.Fatalf("after posting: %+v", st)
	}
}

func TestIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Nothing listens on port 1: connection refused.
	_, err := store.Open(ctx, "postgres://x@127.0.0.1:1/db?sslmode=disable")
	if err == nil || !store.IsUnavailable(err) {
		t.Fatalf("refused connection: %v, IsUnavailable=false", err)
	}
	s := storetest.New(t)
	_, err = s.Pool().Exec(ctx, `SELECT * FROM no_such_table`)
	if err == nil || store.IsUnavailable(err) {
		t.Fatalf("a bad query is not an outage: %v", err)
	}
}
