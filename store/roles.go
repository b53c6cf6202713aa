package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RoleGrants returns, per role, the members rollcall gave it in a guild.
func (q *Queries) RoleGrants(ctx context.Context, guildID uint64) (map[uint64]map[uint64]bool, error) {
	rows, err := q.db.Query(ctx, `SELECT role_id, user_id FROM role_grants WHERE guild_id = $1`, int64(guildID))
	if err != nil {
		return nil, fmt.Errorf("load role grants: %w", err)
	}
	defer rows.Close()
	out := map[uint64]map[uint64]bool{}
	for rows.Next() {
		var role, user int64
		if err := rows.Scan(&role, &user); err != nil {
			return nil, err
		}
		if out[uint64(role)] == nil {
			out[uint64(role)] = map[uint64]bool{}
		}
		out[uint64(role)][uint64(user)] = true
	}
	return out, rows.Err()
}

// SetRoleGrant records that rollcall gave (granted) or took (not granted)
// a member's role.
func (s *Store) SetRoleGrant(ctx context.Context, guildID, roleID, userID uint64, granted bool, at time.Time) error {
	var err error
	if granted {
		_, err = s.pool.Exec(ctx, `INSERT INTO role_grants (guild_id, role_id, user_id, granted_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, int64(guildID), int64(roleID), int64(userID), at)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM role_grants WHERE guild_id = $1 AND role_id = $2 AND user_id = $3`,
			int64(guildID), int64(roleID), int64(userID))
	}
	if err != nil {
		return fmt.Errorf("record a role grant: %w", err)
	}
	return nil
}

// ForgetRoleGrants drops a guild's grants of roles that no rule gives any
// more, and their states.
func (s *Store) ForgetRoleGrants(ctx context.Context, guildID uint64, keep []uint64) error {
	for _, sql := range []string{
		`DELETE FROM role_grants WHERE guild_id = $1 AND NOT (role_id = ANY($2::bigint[]))`,
		`DELETE FROM role_rule_states WHERE guild_id = $1 AND NOT (role_id = ANY($2::bigint[]))`,
	} {
		if _, err := s.pool.Exec(ctx, sql, int64(guildID), int64s(keep)); err != nil {
			return fmt.Errorf("forget role grants: %w", err)
		}
	}
	return nil
}

// RuleState is why a role rule could not be applied ("" when it could),
// since when.
type RuleState struct {
	State string
	Since time.Time
}

// RuleStates returns the last known state of each of a guild's rules, by role.
func (q *Queries) RuleStates(ctx context.Context, guildID uint64) (map[uint64]RuleState, error) {
	rows, err := q.db.Query(ctx, `SELECT role_id, state, since FROM role_rule_states WHERE guild_id = $1`, int64(guildID))
	if err != nil {
		return nil, fmt.Errorf("load rule states: %w", err)
	}
	defer rows.Close()
	out := map[uint64]RuleState{}
	for rows.Next() {
		var role int64
		var st RuleState
		if err := rows.Scan(&role, &st.State, &st.Since); err != nil {
			return nil, err
		}
		out[uint64(role)] = st
	}
	return out, rows.Err()
}

// SetRuleState stores a rule's state and reports whether it changed (so
// the change is logged once).
func (s *Store) SetRuleState(ctx context.Context, guildID, roleID uint64, state string, at time.Time) (bool, error) {
	var old string
	err := s.pool.QueryRow(ctx, `SELECT state FROM role_rule_states WHERE guild_id = $1 AND role_id = $2`, int64(guildID), int64(roleID)).Scan(&old)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		old = ""
	case err != nil:
		return false, fmt.Errorf("read a rule's state: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO role_rule_states (guild_id, role_id, state, since) VALUES ($1, $2, $3, $4)
		ON CONFLICT (guild_id, role_id) DO UPDATE SET state = EXCLUDED.state,
			since = CASE WHEN role_rule_states.state = EXCLUDED.state THEN role_rule_states.since ELSE EXCLUDED.since END`,
		int64(guildID), int64(roleID), state, at); err != nil {
		return false, fmt.Errorf("store a rule's state: %w", err)
	}
	return old != state, nil
}
