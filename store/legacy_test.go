package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"rollcall/store"
	"rollcall/store/storetest"
)

// sliceSource is a store.LegacySource over a slice.
type sliceSource struct {
	es []store.LegacyEntry
	i  int
}

func (s *sliceSource) Next() bool               { s.i++; return s.i <= len(s.es) }
func (s *sliceSource) Entry() store.LegacyEntry { return s.es[s.i-1] }
func (s *sliceSource) Err() error               { return nil }

func TestImportLegacyMergesWithRecordedHistory(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	const guild = 1
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	at16 := time.Date(2021, 11, 28, 16, 0, 0, 0, msk)
	at23 := time.Date(2021, 11, 26, 23, 0, 0, 0, msk)

	// The bot already recorded 16:00 with a named member at minute 45, and
	// knows member 10 by name.
	occ, err := s.EnsureOccurrence(ctx, guild, "БЗС", at16, at16.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertMembers(ctx, guild, []store.Member{{UserID: 10, Username: "alexey", DisplayName: "Алексей"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, []store.Sample{{OccurrenceID: occ, UserID: 10, Present: 1 << 45}},
		[]store.Coverage{{OccurrenceID: occ, Sampled: 1 << 45}}); err != nil {
		t.Fatal(err)
	}

	entries := []store.LegacyEntry{
		{UserID: 10, Start: at16, Minutes: 1<<1 | 1<<2},
		{UserID: 10, Start: at16, Minutes: 1 << 3}, // a duplicate row of the same member and hour
		{UserID: 11, Start: at16, Minutes: 1 << 59},
		{UserID: 11, Start: at23, Minutes: 1 << 29},
	}
	target := store.LegacyTarget{GuildID: guild, Schedule: "БЗС", Duration: time.Hour, Sampled: 1<<60 - 1}
	tests := []struct {
		name   string
		dryRun bool
		want   store.LegacyResult
	}{
		// A dry run counts what the real run then does, and writes nothing.
		{"dry run", true, store.LegacyResult{Entries: 4, Keys: 3, Occurrences: 2, Members: 2, NewOccurrences: 1, NewMembers: 1, ChangedAttendance: 3, ChangedCoverage: 2}},
		{"first import", false, store.LegacyResult{Entries: 4, Keys: 3, Occurrences: 2, Members: 2, NewOccurrences: 1, NewMembers: 1, ChangedAttendance: 3, ChangedCoverage: 2}},
		{"second import", false, store.LegacyResult{Entries: 4, Keys: 3, Occurrences: 2, Members: 2}},
		{"dry run after", true, store.LegacyResult{Entries: 4, Keys: 3, Occurrences: 2, Members: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target.DryRun = tc.dryRun
			got, err := s.ImportLegacy(ctx, target, &sliceSource{es: entries})
			if err != nil {
				t.Fatal(err)
			}
			if !got.First.Equal(at23) || !got.Last.Equal(at16) {
				t.Errorf("first, last = %v, %v; want %v, %v", got.First, got.Last, at23, at16)
			}
			got.First, got.Last = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("result = %+v\nwant %+v", got, tc.want)
			}
			if tc.name == "dry run" {
				occs, _ := s.Occurrences(ctx, guild, at23.Add(-time.Hour), at16.Add(time.Hour))
				if len(occs) != 1 {
					t.Errorf("dry run created occurrences: %+v", occs)
				}
			}
		})
	}

	members, cov, err := s.OccurrenceMinutes(ctx, occ)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0].Member.UserID != 10 || members[1].Member.UserID != 11 {
		t.Fatalf("members of 16:00: %+v", members)
	}
	if m := members[0]; m.Present[0] != 1<<1|1<<2|1<<3|1<<45 || m.Member.Name() != "Алексей" {
		t.Errorf("member 10: present %b, name %q; want the recorded minute kept and the name untouched", m.Present[0], m.Member.Name())
	}
	if m := members[1]; m.Present[0] != 1<<59 || m.Member.Name() != "user 11" {
		t.Errorf("member 11: present %b, name %q", m.Present[0], m.Member.Name())
	}
	if cov.Count() != 60 || cov.Has(60) {
		t.Errorf("coverage = %b, want minutes 0-59", cov)
	}
	occs, err := s.Occurrences(ctx, guild, at23, at23.Add(time.Minute))
	if err != nil || len(occs) != 1 || !occs[0].End.Equal(at23.Add(time.Hour)) {
		t.Fatalf("23:00 occurrence: %+v, %v", occs, err)
	}
}

func TestImportLegacyRejectsZeroDuration(t *testing.T) {
	s := storetest.New(t)
	if _, err := s.ImportLegacy(context.Background(), store.LegacyTarget{GuildID: 1, Schedule: "x"}, &sliceSource{}); err == nil {
		t.Fatal("a zero duration was accepted")
	}
}

// A plain INSERT of the missing attendance rows fails when the bot records
// one of them meanwhile; the import must then merge instead of failing.
func TestImportLegacyRacesTheBot(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	occ, err := s.EnsureOccurrence(ctx, 1, "БЗС", start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The bot, mid-tick: its row is written but not committed.
	bot, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bot.Rollback(ctx) }()
	if _, err := bot.Exec(ctx, `INSERT INTO attendance (occurrence_id, user_id, chunk, present) VALUES ($1, 10, 0, $2)`, occ, int64(1<<45)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.ImportLegacy(ctx, store.LegacyTarget{GuildID: 1, Schedule: "БЗС", Duration: time.Hour, Sampled: 1},
			&sliceSource{es: []store.LegacyEntry{{UserID: 10, Start: start, Minutes: 1 << 3}}})
		done <- err
	}()
	// Wait until the import blocks on the bot's row, then let the bot commit.
	storetest.WaitForLock(t, s, "", done, "the import of a row the bot is writing")
	if err := bot.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("import failed on a concurrent write: %v", err)
	}
	mm, _, err := s.OccurrenceMinutes(ctx, occ)
	if err != nil || len(mm) != 1 || mm[0].Present[0] != 1<<45|1<<3 {
		t.Fatalf("minutes = %+v, %v; want the bot's and the import's", mm, err)
	}
}

