// Package config loads rollcall's TOML configuration, applies environment
// overrides for secrets, and validates it with errors that name the offending
// key. The token is never printed: Config.String and every error leave it out.
package config

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"rollcall/settings"
)

// Defaults.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultCatchUp      = 6 * time.Hour
	// DefaultDBOutageWindow bounds the in-memory buffer during a database outage.
	DefaultDBOutageWindow = 30 * time.Minute
	// DefaultDiscordAPIURL is the base of Discord's HTTP API, version 10.
	DefaultDiscordAPIURL = "https://discord.com/api/v10"
)

// Config is the whole configuration, validated.
type Config struct {
	Token Secret `toml:"token"`
	// DatabaseURL is the PostgreSQL to use; empty means a private one that
	// rollcall starts itself under its data directory.
	DatabaseURL  Secret   `toml:"database_url"`
	PollInterval Duration `toml:"poll_interval"`
	// CatchUp is how long after an event's end a report that was missed (the
	// bot was down) is still posted, marked late.
	CatchUp Duration `toml:"catch_up"`
	// DBOutageWindow is how long attendance is kept in memory while the
	// database is unreachable; samples of events that ended longer ago than
	// this are dropped (loudly).
	DBOutageWindow Duration `toml:"db_outage_window"`
	LogLevel       string   `toml:"log_level"`
	// DiscordAPIURL is the base of Discord's HTTP API (default
	// DefaultDiscordAPIURL): changed only to go through a rate-limit proxy
	// or to test against a local Discord such as rollcall's simulator. The
	// gateway's address comes from its GET /gateway.
	DiscordAPIURL string `toml:"discord_api_url"`
	// Commands says where slash commands are registered: "auto" (the
	// default: per configured guild while every guild the bot serves is in
	// this file, else globally), "guild" or "global".
	Commands string `toml:"commands"`
	// PrivacyURL is where the operator publishes the privacy policy (see
	// PRIVACY.md); /privacy show links it.
	PrivacyURL string `toml:"privacy_url"`
	// HTTPListen is the address (host:port) of the HTTP listener for
	// /healthz, /readyz and /metrics; empty (the default) means none.
	HTTPListen string `toml:"http_listen"`
	// Shards is how many gateway shards the bot runs: "auto" (Discord's
	// recommendation) or a number; unset or 1 means no sharding.
	Shards ShardCount `toml:"shards"`
	// ShardIDs are the shards this process runs; empty, with shards set,
	// the processes on one database share the shards out by lease.
	ShardIDs []int `toml:"shard_ids"`
	// ShardLease is how long a shard lease lasts without renewal (default
	// 30s): a process that dies loses its shards to the others in about this.
	ShardLease Duration `toml:"shard_lease"`
	// Guilds are the guilds managed by this file, as written.
	Guilds []settings.Spec `toml:"guilds"`

	// Validated are Guilds validated, in the same order; set by Validate.
	Validated []*settings.Guild `toml:"-"`

	// written holds the top-level keys the file set, so that a key written
	// as "0s" is checked rather than replaced by its default.
	written map[string]bool
}

// ShardCount is shards: AutoShards for "auto", else the number (0 unset).
type ShardCount int

// AutoShards is shards = "auto".
const AutoShards ShardCount = -1

// MaxShards bounds shards: Discord shards a bot by the thousands of guilds.
const MaxShards = 4096

// UnmarshalTOML accepts "auto" and a number.
func (n *ShardCount) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		if strings.EqualFold(strings.TrimSpace(x), "auto") {
			*n = AutoShards
			return nil
		}
		return fmt.Errorf("%q is not a shard count: write shards = \"auto\" (Discord's recommendation) or a number such as 4", settings.Clip(x))
	case int64:
		if x < 1 || x > MaxShards {
			return fmt.Errorf("%d is out of range: use 1 to %d, or \"auto\"", x, MaxShards)
		}
		*n = ShardCount(x)
		return nil
	}
	return fmt.Errorf("must be \"auto\" or a number such as 4, got %T", v)
}

