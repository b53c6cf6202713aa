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
