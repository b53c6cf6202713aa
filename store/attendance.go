package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
)

// Sample is the new minutes of one member in one 64-minute chunk of an
// occurrence, to be OR-ed into what is stored.
type Sample struct {
	OccurrenceID int64
	UserID       uint64
	Chunk        int
	Present      uint64
	SelfMute     uint64
	SelfDeaf     uint64
	ServerMute   uint64
	ServerDeaf   uint64
}

// Coverage marks the minutes of one chunk in which the bot was sampling.
type Coverage struct {
	OccurrenceID int64
	Chunk        int
	Sampled      uint64
}

// Record stores new minutes and coverage in one statement: one round trip
// and one attendance_log row per occurrence and chunk, however many members
// are present (see schema.sql). Masks are OR-ed when read, so recording the
// same minute twice (a restart, a second process) changes nothing.
func (q *Queries) Record(ctx context.Context, samples []Sample, cov []Coverage) error {
	if len(samples) == 0 && len(cov) == 0 {
		return nil
	}
	// The members' masks travel as flat arrays, grouped by occurrence and
	// chunk; each group is a slice [from:to] of them (1-based, inclusive),
	// so PostgreSQL only copies the slices into the rows. A voice-state
	// array is sent only when some mask in it is set, and stored only for
	// the groups that have one.
	samples = slices.Clone(samples)
	slices.SortFunc(samples, func(a, b Sample) int {
		if c := cmp.Compare(a.OccurrenceID, b.OccurrenceID); c != 0 {
			return c
		}
		return cmp.Compare(a.Chunk, b.Chunk)
	})
	var uid, pr []int64
	var states [4][]int64
	var gocc []int64
	var gchunk []int16
	var gfrom, gto []int32
	var ghas [4][]bool
	var sent [4]bool
	for i, x := range samples {
		if i == 0 || x.OccurrenceID != samples[i-1].OccurrenceID || x.Chunk != samples[i-1].Chunk {
			gocc, gchunk, gfrom, gto = append(gocc, x.OccurrenceID), append(gchunk, int16(x.Chunk)), append(gfrom, int32(i+1)), append(gto, 0)
			for k := range ghas {
				ghas[k] = append(ghas[k], false)
			}
		}
		g := len(gocc) - 1
		gto[g] = int32(i + 1)
		// Masks travel as bigint; the bit pattern is what matters.
		uid, pr = append(uid, int64(x.UserID)), append(pr, int64(x.Present))
		for k, m := range [4]uint64{x.SelfMute, x.SelfDeaf, x.ServerMute, x.ServerDeaf} {
			ghas[k][g] = ghas[k][g] || m != 0
			sent[k] = sent[k] || m != 0
			states[k] = append(states[k], int64(m))
		}
	}
	for k := range states {
		if !sent[k] {
			states[k] = []int64{}
		}
	}
	cocc, cchunk, csampled := make([]int64, len(cov)), make([]int16, len(cov)), make([]int64, len(cov))
	for i, c := range cov {
		cocc[i], cchunk[i], csampled[i] = c.OccurrenceID, int16(c.Chunk), int64(c.Sampled)
	}
	_, err := q.db.Exec(ctx, `
		WITH cov AS (
		    INSERT INTO coverage AS c (occurrence_id, chunk, sampled)
		    SELECT * FROM unnest($15::bigint[], $16::smallint[], $17::bigint[])
		    ON CONFLICT (occurrence_id, chunk) DO UPDATE SET sampled = c.sampled | EXCLUDED.sampled
		)
		INSERT INTO attendance_log (occurrence_id, chunk, user_ids, present, self_mute, self_deaf, server_mute, server_deaf)
		SELECT g.o, g.ch, ($1::bigint[])[g.f:g.t], ($2::bigint[])[g.f:g.t],
		       CASE WHEN g.sm THEN ($3::bigint[])[g.f:g.t] END, CASE WHEN g.sd THEN ($4::bigint[])[g.f:g.t] END,
		       CASE WHEN g.vm THEN ($5::bigint[])[g.f:g.t] END, CASE WHEN g.vd THEN ($6::bigint[])[g.f:g.t] END
		FROM unnest($7::bigint[], $8::smallint[], $9::integer[], $10::integer[], $11::boolean[], $12::boolean[], $13::boolean[], $14::boolean[])
		     AS g(o, ch, f, t, sm, sd, vm, vd)`,
		uid, pr, states[0], states[1], states[2], states[3], gocc, gchunk, gfrom, gto, ghas[0], ghas[1], ghas[2], ghas[3],
		cocc, cchunk, csampled)
	if err != nil {
		return fmt.Errorf("record %d samples: %w", len(samples), err)
	}
	return nil
}

