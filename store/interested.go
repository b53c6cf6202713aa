package store

import (
	"context"
	"fmt"
)

// SetInterested replaces the users interested in a native event with users
// (a fresh list fetched from Discord).
func (q *Queries) SetInterested(ctx context.Context, guildID, eventID uint64, users []uint64) error {
	_, err := q.db.Exec(ctx, `
		WITH gone AS (DELETE FROM interested WHERE event_id = $2 AND NOT (user_id = ANY($3::bigint[])))
		INSERT INTO interested (guild_id, event_id, user_id) SELECT $1, $2, u FROM unnest($3::bigint[]) AS u
		ON CONFLICT DO NOTHING`, int64(guildID), int64(eventID), int64s(users))
	if err != nil {
		return fmt.Errorf("store interested users of event %d: %w", eventID, err)
	}
	return nil
}

// AddInterested records that a user marked a native event "Interested".
func (q *Queries) AddInterested(ctx context.Context, guildID, eventID, userID uint64) error {
	_, err := q.db.Exec(ctx, `INSERT INTO interested (guild_id, event_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		int64(guildID), int64(eventID), int64(userID))
	if err != nil {
		return fmt.Errorf("add interested user: %w", err)
	}
	return nil
}

// RemoveInterested records that a user is no longer interested.
func (q *Queries) RemoveInterested(ctx context.Context, eventID, userID uint64) error {
	if _, err := q.db.Exec(ctx, `DELETE FROM interested WHERE event_id = $1 AND user_id = $2`, int64(eventID), int64(userID)); err != nil {
		return fmt.Errorf("remove interested user: %w", err)
	}
	return nil
}

// Interested returns the interested users of each of the given events.
func (q *Queries) Interested(ctx context.Context, eventIDs []uint64) (map[uint64][]uint64, error) {
	out := map[uint64][]uint64{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, `SELECT event_id, user_id FROM interested WHERE event_id = ANY($1::bigint[]) ORDER BY event_id, user_id`, int64s(eventIDs))
	if err != nil {
		return nil, fmt.Errorf("load interested users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, u int64
		if err := rows.Scan(&e, &u); err != nil {
			return nil, fmt.Errorf("scan interested user: %w", err)
		}
		out[uint64(e)] = append(out[uint64(e)], uint64(u))
	}
	return out, rows.Err()
}
