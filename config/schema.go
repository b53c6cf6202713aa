package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"rollcall/settings"
)

// The file's shape is checked before it is decoded into Config, against a
// schema read from Config's own struct tags (so a key added to Config or
// settings.Spec is covered without a change here). BurntSushi/toml stops at
// the first value of the wrong type with a Go type error
// ("incompatible types: TOML value has type map[string]any; destination has
// type slice") and no index; this walk instead finds every mistake in the
// file, says what to write instead, and removes the offending keys so the
// rest can still be decoded and validated in the same run.

type kind int

const (
	kindString kind = iota // TOML string
	kindInt                // TOML integer
	kindBool               // true or false
	kindText               // a string read by encoding.TextUnmarshaler (settings.Duration)
	kindCustom             // a value read by toml.Unmarshaler (settings.Snowflake)
	kindList               // an array of one of the above
	kindTable              // one table (settings.WeeklySpec)
	kindTables             // an array of tables (guilds, schedules)
)

// field is one key of the schema.
type field struct {
	key    string
	kind   kind
	typ    reflect.Type // the Go type, pointers removed
	elem   *field       // a list's element
	fields []*field     // a table's keys
}

var (
	tomlUnmarshaler = reflect.TypeFor[toml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// schemaOf lists the TOML keys of a struct type.
func schemaOf(t reflect.Type) []*field {
	var out []*field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if !sf.IsExported() || name == "-" || name == "" {
			continue
		}
		f := fieldOf(sf.Type)
		f.key = name
		out = append(out, f)
	}
	return out
}

func fieldOf(t reflect.Type) *field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	f := &field{typ: t}
	switch {
	case reflect.PointerTo(t).Implements(tomlUnmarshaler):
		f.kind = kindCustom
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		f.kind = kindText
	case t.Kind() == reflect.String:
		f.kind = kindString
	case t.Kind() == reflect.Bool:
		f.kind = kindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		f.kind = kindInt
	case t.Kind() == reflect.Struct:
		f.kind, f.fields = kindTable, schemaOf(t)
	case t.Kind() == reflect.Slice && fieldOf(t.Elem()).kind == kindTable:
		f.kind, f.fields = kindTables, schemaOf(t.Elem())
	case t.Kind() == reflect.Slice:
		f.kind, f.elem = kindList, fieldOf(t.Elem())
	default:
		panic("config: no TOML schema for " + t.String())
	}
	return f
}

// configSchema is the schema of the whole file.
var configSchema = schemaOf(reflect.TypeFor[Config]())

// shapeProblem is one mistake in the file's shape.
type shapeProblem struct {
	path string // with indices, e.g. guilds[0].schedules[1].times
	msg  string
}

// walker checks a decoded file against the schema.
type walker struct {
	problems []shapeProblem
	// pruned are the paths removed from the document, so that what depends
	// on them is not reported again (a "times" that was not a list is not
	// also "missing").
	pruned []string
	// secrets are the values that must not appear in any other key.
	secrets []string
}

func (w *walker) add(path, format string, args ...any) {
	w.problems = append(w.problems, shapeProblem{path: path, msg: fmt.Sprintf(format, args...)})
}

// table checks the keys of one table (m) against fields, removing what is
// wrong. header is the table's name as a [header] writes it ("guilds.schedules").
func (w *walker) table(m map[string]any, fields []*field, path, header string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := join(path, k)
		f := lookup(fields, k)
		if f == nil {
			w.add(p, "%s", unknownKey(k, m[k], fields, header))
			w.prune(m, k, p)
			continue
		}
		if !w.value(m[k], f, p, join(header, k)) {
			w.prune(m, k, p)
		}
	}
}

func (w *walker) prune(m map[string]any, k, path string) {
	delete(m, k)
	w.pruned = append(w.pruned, path)
}

func lookup(fields []*field, k string) *field {
	for _, f := range fields {
		if f.key == k {
			return f
		}
	}
	return nil
}