// Compact folds the attendance log of the given occurrences into
// attendance, in one statement, and returns how many attendance rows it
// wrote. Any time is safe: the log is only where minutes wait, and masks
// are OR-ed, so rows recorded while it runs are folded by the next one.
func (q *Queries) Compact(ctx context.Context, occurrenceIDs []int64) (int64, error) {
	if len(occurrenceIDs) == 0 {
		return 0, nil
	}
	// Attendance rows are written in key order, so two compactions of the
	// same events lock them in the same order. The log rows are locked in
	// the order the DELETE finds them; the compactions that could overlap
	// are the daily job (once a day, in one process) and deletions, which
	// lock the whole log first (compactGuild).
	tag, err := q.db.Exec(ctx, `
		WITH gone AS (
		    DELETE FROM attendance_log WHERE occurrence_id = ANY($1::bigint[])
		    RETURNING occurrence_id, chunk, user_ids, present, self_mute, self_deaf, server_mute, server_deaf
		), folded AS (
		    SELECT g.occurrence_id, x.user_id, g.chunk, bit_or(x.present) AS present,
		           nullif(bit_or(coalesce(x.self_mute, 0)), 0) AS self_mute, nullif(bit_or(coalesce(x.self_deaf, 0)), 0) AS self_deaf,
		           nullif(bit_or(coalesce(x.server_mute, 0)), 0) AS server_mute, nullif(bit_or(coalesce(x.server_deaf, 0)), 0) AS server_deaf
		    FROM gone g, unnest(g.user_ids, g.present, g.self_mute, g.self_deaf, g.server_mute, g.server_deaf)
		         AS x(user_id, present, self_mute, self_deaf, server_mute, server_deaf)
		    GROUP BY g.occurrence_id, x.user_id, g.chunk
		)
		INSERT INTO attendance AS a (occurrence_id, user_id, chunk, present, self_mute, self_deaf, server_mute, server_deaf)
		SELECT * FROM folded ORDER BY occurrence_id, user_id, chunk
		ON CONFLICT (occurrence_id, user_id, chunk) DO UPDATE SET
		    present = a.present | EXCLUDED.present,
		    self_mute = nullif(coalesce(a.self_mute, 0) | coalesce(EXCLUDED.self_mute, 0), 0),
		    self_deaf = nullif(coalesce(a.self_deaf, 0) | coalesce(EXCLUDED.self_deaf, 0), 0),
		    server_mute = nullif(coalesce(a.server_mute, 0) | coalesce(EXCLUDED.server_mute, 0), 0),
		    server_deaf = nullif(coalesce(a.server_deaf, 0) | coalesce(EXCLUDED.server_deaf, 0), 0)`,
		occurrenceIDs)
	if err != nil {
		return 0, fmt.Errorf("compact the attendance of %d events: %w", len(occurrenceIDs), err)
	}
	return tag.RowsAffected(), nil
}

// EndedUncompacted returns the occurrences, of every guild, that ended
// before t and still have attendance in the log: the daily compaction's.
func (q *Queries) EndedUncompacted(ctx context.Context, t time.Time) ([]int64, error) {
	ids, err := collectIDs(ctx, q.db, `
		SELECT o.id FROM occurrences o
		WHERE o.ends_at < $1 AND EXISTS (SELECT 1 FROM attendance_log l WHERE l.occurrence_id = o.id)
		ORDER BY o.id`, t)
	if err != nil {
		return nil, fmt.Errorf("find uncompacted attendance: %w", err)
	}
	return ids, nil
}

