// Package store is rollcall's Postgres storage: every query lives here, next
// to the scan that reads it. It knows nothing of Discord or charts. Every
// statement is parameterised.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// DBTX is what both the pool and a transaction offer.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is the database. Its queries (the methods of Queries) run on the
// pool; Snapshot and Tx run them in one transaction.
type Store struct {
	Queries
	pool *pgxpool.Pool
}

// Queries are the statements, on the pool or inside one transaction.
type Queries struct {
	db DBTX
}

// Option adjusts how Open connects.
type Option func(*pgxpool.Config)

// WithTracer traces every statement the store sends, e.g. for the benchmark
// suite to count round trips per poll tick.
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// Open connects to url. It does not migrate.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, errors.New("database_url: not a valid PostgreSQL URL (postgres://user:password@host:5432/dbname)")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A database that does not answer should fail a command in seconds,
		// not leave the member waiting (connect_timeout in the URL wins).
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &Store{Queries: Queries{db: pool}, pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool to tests and benchmarks in this module.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

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

// Migrate applies the blocks of schema not yet applied, each in its own
// transaction. An advisory lock serialises two processes starting at once.
func (s *Store) Migrate(ctx context.Context, schema string) error {
	migs, err := ParseMigrations(schema)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range migs {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			// Arbitrary constant key: "rollcall" migrations.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7262435)`); err != nil {
				return err
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
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.Version, err)
		}
	}
	return nil
}

// SchemaVersion is the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// IsUnavailable reports whether err means the database could not be
// reached (refused, cut, timed out) rather than that a query was wrong: the
// caller should say "try again later", not "something is broken".
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
