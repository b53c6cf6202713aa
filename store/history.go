package store

import (
	"context"
	"fmt"
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
	Seen       []Seen   // ordered by user id
	Interested []uint64 // native events: who marked "Interested"
}

// History returns a guild's occurrences starting in [from, to), oldest
// first, each with the members seen in it. With userID non-zero only that
// member's attendance is loaded (occurrences are all returned: "held" counts
// need them). Two statements, however long the period, and a third when
// the period holds native events (their interested users).
func (s *Store) History(ctx context.Context, guildID uint64, from, to time.Time, userID uint64) ([]OccurrenceRecord, error) {
	occs, err := s.Occurrences(ctx, guildID, from, to)
	if err != nil {
		return nil, err
	}
	if len(occs) == 0 {
		return nil, nil
	}
	out := make([]OccurrenceRecord, len(occs))
	index := make(map[int64]int, len(occs))
	for i, o := range occs {
		out[i].Occurrence = o
		index[o.ID] = i
	}
	// Two statements rather than one with "($4 = 0 OR user_id = $4)": pgx
	// prepares statements, and after five runs Postgres may switch to a
	// generic plan that reads every row of the period even for one member.
	const all = `
		SELECT a.occurrence_id, a.user_id, a.chunk, a.present, coalesce(a.self_mute, 0), coalesce(a.self_deaf, 0),
		       coalesce(a.server_mute, 0), coalesce(a.server_deaf, 0)
		FROM attendance a JOIN occurrences o ON o.id = a.occurrence_id
		WHERE o.guild_id = $1 AND o.starts_at >= $2 AND o.starts_at < $3
		ORDER BY a.occurrence_id, a.user_id, a.chunk`
	const one = `
		SELECT a.occurrence_id, a.user_id, a.chunk, a.present, coalesce(a.self_mute, 0), coalesce(a.self_deaf, 0),
		       coalesce(a.server_mute, 0), coalesce(a.server_deaf, 0)
		FROM attendance a JOIN occurrences o ON o.id = a.occurrence_id
		WHERE o.guild_id = $1 AND o.starts_at >= $2 AND o.starts_at < $3 AND a.user_id = $4
		ORDER BY a.occurrence_id, a.chunk`
	var rows pgx.Rows
	if userID == 0 {
		rows, err = s.pool.Query(ctx, all, int64(guildID), from, to)
	} else {
		rows, err = s.pool.Query(ctx, one, int64(guildID), from, to, int64(userID))
	}
	if err != nil {
		return nil, fmt.Errorf("load attendance history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var occ, uid int64
		var chunk int16
		var pr, sm, sd, vm, vd int64
		if err := rows.Scan(&occ, &uid, &chunk, &pr, &sm, &sd, &vm, &vd); err != nil {
			return nil, fmt.Errorf("scan attendance history: %w", err)
		}
		rec := &out[index[occ]]
		if n := len(rec.Seen); n == 0 || rec.Seen[n-1].UserID != uint64(uid) {
			rec.Seen = append(rec.Seen, Seen{UserID: uint64(uid)})
		}
		m := &rec.Seen[len(rec.Seen)-1].Masks
		setChunk(&m.Present, int(chunk), pr)
		setChunk(&m.SelfMute, int(chunk), sm)
		setChunk(&m.SelfDeaf, int(chunk), sd)
		setChunk(&m.ServerMute, int(chunk), vm)
		setChunk(&m.ServerDeaf, int(chunk), vd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load attendance history: %w", err)
	}
	var native []uint64
	for _, o := range occs {
		if o.Native() {
			native = append(native, o.NativeEventID)
		}
	}
	if len(native) > 0 {
		in, err := s.Interested(ctx, native)
		if err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].Native() {
				out[i].Interested = in[out[i].NativeEventID]
			}
		}
	}
	return out, nil
}