// The import must run on the schema before and after migration 2 (which
// adds Discord Scheduled Events as occurrences), and never merge into a
// native event that shares the schedule's name and start.
// A Discord Scheduled Event that carries the schedule's name and start must
// not absorb imported minutes.
func TestImportLegacyKeepsNativeEventsApart(t *testing.T) {
	ctx := context.Background()
	migs, err := store.ParseMigrations(storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2021, 11, 28, 13, 0, 0, 0, time.UTC)
	for v := len(migs); v <= len(migs); v++ {
		t.Run(fmt.Sprintf("version %d", v), func(t *testing.T) {
			s, err := store.Open(ctx, storetest.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var schema strings.Builder
			for _, m := range migs[:v] {
				fmt.Fprintf(&schema, "-- migrate: %d\n%s\n", m.Version, m.SQL)
			}
			if err := s.Migrate(ctx, schema.String()); err != nil {
				t.Fatal(err)
			}
			var native bool
			if err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
				WHERE table_name = 'occurrences' AND column_name = 'native_event_id')`).Scan(&native); err != nil {
				t.Fatal(err)
			}
			if native {
				if _, err := s.Pool().Exec(ctx, `INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at, native_event_id)
					VALUES (1, 'БЗС', $1, $2, 99)`, start, start.Add(2*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if _, err := s.ImportLegacy(ctx, store.LegacyTarget{GuildID: 1, Schedule: "БЗС", Duration: time.Hour, Sampled: 1},
					&sliceSource{es: []store.LegacyEntry{{UserID: 10, Start: start, Minutes: 1 << 3}}}); err != nil {
					t.Fatal(err)
				}
			}
			var got string
			if err := s.Pool().QueryRow(ctx, `SELECT string_agg(o.schedule || ' ' || (o.ends_at - o.starts_at) || ' ' || coalesce(a.present, 0), ', ' ORDER BY o.ends_at)
				FROM occurrences o LEFT JOIN attendance a ON a.occurrence_id = o.id`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			want := "БЗС 01:00:00 8"
			if native {
				want += ", БЗС 02:00:00 0" // the native event, untouched
			}
			if got != want {
				t.Fatalf("occurrences: %s, want %s", got, want)
			}
		})
	}
}
