package storetest

import (
	"context"
	"fmt"
	"time"

	"rollcall/store"
)

// History shapes a long attendance history written straight in SQL, for
// tests and benchmarks of period reports over years (writing it as the bot
// does, minute by minute, would take hours).
type History struct {
	GuildID  uint64
	Schedule string
	Members  int       // user ids 1000 .. 1000+Members-1, members since From
	From     time.Time // first day, at its 00:00 UTC
	Days     int
	// Hours are the UTC hours of each day's one-hour events.
	Hours []int
	// Attending is the share of members seen at each event (0..1), each
	// for a random stretch of 10 to 60 minutes.
	Attending float64
}

// FirstUser is the user id of the first member SeedHistory makes.
const FirstUser = 1000

// SeedHistory writes h into st: the members, every occurrence, their
// attendance and full coverage. It returns the number of attendance rows.
func SeedHistory(ctx context.Context, st *store.Store, h History) (int64, error) {
	db := st.Pool()
	if _, err := db.Exec(ctx, `
		INSERT INTO members (guild_id, user_id, username, display_name, joined_at)
		SELECT $1, $2 + i, 'member' || i, 'Участник ' || i, $3 FROM generate_series(0, $4 - 1) AS i`,
		int64(h.GuildID), FirstUser, h.From, h.Members); err != nil {
		return 0, fmt.Errorf("seed members: %w", err)
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO occurrences (guild_id, schedule, starts_at, ends_at)
		SELECT $1, $2, s, s + interval '1 hour'
		FROM generate_series(0, $4 - 1) AS d, unnest($5::int[]) AS hr,
		     LATERAL (SELECT $3::timestamptz + d * interval '1 day' + hr * interval '1 hour' AS s) AS t`,
		int64(h.GuildID), h.Schedule, h.From, h.Days, h.Hours); err != nil {
		return 0, fmt.Errorf("seed occurrences: %w", err)
	}
	// A stretch of n minutes starting at minute k: bits k .. k+n-1 of chunk 0.
	tag, err := db.Exec(ctx, `
		INSERT INTO attendance (occurrence_id, user_id, chunk, present)
		SELECT o.id, $2 + m, 0, ((1::bigint << n) - 1) << k
		FROM occurrences o, generate_series(0, $3 - 1) AS m,
		     LATERAL (SELECT 10 + floor(random() * 51)::int + 0 * m AS n) AS len, -- per row: it refers to m
		     LATERAL (SELECT floor(random() * (61 - n))::int AS k) AS off
		WHERE o.guild_id = $1 AND random() < $4`,
		int64(h.GuildID), FirstUser, h.Members, h.Attending)
	if err != nil {
		return 0, fmt.Errorf("seed attendance: %w", err)
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO coverage (occurrence_id, chunk, sampled)
		SELECT id, 0, (1::bigint << 60) - 1 FROM occurrences WHERE guild_id = $1`, int64(h.GuildID)); err != nil {
		return 0, fmt.Errorf("seed coverage: %w", err)
	}
	if _, err := db.Exec(ctx, `ANALYZE`); err != nil {
		return 0, fmt.Errorf("analyze: %w", err)
	}
	return tag.RowsAffected(), nil
}