// MarshalText writes "auto" or the number.
func (n ShardCount) MarshalText() ([]byte, error) {
	if n == AutoShards {
		return []byte("auto"), nil
	}
	return []byte(strconv.Itoa(int(n))), nil
}

// DefaultShardLease is shard_lease's default.
const DefaultShardLease = 30 * time.Second

// Duration is a time.Duration written as "5s", "60m", "1h30m" in TOML.
type Duration = settings.Duration

// Snowflake is a Discord id, accepted as a TOML string or integer.
type Snowflake = settings.Snowflake

// Secret is a string that never prints.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return `""`
	}
	return "[hidden]"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return s.String() }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }

// Load reads path, applies DISCORD_TOKEN and DATABASE_URL from the
// environment, fills defaults and validates.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(string(b), os.Getenv)
}

// Parse is Load without the file system: getenv supplies the environment.
//
// Every problem is reported at once, each with its line and its key's full
// path ("line 73: guilds[0].schedules[1].duration: …"), up to maxShown of
// them. No error Parse returns holds the token or the database password
// (see scrub.go).
func Parse(text string, getenv func(string) string) (*Config, error) {
	c, err := parse(text, getenv)
	if err != nil {
		return nil, scrub(err, secretsOf(text, getenv))
	}
	return c, nil
}

func parse(text string, getenv func(string) string) (*Config, error) {
	// The file is read twice: first as plain TOML, whose shape is checked
	// against Config's (schema.go) with every wrong key reported and
	// removed, then what is left is decoded into Config and validated, so
	// one run reports the shape mistakes and the bad values together.
	var doc map[string]any
	if _, err := toml.Decode(text, &doc); err != nil {
		return nil, Errors{describeDecodeError(err, text)}
	}
	w := &walker{secrets: secretsOf(text, getenv)}
	w.table(doc, configSchema, "", "")
	var errs Errors
	for _, p := range w.problems {
		errs = append(errs, &KeyError{Key: p.path, Msg: p.msg})
	}

	var buf strings.Builder
	if err := toml.NewEncoder(&buf).Encode(doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c Config
	md, err := toml.Decode(buf.String(), &c)
	if err != nil {
		// The shape check lets through only what decodes; if something
		// still does not, say so rather than guess. Its line is of the
		// re-encoded text, so it is looked up again by key below.
		de := describeDecodeError(err, buf.String())
		if ke, ok := de.(*KeyError); ok {
			ke.Line = keyLines(text).lineOf(ke.Key)
		}
		return nil, append(errs, de)
	}
	if und := md.Undecoded(); len(und) > 0 {
		for _, k := range und {
			errs = append(errs, &KeyError{Key: k.String(), Msg: "unknown key (check the spelling against config.example.toml)"})
		}
	}
	if v := getenv("DISCORD_TOKEN"); v != "" {
		c.Token = Secret(v)
	}
	if v := getenv("DATABASE_URL"); v != "" {
		c.DatabaseURL = Secret(v)
	}
	c.written = map[string]bool{}
	for _, k := range []string{"poll_interval", "catch_up", "db_outage_window"} {
		c.written[k] = md.IsDefined(k)
	}
	if err := c.Validate(); err != nil {
		var ves Errors
		errors.As(err, &ves)
		for _, e := range ves {
			if !dependsOnPruned(e, w.pruned) {
				errs = append(errs, asKeyError(e))
			}
		}
	}
	if len(errs) == 0 {
		return &c, nil
	}
	lines := keyLines(text)
	for _, e := range errs {
		if ke, ok := e.(*KeyError); ok && ke.Line == 0 {
			key, _, _ := strings.Cut(ke.Key, " ") // "database_url (or DATABASE_URL)"
			ke.Line = lines.lineOf(key)
		}
	}
	slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(lineOfErr(a), lineOfErr(b)) })
	return nil, errs
}

func lineOfErr(e error) int {
	if ke, ok := e.(*KeyError); ok {
		return ke.Line
	}
	return 0
}

