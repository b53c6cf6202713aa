package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Correction is a moderator's change to what the bot recorded of one
// member in one event: minutes [From, To) added or removed.
type Correction struct {
	ID           int64
	OccurrenceID int64
	GuildID      uint64
	UserID       uint64
	From, To     int
	Add          bool
	Reason       string
	AuthorID     uint64
	AuthorName   string
	CreatedAt    time.Time
	UndoneAt     time.Time // zero while in force
}

// Excuse excuses a member from one event (OccurrenceID) or from every event
// starting in [From, To).
type Excuse struct {
	ID           int64
	GuildID      uint64
	UserID       uint64
	OccurrenceID int64
	From, To     time.Time
	Reason       string
	AuthorID     uint64
	AuthorName   string
	CreatedAt    time.Time
	UndoneAt     time.Time
}

// Covers reports whether the excuse excuses its member from occurrence o.
func (e Excuse) Covers(o Occurrence) bool {
	if e.OccurrenceID != 0 {
		return e.OccurrenceID == o.ID
	}
	return !o.Start.Before(e.From) && o.Start.Before(e.To)
}

// AddCorrection stores a correction and its line in the settings log; it
// returns the correction's id. Run it in a Store.Tx.
func (q *Queries) AddCorrection(ctx context.Context, c Correction, line Change) (int64, error) {
	var id int64
	err := func() error {
		err := q.db.QueryRow(ctx, `INSERT INTO corrections (occurrence_id, guild_id, user_id, from_minute, to_minute, add, reason, author_id, author_name, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			c.OccurrenceID, int64(c.GuildID), int64(c.UserID), c.From, c.To, c.Add, c.Reason, int64(c.AuthorID), c.AuthorName, c.CreatedAt).Scan(&id)
		if err != nil {
			return fmt.Errorf("store the correction: %w", err)
		}
		line.Key = fmt.Sprintf("corrections[%d]", id) + line.Key
		return logChanges(ctx, q.db, c.GuildID, c.CreatedAt, []Change{line})
	}()
	return id, err
}

// UndoCorrection undoes correction id of a guild, logging it; ErrNotFound
// when there is none in force. Run it in a Store.Tx.
func (q *Queries) UndoCorrection(ctx context.Context, guildID uint64, id int64, at time.Time, line Change) (Correction, error) {
	rows, err := q.db.Query(ctx, correctionSelect+` WHERE guild_id = $1 AND id = $2 AND undone_at IS NULL FOR UPDATE`, int64(guildID), id)
	if err != nil {
		return Correction{}, err
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCorrection)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if _, err := q.db.Exec(ctx, `UPDATE corrections SET undone_at = $2, undone_by = $3 WHERE id = $1`, id, at, int64(line.AuthorID)); err != nil {
		return c, fmt.Errorf("undo correction %d: %w", id, err)
	}
	line.Key = fmt.Sprintf("corrections[%d]", id) + line.Key
	return c, logChanges(ctx, q.db, guildID, at, []Change{line})
}

// GetCorrection returns correction id of a guild, in force or undone.
func (q *Queries) GetCorrection(ctx context.Context, guildID uint64, id int64) (Correction, error) {
	rows, err := q.db.Query(ctx, correctionSelect+` WHERE guild_id = $1 AND id = $2`, int64(guildID), id)
	if err != nil {
		return Correction{}, fmt.Errorf("read correction %d: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCorrection)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

const correctionSelect = `SELECT id, occurrence_id, guild_id, user_id, from_minute, to_minute, add, reason, author_id, author_name, created_at,
	coalesce(undone_at, 'epoch') FROM corrections`

func scanCorrection(r pgx.CollectableRow) (Correction, error) {
	var c Correction
	var gid, uid, aid int64
	var from, to int16
	err := r.Scan(&c.ID, &c.OccurrenceID, &gid, &uid, &from, &to, &c.Add, &c.Reason, &aid, &c.AuthorName, &c.CreatedAt, &c.UndoneAt)
	c.GuildID, c.UserID, c.AuthorID, c.From, c.To = uint64(gid), uint64(uid), uint64(aid), int(from), int(to)
	if c.UndoneAt.Unix() == 0 {
		c.UndoneAt = time.Time{}
	}
	return c, err
}

// correctionsOf returns the corrections in force of the occurrences, which
// belong to one guild, each in the order they were made, by occurrence id.
// It asks for the guild's span of ids rather than the list, which for a
// year is cheaper to send and to plan: the map may hold occurrences that
// are not in occs.
func (q *Queries) correctionsOf(ctx context.Context, occs []Occurrence) (map[int64][]Correction, error) {
	out := map[int64][]Correction{}
	if len(occs) == 0 {
		return out, nil
	}
	lo, hi := idSpan(occs)
	rows, err := q.db.Query(ctx, correctionSelect+` WHERE guild_id = $1 AND occurrence_id BETWEEN $2 AND $3 AND undone_at IS NULL ORDER BY id`,
		int64(occs[0].GuildID), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("load corrections: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanCorrection)
	if err != nil {
		return nil, fmt.Errorf("load corrections: %w", err)
	}
	for _, c := range cs {
		out[c.OccurrenceID] = append(out[c.OccurrenceID], c)
	}
	return out, nil
}

// RecentCorrections lists a guild's corrections in force, newest first.
func (q *Queries) RecentCorrections(ctx context.Context, guildID uint64, limit int) ([]Correction, error) {
	rows, err := q.db.Query(ctx, correctionSelect+` WHERE guild_id = $1 AND undone_at IS NULL ORDER BY id DESC LIMIT $2`, int64(guildID), limit)
	if err != nil {
		return nil, fmt.Errorf("list corrections: %w", err)
	}
	return pgx.CollectRows(rows, scanCorrection)
}

// MemberCorrections lists every correction of a member in a guild, undone
// ones too (for their export).
func (q *Queries) MemberCorrections(ctx context.Context, guildID, userID uint64) ([]Correction, error) {
	rows, err := q.db.Query(ctx, correctionSelect+` WHERE guild_id = $1 AND user_id = $2 ORDER BY id`, int64(guildID), int64(userID))
	if err != nil {
		return nil, fmt.Errorf("list corrections: %w", err)
	}
	return pgx.CollectRows(rows, scanCorrection)
}

// AddExcuse stores an excuse and its log line; it returns its id. Run it
// in a Store.Tx.
func (q *Queries) AddExcuse(ctx context.Context, e Excuse, line Change) (int64, error) {
	var occ *int64
	var from, to *time.Time
	if e.OccurrenceID != 0 {
		occ = &e.OccurrenceID
	} else {
		from, to = &e.From, &e.To
	}
	var id int64
	err := q.db.QueryRow(ctx, `INSERT INTO excuses (guild_id, user_id, occurrence_id, starts_at, ends_at, reason, author_id, author_name, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		int64(e.GuildID), int64(e.UserID), occ, from, to, e.Reason, int64(e.AuthorID), e.AuthorName, e.CreatedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store the excuse: %w", err)
	}
	line.Key = fmt.Sprintf("excuses[%d]", id) + line.Key
	return id, logChanges(ctx, q.db, e.GuildID, e.CreatedAt, []Change{line})
}

// UndoExcuse withdraws excuse id of a guild, logging it; ErrNotFound when
// there is none in force. Run it in a Store.Tx.
func (q *Queries) UndoExcuse(ctx context.Context, guildID uint64, id int64, at time.Time, line Change) (Excuse, error) {
	rows, err := q.db.Query(ctx, excuseSelect+` WHERE guild_id = $1 AND id = $2 AND undone_at IS NULL FOR UPDATE`, int64(guildID), id)
	if err != nil {
		return Excuse{}, err
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanExcuse)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, err
	}
	if _, err := q.db.Exec(ctx, `UPDATE excuses SET undone_at = $2, undone_by = $3 WHERE id = $1`, id, at, int64(line.AuthorID)); err != nil {
		return e, fmt.Errorf("withdraw excuse %d: %w", id, err)
	}
	line.Key = fmt.Sprintf("excuses[%d]", id) + line.Key
	return e, logChanges(ctx, q.db, guildID, at, []Change{line})
}

const excuseSelect = `SELECT id, guild_id, user_id, coalesce(occurrence_id, 0), coalesce(starts_at, 'epoch'), coalesce(ends_at, 'epoch'),
	reason, author_id, author_name, created_at, coalesce(undone_at, 'epoch') FROM excuses`

func scanExcuse(r pgx.CollectableRow) (Excuse, error) {
	var e Excuse
	var gid, uid, aid int64
	err := r.Scan(&e.ID, &gid, &uid, &e.OccurrenceID, &e.From, &e.To, &e.Reason, &aid, &e.AuthorName, &e.CreatedAt, &e.UndoneAt)
	e.GuildID, e.UserID, e.AuthorID = uint64(gid), uint64(uid), uint64(aid)
	for _, t := range []*time.Time{&e.From, &e.To, &e.UndoneAt} {
		if t.Unix() == 0 {
			*t = time.Time{}
		}
	}
	return e, err
}

// excusesOf returns the excuses in force that may cover the occurrences,
// which belong to one guild: those of an occurrence in their span of ids,
// and the ranges overlapping their span of time. Excuse.Covers tells which
// occurrence each covers.
func (q *Queries) excusesOf(ctx context.Context, occs []Occurrence) ([]Excuse, error) {
	if len(occs) == 0 {
		return nil, nil
	}
	lo, hi := idSpan(occs)
	from, to := occs[0].Start, occs[0].Start
	for _, o := range occs {
		if o.Start.Before(from) {
			from = o.Start
		}
		if o.Start.After(to) {
			to = o.Start
		}
	}
	rows, err := q.db.Query(ctx, excuseSelect+` WHERE guild_id = $1 AND undone_at IS NULL
		AND (occurrence_id BETWEEN $2 AND $3 OR (starts_at <= $5 AND ends_at > $4)) ORDER BY id`, int64(occs[0].GuildID), lo, hi, from, to)
	if err != nil {
		return nil, fmt.Errorf("load excuses: %w", err)
	}
	return pgx.CollectRows(rows, scanExcuse)
}

// Excuses lists a guild's excuses in force, newest first; with userID only
// that member's.
func (q *Queries) Excuses(ctx context.Context, guildID, userID uint64, limit int) ([]Excuse, error) {
	rows, err := q.db.Query(ctx, excuseSelect+` WHERE guild_id = $1 AND ($2::bigint = 0 OR user_id = $2) AND undone_at IS NULL ORDER BY id DESC LIMIT $3`,
		int64(guildID), int64(userID), limit)
	if err != nil {
		return nil, fmt.Errorf("list excuses: %w", err)
	}
	return pgx.CollectRows(rows, scanExcuse)
}

// ReportChannels returns the channels an event's report was posted in, each
// with its message: where an announcement of a correction goes.
func (q *Queries) ReportChannels(ctx context.Context, occID int64) ([]uint64, error) {
	rows, err := q.db.Query(ctx, `SELECT channel_id FROM posts WHERE kind = 'event' AND ref = $1 AND posted_at IS NOT NULL AND message_id <> 0
		ORDER BY channel_id`, fmt.Sprint(occID))
	if err != nil {
		return nil, fmt.Errorf("list the report's posts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	return out, err
}

// MemberExcuses lists every excuse of a member in a guild, withdrawn ones
// too (for their export).
func (q *Queries) MemberExcuses(ctx context.Context, guildID, userID uint64) ([]Excuse, error) {
	rows, err := q.db.Query(ctx, excuseSelect+` WHERE guild_id = $1 AND user_id = $2 ORDER BY id`, int64(guildID), int64(userID))
	if err != nil {
		return nil, fmt.Errorf("list excuses: %w", err)
	}
	return pgx.CollectRows(rows, scanExcuse)
}
