package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
)

// Sample is the new minutes of one member in one 64-minute chunk of an
// occurrence, to be OR-ed into what is stored.
type Sample struct {
	OccurrenceID int64
	GuildID      uint64
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

// Record stores new minutes and coverage in one statement: one round trip per
// poll tick however many members are present. Masks are OR-ed in, so
// recording the same minute twice (a restart, a second process) changes
// nothing. (occurrence, user, chunk) must be distinct within samples.
func (q *Queries) Record(ctx context.Context, samples []Sample, cov []Coverage) error {
	if len(samples) == 0 && len(cov) == 0 {
		return nil
	}
	// In key order: two processes recording the same rows (a rolling
	// deploy) then lock them in the same order and cannot deadlock, and the
	// primary-key lookups walk the index in order.
	samples = slices.Clone(samples)
	slices.SortFunc(samples, func(a, b Sample) int {
		if c := cmp.Compare(a.OccurrenceID, b.OccurrenceID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		return cmp.Compare(a.Chunk, b.Chunk)
	})
	n := len(samples)
	occ, gid, uid := make([]int64, n), make([]int64, n), make([]int64, n)
	chunk := make([]int16, n)
	pr, sm, sd, vm, vd := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, x := range samples {
		occ[i], gid[i], uid[i], chunk[i] = x.OccurrenceID, int64(x.GuildID), int64(x.UserID), int16(x.Chunk)
		// Masks travel as bigint; the bit pattern is what matters.
		pr[i], sm[i], sd[i], vm[i], vd[i] = int64(x.Present), int64(x.SelfMute), int64(x.SelfDeaf), int64(x.ServerMute), int64(x.ServerDeaf)
	}
	cocc, cchunk, csampled := make([]int64, len(cov)), make([]int16, len(cov)), make([]int64, len(cov))
	for i, c := range cov {
		cocc[i], cchunk[i], csampled[i] = c.OccurrenceID, int16(c.Chunk), int64(c.Sampled)
	}
	// A voice-state mask that is empty is stored as NULL (see schema.sql).
	_, err := q.db.Exec(ctx, `
		WITH cov AS (
		    INSERT INTO coverage AS c (occurrence_id, chunk, sampled)
		    SELECT * FROM unnest($10::bigint[], $11::smallint[], $12::bigint[])
		    ON CONFLICT (occurrence_id, chunk) DO UPDATE SET sampled = c.sampled | EXCLUDED.sampled
		)
		INSERT INTO attendance AS a (occurrence_id, guild_id, user_id, chunk, present, self_mute, self_deaf, server_mute, server_deaf)
		SELECT o, g, u, ch, p, nullif(sm, 0), nullif(sd, 0), nullif(vm, 0), nullif(vd, 0)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
		     AS t(o, g, u, ch, p, sm, sd, vm, vd)
		ON CONFLICT (occurrence_id, user_id, chunk) DO UPDATE SET
		    present = a.present | EXCLUDED.present,
		    self_mute = nullif(coalesce(a.self_mute, 0) | coalesce(EXCLUDED.self_mute, 0), 0),
		    self_deaf = nullif(coalesce(a.self_deaf, 0) | coalesce(EXCLUDED.self_deaf, 0), 0),
		    server_mute = nullif(coalesce(a.server_mute, 0) | coalesce(EXCLUDED.server_mute, 0), 0),
		    server_deaf = nullif(coalesce(a.server_deaf, 0) | coalesce(EXCLUDED.server_deaf, 0), 0)`,
		occ, gid, uid, chunk, pr, sm, sd, vm, vd, cocc, cchunk, csampled)
	if err != nil {
		return fmt.Errorf("record %d samples: %w", len(samples), err)
	}
	return nil
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
		SELECT a.user_id, a.chunk, a.present, coalesce(a.self_mute, 0), coalesce(a.self_deaf, 0), coalesce(a.server_mute, 0), coalesce(a.server_deaf, 0),
		       coalesce(m.username, ''), coalesce(m.display_name, ''), coalesce(m.bot, false), m.guild_id IS NOT NULL
		FROM attendance a
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

func setChunk(m *attendance.Mask, chunk int, bits int64) {
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