// asKeyError gives a validation problem its place in the file.
func asKeyError(e error) error {
	var p *settings.Problem
	if errors.As(e, &p) {
		return &KeyError{Key: p.Path, Msg: p.Text("en", nil), Err: p}
	}
	return e
}

// dependsOnPruned reports whether a validation error only follows from a
// key the shape check already reported and removed: the key itself or
// something under it ("times" missing after "times is a list"), or a
// problem of the table it was in about that key ("no voice channel" after
// a voice_channels that was not a list of ids).
func dependsOnPruned(e error, pruned []string) bool {
	var key, field string
	mentions := map[string]bool{}
	var p *settings.Problem
	var ke *KeyError
	switch {
	case errors.As(e, &p):
		key, field = p.Path, p.Field
		p.Text("en", func(k string) string { mentions[k] = true; return k })
	case errors.As(e, &ke):
		key = ke.Key
		field = key[strings.LastIndexAny(key, ".]")+1:]
	default:
		return false
	}
	under := func(path, root string) bool {
		return path == root || strings.HasPrefix(path, root+".") || strings.HasPrefix(path, root+"[")
	}
	for _, x := range pruned {
		if under(key, x) {
			return true
		}
		i := strings.LastIndex(x, ".")
		parent, f := "", x
		if i >= 0 {
			parent, f = x[:i], x[i+1:]
		}
		if (parent == "" || under(key, parent)) && (field == f || mentions[f]) {
			return true
		}
	}
	return false
}

// describeDecodeError words a TOML syntax error with its line and the key's
// full path. The parser names the last key without indices
// ("guilds.timezone"); the path written on that line gives them.
func describeDecodeError(err error, text string) error {
	var perr toml.ParseError
	if !errors.As(err, &perr) {
		return fmt.Errorf("config: %w", err)
	}
	// ErrorWithPosition quotes the offending line; a token on that line would leak.
	msg := perr.Message
	if strings.HasPrefix(msg, "expected value but found") {
		key := perr.LastKey[strings.LastIndex(perr.LastKey, ".")+1:]
		msg += `: text goes in quotes, e.g. ` + key + ` = "…"`
	}
	key := perr.LastKey
	lines := keyLines(text)
	for _, path := range slices.Sorted(maps.Keys(lines)) {
		if lines[path] == perr.Position.Line && withoutIndices(path) == perr.LastKey {
			key = path
		}
	}
	return &KeyError{Line: perr.Position.Line, Key: key, Msg: msg}
}

var indices = regexp.MustCompile(`\[[0-9]+\]`)

func withoutIndices(path string) string { return indices.ReplaceAllString(path, "") }

// KeyError is a problem tied to a config key: where it is and what to do.
type KeyError struct {
	// Line is where the key (or, when it is missing, its table) is written;
	// 0 when it is not in the file (the environment, or no table at all).
	Line int
	// Key is the key's full path with indices, e.g.
	// "guilds[0].schedules[1].duration".
	Key string
	Msg string
	// Err is the *settings.Problem this came from, if any.
	Err error
}

func (e *KeyError) Error() string {
	s := "config: "
	if e.Line > 0 {
		s += "line " + strconv.Itoa(e.Line) + ": "
	}
	if e.Key != "" {
		s += e.Key + ": "
	}
	return s + e.Msg
}

// Unwrap lets errors.As find the *settings.Problem.
func (e *KeyError) Unwrap() error { return e.Err }

