package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// PrivacyChannel is the NOTIFY channel a member's pause, resume or deletion
// is announced on ("guild:user"), so every process stops recording them at
// once.
const PrivacyChannel = "rollcall_privacy"

// SetPaused records a member's choice about being recorded and announces
// it. A member rollcall has never stored gets a row holding only the choice.
func (s *Store) SetPaused(ctx context.Context, guildID, userID uint64, paused bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO members (guild_id, user_id, paused) VALUES ($1, $2, $3)
			ON CONFLICT (guild_id, user_id) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now()`,
			int64(guildID), int64(userID), paused); err != nil {
			return fmt.Errorf("record the member's choice: %w", err)
		}
		return notifyPrivacy(ctx, tx, guildID, userID)
	})
}

func notifyPrivacy(ctx context.Context, tx pgx.Tx, guildID, userID uint64) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PrivacyChannel, strconv.FormatUint(guildID, 10)+":"+strconv.FormatUint(userID, 10))
	return err
}

// PausedChoices returns every explicit choice of a guild's members
// (true paused, false recorded); members not listed follow the default.
func (q *Queries) PausedChoices(ctx context.Context, guildID uint64) (map[uint64]bool, error) {
	rows, err := q.db.Query(ctx, `SELECT user_id, paused FROM members WHERE guild_id = $1 AND paused IS NOT NULL`, int64(guildID))
	if err != nil {
		return nil, fmt.Errorf("load members' choices: %w", err)
	}
	defer rows.Close()
	out := map[uint64]bool{}
	for rows.Next() {
		var uid int64
		var p bool
		if err := rows.Scan(&uid, &p); err != nil {
			return nil, err
		}
		out[uint64(uid)] = p
	}
	return out, rows.Err()
}

// PausedChoice returns one member's explicit choice, nil if none.
func (q *Queries) PausedChoice(ctx context.Context, guildID, userID uint64) (*bool, error) {
	var p *bool
	err := q.db.QueryRow(ctx, `SELECT paused FROM members WHERE guild_id = $1 AND user_id = $2`, int64(guildID), int64(userID)).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// MemberData is everything rollcall stores about one member in one guild:
// what /privacy show summarises and /privacy export hands over.
type MemberData struct {
	Member     Member
	Known      bool // a members row exists
	Attendance []MemberOccurrence
	Interested []uint64 // Discord Scheduled Events they marked "Interested"
	Changes    []Change // settings log lines they made
	// Corrections and Excuses are the moderators' corrections of their
	// record and their excuses, undone ones too.
	Corrections []Correction
	Excuses     []Excuse
}

// MemberOccurrence is one member's stored masks in one occurrence.
type MemberOccurrence struct {
	Occurrence Occurrence
	Seen       Seen
}

// MemberData loads everything stored about a member in a guild, as it is
// stored. Call it in a Snapshot.
func (q *Queries) MemberData(ctx context.Context, guildID, userID uint64) (MemberData, error) {
	d := MemberData{Member: Member{GuildID: guildID, UserID: userID}}
	var roles []int64
	var joined, left *time.Time
	err := q.db.QueryRow(ctx, `SELECT username, display_name, bot, roles, joined_at, left_at, paused FROM members WHERE guild_id = $1 AND user_id = $2`,
		int64(guildID), int64(userID)).Scan(&d.Member.Username, &d.Member.DisplayName, &d.Member.Bot, &roles, &joined, &left, &d.Member.Paused)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return d, fmt.Errorf("load the member: %w", err)
	default:
		d.Known = true
		for _, r := range roles {
			d.Member.Roles = append(d.Member.Roles, uint64(r))
		}
		if joined != nil {
			d.Member.JoinedAt = *joined
		}
		if left != nil {
			d.Member.LeftAt = *left
		}
	}
	rows, err := q.db.Query(ctx, `
		SELECT o.id, o.schedule, o.starts_at, o.ends_at, coalesce(o.native_event_id, 0), a.chunk, a.present,
		       a.self_mute, a.self_deaf, a.server_mute, a.server_deaf
		FROM attendance_seen_of($1, $2, 0, 9223372036854775807) a JOIN occurrences o ON o.id = a.occurrence_id
		WHERE o.guild_id = $1
		ORDER BY o.starts_at, o.id, a.chunk`, int64(guildID), int64(userID))
	if err != nil {
		return d, fmt.Errorf("load the member's attendance: %w", err)
	}
	for rows.Next() {
		var o Occurrence
		var native int64
		var chunk int16
		var pr, sm, sd, vm, vd int64
		if err := rows.Scan(&o.ID, &o.Schedule, &o.Start, &o.End, &native, &chunk, &pr, &sm, &sd, &vm, &vd); err != nil {
			rows.Close()
			return d, err
		}
		o.GuildID, o.NativeEventID = guildID, uint64(native)
		if n := len(d.Attendance); n == 0 || d.Attendance[n-1].Occurrence.ID != o.ID {
			d.Attendance = append(d.Attendance, MemberOccurrence{Occurrence: o, Seen: Seen{UserID: userID}})
		}
		m := &d.Attendance[len(d.Attendance)-1].Seen.Masks
		setChunk(&m.Present, int(chunk), pr)
		setChunk(&m.SelfMute, int(chunk), sm)
		setChunk(&m.SelfDeaf, int(chunk), sd)
		setChunk(&m.ServerMute, int(chunk), vm)
		setChunk(&m.ServerDeaf, int(chunk), vd)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	if err := q.collect(ctx, &d.Interested, `SELECT event_id FROM interested WHERE guild_id = $1 AND user_id = $2 ORDER BY event_id`, int64(guildID), int64(userID)); err != nil {
		return d, err
	}
	crows, err := q.db.Query(ctx, `SELECT id, at, author_id, author_name, action, key, coalesce(old_value, ''), coalesce(new_value, '')
		FROM settings_log WHERE guild_id = $1 AND author_id = $2 ORDER BY id`, int64(guildID), int64(userID))
	if err != nil {
		return d, err
	}
	d.Changes, err = pgx.CollectRows(crows, func(r pgx.CollectableRow) (Change, error) {
		c := Change{GuildID: guildID}
		var author int64
		err := r.Scan(&c.ID, &c.At, &author, &c.AuthorName, &c.Action, &c.Key, &c.Old, &c.New)
		c.AuthorID = uint64(author)
		return c, err
	})
	if err != nil {
		return d, err
	}
	if d.Corrections, err = q.MemberCorrections(ctx, guildID, userID); err != nil {
		return d, err
	}
	d.Excuses, err = q.MemberExcuses(ctx, guildID, userID)
	return d, err
}

func (q *Queries) collect(ctx context.Context, dst *[]uint64, sql string, args ...any) error {
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	for _, id := range ids {
		*dst = append(*dst, uint64(id))
	}
	return err
}

// Counts is rows per table, of a deletion or a purge (or what one would do).
type Counts map[string]int64

// Total is the sum of the counts.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// DeletedAuthor is the name a deleted member's settings log lines keep.
const DeletedAuthor = "(a deleted member)"

// DeleteMember removes everything stored about a member in a guild (their
// attendance, interest, corrections and excuses, member row), anonymises
// the settings log lines, corrections and excuses they wrote, and announces it so every process drops what it buffered.
// With dryRun nothing changes and the counts say what would go. Running it
// twice is harmless.
func (s *Store) DeleteMember(ctx context.Context, guildID, userID uint64, dryRun bool) (Counts, error) {
	counts := Counts{}
	stmts := []struct{ table, sql string }{
		{"attendance", `DELETE FROM attendance a USING occurrences o WHERE o.id = a.occurrence_id AND o.guild_id = $1 AND a.user_id = $2`},
		{"interested", `DELETE FROM interested WHERE guild_id = $1 AND user_id = $2`},
		{"corrections", `DELETE FROM corrections WHERE guild_id = $1 AND user_id = $2`},
		{"excuses", `DELETE FROM excuses WHERE guild_id = $1 AND user_id = $2`},
		{"role_grants", `DELETE FROM role_grants WHERE guild_id = $1 AND user_id = $2`},
		// What they did as a moderator stays, without their name.
		{"corrections_made", `UPDATE corrections SET author_id = 0, author_name = '` + DeletedAuthor + `' WHERE guild_id = $1 AND author_id = $2`},
		{"excuses_made", `UPDATE excuses SET author_id = 0, author_name = '` + DeletedAuthor + `' WHERE guild_id = $1 AND author_id = $2`},
		{"settings_log", `UPDATE settings_log SET author_id = 0, author_name = '` + DeletedAuthor + `' WHERE guild_id = $1 AND author_id = $2`},
		{"members", `DELETE FROM members WHERE guild_id = $1 AND user_id = $2`},
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Their minutes still in the log are in arrays with everyone
		// else's: folded into attendance first, they go with its rows.
		if err := (&Queries{db: tx}).compactGuild(ctx, guildID); err != nil {
			return err
		}
		for _, st := range stmts {
			tag, err := tx.Exec(ctx, st.sql, int64(guildID), int64(userID))
			if err != nil {
				return fmt.Errorf("delete the member's %s: %w", st.table, err)
			}
			counts[st.table] = tag.RowsAffected()
		}
		if dryRun {
			return errDryRun
		}
		return notifyPrivacy(ctx, tx, guildID, userID)
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return counts, err
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// PurgeBefore deletes a guild's occurrences that started before cutoff,
// with all their attendance, batch occurrences per transaction so that
// recording is never held up for long. It returns the counts.
func (s *Store) PurgeBefore(ctx context.Context, guildID uint64, cutoff time.Time, batch int) (Counts, error) {
	counts := Counts{}
	for {
		var occ, att int64
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			ids, err := collectIDs(ctx, tx, `SELECT id FROM occurrences WHERE guild_id = $1 AND starts_at < $2 ORDER BY id LIMIT $3`,
				int64(guildID), cutoff, batch)
			if err != nil || len(ids) == 0 {
				return err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM attendance WHERE occurrence_id = ANY($1::bigint[])`, ids)
			if err != nil {
				return err
			}
			att = tag.RowsAffected()
			if _, err := tx.Exec(ctx, `DELETE FROM coverage WHERE occurrence_id = ANY($1::bigint[])`, ids); err != nil {
				return err
			}
			// Their corrections and excuses go with them (ON DELETE CASCADE).
			tag, err = tx.Exec(ctx, `DELETE FROM occurrences WHERE id = ANY($1::bigint[])`, ids)
			occ = tag.RowsAffected()
			return err
		})
		if err != nil {
			return counts, fmt.Errorf("purge attendance before %s: %w", cutoff.Format(time.DateOnly), err)
		}
		counts["occurrences"] += occ
		counts["attendance"] += att
		if occ < int64(batch) {
			// Leaves of absence that ended before the cutoff excuse nothing kept.
			tag, err := s.pool.Exec(ctx, `DELETE FROM excuses WHERE guild_id = $1 AND ends_at <= $2`, int64(guildID), cutoff)
			if err != nil {
				return counts, fmt.Errorf("purge excuses before %s: %w", cutoff.Format(time.DateOnly), err)
			}
			counts["excuses"] += tag.RowsAffected()
			return counts, nil
		}
	}
}

