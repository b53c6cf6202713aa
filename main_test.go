package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rollcall/config"
	"rollcall/localpg"
	"rollcall/store"
)

var testToken = base64.RawStdEncoding.EncodeToString([]byte("123456789012345678")) + ".Gx1Yz.a-very-secret-token-value"

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConfig = `
token = "` + "%TOKEN%" + `"
database_url = "postgres://u:hunter2@127.0.0.1:1/db"
[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00", "16:00", "21:00", "23:00"]
  voice_channel_names = ["БЗС"]
`

func TestCheckConfig(t *testing.T) {
	good := strings.ReplaceAll(goodConfig, "%TOKEN%", testToken)
	for _, tc := range []struct {
		name, text string
		code       int
		want       string
	}{
		{"valid", good, 0, "ok (1 guild, 1 schedule)"},
		{"bad time zone", strings.Replace(good, "Europe/Moscow", "Moscow", 1), 1, "guilds[0].timezone"},
		{"duration 0", strings.Replace(good, `times =`, "duration = \"0m\"\n  times =", 1), 1, "guilds[0].schedules[0].duration"},
		{"overlap", good + `
  [[guilds.schedules]]
  name = "Рейд"
  times = ["16:30"]
  voice_channel_names = ["бзс"]
`, 1, "guilds[0].schedules[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "check-config", "--config", writeConfig(t, tc.text))
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tc.code, tc.want)
			}
			if strings.Contains(out+errOut, "a-very-secret") || strings.Contains(out+errOut, "hunter2") {
				t.Fatalf("a secret was printed: %s%s", out, errOut)
			}
		})
	}
}

func TestCLIUsage(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "check-config") || !strings.Contains(out, "DISCORD_TOKEN") {
		t.Fatalf("help: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "run", "--log-format", "xml"); code != 2 || !strings.Contains(errOut, "--log-format") {
		t.Fatalf("bad flag value: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "check-config", "--config", "/nonexistent/rollcall.toml"); code != 1 || !strings.Contains(errOut, "copy config.example.toml") {
		t.Fatalf("missing file: %d %q", code, errOut)
	}
}

// TestNoSQLBuiltByStringFormatting reads every Go file of the module and
// fails where SQL text is built from values: a fmt call whose format looks
// like SQL, or a concatenation of SQL text with anything but constants and
// identifiers quoted by pgx.Identifier.Sanitize (database and table names
// cannot be $n parameters). Values always travel as parameters.
func TestNoSQLBuiltByStringFormatting(t *testing.T) {
	fset := token.NewFileSet()
	literals := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		sanitized := sanitizedIdents(f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind == token.STRING && looksLikeSQL(x.Value) {
					literals++
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || len(x.Args) == 0 {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "fmt" && strings.HasPrefix(sel.Sel.Name, "Sprint") || sel.Sel.Name == "Appendf" {
					for _, a := range x.Args {
						if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING && looksLikeSQL(lit.Value) {
							t.Errorf("%s: SQL built with fmt.%s", fset.Position(x.Pos()), sel.Sel.Name)
						}
					}
				}
			case *ast.BinaryExpr:
				if x.Op != token.ADD || !hasSQLLiteral(x) {
					return true
				}
				if !safeConcat(x, sanitized) {
					t.Errorf("%s: SQL concatenated with a value; pass it as a $n parameter", fset.Position(x.Pos()))
				}
				return false
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if literals < 20 {
		t.Fatalf("only %d SQL literals found: the check is not looking at the code", literals)
	}
}

// sqlText matches the statements rollcall writes, not prose that happens to
// contain "from" or "update".
var sqlText = regexp.MustCompile(`(?is)\bSELECT\b.*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|\b(CREATE|DROP|ALTER)\s+(TABLE|DATABASE|INDEX)\b|\bFROM\s+[(]?$`)

func looksLikeSQL(lit string) bool { return sqlText.MatchString(lit) }

func hasSQLLiteral(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.STRING && looksLikeSQL(x.Value)
	case *ast.BinaryExpr:
		return hasSQLLiteral(x.X) || hasSQLLiteral(x.Y)
	case *ast.ParenExpr:
		return hasSQLLiteral(x.X)
	}
	return false
}

func safeConcat(e ast.Expr, sanitized map[string]bool) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.STRING
	case *ast.BinaryExpr:
		return x.Op == token.ADD && safeConcat(x.X, sanitized) && safeConcat(x.Y, sanitized)
	case *ast.ParenExpr:
		return safeConcat(x.X, sanitized)
	case *ast.CallExpr:
		return isSanitize(x)
	case *ast.Ident:
		return sanitized[x.Name] || (x.Obj != nil && x.Obj.Kind == ast.Con)
	}
	return false
}

// isSanitize matches pgx.Identifier{...}.Sanitize() and x.Sanitize() on a
// pgx.Identifier value.
func isSanitize(c *ast.CallExpr) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Sanitize" && len(c.Args) == 0
}

// sanitizedIdents are the names assigned only from Sanitize() calls in f.
func sanitizedIdents(f *ast.File) map[string]bool {
	out := map[string]bool{}
	bad := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, l := range as.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok {
				continue
			}
			if c, ok := as.Rhs[i].(*ast.CallExpr); ok && isSanitize(c) {
				out[id.Name] = true
			} else {
				bad[id.Name] = true
			}
		}
		return true
	})
	for k := range bad {
		delete(out, k)
	}
	return out
}

// With no database URL, run starts a private PostgreSQL under --data-dir;
// a second start finds the first one's data.
func TestPrivateDatabaseKeepsDataAcrossStarts(t *testing.T) {
	// Not t.TempDir: its parent is private to root, and as root the
	// server runs as an unprivileged account that must reach the directory.
	parent, err := os.MkdirTemp("", "rollcall-private-db-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "data")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	for i, want := range []int{0, 1} {
		cfg := &config.Config{}
		stop, err := startPrivateDB(ctx, cfg, dir, log)
		if err != nil {
			if errors.Is(err, localpg.ErrNoBinaries) && os.Getenv("CI") != "true" {
				t.Skip(err)
			}
			t.Fatal(err)
		}
		st, err := store.Open(ctx, cfg.DatabaseURL.Value())
		if err != nil {
			stop()
			t.Fatal(err)
		}
		if err := st.Migrate(ctx, schema); err != nil {
			t.Fatal(err)
		}
		ms, err := st.Members(ctx, 1)
		if err != nil || len(ms) != want {
			t.Fatalf("start %d: %d members (%v), want %d", i+1, len(ms), err, want)
		}
		if err := st.UpsertMembers(ctx, 1, []store.Member{{UserID: 42, Username: "kept"}}); err != nil {
			t.Fatal(err)
		}
		st.Close()
		stop()
	}
}
