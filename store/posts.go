package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Post identifies one automatic post: a report in one channel.
type Post struct {
	Kind      string // "event" or "weekly"
	Ref       string // occurrence id, or guild and week
	ChannelID uint64
	GuildID   uint64
}

// PostState is what the ledger knows of a post.
type PostState struct {
	// AttemptedAt is when a send was last started; zero if never.
	AttemptedAt time.Time
	// Posted: Discord made the message (MessageID, 0 for a post skipped as empty).
	Posted    bool
	MessageID uint64
}

// PostState reads the ledger row of p.
func (q *Queries) PostState(ctx context.Context, p Post) (PostState, error) {
	var st PostState
	var attempted, posted *time.Time
	var msg *int64
	err := q.db.QueryRow(ctx, `SELECT attempted_at, posted_at, message_id FROM posts WHERE kind = $1 AND ref = $2 AND channel_id = $3`,
		p.Kind, p.Ref, int64(p.ChannelID)).Scan(&attempted, &posted, &msg)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read %s post %s in channel %d: %w", p.Kind, p.Ref, p.ChannelID, err)
	}
	if attempted != nil {
		st.AttemptedAt = *attempted
	}
	st.Posted = posted != nil
	if msg != nil {
		st.MessageID = uint64(*msg)
	}
	return st, nil
}

// MarkAttempted records that a send of p is starting at t.
func (q *Queries) MarkAttempted(ctx context.Context, p Post, t time.Time) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO posts (kind, ref, channel_id, guild_id, attempted_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, ref, channel_id) DO UPDATE SET attempted_at = EXCLUDED.attempted_at`,
		p.Kind, p.Ref, int64(p.ChannelID), int64(p.GuildID), t)
	if err != nil {
		return fmt.Errorf("mark %s post %s attempted: %w", p.Kind, p.Ref, err)
	}
	return nil
}

// MarkPosted records that p went out as messageID (0: skipped as empty).
func (q *Queries) MarkPosted(ctx context.Context, p Post, messageID uint64, now time.Time) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO posts (kind, ref, channel_id, guild_id, posted_at, message_id) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (kind, ref, channel_id) DO UPDATE SET posted_at = EXCLUDED.posted_at, message_id = EXCLUDED.message_id`,
		p.Kind, p.Ref, int64(p.ChannelID), int64(p.GuildID), now, int64(messageID))
	if err != nil {
		return fmt.Errorf("mark %s post %s posted: %w", p.Kind, p.Ref, err)
	}
	return nil
}

// Posted reports whether p has been marked posted.
func (q *Queries) Posted(ctx context.Context, p Post) (bool, error) {
	st, err := q.PostState(ctx, p)
	return st.Posted, err
}
