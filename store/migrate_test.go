package store_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"rollcall/store"
	"rollcall/store/storetest"
)

// The previous release's schema, with data in every table, then this
// release's schema.sql: every row is still there and this code reads it.
// testdata/schema-release-1.sql is schema.sql as release 1 shipped it; add
// a file per release, never edit one.
func TestUpgradeFromRelease1KeepsData(t *testing.T) {
	ctx := context.Background()
	old, err := os.ReadFile("testdata/schema-release-1.sql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, string(old)); err != nil {
		t.Fatalf("release 1 schema: %v", err)
	}
	// Seeded with release 1's own SQL, not with this release's store
	// methods, which may already write columns release 1 did not have.
	seed := []string{
		`INSERT INTO members (guild_id, user_id, username, display_name, roles, joined_at)
		 VALUES (1, 10, 'alexey', 'Алексей 🎮', '{5,6}', '2026-10-01T00:00:00Z'), (1, 11, 'zoe', '', '{}', NULL)`,
		`INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at)
		 VALUES (1, 'БЗС', '2026-11-27T16:00:00Z', '2026-11-27T17:30:00Z')`,
		`INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at, native_event_id)
		 VALUES (1, 'Raid night', '2026-11-28T18:00:00Z', '2026-11-28T19:00:00Z', 999)`,
		`INSERT INTO attendance (occurrence_id, guild_id, user_id, chunk, present, self_mute)
		 SELECT id, 1, 10, 0, 24, 8 FROM occurrences WHERE schedule = 'БЗС'`,
		`INSERT INTO attendance (occurrence_id, guild_id, user_id, chunk, present)
		 SELECT id, 1, 11, 1, 1 FROM occurrences WHERE schedule = 'БЗС'`,
		`INSERT INTO coverage (occurrence_id, chunk, sampled) SELECT id, 0, 24 FROM occurrences WHERE schedule = 'БЗС'`,
		`INSERT INTO posts (kind, ref, channel_id, guild_id, claimed_by, claimed_at, posted_at, message_id)
		 VALUES ('event', '1', 5, 1, 'a', now(), now(), 77)`,
		`INSERT INTO interested (guild_id, event_id, user_id) VALUES (1, 999, 10), (1, 999, 11)`,
	}
	for _, q := range seed {
		if _, err := s.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	counts := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"members", "occurrences", "attendance", "coverage", "posts", "interested"} {
			var n int
			name := pgx.Identifier{table}.Sanitize()
			if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		return out
	}
	before := counts()

	if err := s.Migrate(ctx, storetest.Schema(t)); err != nil {
		t.Fatalf("this release's schema over release 1: %v", err)
	}
	after := counts()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows before the upgrade, %d after", table, n, after[table])
		}
	}
	migs, _ := store.ParseMigrations(storetest.Schema(t))
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migs) {
		t.Errorf("schema version %d (%v), want %d", v, err, len(migs))
	}

	// This release's code reads release 1's rows.
	ms, err := s.Members(ctx, 1)
	if err != nil || len(ms) != 2 || ms[0].Name() != "Алексей 🎮" || ms[0].Roles[1] != 6 {
		t.Fatalf("members after the upgrade: %+v, %v", ms, err)
	}
	var occ int64
	if err := s.Pool().QueryRow(ctx, `SELECT id FROM occurrences WHERE schedule = 'БЗС'`).Scan(&occ); err != nil {
		t.Fatal(err)
	}
	got, cov, err := s.OccurrenceMinutes(ctx, occ)
	if err != nil || len(got) != 2 {
		t.Fatalf("attendance after the upgrade: %+v, %v", got, err)
	}
	if got[0].Member.UserID != 10 || got[0].Present.Count() != 2 || !got[0].SelfMute.Has(3) || !got[1].Present.Has(64) || cov.Count() != 2 {
		t.Errorf("attendance after the upgrade: %+v, coverage %v", got, cov)
	}
	if posted, err := s.Posted(ctx, store.Post{Kind: "event", Ref: "1", ChannelID: 5, GuildID: 1}); err != nil || !posted {
		t.Errorf("the posted report was forgotten: %v, %v", posted, err)
	}
	// attendance was rebuilt (migration 10) with its constraints.
	for _, c := range []struct{ sql, code string }{
		{`INSERT INTO attendance (occurrence_id, user_id, chunk, present) VALUES ($1, 10, 0, 1)`, "23505"},        // the primary key
		{`INSERT INTO attendance (occurrence_id, user_id, chunk, present) VALUES ($1, 12, 23, 1)`, "23514"},       // chunk 0 to 22
		{`INSERT INTO attendance (occurrence_id, user_id, chunk, present) VALUES ($1 + 1000, 12, 0, 1)`, "23503"}, // an occurrence
	} {
		var pe *pgconn.PgError
		if _, err := s.Pool().Exec(ctx, c.sql, occ); !errors.As(err, &pe) || pe.Code != c.code {
			t.Errorf("%s: %v, want SQLSTATE %s", c.sql, err, c.code)
		}
	}
	if _, err := s.Pool().Exec(ctx, `DELETE FROM occurrences WHERE id = $1`, occ); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM attendance_seen WHERE occurrence_id = $1`, occ).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d attendance rows of a deleted occurrence (%v), want none", left, err)
	}
}

// A database migrated by a newer rollcall (one more block than this
// binary knows) is refused with both versions named, and left as it was.
func TestMigrateRefusesANewerDatabase(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	migs, err := store.ParseMigrations(storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	ours := len(migs)
	newer := storetest.Schema(t) + "\n-- migrate: " + strconv.Itoa(ours+1) + "\nCREATE TABLE from_the_future (id int);\n"
	if err := s.Migrate(ctx, newer); err != nil {
		t.Fatalf("the newer schema: %v", err)
	}

	err = s.Migrate(ctx, storetest.Schema(t))
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate = %v, want ErrSchemaTooNew", err)
	}
	var tooNew *store.SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != ours+1 || tooNew.Binary != ours {
		t.Fatalf("error %#v, want database %d and binary %d", err, ours+1, ours)
	}
	for _, want := range []string{"version " + strconv.Itoa(ours+1), "up to " + strconv.Itoa(ours), "newer rollcall", "restore"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if v, _ := s.SchemaVersion(ctx); v != ours+1 {
		t.Errorf("schema version %d after the refusal, want %d", v, ours+1)
	}
}

// Migration 10 rebuilds attendance. A process of the previous release that
// is still running may be writing to it (a compaction, a deletion): the
// rebuild waits for that write and keeps it, rather than copying the table
// without it and then dropping it.
func TestMigration10KeepsAWriteInFlight(t *testing.T) {
	ctx := context.Background()
	full := storetest.Schema(t)
	at := strings.Index(full, "\n-- migrate: 10\n")
	if at < 0 {
		t.Fatal("schema.sql has no migration 10")
	}
	s, err := store.Open(ctx, storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, full[:at]); err != nil {
		t.Fatal(err)
	}
	var occ int64
	if err := s.Pool().QueryRow(ctx, `INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at)
		VALUES (1, 'raid', '2026-11-27T16:00:00Z', '2026-11-27T17:00:00Z') RETURNING id`).Scan(&occ); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `INSERT INTO attendance (occurrence_id, user_id, chunk, present) VALUES ($1, 10, 0, 7)`, occ); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Migrate(ctx, full) }()
	storetest.WaitForLock(t, s, "", done, "migration 10 with a write to attendance open")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM attendance WHERE occurrence_id = $1 AND user_id = 10 AND present = 7`, occ).Scan(&n); err != nil || n != 1 {
		t.Errorf("the row written while migration 10 waited: %d after it (%v), want 1", n, err)
	}
}
