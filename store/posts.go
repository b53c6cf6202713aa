package store

import (
	"context"
	"fmt"
	"time"
)

// Post identifies one automatic post: a report in one channel.
type Post struct {
	Kind      string // "event" or "weekly"
	Ref       string // occurrence id, or guild and week
	ChannelID uint64
	GuildID   uint64
}

// ClaimPost takes the right to send p. It succeeds when nobody has claimed
// it, or when an earlier claim was never marked posted and is older than
// lease (that process died between claim and post). It reports false when p
// was posted already or another live process holds it.
func (s *Store) ClaimPost(ctx context.Context, p Post, owner string, now time.Time, lease time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO posts AS p (kind, ref, channel_id, guild_id, claimed_by, claimed_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (kind, ref, channel_id) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_at = EXCLUDED.claimed_at
		WHERE p.posted_at IS NULL AND (p.claimed_at < $7 OR p.claimed_by = EXCLUDED.claimed_by)`,
		p.Kind, p.Ref, int64(p.ChannelID), int64(p.GuildID), owner, now, now.Add(-lease))
	if err != nil {
		return false, fmt.Errorf("claim %s post %s in channel %d: %w", p.Kind, p.Ref, p.ChannelID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkPosted records that p went out as messageID.
func (s *Store) MarkPosted(ctx context.Context, p Post, messageID uint64, now time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE posts SET posted_at = $4, message_id = $5 WHERE kind = $1 AND ref = $2 AND channel_id = $3`,
		p.Kind, p.Ref, int64(p.ChannelID), now, int64(messageID))
	if err != nil {
		return fmt.Errorf("mark %s post %s posted: %w", p.Kind, p.Ref, err)
	}
	return nil
}

// ReleasePost drops a claim that failed to post, so it is retried at once.
func (s *Store) ReleasePost(ctx context.Context, p Post, owner string) error {
	_, err := s.pool.Exec(ctx, `
		DELETE FROM posts WHERE kind = $1 AND ref = $2 AND channel_id = $3 AND claimed_by = $4 AND posted_at IS NULL`,
		p.Kind, p.Ref, int64(p.ChannelID), owner)
	if err != nil {
		return fmt.Errorf("release %s post %s: %w", p.Kind, p.Ref, err)
	}
	return nil
}

// Posted reports whether p has been marked posted.
func (s *Store) Posted(ctx context.Context, p Post) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM posts WHERE kind = $1 AND ref = $2 AND channel_id = $3 AND posted_at IS NOT NULL)`,
		p.Kind, p.Ref, int64(p.ChannelID)).Scan(&ok)
	return ok, err
}
