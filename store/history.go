package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
)

// Seen is one member's masks in one occurrence.
type Seen struct {
	UserID uint64
	Masks  attendance.Masks
}

// OccurrenceRecord is an occurrence with everyone seen in it.
type OccurrenceRecord struct {
	Occurrence
	Seen       []Seen   // ordered by user id, as recorded
	Interested []uint64 // native events: who marked "Interested"
	// Corrections in force, in the order they were made: applied when
	// judging (report), never to the recorded masks.
	Corrections []Correction
	// Excused are the members excused from this occurrence.
	Excused []uint64
}

// History returns a guild's occurrences starting in [from, to), oldest
// first, each with the members seen in it. It holds the whole period in
// memory: for periods, use EachOccurrence. Call it in a Snapshot when the
// occurrences and their attendance must agree.
func (q *Queries) History(ctx context.Context, guildID uint64, from, to time.Time, userID uint64) ([]OccurrenceRecord, error) {
	var out []OccurrenceRecord
	err := q.EachOccurrence(ctx, guildID, from, to, userID, func(r OccurrenceRecord) error {
		out = append(out, r)
		return nil
	})
	slices.SortStableFunc(out, func(a, b OccurrenceRecord) int { return a.Start.Compare(b.Start) })
	return out, err
}

// OccurrenceRecord loads one occurrence with everyone seen in it.
func (q *Queries) OccurrenceRecord(ctx context.Context, id int64) (OccurrenceRecord, error) {
	o, err := q.GetOccurrence(ctx, id)
	if err != nil {
		return OccurrenceRecord{}, err
	}
	occs := []Occurrence{o}
	notes, err := q.notesOf(ctx, occs)
	if err != nil {
		return OccurrenceRecord{}, err
	}
	var rec OccurrenceRecord
	err = q.stream(ctx, occs, notes, 0, func(r OccurrenceRecord) error {
		rec = r
		return nil
	}, seenSelect+`WHERE a.occurrence_id = $1`+seenGroup, id)
	if err != nil {
		return OccurrenceRecord{}, err
	}
	return rec, nil
}

// EachOccurrence calls fn with each of a guild's occurrences starting in
// [from, to) and the members seen in it, streaming the attendance rows: memory
// holds one occurrence's rows at a time, however long the period. With
// userID non-zero only that member's attendance is loaded (occurrences are
// all returned: "held" counts need them). Occurrences come in row-id order,
// not time order. Four statements (five when the period holds native
// events); run it in a Snapshot so they agree.
func (q *Queries) EachOccurrence(ctx context.Context, guildID uint64, from, to time.Time, userID uint64, fn func(OccurrenceRecord) error) error {
	occs, err := q.Occurrences(ctx, guildID, from, to)
	if err != nil || len(occs) == 0 {
		return err
	}
	notes, err := q.notesOf(ctx, occs)
	if err != nil {
		return err
	}
	// Two statements rather than one with "($2 = 0 OR user_id = $2)": pgx
	// prepares statements, and after five runs Postgres may switch to a
	// generic plan that reads every row of the period even for one member.
	if userID == 0 {
		return q.stream(ctx, occs, notes, 0, fn, seenOfAll, occurrenceIDs(occs))
	}
	lo, hi := idSpan(occs)
	return q.stream(ctx, occs, notes, userID, fn, seenOfOne, int64(guildID), int64(userID), lo, hi)
}

// seenOfAll is seenSelect for everyone in the occurrences $1.
const seenOfAll = seenSelect + `WHERE a.occurrence_id = ANY($1::bigint[])` + seenGroup

// seenOfOne is seenSelect for the member $2 in the guild $1's occurrences
// with ids from $3 to $4, through attendance_seen_of (schema.sql): the
// member's index, then the span, and the log searched for the member
// rather than unnested. The span may hold occurrences of other guilds or
// outside the period; stream skips their rows. It has one good plan
// whatever its arguments, so pgx prepares it once and PostgreSQL may cache
// the plan: a year's list of ids cost more to send and plan than the read.
const seenOfOne = seenColumns + `FROM attendance_seen_of($1, $2, $3, $4) a` + seenGroup

