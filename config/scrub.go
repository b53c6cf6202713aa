package config

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"rollcall/settings"
)

// The last line of defence for secrets in errors. Messages already refuse
// to quote a value shaped like a token (settings.Clip) and the shape check
// refuses a secret in any key, but a message from a library (the TOML
// parser quotes what it could not read) or one written later might still
// echo a value. So every error Parse returns is scrubbed of the configured
// token and database password, wherever they came from (the file or the
// environment), in whole or in part, and of anything shaped like a token.

// scrubWindow is the shortest piece of a secret that is hidden on its own:
// an 8-character run of a random token is never in a message by chance.
const scrubWindow = 8

// secretsOf finds the secrets a run would use: DISCORD_TOKEN, the
// password of DATABASE_URL, and the file's token and database_url, read
// from the text by pattern so they are known even when it does not parse.
func secretsOf(text string, getenv func(string) string) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	password := func(u string) {
		if pu, err := url.Parse(u); err == nil && pu.User != nil {
			if p, ok := pu.User.Password(); ok {
				add(p)
			}
		} else if m := urlPassword.FindStringSubmatch(u); m != nil {
			add(m[1])
		}
	}
	add(getenv("DISCORD_TOKEN"))
	password(getenv("DATABASE_URL"))
	for _, m := range fileSecret.FindAllStringSubmatch(text, -1) {
		v := m[2] + m[3]
		if m[1] == "token" {
			add(v)
		} else {
			password(v)
		}
	}
	return out
}

var (
	fileSecret  = regexp.MustCompile(`(?m)^\s*["']?(token|database_url)["']?\s*=\s*(?:"([^"\n]*)"|'([^'\n]*)')`)
	urlPassword = regexp.MustCompile(`://[^/@\s:]*:([^/@\s]+)@`)
)

// scrubText hides the secrets in s: every run of scrubWindow or more
// characters of one (shorter secrets when whole), and anything shaped like
// a token or a URL with a password.
func scrubText(s string, secrets []string) string {
	s = settings.HideSecrets(s)
	for _, sec := range secrets {
		if len(sec) < scrubWindow {
			if len(sec) >= 4 {
				s = strings.ReplaceAll(s, sec, "[hidden]")
			}
			continue
		}
		pieces := map[string]bool{}
		for i := 0; i+scrubWindow <= len(sec); i++ {
			pieces[sec[i:i+scrubWindow]] = true
		}
		hide := make([]bool, len(s))
		found := false
		for i := 0; i+scrubWindow <= len(s); i++ {
			if pieces[s[i:i+scrubWindow]] {
				for j := i; j < i+scrubWindow; j++ {
					hide[j] = true
				}
				found = true
			}
		}
		if !found {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if !hide[i] {
				b.WriteByte(s[i])
				continue
			}
			if i == 0 || !hide[i-1] {
				b.WriteString("[hidden]")
			}
		}
		s = strings.ToValidUTF8(b.String(), "")
	}
	return s
}

// scrub returns err with every message scrubbed: the *KeyErrors of an
// Errors keep their type (and the *settings.Problem inside, its Args
// scrubbed), anything else becomes a plain error of its scrubbed text.
func scrub(err error, secrets []string) error {
	var es Errors
	if !errors.As(err, &es) {
		return errors.New(scrubText(err.Error(), secrets))
	}
	out := make(Errors, len(es))
	for i, e := range es {
		ke, ok := e.(*KeyError)
		if !ok {
			out[i] = errors.New(scrubText(e.Error(), secrets))
			continue
		}
		c := *ke
		c.Key, c.Msg = scrubText(c.Key, secrets), scrubText(c.Msg, secrets)
		if p, ok := c.Err.(*settings.Problem); ok {
			cp := *p
			cp.Path = scrubText(cp.Path, secrets)
			cp.Args = make([]any, len(p.Args))
			for j, a := range p.Args {
				if s, ok := a.(string); ok {
					a = scrubText(s, secrets)
				}
				cp.Args[j] = a
			}
			c.Err = &cp
		}
		out[i] = &c
	}
	return out
}