// value checks one value; false means it is wrong and was reported.
func (w *walker) value(v any, f *field, path, header string) bool {
	key := path[strings.LastIndexAny(path, ".]")+1:]
	switch f.kind {
	case kindTables:
		switch x := v.(type) {
		case []map[string]any:
			for i, m := range x {
				w.table(m, f.fields, fmt.Sprintf("%s[%d]", path, i), header)
			}
			return true
		case []any:
			ok := true
			for i, e := range x {
				m, isTable := e.(map[string]any)
				if !isTable {
					w.add(fmt.Sprintf("%s[%d]", path, i), "must be a table {...}: %s is a list of tables, each written [[%s]]", key, header)
					ok = false
					continue
				}
				w.table(m, f.fields, fmt.Sprintf("%s[%d]", path, i), header)
			}
			return ok
		case map[string]any:
			w.add(path, "must be a list of tables: write [[%s]] (two brackets), once for each", header)
		default:
			w.add(path, "must be a list of tables: write [[%s]] on a line of its own, then its keys under it", header)
		}
		return false
	case kindTable:
		switch x := v.(type) {
		case map[string]any:
			w.table(x, f.fields, path, header)
			return true
		case []map[string]any:
			w.add(path, "is one table: write [%s] (one bracket), not [[%s]]", header, header)
		default:
			w.add(path, "is a table: write [%s] on a line of its own, then its keys (%s) under it", header, keyNames(f.fields))
		}
		return false
	case kindList:
		switch x := v.(type) {
		case []any:
			ok := true
			for i, e := range x {
				if !w.scalar(e, f.elem, fmt.Sprintf("%s[%d]", path, i), key) {
					ok = false
				}
			}
			return ok
		case map[string]any, []map[string]any:
			w.add(path, "is a list of values, not a table: write %s = [%s]", key, example(f.elem, key))
		default:
			w.add(path, "is a list: write %s = [%s]%s", key, tomlValue(v, f.elem, key), nameHint(key, v))
		}
		return false
	}
	switch x := v.(type) {
	case []any:
		if len(x) == 1 {
			w.add(path, "takes one value, not a list: write %s = %s", key, tomlValue(x[0], f, key))
		} else {
			w.add(path, "takes one value, not a list: write %s = %s", key, example(f, key))
		}
		return false
	case map[string]any, []map[string]any:
		w.add(path, "is a value, not a table: write %s = %s", key, example(f, key))
		return false
	}
	return w.scalar(v, f, path, key)
}

// scalar checks one value of a scalar kind; key names it in suggestions.
func (w *walker) scalar(v any, f *field, path, key string) bool {
	// lhs starts a suggestion: "min_minutes = 10", or for an element of a
	// list just the element.
	lhs := key + " = "
	if strings.HasSuffix(path, "]") {
		lhs = ""
	}
	if s, ok := v.(string); ok && f.key != "token" && f.key != "database_url" && w.secret(s) {
		w.add(path, "%s", (&settings.Problem{Code: "value_secret_shaped"}).Text("en", nil))
		return false
	}
	switch f.kind {
	case kindString:
		if _, ok := v.(string); ok {
			return true
		}
		w.add(path, "is text: write it in quotes: %s%s", lhs, tomlValue(fmt.Sprint(v), f, key))
	case kindInt:
		switch x := v.(type) {
		case int64:
			return true
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				w.add(path, "is a whole number: write %s%d, without quotes", lhs, n)
				return false
			}
		case float64:
			if x == float64(int64(x)) {
				w.add(path, "is a whole number: write %s%d", lhs, int64(x))
				return false
			}
		}
		w.add(path, "is a whole number: write it without quotes, e.g. %s%s", lhs, example(f, key))
	case kindBool:
		switch x := v.(type) {
		case bool:
			return true
		case int64:
			if x == 0 || x == 1 {
				w.add(path, "is true or false: write %s%v, without quotes", lhs, x == 1)
				return false
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "on", "1":
				w.add(path, "is true or false: write %strue, without quotes", lhs)
				return false
			case "false", "no", "off", "0":
				w.add(path, "is true or false: write %sfalse, without quotes", lhs)
				return false
			}
		}
		w.add(path, "is true or false: write %strue or %sfalse", lhs, lhs)
	case kindText:
		switch x := v.(type) {
		case string:
			t := reflect.New(f.typ).Interface().(encoding.TextUnmarshaler)
			if err := t.UnmarshalText([]byte(x)); err != nil {
				w.add(path, "%s", err.Error())
				return false
			}
			return true
		case int64:
			w.add(path, "needs a unit, in quotes: write %s\"%d%s\"", lhs, x, durationUnit(key))
		case float64:
			w.add(path, "needs a unit, in quotes: write %s\"%v%s\"", lhs, x, durationUnit(key))
		default:
			w.add(path, "is a duration in quotes, e.g. %s%s", lhs, example(f, key))
		}
	case kindCustom:
		u := reflect.New(f.typ).Interface().(toml.Unmarshaler)
		err := u.UnmarshalTOML(v)
		if err == nil {
			return true
		}
		w.add(path, "%s%s", err.Error(), nameHint(key, v))
	default:
		w.add(path, "cannot be read")
	}
	return false
}

// nameHint points from voice_channels, which takes ids, to the key that
// matches channels by name, when a name was written.
func nameHint(key string, v any) string {
	s, ok := v.(string)
	if _, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); !ok || err == nil || key != "voice_channels" {
		return ""
	}
	return "; to match channels by name, use voice_channel_names"
}