// seenOfSome is seenSelect for the members $1 in the occurrences $2. Run
// it with pgx.QueryExecModeDescribeExec: planned for its values each time,
// and answered in binary (pgx's text arrays cost twice as much to decode),
// so that PostgreSQL picks per statement between the members' index (their rows
// of all time, the period's kept) and the primary key (one look-up per
// member and occurrence). The plan cached for arrays of unknown size
// combined both indexes and read the primary key of the whole period: 18
// ms for one member's year, where either index alone takes 4 to 5.
const seenOfSome = seenSelect + `WHERE a.user_id = ANY($1::bigint[]) AND a.occurrence_id = ANY($2::bigint[])` + seenGroup

// amongBatches are the sizes of EachOccurrenceAmong's first batches of
// occurrences; the last batch is the rest of the period. The first is
// read for everyone; by the end of the second the members who come at all
// have mostly come, and the rest is one statement for those left, however
// long the period.
var amongBatches = []int{16, 64}

// EachOccurrenceAmong is EachOccurrence for a caller that needs fewer
// members as it goes (who never attended: once a member came, the rest of
// their period does not matter). It reads the occurrences in time order, in
// batches (amongBatches); before each batch it asks among whose attendance
// to load (nil: everyone's) and loads only theirs, plus that of the members
// excused from an occurrence of the batch (excused and away is not the
// same as excused and there). Occurrences come with their corrections and
// excuses whatever among says, and in row-id order within a batch.
func (q *Queries) EachOccurrenceAmong(ctx context.Context, guildID uint64, from, to time.Time, among func() []uint64, fn func(OccurrenceRecord) error) error {
	occs, err := q.Occurrences(ctx, guildID, from, to)
	if err != nil {
		return err
	}
	if len(occs) == 0 {
		return nil
	}
	notes, err := q.notesOf(ctx, occs)
	if err != nil {
		return err
	}
	for i := 0; len(occs) > 0; i++ {
		n := len(occs)
		if i < len(amongBatches) {
			n = min(n, amongBatches[i])
		}
		batch := occs[:n]
		occs = occs[len(batch):]
		ids := occurrenceIDs(batch)
		users := among()
		if users == nil {
			if err := q.stream(ctx, batch, notes, 0, fn, seenOfAll, ids); err != nil {
				return err
			}
			continue
		}
		load := make([]int64, 0, len(users))
		for _, u := range users {
			load = append(load, int64(u))
		}
		for _, e := range notes.excuses {
			if slices.ContainsFunc(batch, e.Covers) {
				load = append(load, int64(e.UserID))
			}
		}
		slices.Sort(load)
		if err := q.stream(ctx, batch, notes, 0, fn, seenOfSome, pgx.QueryExecModeDescribeExec, slices.Compact(load), ids); err != nil {
			return err
		}
	}
	return nil
}

// notes are what stream attaches to a period's occurrences besides who was
// seen: who was interested in its native events, and the corrections and
// excuses in force. They are loaded once per period, however many batches
// read its attendance.
type notes struct {
	interested  map[uint64][]uint64 // by native event id
	corrections map[int64][]Correction
	excuses     []Excuse
}

// notesOf loads the notes of occs, which belong to one guild.
func (q *Queries) notesOf(ctx context.Context, occs []Occurrence) (notes, error) {
	var n notes
	var err error
	if n.interested, err = q.interestedOf(ctx, occs); err != nil {
		return n, err
	}
	if n.corrections, err = q.correctionsOf(ctx, occs); err != nil {
		return n, err
	}
	n.excuses, err = q.excusesOf(ctx, occs)
	return n, err
}

// occurrenceIDs returns the ids of occs, in their order.
func occurrenceIDs(occs []Occurrence) []int64 {
	ids := make([]int64, len(occs))
	for i, o := range occs {
		ids[i] = o.ID
	}
	return ids
}

// idSpan returns the lowest and highest id of occs, which are not empty.
func idSpan(occs []Occurrence) (lo, hi int64) {
	lo, hi = occs[0].ID, occs[0].ID
	for _, o := range occs[1:] {
		lo, hi = min(lo, o.ID), max(hi, o.ID)
	}
	return lo, hi
}

