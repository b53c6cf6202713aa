package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/store"
)

// benchDB is a database created for one figure and dropped after it, the
// way store/storetest gives each test its own.
type benchDB struct {
	admin string
	name  string
	URL   string
}

func createDB(ctx context.Context, admin, purpose string) (*benchDB, error) {
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL is not reachable at %s (set TEST_DATABASE_URL or -db; `make test` installs and starts it): %w", redact(admin), err)
	}
	defer c.Close(ctx)
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "rollcall_bench_" + purpose + "_" + hex.EncodeToString(b[:])
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	return &benchDB{admin: admin, name: name, URL: u.String()}, nil
}

func (d *benchDB) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)")
}

// open returns a migrated store on the database, counting its statements.
func (d *benchDB) open(ctx context.Context, counter *stmtCounter) (*store.Store, error) {
	var opts []store.Option
	if counter != nil {
		opts = append(opts, store.WithTracer(counter))
	}
	st, err := store.Open(ctx, d.URL, opts...)
	if err != nil {
		return nil, err
	}
	schema, err := schemaSQL()
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Migrate(ctx, schema); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// repoRoot is the repository's directory: the working directory for
// `go run ./bench`, one up for `go test ./bench`, else beside this source
// file.
func repoRoot() (string, error) {
	cands := []string{".", ".."}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), ".."))
	}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "schema.sql")); err == nil {
			return filepath.Abs(d)
		}
	}
	return "", fmt.Errorf("schema.sql not found (run from the repository root)")
}

// schemaSQL reads the repository's schema.sql (embedded in the rollcall
// binary, which a separate program cannot import).
func schemaSQL() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "schema.sql"))
	return string(b), err
}

// stmtCounter is a pgx tracer counting statements sent, i.e. round trips
// (pgx sends each Exec/Query as one pipelined extended-protocol exchange;
// a statement's first use also prepares it, on its cached connection).
type stmtCounter struct{ n atomic.Int64 }

func (c *stmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *stmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *stmtCounter) Load() int { return int(c.n.Load()) }
