package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/store"
	"rollcall/store/storetest"
)

// Corrections and excuses are kept apart from the recorded masks: an
// import-legacy re-run leaves them be, they come back in the order they
// were made, undo takes one out, and purges and deletions take them along.
func TestCorrectionsAndExcusesBesideTheRecord(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	const guild, member = 1, 10
	start := time.Date(2021, 11, 28, 16, 0, 0, 0, time.UTC)
	target := store.LegacyTarget{GuildID: guild, Schedule: "БЗС", Duration: time.Hour, Sampled: 1<<60 - 1}
	entries := []store.LegacyEntry{{UserID: member, Start: start, Minutes: 1<<30 - 1}}
	if _, err := s.ImportLegacy(ctx, target, &sliceSource{es: entries}); err != nil {
		t.Fatal(err)
	}
	occs, err := s.Occurrences(ctx, guild, start, start.Add(time.Minute))
	if err != nil || len(occs) != 1 {
		t.Fatalf("occurrences %+v, %v", occs, err)
	}
	occ := occs[0]
	var ids []int64
	for _, c := range []store.Correction{
		{From: 0, To: 10, Add: false, Reason: "came at 16:10", AuthorID: 1, AuthorName: "Mod A"},
		{From: 5, To: 40, Add: true, Reason: "stayed to 16:40", AuthorID: 2, AuthorName: "Mod B"},
	} {
		c.OccurrenceID, c.GuildID, c.UserID, c.CreatedAt = occ.ID, guild, member, start.Add(2*time.Hour)
		err := s.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
			id, err := q.AddCorrection(ctx, c, store.Change{AuthorID: c.AuthorID, AuthorName: c.AuthorName, Action: "correct"})
			ids = append(ids, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
		_, err := q.AddExcuse(ctx, store.Excuse{GuildID: guild, UserID: 11, From: start.Add(-time.Hour), To: start.Add(time.Minute),
			Reason: "leave", AuthorID: 1, AuthorName: "Mod A", CreatedAt: start}, store.Change{Action: "excuse add"})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// A re-run of the import changes nothing of it.
	if _, err := s.ImportLegacy(ctx, target, &sliceSource{es: entries}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.OccurrenceRecord(ctx, occ.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Corrections) != 2 || rec.Corrections[0].ID != ids[0] || rec.Corrections[1].ID != ids[1] {
		t.Fatalf("corrections after a re-import: %+v", rec.Corrections)
	}
	if len(rec.Seen) != 1 || rec.Seen[0].Masks.Present.Count() != 30 {
		t.Fatalf("recorded masks changed: %+v", rec.Seen)
	}
	if len(rec.Excused) != 1 || rec.Excused[0] != 11 {
		t.Errorf("excused %v, want member 11", rec.Excused)
	}
	// Applied in order: minutes 10-29 recorded, then 5-39 added.
	m := rec.Seen[0].Masks
	for _, c := range rec.Corrections {
		m.Correct(c.From, c.To, c.Add)
	}
	if m.Present.Count() != 35 || m.Present.First() != 5 || m.Removed.Count() != 5 || m.Added.Count() != 35 {
		t.Errorf("applied: present %d from %d, removed %d, added %d; want 35 from 5, 5, 35", m.Present.Count(), m.Present.First(), m.Removed.Count(), m.Added.Count())
	}

	// Undo takes exactly one out, and not twice.
	undo := func() error {
		return s.Tx(ctx, func(q *store.Queries, _ pgx.Tx) error {
			_, err := q.UndoCorrection(ctx, guild, ids[0], start.Add(3*time.Hour), store.Change{Action: "correct undo"})
			return err
		})
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if err := undo(); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second undo: %v, want ErrNotFound", err)
	}
	if rec, _ := s.OccurrenceRecord(ctx, occ.ID); len(rec.Corrections) != 1 || rec.Corrections[0].ID != ids[1] {
		t.Errorf("after undo: %+v", rec.Corrections)
	}
	if d, err := s.MemberData(ctx, guild, member); err != nil || len(d.Corrections) != 2 || d.Corrections[0].UndoneAt.IsZero() {
		t.Errorf("member data keeps both, the first undone: %+v, %v", d.Corrections, err)
	}

	// Deleting the member takes their corrections; a purge the rest.
	if _, err := s.DeleteMember(ctx, guild, member, false); err != nil {
		t.Fatal(err)
	}
	count := func(sql string) int {
		var n int
		if err := s.Pool().QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if c := count(`SELECT count(*) FROM corrections`); c != 0 {
		t.Errorf("%d corrections after deleting their member", c)
	}
	counts, err := s.PurgeBefore(ctx, guild, start.Add(24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if c := count(`SELECT count(*) FROM excuses`); c != 0 || counts["excuses"] != 1 {
		t.Errorf("%d excuses after the purge (counted %d)", c, counts["excuses"])
	}
}