func keyErr(key, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate fills defaults and checks every key, returning every problem
// found, each with the key it is about.
func (c *Config) Validate() error {
	var errs Errors
	if c.PollInterval == 0 && !c.written["poll_interval"] {
		c.PollInterval = Duration(DefaultPollInterval)
	}
	if c.CatchUp == 0 && !c.written["catch_up"] {
		c.CatchUp = Duration(DefaultCatchUp) // "0s" written means no catch-up
	}
	if c.DBOutageWindow == 0 && !c.written["db_outage_window"] {
		c.DBOutageWindow = Duration(DefaultDBOutageWindow)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.DiscordAPIURL == "" {
		c.DiscordAPIURL = DefaultDiscordAPIURL
	} else if err := validateAPIURL(c.DiscordAPIURL); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateToken(); err != nil {
		errs = append(errs, err)
	}
	if u := c.DatabaseURL.Value(); u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		errs = append(errs, keyErr("database_url (or DATABASE_URL)", "is not a PostgreSQL URL: write it like postgres://user:password@host:5432/rollcall, or leave it empty for a private database under --data-dir"))
	}
	if p := c.PollInterval.D(); p < time.Second || p > 30*time.Second {
		errs = append(errs, keyErr("poll_interval", "%v is out of range: use 1s to 30s (a minute is only counted if a poll falls inside it)", p))
	}
	if c.CatchUp.D() < 0 || c.CatchUp.D() > 7*24*time.Hour {
		errs = append(errs, keyErr("catch_up", "%v is out of range: use 0s to 168h", c.CatchUp.D()))
	}
	if w := c.DBOutageWindow.D(); w < time.Minute || w > 24*time.Hour {
		errs = append(errs, keyErr("db_outage_window", "%v is out of range: use 1m to 24h", w))
	}
	switch c.Commands {
	case "":
		c.Commands = "auto"
	case "auto", "guild", "global":
	default:
		errs = append(errs, keyErr("commands", "%q is not a choice: use \"auto\" (the default), \"guild\" (instant, per configured guild) or \"global\"", settings.Clip(c.Commands)))
	}
	if u := c.PrivacyURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		errs = append(errs, keyErr("privacy_url", "%q is not a web address: write it like https://example.org/rollcall-privacy", settings.Clip(u)))
	}
	if err := validateListen(c.HTTPListen); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateShards()...)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, keyErr("log_level", "%q is not a level: use debug, info, warn or error", settings.Clip(c.LogLevel)))
	}
	seen := map[Snowflake]string{}
	c.Validated = nil
	for i, spec := range c.Guilds {
		key := fmt.Sprintf("guilds[%d]", i)
		g, ps := settings.Validate(spec, key, settings.FromFile)
		if len(spec.Schedules) == 0 {
			// A guild in the file is there to record something; one without
			// a schedule is a mistake (a guild set up from Discord may start
			// empty, a file guild cannot be changed from Discord).
			errs = append(errs, keyErr(key+".schedules", "no schedule: add at least one [[guilds.schedules]] with a name and times"))
		}
		for _, p := range ps {
			errs = append(errs, p)
		}
		if prev, ok := seen[spec.ID]; ok && spec.ID != 0 {
			errs = append(errs, keyErr(key+".id", "guild %d is configured twice (also at %s)", spec.ID, prev))
		}
		seen[spec.ID] = key
		if g != nil {
			c.Validated = append(c.Validated, g)
		}
	}
	if len(errs) > 0 {
		c.Validated = nil
		return errs
	}
	return nil
}

// validateShards checks shards, shard_ids and shard_lease together.
func (c *Config) validateShards() Errors {
	var errs Errors
	if c.ShardLease == 0 && !c.written["shard_lease"] {
		c.ShardLease = Duration(DefaultShardLease)
	}
	if l := c.ShardLease.D(); l < 3*time.Second || l > 10*time.Minute {
		errs = append(errs, keyErr("shard_lease", "%v is out of range: use 3s to 10m (a process that dies loses its shards to the others after about this long)", l))
	}
	if len(c.ShardIDs) > 0 && (c.Shards == 0 || c.Shards == 1) {
		errs = append(errs, keyErr("shard_ids", "needs shards: set shards = \"auto\" or the number of shards, e.g. shards = 4 with shard_ids = [0, 1] here and [2, 3] in the other process"))
	}
	seen := map[int]bool{}
	for i, id := range c.ShardIDs {
		switch {
		case id < 0 || c.Shards > 1 && id >= int(c.Shards):
			errs = append(errs, keyErr(fmt.Sprintf("shard_ids[%d]", i), "%d is not a shard of %d: shard ids go from 0 to %d", id, c.Shards, c.Shards-1))
		case seen[id]:
			errs = append(errs, keyErr(fmt.Sprintf("shard_ids[%d]", i), "shard %d is listed twice", id))
		}
		seen[id] = true
	}
	return errs
}

