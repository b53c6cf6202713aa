package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrConflict is returned when a guild's settings changed since they were
// read: the caller reads them again and shows the moderator the current ones.
var ErrConflict = errors.New("settings changed meanwhile")

// SettingsChannel is the NOTIFY channel a settings change is announced on,
// with the guild id as payload.
const SettingsChannel = "rollcall_settings"

// StoredSettings is a guild's settings document as stored.
type StoredSettings struct {
	GuildID   uint64
	Spec      json.RawMessage
	Version   int
	UpdatedAt time.Time
	UpdatedBy uint64
}

// Change is one line of the settings log.
type Change struct {
	ID         int64
	GuildID    uint64
	At         time.Time
	AuthorID   uint64
	AuthorName string
	Action     string // what the moderator did, e.g. "schedule edit"
	Key        string // the key that changed, e.g. "schedules[БЗС].times"
	Old, New   string // "" when it did not exist
}

// GuildSettings returns every guild's stored settings.
func (q *Queries) GuildSettings(ctx context.Context) ([]StoredSettings, error) {
	rows, err := q.db.Query(ctx, `SELECT guild_id, spec, version, updated_at, updated_by FROM guild_settings ORDER BY guild_id`)
	if err != nil {
		return nil, fmt.Errorf("load guild settings: %w", err)
	}
	return pgx.CollectRows(rows, scanSettings)
}

// GuildSetting returns one guild's stored settings, or ErrNotFound.
func (q *Queries) GuildSetting(ctx context.Context, guildID uint64) (StoredSettings, error) {
	rows, err := q.db.Query(ctx, `SELECT guild_id, spec, version, updated_at, updated_by FROM guild_settings WHERE guild_id = $1`, int64(guildID))
	if err != nil {
		return StoredSettings{}, fmt.Errorf("load guild settings: %w", err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanSettings)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

func scanSettings(r pgx.CollectableRow) (StoredSettings, error) {
	var s StoredSettings
	var gid, by int64
	err := r.Scan(&gid, &s.Spec, &s.Version, &s.UpdatedAt, &by)
	s.GuildID, s.UpdatedBy = uint64(gid), uint64(by)
	return s, err
}

// SaveGuildSettings stores a guild's new settings if they are still at
// version prev (0: the guild has none yet), logs the changes, and notifies
// every process, all in one transaction. It returns the new version, or
// ErrConflict when someone changed them meanwhile.
func (s *Store) SaveGuildSettings(ctx context.Context, guildID uint64, spec json.RawMessage, prev int, at time.Time, changes []Change) (int, error) {
	next := prev + 1
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var tag interface{ RowsAffected() int64 }
		var err error
		var author int64
		if len(changes) > 0 {
			author = int64(changes[0].AuthorID)
		}
		if prev == 0 {
			tag, err = tx.Exec(ctx, `INSERT INTO guild_settings (guild_id, spec, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, $4)
				ON CONFLICT (guild_id) DO NOTHING`, int64(guildID), spec, at, author)
		} else {
			tag, err = tx.Exec(ctx, `UPDATE guild_settings SET spec = $2, version = version + 1, updated_at = $3, updated_by = $4
				WHERE guild_id = $1 AND version = $5`, int64(guildID), spec, at, author, prev)
		}
		if err != nil {
			return fmt.Errorf("save guild settings: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return ErrConflict
		}
		if err := logChanges(ctx, tx, guildID, at, changes); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, SettingsChannel, strconv.FormatUint(guildID, 10))
		return err
	})
	if err != nil {
		return 0, err
	}
	return next, nil
}

// LogChanges adds lines to a guild's settings log (corrections and excuses
// are logged there too).
func (q *Queries) LogChanges(ctx context.Context, guildID uint64, at time.Time, changes []Change) error {
	return logChanges(ctx, q.db, guildID, at, changes)
}

func logChanges(ctx context.Context, db DBTX, guildID uint64, at time.Time, changes []Change) error {
	for _, c := range changes {
		_, err := db.Exec(ctx, `INSERT INTO settings_log (guild_id, at, author_id, author_name, action, key, old_value, new_value)
			VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''))`,
			int64(guildID), at, int64(c.AuthorID), c.AuthorName, c.Action, c.Key, c.Old, c.New)
		if err != nil {
			return fmt.Errorf("log a settings change: %w", err)
		}
	}
	return nil
}

// SettingsLog returns a guild's last changes, newest first.
func (q *Queries) SettingsLog(ctx context.Context, guildID uint64, limit int) ([]Change, error) {
	rows, err := q.db.Query(ctx, `SELECT id, at, author_id, author_name, action, key, coalesce(old_value, ''), coalesce(new_value, '')
		FROM settings_log WHERE guild_id = $1 ORDER BY id DESC LIMIT $2`, int64(guildID), limit)
	if err != nil {
		return nil, fmt.Errorf("read the settings log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		c := Change{GuildID: guildID}
		var author int64
		err := r.Scan(&c.ID, &c.At, &author, &c.AuthorName, &c.Action, &c.Key, &c.Old, &c.New)
		c.AuthorID = uint64(author)
		return c, err
	})
}

// GuildJoined records that the bot is in a guild (again): a departed guild
// that comes back within its grace period keeps its data.
func (q *Queries) GuildJoined(ctx context.Context, guildID uint64, at time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO guilds (guild_id, joined_at) VALUES ($1, $2)
		ON CONFLICT (guild_id) DO UPDATE SET departed_at = NULL`, int64(guildID), at)
	if err != nil {
		return fmt.Errorf("record the bot joined guild %d: %w", guildID, err)
	}
	return nil
}

// GuildDeparted records that the bot left (or was removed from) a guild.
func (q *Queries) GuildDeparted(ctx context.Context, guildID uint64, at time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO guilds (guild_id, joined_at, departed_at) VALUES ($1, $2, $2)
		ON CONFLICT (guild_id) DO UPDATE SET departed_at = coalesce(guilds.departed_at, EXCLUDED.departed_at)`, int64(guildID), at)
	if err != nil {
		return fmt.Errorf("record the bot left guild %d: %w", guildID, err)
	}
	return nil
}

// ClaimWelcome reports whether this call is the first to welcome the
// guild: the hello in its system channel is said once, across restarts and
// processes.
func (q *Queries) ClaimWelcome(ctx context.Context, guildID uint64, at time.Time) (bool, error) {
	tag, err := q.db.Exec(ctx, `INSERT INTO guilds (guild_id, joined_at, welcomed_at) VALUES ($1, $2, $2)
		ON CONFLICT (guild_id) DO UPDATE SET welcomed_at = EXCLUDED.welcomed_at WHERE guilds.welcomed_at IS NULL`, int64(guildID), at)
	if err != nil {
		return false, fmt.Errorf("record the welcome of guild %d: %w", guildID, err)
	}
	return tag.RowsAffected() == 1, nil
}
