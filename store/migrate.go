package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var migrateMarker = regexp.MustCompile(`(?m)^-- migrate: (\d+)\s*$`)

// Migration is one numbered block of schema.sql.
type Migration struct {
	Version int
	SQL     string
}

// ParseMigrations splits schema.sql into its numbered blocks, which must
// count up from 1.
func ParseMigrations(schema string) ([]Migration, error) {
	locs := migrateMarker.FindAllStringSubmatchIndex(schema, -1)
	if len(locs) == 0 {
		return nil, errors.New("schema.sql has no \"-- migrate: N\" block")
	}
	var out []Migration
	for i, loc := range locs {
		v, _ := strconv.Atoi(schema[loc[2]:loc[3]])
		if v != i+1 {
			return nil, fmt.Errorf("schema.sql: migration %d found where %d was expected", v, i+1)
		}
		end := len(schema)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		out = append(out, Migration{Version: v, SQL: strings.TrimSpace(schema[loc[1]:end])})
	}
	return out, nil
}

// ErrSchemaTooNew is returned by Migrate when the database was migrated by
// a newer rollcall than this one.
var ErrSchemaTooNew = errors.New("the database's schema is newer than this rollcall")

// SchemaTooNewError names both versions; it matches ErrSchemaTooNew.
type SchemaTooNewError struct {
	Database int // the highest migration applied to the database
	Binary   int // the highest migration this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("the database's schema is at version %d, but this rollcall knows versions up to %d only: "+
		"a newer rollcall has migrated it, and this one could misread or damage what it does not know. "+
		"Run the newer rollcall again, or, to go back to this one, restore the backup taken before the upgrade (rollcall restore --from FILE --force)",
		e.Database, e.Binary)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// migrateLock is the advisory lock key that serialises migrations:
// an arbitrary constant, "rollcall" migrations.
const migrateLock = 7262435

// Migrate applies the blocks of schema not yet applied, each in its own
// transaction, then River's migrations (the job queue's tables). An advisory lock serialises two processes starting at once.
// It refuses (SchemaTooNewError) a database that already has a migration
// schema does not know: an older binary started after an upgrade (a
// rollback, or a second host not yet upgraded) would otherwise run
// against tables it does not understand.
func (s *Store) Migrate(ctx context.Context, schema string) error {
	migs, err := ParseMigrations(schema)
	if err != nil {
		return err
	}
	// Under the lock too: two processes' CREATE TABLE IF NOT EXISTS of the
	// same table can both try to create it, and one fails.
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
		return err
	}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	highest := migs[len(migs)-1].Version
	for _, m := range migs {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return err
			}
			// Checked under the lock, in every block's transaction: a newer
			// rollcall may be migrating at this very moment.
			var current int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return err
			}
			if current > highest {
				return &SchemaTooNewError{Database: current, Binary: highest}
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		})
		if errors.Is(err, ErrSchemaTooNew) {
			return err
		}
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.Version, err)
		}
	}
	// The job queue's tables belong to River, which versions them itself.
	return s.MigrateRiver(ctx)
}

// SchemaVersion is the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