// seenSelect and seenGroup frame a query of attendance_seen that returns
// one row per occurrence, in id order, with its members' rows as parallel
// arrays: a year of a big guild is a few thousand rows to decode rather
// than a few hundred thousand. The arrays are in no particular order, the
// same for all of them (every aggregate of a group reads its rows in one
// order). seenColumns is the SELECT list, for a source with the view's
// columns.
const (
	seenColumns = `
		SELECT a.occurrence_id, array_agg(a.user_id), array_agg(a.chunk), array_agg(a.present),
		       array_agg(a.self_mute), array_agg(a.self_deaf), array_agg(a.server_mute), array_agg(a.server_deaf) `
	seenSelect = seenColumns + `FROM attendance_seen a `
	seenGroup  = `
		GROUP BY a.occurrence_id ORDER BY a.occurrence_id`
)

// seenOf assembles one occurrence's members from its parallel arrays,
// OR-ing the rows of one member and chunk (attendance_seen may have two),
// ordered by user id.
func seenOf(uid []int64, chunk []int16, pr, sm, sd, vm, vd []int64) []Seen {
	order := make([]int, len(uid))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(uint64(uid[a]), uint64(uid[b])) })
	out := make([]Seen, 0, len(uid))
	for _, i := range order {
		if n := len(out); n == 0 || out[n-1].UserID != uint64(uid[i]) {
			out = append(out, Seen{UserID: uint64(uid[i])})
		}
		m := &out[len(out)-1].Masks
		c := int(chunk[i])
		setChunk(&m.Present, c, pr[i])
		setChunk(&m.SelfMute, c, sm[i])
		setChunk(&m.SelfDeaf, c, sd[i])
		setChunk(&m.ServerMute, c, vm[i])
		setChunk(&m.ServerDeaf, c, vd[i])
	}
	return out
}

// stream reads attendance as seenSelect frames it and calls fn for each of
// occs once its rows are read, with its notes (of userID only, if not
// zero); occurrences without rows come last. A row of an occurrence not in
// occs is skipped rather than attributed to another.
func (q *Queries) stream(ctx context.Context, occs []Occurrence, n notes, userID uint64, fn func(OccurrenceRecord) error, sql string, args ...any) error {
	byID := make(map[int64]int, len(occs))
	for i, o := range occs {
		byID[o.ID] = i
	}
	done := make([]bool, len(occs))
	emit := func(rec *OccurrenceRecord) error {
		i := byID[rec.ID]
		done[i] = true
		if rec.Native() {
			rec.Interested = n.interested[rec.NativeEventID]
		}
		for _, c := range n.corrections[rec.ID] {
			if userID == 0 || c.UserID == userID {
				rec.Corrections = append(rec.Corrections, c)
			}
		}
		for _, e := range n.excuses {
			if (userID == 0 || e.UserID == userID) && e.Covers(rec.Occurrence) {
				rec.Excused = append(rec.Excused, e.UserID)
			}
		}
		return fn(*rec)
	}
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("load attendance history: %w", err)
	}
	defer rows.Close()
	var occ int64
	var uid, pr, sm, sd, vm, vd []int64
	var chunk []int16
	for rows.Next() {
		if err := rows.Scan(&occ, &uid, &chunk, &pr, &sm, &sd, &vm, &vd); err != nil {
			return fmt.Errorf("scan attendance history: %w", err)
		}
		i, ok := byID[occ]
		if !ok {
			continue
		}
		rec := OccurrenceRecord{Occurrence: occs[i], Seen: seenOf(uid, chunk, pr, sm, sd, vm, vd)}
		if err := emit(&rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load attendance history: %w", err)
	}
	for i := range occs {
		if !done[i] {
			if err := emit(&OccurrenceRecord{Occurrence: occs[i]}); err != nil {
				return err
			}
		}
	}
	return nil
}

// interestedOf loads who was interested in the native events among occs.
func (q *Queries) interestedOf(ctx context.Context, occs []Occurrence) (map[uint64][]uint64, error) {
	var native []uint64
	for _, o := range occs {
		if o.Native() {
			native = append(native, o.NativeEventID)
		}
	}
	if len(native) == 0 {
		return nil, nil
	}
	return q.Interested(ctx, native)
}