// secret reports whether s is, or holds, a secret: the configured token or
// database password, or something shaped like a token or a password URL.
func (w *walker) secret(s string) bool {
	if settings.LooksSecret(s) {
		return true
	}
	for _, sec := range w.secrets {
		if len(sec) >= 8 && strings.Contains(s, sec) {
			return true
		}
	}
	return false
}

// unknownKey says what is wrong with a key the schema does not have: the
// nearest known key at this level ("did you mean …?"), or the level the key
// belongs to.
func unknownKey(k string, v any, fields []*field, header string) string {
	where := "the top level"
	if header != "" {
		where = "[[" + header + "]]"
		if h := headerKind(header); h == kindTable {
			where = "[" + header + "]"
		}
	}
	if other := findKey(configSchema, k, ""); other == "the top level" {
		return fmt.Sprintf("unknown key in %s: %s is a top-level key, so write it above the first [table] header (every key under a header belongs to that table)", where, k)
	} else if other != "" {
		return fmt.Sprintf("unknown key in %s: %s is a key of %s", where, k, other)
	}
	if best := nearest(k, fields); best != nil {
		name := best.key
		_, isTable := v.(map[string]any)
		_, isTables := v.([]map[string]any)
		switch {
		case best.kind == kindTables && (isTable || isTables):
			name = "[[" + join(header, best.key) + "]]"
		case best.kind == kindTable && (isTable || isTables):
			name = "[" + join(header, best.key) + "]"
		}
		return fmt.Sprintf("unknown key: did you mean %s?", name)
	}
	return fmt.Sprintf("unknown key in %s (its keys are %s)", where, keyNames(fields))
}

// headerKind is the kind of the table a header names.
func headerKind(header string) kind {
	fields := configSchema
	var f *field
	for _, p := range strings.Split(header, ".") {
		if f = lookup(fields, p); f == nil {
			return kindTable
		}
		fields = f.fields
	}
	return f.kind
}

// findKey names the table where key k is known, searching the schema.
func findKey(fields []*field, k, header string) string {
	for _, f := range fields {
		if f.key == k {
			if header == "" {
				return "the top level"
			}
			if headerKind(header) == kindTable {
				return "[" + header + "]"
			}
			return "[[" + header + "]]"
		}
	}
	for _, f := range fields {
		if f.fields != nil {
			if w := findKey(f.fields, k, join(header, f.key)); w != "" {
				return w
			}
		}
	}
	return ""
}

// nearest is the known key closest to k in edit distance, if close enough
// to be a slip ("count_self_mutted", "guild", "Timezone", "voice-channels").
func nearest(k string, fields []*field) *field {
	norm := strings.ReplaceAll(strings.ToLower(k), "-", "_")
	var best *field
	bestD := max(1, min(3, len(norm)/3)) + 1
	for _, f := range fields {
		if d := distance(norm, f.key); d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each cost one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func keyNames(fields []*field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.key
	}
	return strings.Join(names, ", ")
}

// examples are values to show in a suggestion, by key.
var examples = map[string]string{
	"id": `"123456789012345678"`, "timezone": `"Europe/Moscow"`, "language": `"en"`, "empty_report": `"post"`,
	"day": `"mon"`, "time": `"00:00"`, "name": `"Raid night"`, "days": `"sat"`, "times": `"19:00"`,
	"voice_channel_names": `"Raid Voice"`, "min_minutes": "5", "log_level": `"info"`, "commands": `"auto"`,
	"poll_interval": `"5s"`, "catch_up": `"6h"`, "http_listen": `"127.0.0.1:9108"`, "db_outage_window": `"30m"`, "duration": `"60m"`,
	"late_after": `"5m"`, "left_early_before": `"5m"`,
}

func example(f *field, key string) string {
	if e, ok := examples[key]; ok {
		return e
	}
	switch f.kind {
	case kindCustom:
		return `"123456789012345678"`
	case kindInt:
		return "1"
	case kindBool:
		return "true"
	}
	return `"…"`
}

// durationUnit is the unit a bare number most likely meant for a key.
func durationUnit(key string) string {
	switch key {
	case "poll_interval":
		return "s"
	case "catch_up":
		return "h"
	}
	return "m"
}

// tomlValue writes v as the kind f wants, for a suggestion: a person's value
// quoted back (shortened, and never a secret-shaped one).
func tomlValue(v any, f *field, key string) string {
	s := fmt.Sprint(v)
	if str, ok := v.(string); ok {
		s = str
	}
	if settings.LooksSecret(s) {
		return example(f, key)
	}
	switch f.kind {
	case kindInt, kindBool:
		return s
	case kindCustom:
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return example(f, key)
		}
	}
	return strconv.Quote(settings.Clip(s))
}
