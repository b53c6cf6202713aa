package main

import (
	"context"
	"strings"
	"testing"

	"rollcall/store"
	"rollcall/store/storetest"
)

// rollcall purge deletes a member's or a guild's data, says how many rows
// per table, and with --dry-run deletes nothing.
func TestPurgeCommand(t *testing.T) {
	url := storetest.URL(t)
	seed(t, url)
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO members (guild_id, user_id, username) VALUES (2, 10, 'alexey elsewhere')`); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := st.Pool().QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cfg := writeConfig(t, "")
	t.Setenv("DATABASE_URL", url)
	out := mustCLI(t, "purge", "--config", cfg, "--guild", "1", "--member", "10", "--dry-run")
	if !strings.Contains(out, "would delete") || !strings.Contains(out, "attendance") || count(`SELECT count(*) FROM attendance`) != 1 {
		t.Fatalf("dry run: %s", out)
	}
	out = mustCLI(t, "purge", "--config", cfg, "--guild", "1", "--member", "10")
	if !strings.Contains(out, "member 10 of guild 1: deleted") || count(`SELECT count(*) FROM attendance`) != 0 ||
		count(`SELECT count(*) FROM members WHERE guild_id = 1 AND user_id = 10`) != 0 || count(`SELECT count(*) FROM members WHERE guild_id = 2`) != 1 {
		t.Fatalf("member purge: %s", out)
	}
	out = mustCLI(t, "purge", "--config", cfg, "--guild", "1")
	if count(`SELECT count(*) FROM members WHERE guild_id = 1`) != 0 || count(`SELECT count(*) FROM occurrences`) != 0 || count(`SELECT count(*) FROM members WHERE guild_id = 2`) != 1 {
		t.Fatalf("guild purge: %s", out)
	}
	if code, _, errOut := runCLI(t, "purge", "--config", cfg); code != 2 || !strings.Contains(errOut, "say which guild") {
		t.Fatalf("without --guild: %d %s", code, errOut)
	}
}