func collectIDs(ctx context.Context, db DBTX, sql string, args ...any) ([]int64, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// guildTables are the statements that delete a guild's data, table by
// table (occurrences take their attendance and coverage with them).
var guildTables = []struct{ table, sql string }{
	{"attendance", `DELETE FROM attendance a USING occurrences o WHERE o.id = a.occurrence_id AND o.guild_id = $1`},
	{"coverage", `DELETE FROM coverage c USING occurrences o WHERE o.id = c.occurrence_id AND o.guild_id = $1`},
	{"corrections", `DELETE FROM corrections WHERE guild_id = $1`},
	{"excuses", `DELETE FROM excuses WHERE guild_id = $1`},
	{"role_grants", `DELETE FROM role_grants WHERE guild_id = $1`},
	{"role_rule_states", `DELETE FROM role_rule_states WHERE guild_id = $1`},
	{"occurrences", `DELETE FROM occurrences WHERE guild_id = $1`},
	{"members", `DELETE FROM members WHERE guild_id = $1`},
	{"posts", `DELETE FROM posts WHERE guild_id = $1`},
	{"interested", `DELETE FROM interested WHERE guild_id = $1`},
	{"guild_settings", `DELETE FROM guild_settings WHERE guild_id = $1`},
	{"settings_log", `DELETE FROM settings_log WHERE guild_id = $1`},
	{"guilds", `DELETE FROM guilds WHERE guild_id = $1`},
	// The guild's post jobs: unique by their arguments, a finished one
	// would otherwise stop the same post from ever being made again
	// (River's table; see RescueJobs).
	{"river_job", `DELETE FROM river_job WHERE args->>'guild_id' = $1::bigint::text`},
}

// PurgeGuild deletes everything stored about a guild; with dryRun it only
// counts. Running it twice is harmless.
func (s *Store) PurgeGuild(ctx context.Context, guildID uint64, dryRun bool) (Counts, error) {
	counts := Counts{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Compacted first, the log's minutes are counted as attendance.
		if err := (&Queries{db: tx}).compactGuild(ctx, guildID); err != nil {
			return err
		}
		for _, st := range guildTables {
			tag, err := tx.Exec(ctx, st.sql, int64(guildID))
			if err != nil {
				return fmt.Errorf("purge guild %d: %s: %w", guildID, st.table, err)
			}
			counts[st.table] = tag.RowsAffected()
		}
		if dryRun {
			return errDryRun
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, SettingsChannel, strconv.FormatUint(guildID, 10))
		return err
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return counts, err
}

// DepartedGuild is a guild the bot left, with when.
type DepartedGuild struct {
	GuildID    uint64
	DepartedAt time.Time
}

// DepartedGuilds lists the guilds the bot left that still have data.
func (q *Queries) DepartedGuilds(ctx context.Context) ([]DepartedGuild, error) {
	rows, err := q.db.Query(ctx, `SELECT guild_id, departed_at FROM guilds WHERE departed_at IS NOT NULL ORDER BY guild_id`)
	if err != nil {
		return nil, fmt.Errorf("list departed guilds: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DepartedGuild, error) {
		var d DepartedGuild
		var gid int64
		err := r.Scan(&gid, &d.DepartedAt)
		d.GuildID = uint64(gid)
		return d, err
	})
}

// GuildsWithData lists every guild that has members or occurrences stored.
func (q *Queries) GuildsWithData(ctx context.Context) ([]uint64, error) {
	var out []uint64
	err := q.collect(ctx, &out, `SELECT guild_id FROM members UNION SELECT guild_id FROM occurrences ORDER BY 1`)
	return out, err
}
