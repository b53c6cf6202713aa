package settings

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Change is one key whose value differs between two versions of a guild's
// settings, written as the file writes it: "" means not set.
type Change struct {
	Key      string // e.g. "timezone", "weekly_report.day", "schedules[БЗС].times"
	Old, New string
}

// Diff lists the keys that differ from old to new, in the file's order.
// Schedules are named by their name, so renaming one shows as its removal
// and the addition of the renamed one; role rules by their role.
func Diff(old, new Spec) []Change {
	a, b := flatten(old), flatten(new)
	var out []Change
	seen := map[string]bool{}
	for _, kv := range append(a.order, b.order...) {
		if seen[kv] {
			continue
		}
		seen[kv] = true
		if a.values[kv] != b.values[kv] {
			out = append(out, Change{Key: kv, Old: a.values[kv], New: b.values[kv]})
		}
	}
	return out
}

type flat struct {
	order  []string
	values map[string]string
}

func (f *flat) set(key, v string) {
	if _, ok := f.values[key]; !ok {
		f.order = append(f.order, key)
	}
	f.values[key] = v
}

func flatten(s Spec) flat {
	f := flat{values: map[string]string{}}
	walk(&f, "", reflect.ValueOf(s))
	return f
}

// walk writes every field of a struct under its TOML key.
func walk(f *flat, prefix string, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		field := t.Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		fv := v.Field(i)
		switch {
		case field.Type == reflect.TypeOf([]ScheduleSpec{}):
			for j := range fv.Len() {
				sc := fv.Index(j)
				walk(f, fmt.Sprintf("%s[%s]", key, sc.FieldByName("Name").String()), sc)
			}
		case field.Type == reflect.TypeOf([]RoleRuleSpec{}):
			// Rules are named by their role.
			for j := range fv.Len() {
				rr := fv.Index(j)
				walk(f, fmt.Sprintf("%s[%d]", key, rr.FieldByName("Role").Uint()), rr)
			}
		case fv.Kind() == reflect.Struct:
			walk(f, key, fv)
		default:
			f.set(key, show(fv))
		}
	}
}

// show writes one value as the file would: lists joined with ", ", unset
// pointers and empty lists as "".
func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return show(v.Elem())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = show(v.Index(i))
		}
		return strings.Join(parts, ", ")
	}
	if m, ok := v.Interface().(interface{ MarshalText() ([]byte, error) }); ok {
		b, _ := m.MarshalText()
		return string(b)
	}
	return fmt.Sprint(v.Interface())
}

// ParseStored reads a stored settings document.
func ParseStored(doc []byte) (Spec, error) {
	var s Spec
	if err := json.Unmarshal(doc, &s); err != nil {
		return s, fmt.Errorf("stored settings: %w", err)
	}
	return s, nil
}
