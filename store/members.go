package store

import (
	"context"
	"fmt"
	"time"
)

// Member is a guild member as rollcall knows it.
type Member struct {
	GuildID     uint64
	UserID      uint64
	Username    string // account name
	DisplayName string // nick, else global name, else username
	Bot         bool
	Roles       []uint64
	JoinedAt    time.Time // zero if unknown
	LeftAt      time.Time // zero while a member
	// Paused is the member's own choice about being recorded; nil: the
	// guild's default.
	Paused *bool
}

// Name is the display name, falling back to the account name and the id.
func (m Member) Name() string {
	switch {
	case m.DisplayName != "":
		return m.DisplayName
	case m.Username != "":
		return m.Username
	default:
		return fmt.Sprintf("user %d", m.UserID)
	}
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func int64s(xs []uint64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

// UpsertMembers stores current members of one guild in one statement (a
// GUILD_CREATE can carry thousands). They are marked present (left_at null).
func (q *Queries) UpsertMembers(ctx context.Context, guildID uint64, ms []Member) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]int64, len(ms))
	users := make([]string, len(ms))
	names := make([]string, len(ms))
	bots := make([]bool, len(ms))
	joined := make([]*time.Time, len(ms))
	// Roles go as a text array of Postgres array literals: unnest cannot
	// unpack a two-dimensional array of uneven rows.
	roles := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = int64(m.UserID)
		users[i], names[i], bots[i], joined[i] = m.Username, m.DisplayName, m.Bot, nullTime(m.JoinedAt)
		roles[i] = arrayLiteral(m.Roles)
	}
	_, err := q.db.Exec(ctx, `
		INSERT INTO members AS m (guild_id, user_id, username, display_name, bot, joined_at, roles, left_at, updated_at)
		SELECT $1, u.id, u.username, u.display_name, u.bot, u.joined_at, u.roles::bigint[], NULL, now()
		FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[], $7::text[])
		     AS u(id, username, display_name, bot, joined_at, roles)
		ON CONFLICT (guild_id, user_id) DO UPDATE SET
		    username = EXCLUDED.username, display_name = EXCLUDED.display_name, bot = EXCLUDED.bot,
		    joined_at = coalesce(EXCLUDED.joined_at, m.joined_at), roles = EXCLUDED.roles,
		    left_at = NULL, updated_at = now()`,
		int64(guildID), ids, users, names, bots, joined, roles)
	if err != nil {
		return fmt.Errorf("upsert %d members: %w", len(ms), err)
	}
	return nil
}

func arrayLiteral(xs []uint64) string {
	b := []byte{'{'}
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", x)
	}
	return string(append(b, '}'))
}

// MarkLeft records that a member left the guild at t.
func (q *Queries) MarkLeft(ctx context.Context, guildID, userID uint64, t time.Time) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO members (guild_id, user_id, left_at) VALUES ($1, $2, $3)
		ON CONFLICT (guild_id, user_id) DO UPDATE SET left_at = $3, updated_at = now()`,
		int64(guildID), int64(userID), t)
	if err != nil {
		return fmt.Errorf("mark member left: %w", err)
	}
	return nil
}

// Members returns every member rollcall knows in a guild, left or not.
func (q *Queries) Members(ctx context.Context, guildID uint64) ([]Member, error) {
	return q.members(ctx, guildID, memberSelect+` WHERE guild_id = $1 ORDER BY user_id`, int64(guildID))
}

// Member returns one member rollcall knows; ErrNotFound if none.
func (q *Queries) Member(ctx context.Context, guildID, userID uint64) (Member, error) {
	ms, err := q.members(ctx, guildID, memberSelect+` WHERE guild_id = $1 AND user_id = $2`, int64(guildID), int64(userID))
	if err == nil && len(ms) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return Member{}, err
	}
	return ms[0], nil
}

const memberSelect = `SELECT user_id, username, display_name, bot, roles, joined_at, left_at, paused FROM members`

func (q *Queries) members(ctx context.Context, guildID uint64, sql string, args ...any) ([]Member, error) {
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var uid int64
		var roles []int64
		var joined, left *time.Time
		if err := rows.Scan(&uid, &m.Username, &m.DisplayName, &m.Bot, &roles, &joined, &left, &m.Paused); err != nil {
			return nil, fmt.Errorf("scan member: %w", err)
		}
		m.GuildID, m.UserID = guildID, uint64(uid)
		for _, r := range roles {
			m.Roles = append(m.Roles, uint64(r))
		}
		if joined != nil {
			m.JoinedAt = *joined
		}
		if left != nil {
			m.LeftAt = *left
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkMissingLeft records that every member not in present has left at t:
// they left while the bot was away and no GUILD_MEMBER_REMOVE reached it.
// Call it only with a complete member list.
func (q *Queries) MarkMissingLeft(ctx context.Context, guildID uint64, present []uint64, t time.Time) error {
	_, err := q.db.Exec(ctx, `
		UPDATE members SET left_at = $3, updated_at = now()
		WHERE guild_id = $1 AND left_at IS NULL AND NOT (user_id = ANY($2::bigint[]))`,
		int64(guildID), int64s(present), t)
	if err != nil {
		return fmt.Errorf("mark missing members left: %w", err)
	}
	return nil
}
