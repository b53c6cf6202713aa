// Package storetest gives each test its own freshly migrated PostgreSQL
// database on the server named by TEST_DATABASE_URL (default: the local
// server on 127.0.0.1:5432 as user postgres). Without a reachable server a
// test skips, except under CI=true, where it fails: CI must never pass by
// testing nothing.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/store"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is unset.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

var (
	schemaOnce sync.Once
	schemaText string
	schemaErr  error
)

// Schema returns the repository's schema.sql.
func Schema(t testing.TB) string {
	t.Helper()
	schemaOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		var b []byte
		b, schemaErr = os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "schema.sql"))
		schemaText = string(b)
	})
	if schemaErr != nil {
		t.Fatalf("read schema.sql: %v", schemaErr)
	}
	return schemaText
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("PostgreSQL is not reachable at TEST_DATABASE_URL (%s): %v; run `make test`, which installs and starts it", redact(AdminURL()), err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}

// URL creates an empty database for t and returns its URL; the database is
// dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "rollcall_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// New returns a migrated store on a fresh database for t.
func New(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, URL(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx, Schema(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// WaitForLock returns once a session of s's database waits on a lock, one
// running a statement that starts with prefix if prefix is not empty. It
// fails the test if done receives first (what was to wait did not) or
// after ten seconds; what names the waiting statement in the messages.
func WaitForLock(t testing.TB, s *store.Store, prefix string, done <-chan error, what string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting bool
		if err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, $1))`, prefix).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("%s finished without waiting for the lock (err %v)", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never waited for the lock", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
