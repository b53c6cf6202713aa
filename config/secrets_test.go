package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"rollcall/settings"
)

// realToken is shaped like a Discord bot token: the application id in
// base64, a timestamp part, and the secret HMAC part.
const realToken = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.q9Zx-7_vB3nRt0YwLp2KsD8fMh4GcJa6Ue1XoVi5"

// dbPassword is the password of the database URL.
const dbPassword = "Zq8-wN2xR7vKp4sL9mT"

// stringKey is a key of the file that takes text (a string, a duration, an
// id, or a list of them), with the TOML path of its table.
type stringKey struct {
	tables []string // e.g. ["guilds", "schedules"]: [[guilds]] then [[guilds.schedules]]
	key    string
	list   bool
}

// stringKeys lists every key of the schema that a string can be written
// into, read from the structs by reflection, so a key added later is
// covered too.
func stringKeys(fields []*field, tables []string) []stringKey {
	var out []stringKey
	for _, f := range fields {
		switch f.kind {
		case kindString, kindText, kindCustom:
			out = append(out, stringKey{tables: tables, key: f.key})
		case kindList:
			switch f.elem.kind {
			case kindString, kindText, kindCustom:
				out = append(out, stringKey{tables: tables, key: f.key, list: true})
			}
		case kindTable, kindTables:
			out = append(out, stringKeys(f.fields, append(append([]string{}, tables...), f.key))...)
		}
	}
	return out
}

// set puts v at key in a decoded copy of valid, in the first table of each
// level (creating a table, such as weekly_report, that valid lacks).
func set(t *testing.T, k stringKey, v any) string {
	var doc map[string]any
	if _, err := toml.Decode(valid, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc
	for _, name := range k.tables {
		switch x := m[name].(type) {
		case []map[string]any:
			m = x[0]
		case map[string]any:
			m = x
		default:
			next := map[string]any{}
			m[name] = next
			m = next
		}
	}
	m[k.key] = v
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// leaks reports the first piece of secret (scrubWindow characters or
// more) found in s.
func leaks(s, secret string) (string, bool) {
	for i := 0; i+scrubWindow <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+scrubWindow]) {
			return secret[i : i+scrubWindow], true
		}
	}
	return "", false
}

// allText is every wording of an error: its lines, and each problem's
// text in both languages as Discord would show it.
func allText(err error) string {
	parts := []string{err.Error()}
	var es Errors
	if errors.As(err, &es) {
		for _, e := range es {
			var p *settings.Problem
			if errors.As(e, &p) {
				parts = append(parts, p.Path, p.Text("en", nil), p.Text("ru", nil), fmt.Sprint(p.Args...))
			}
		}
	}
	return strings.Join(parts, "\n")
}

// TestSecretsNeverInErrors puts the bot token, and a database URL with a
// password, into every key of the file that takes text, in every form the
// file can hold it (quoted, as a list, bare, as a key's name): the error
// names the key and never shows the secret, not even a part of it (issue
// 13, item 4).
func TestSecretsNeverInErrors(t *testing.T) {
	keys := stringKeys(configSchema, nil)
	if len(keys) < 20 {
		t.Fatalf("only %d keys found: the schema walk is broken", len(keys))
	}
	dbURL := "postgres://rollcall:" + dbPassword + "@db.internal:5432/rollcall"
	envs := map[string]func(string) string{
		// The token comes from the environment, as documented ...
		"env": env(map[string]string{"DISCORD_TOKEN": realToken, "DATABASE_URL": dbURL}),
		// ... or only from the file, where it went into the wrong key.
		"file only": env(nil),
	}
	for _, k := range keys {
		if len(k.tables) == 0 && (k.key == "token" || k.key == "database_url") {
			continue
		}
		path := strings.Join(append(append([]string{}, k.tables...), k.key), ".")
		for _, secret := range []string{realToken, dbURL} {
			for envName, getenv := range envs {
				var v any = secret
				if k.list {
					v = []any{secret}
				}
				texts := map[string]string{"quoted": set(t, k, v)}
				// Bare, without quotes: a syntax error, on the key's line.
				texts["bare"] = strings.Replace(texts["quoted"], `"`+secret+`"`, secret, 1)
				// As the key's name (pasted on the wrong side of "=").
				texts["as a key"] = set(t, stringKey{tables: k.tables, key: secret}, "x")
				for form, text := range texts {
					t.Run(path+"/"+form+"/"+envName+"/"+secret[:8], func(t *testing.T) {
						_, err := Parse(text, getenv)
						if err == nil {
							t.Fatalf("accepted a secret in %s:\n%s", path, text)
						}
						out := allText(err)
						for _, s := range []string{realToken, dbPassword} {
							if piece, ok := leaks(out, s); ok {
								t.Fatalf("the error shows %q of a secret:\n%s", piece, out)
							}
						}
						if form == "quoted" && !strings.Contains(err.Error(), k.key) {
							t.Errorf("the error does not name %s:\n%s", k.key, err)
						}
					})
				}
			}
		}
	}
}

// The file's own token and database URL, valid ones, are not secrets out
// of place: the token key takes the token.
func TestTokenInItsKeyIsAccepted(t *testing.T) {
	text := "token = \"" + realToken + "\"\ndatabase_url = \"postgres://u:" + dbPassword + "@h/db\"\n" + valid
	if _, err := Parse(text, env(nil)); err != nil {
		t.Fatal(err)
	}
}

// scrubText hides a secret in whole or in part, wherever a message came from.
func TestScrubText(t *testing.T) {
	secrets := []string{realToken, dbPassword}
	for _, in := range []string{
		"toml: expected value but found \"" + realToken[10:40] + "\" instead",
		"bad " + realToken,
		"password " + dbPassword + " wrong",
		"url postgres://u:anything@h/db",
	} {
		out := scrubText(in, secrets)
		for _, s := range secrets {
			if piece, ok := leaks(out, s); ok {
				t.Errorf("scrubText(%q) = %q keeps %q", in, out, piece)
			}
		}
		if strings.Contains(out, "anything@") {
			t.Errorf("scrubText(%q) = %q keeps a URL password", in, out)
		}
	}
	if got := scrubText("guilds[0].timezone: not a zone", secrets); got != "guilds[0].timezone: not a zone" {
		t.Errorf("scrubText changed an ordinary message: %q", got)
	}
}