// compactGuild compacts every occurrence of a guild, running ones too:
// before a member's attendance is deleted, so none stays in the log. It
// locks attendance_log until the transaction ends (q must be one): writes
// in flight finish first and are compacted too, and new ones wait the few
// milliseconds until the deletion is done; two deletions take turns.
func (q *Queries) compactGuild(ctx context.Context, guildID uint64) error {
	if _, err := q.db.Exec(ctx, `LOCK TABLE attendance_log IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("lock the attendance log: %w", err)
	}
	ids, err := collectIDs(ctx, q.db, `
		SELECT DISTINCT l.occurrence_id FROM attendance_log l JOIN occurrences o ON o.id = l.occurrence_id
		WHERE o.guild_id = $1 ORDER BY 1`, int64(guildID))
	if err != nil {
		return fmt.Errorf("find uncompacted attendance: %w", err)
	}
	_, err = q.Compact(ctx, ids)
	return err
}

// MemberMinutes is one member's stored masks for one occurrence.
type MemberMinutes struct {
	Member     Member
	Present    attendance.Mask
	SelfMute   attendance.Mask
	SelfDeaf   attendance.Mask
	ServerMute attendance.Mask
	ServerDeaf attendance.Mask
}

// OccurrenceMinutes returns every member seen in an occurrence with their
// names, and the minutes the bot was sampling. Members are ordered by first
// minute seen, then name.
func (q *Queries) OccurrenceMinutes(ctx context.Context, occurrenceID int64) ([]MemberMinutes, attendance.Mask, error) {
	rows, err := q.db.Query(ctx, `
		SELECT a.user_id, a.chunk, a.present, a.self_mute, a.self_deaf, a.server_mute, a.server_deaf,
		       coalesce(m.username, ''), coalesce(m.display_name, ''), coalesce(m.bot, false), m.guild_id IS NOT NULL
		FROM attendance_seen a
		JOIN occurrences o ON o.id = a.occurrence_id
		LEFT JOIN members m ON m.guild_id = o.guild_id AND m.user_id = a.user_id
		WHERE a.occurrence_id = $1
		ORDER BY a.user_id, a.chunk`, occurrenceID)
	if err != nil {
		return nil, nil, fmt.Errorf("occurrence minutes: %w", err)
	}
	var out []MemberMinutes
	byUser := map[uint64]int{}
	for rows.Next() {
		var uid int64
		var chunk int16
		var pr, sm, sd, vm, vd int64
		var mm MemberMinutes
		var known bool
		if err := rows.Scan(&uid, &chunk, &pr, &sm, &sd, &vm, &vd, &mm.Member.Username, &mm.Member.DisplayName, &mm.Member.Bot, &known); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("scan occurrence minutes: %w", err)
		}
		i, ok := byUser[uint64(uid)]
		if !ok {
			mm.Member.UserID = uint64(uid)
			out = append(out, mm)
			i = len(out) - 1
			byUser[uint64(uid)] = i
		}
		m := &out[i]
		setChunk(&m.Present, int(chunk), pr)
		setChunk(&m.SelfMute, int(chunk), sm)
		setChunk(&m.SelfDeaf, int(chunk), sd)
		setChunk(&m.ServerMute, int(chunk), vm)
		setChunk(&m.ServerDeaf, int(chunk), vd)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("occurrence minutes: %w", err)
	}
	cov, err := q.CoverageOf(ctx, occurrenceID)
	if err != nil {
		return nil, nil, err
	}
	sortByFirstMinute(out)
	return out, cov, nil
}

// setChunk ORs one stored word into a mask. An empty word adds nothing
// (most voice-state words): the mask stays as short as it was.
func setChunk(m *attendance.Mask, chunk int, bits int64) {
	if bits == 0 {
		return
	}
	for len(*m) <= chunk {
		*m = append(*m, 0)
	}
	(*m)[chunk] |= uint64(bits)
}

// sortByFirstMinute orders members as a timeline reads: earliest arrival
// first, ties by name.
func sortByFirstMinute(ms []MemberMinutes) {
	slices.SortStableFunc(ms, func(a, b MemberMinutes) int {
		if c := cmp.Compare(a.Present.First(), b.Present.First()); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Member.Name()), strings.ToLower(b.Member.Name()))
	})
}

// CoverageOf returns the minutes of an occurrence in which the bot was sampling.
func (q *Queries) CoverageOf(ctx context.Context, occurrenceID int64) (attendance.Mask, error) {
	rows, err := q.db.Query(ctx, `SELECT chunk, sampled FROM coverage WHERE occurrence_id = $1`, occurrenceID)
	if err != nil {
		return nil, fmt.Errorf("occurrence coverage: %w", err)
	}
	var cov attendance.Mask
	var chunk int16
	var sampled int64
	_, err = pgx.ForEachRow(rows, []any{&chunk, &sampled}, func() error {
		setChunk(&cov, int(chunk), sampled)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("occurrence coverage: %w", err)
	}
	return cov, nil
}