// validateAPIURL accepts an absolute http(s) URL with a host and without a
// trailing slash, query or fragment: disgo appends each route's path
// ("/gateway", "/channels/…") to it as it is, so a trailing slash would make
// every path start with "//".
func validateAPIURL(raw string) error {
	const key = "discord_api_url"
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return keyErr(key, "%q is not an http(s) URL: write the base of Discord's API, e.g. %q, or leave it out", settings.Clip(raw), DefaultDiscordAPIURL)
	case u.User != nil:
		return keyErr(key, "must not hold a user or password: the bot authenticates with its token")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return keyErr(key, "%q has a query or fragment: write only the base, e.g. %q", settings.Clip(raw), DefaultDiscordAPIURL)
	case strings.HasSuffix(raw, "/"):
		return keyErr(key, "%q ends with a slash: write it without the trailing slash, e.g. %q", settings.Clip(raw), DefaultDiscordAPIURL)
	}
	return nil
}

// Errors is every problem found; as an error, one a line, the first
// maxShown of them.
type Errors []error

// maxShown bounds the problems Errors prints: past it, a file is more
// likely not a rollcall config at all than twenty keys off.
const maxShown = 20

func (es Errors) Error() string {
	var lines []string
	for i, e := range es {
		if i == maxShown {
			lines = append(lines, fmt.Sprintf("config: …and %d more", len(es)-maxShown))
			break
		}
		lines = append(lines, "config: "+strings.TrimPrefix(e.Error(), "config: "))
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a *KeyError or *settings.Problem.
func (es Errors) Unwrap() []error { return es }

// hostName is what a host name may hold (letters, digits, dots, hyphens).
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// validateListen checks http_listen: host:port, the host an IP address, a
// name, or empty for every interface; port 0 lets the system choose (the
// log says which).
func validateListen(addr string) error {
	if addr == "" {
		return nil
	}
	const key = "http_listen"
	shown := settings.Clip(addr)
	if strings.Contains(addr, "://") {
		return keyErr(key, "%q is a URL: write only the address to listen on, e.g. \"127.0.0.1:9108\"", shown)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return keyErr(key, "%q is not host:port: write e.g. \"127.0.0.1:9108\" (this machine only) or \":9108\" (every interface; the endpoints have no authentication)", shown)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return keyErr(key, "%q: the port %q is not a number from 1 to 65535: write e.g. \"127.0.0.1:9108\"", shown, settings.Clip(port))
	}
	if host != "" && net.ParseIP(host) == nil && !hostName.MatchString(host) {
		return keyErr(key, "%q: %q is neither an IP address nor a host name: write e.g. \"127.0.0.1:9108\"", shown, settings.Clip(host))
	}
	return nil
}

func (c *Config) validateToken() error {
	t := c.Token.Value()
	if t == "" {
		return keyErr("token", "missing: set DISCORD_TOKEN or token = \"...\" (Discord Developer Portal > your application > Bot > Reset Token)")
	}
	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return keyErr("token", "does not look like a bot token (three parts separated by dots); the value is not shown")
	}
	id, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil {
		return keyErr("token", "does not look like a bot token (its first part is not base64); the value is not shown")
	}
	if _, err := strconv.ParseUint(string(id), 10, 64); err != nil {
		return keyErr("token", "does not look like a bot token (its first part does not encode an application id); the value is not shown")
	}
	return nil
}

// String describes the configuration without secrets, for logs.
func (c *Config) String() string {
	return fmt.Sprintf("token=%s database_url=%s poll_interval=%v guilds=%d", c.Token, c.DatabaseURL, c.PollInterval.D(), len(c.Guilds))
}
