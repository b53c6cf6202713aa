package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// CommandNamePattern is Discord's rule for the names (and localized names) of
// chat-input commands and of all command options. The spec has no such rule.
// Discord documents it as ^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$ with the
// further rule that letters with a lowercase form must be lowercase, which is
// \p{Ll} plus the caseless letters \p{Lo}. Go's regexp (which the validator
// compiles patterns with) spells \p{sc=Deva} as \p{Devanagari}; those scripts are
// listed because their combining marks are not letters.
const CommandNamePattern = `^[-_\p{Ll}\p{Lo}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`

// prepareSpec returns a copy of the raw spec with the responses of every
// operation removed and the known spec-vs-reality quirks patched.
func prepareSpec(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Keep numbers exact: the spec has bounds such as 2^54-1 that float64 rounds.
	dec.UseNumber()
	var spec map[string]any
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	paths, ok := spec["paths"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no paths object")
	}
	// Responses are most of the schema graph the validator compiles, and only
	// requests are checked.
	for _, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			continue
		}
		for method, op := range ops {
			if o, ok := op.(map[string]any); ok && isMethod(method) {
				delete(o, "responses")
			}
		}
	}
	if err := patchSpec(spec); err != nil {
		return nil, err
	}
	return json.Marshal(spec)
}

func isMethod(s string) bool {
	switch strings.ToLower(s) {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// patchSpec fixes the places where the published spec disagrees with what Discord
// accepts and disgo sends. Each patch fails loudly if the schema it patches has
// gone, so that a newer spec does not silently drop a patch.
func patchSpec(spec map[string]any) error {
	schemas, err := lookup(spec, "components", "schemas")
	if err != nil {
		return err
	}

	// default_member_permissions is a permission bit set. The request schemas say
	// integer, but Discord documents and returns it as a string of digits (as all
	// permissions, because they exceed 2^53) and disgo sends a string.
	for _, name := range []string{
		"ApplicationCommandCreateRequest",
		"ApplicationCommandUpdateRequest",
		"ApplicationCommandPatchRequestPartial",
	} {
		props, err := lookup(schemas, name, "properties")
		if err != nil {
			return err
		}
		orig, ok := props["default_member_permissions"]
		if !ok {
			return fmt.Errorf("patch %s: no default_member_permissions", name)
		}
		props["default_member_permissions"] = map[string]any{"anyOf": []any{
			orig,
			map[string]any{"type": "string", "pattern": `^[0-9]{1,20}$`},
		}}
	}

	// When a file has a description, disgo lists it in attachments with id set to
	// the upload index as a JSON number (discord.AttachmentCreate.ID is an int),
	// which Discord accepts; the spec allows only a snowflake string.
	props, err := lookup(schemas, "MessageAttachmentRequest", "properties")
	if err != nil {
		return err
	}
	orig, ok := props["id"]
	if !ok {
		return fmt.Errorf("patch MessageAttachmentRequest: no id")
	}
	props["id"] = map[string]any{"anyOf": []any{
		orig,
		map[string]any{"type": "integer", "minimum": 0},
	}}

	// Command and option names: see CommandNamePattern.
	namePatched := 0
	for name := range schemas {
		// Options of any command type follow the rule (only chat-input commands
		// have options); the *Response schemas describe what Discord returns.
		if !strings.HasPrefix(name, "ApplicationCommand") || !strings.HasSuffix(name, "Option") {
			continue
		}
		props, err := lookup(schemas, name, "properties")
		if err != nil {
			return err
		}
		if err := addNamePattern(props); err != nil {
			return fmt.Errorf("patch %s: %w", name, err)
		}
		namePatched++
	}
	if namePatched == 0 {
		return fmt.Errorf("patch command option names: no ApplicationCommand*Option schemas")
	}
	// The command's own name follows the rule only for chat-input commands: type
	// absent or 1. User and message commands may have spaces and capitals.
	for _, name := range []string{"ApplicationCommandCreateRequest", "ApplicationCommandUpdateRequest"} {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			return fmt.Errorf("patch %s: schema not found", name)
		}
		if _, clash := s["if"]; clash {
			return fmt.Errorf("patch %s: already has an if", name)
		}
		names := map[string]any{}
		if err := addNamePattern(names); err != nil {
			return err
		}
		s["if"] = map[string]any{
			"properties": map[string]any{"type": map[string]any{"enum": []any{2, 3, 4}}},
			"required":   []any{"type"},
		}
		s["else"] = map[string]any{"properties": map[string]any{
			"name":               names["name"],
			"name_localizations": names["name_localizations"],
		}}
	}
	return nil
}

// addNamePattern sets CommandNamePattern on props.name and on the values of
// props.name_localizations. An existing props map is modified in place; for an
// empty map it adds the minimal schemas carrying only the patterns.
func addNamePattern(props map[string]any) error {
	if len(props) == 0 {
		props["name"] = map[string]any{"pattern": CommandNamePattern}
		props["name_localizations"] = map[string]any{
			"additionalProperties": map[string]any{"pattern": CommandNamePattern},
		}
		return nil
	}
	name, ok := props["name"].(map[string]any)
	if !ok {
		return fmt.Errorf("no name property")
	}
	name["pattern"] = CommandNamePattern
	loc, ok := props["name_localizations"].(map[string]any)
	if !ok {
		return fmt.Errorf("no name_localizations property")
	}
	values, ok := loc["additionalProperties"].(map[string]any)
	if !ok {
		return fmt.Errorf("name_localizations has no additionalProperties schema")
	}
	values["pattern"] = CommandNamePattern
	return nil
}

// lookup walks nested JSON objects by key.
func lookup(m map[string]any, keys ...string) (map[string]any, error) {
	cur := m
	for i, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec has no object at %s", strings.Join(keys[:i+1], "."))
		}
		cur = next
	}
	return cur, nil
}

// prepareResponseSpec returns a copy of the raw spec for validating responses:
// request bodies removed (they are checked by the request validator, from its
// own copy) and the known spec-vs-reality quirks of responses patched.
func prepareResponseSpec(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var spec map[string]any
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	paths, ok := spec["paths"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no paths object")
	}
	for _, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			continue
		}
		for method, op := range ops {
			if o, ok := op.(map[string]any); ok && isMethod(method) {
				delete(o, "requestBody")
			}
		}
	}
	if err := patchResponses(spec); err != nil {
		return nil, err
	}
	return json.Marshal(spec)
}

// patchResponses fixes the places where the spec's response schemas disagree
// with what Discord answers. Like patchSpec, each patch fails loudly when the
// schema it patches has gone.
func patchResponses(spec map[string]any) error {
	schemas, err := lookup(spec, "components", "schemas")
	if err != nil {
		return err
	}
	// A field error's code is a string on Discord ({"_errors": [{"code":
	// "BASE_TYPE_REQUIRED", "message": "This field is required"}]}, as its
	// docs show), while the spec reuses Error, whose code is the integer of the
	// top-level error.
	innerErrors, err := lookup(schemas, "InnerErrors")
	if err != nil {
		return err
	}
	inner, err := lookup(innerErrors, "properties", "_errors")
	if err != nil {
		return err
	}
	// A field may have errors of its own and errors of its parts at once,
	// e.g. {"options": {"_errors": [too many], "3": {"name": ...}}}, which the
	// spec's closed InnerErrors refuses.
	if innerErrors["additionalProperties"] != false {
		return fmt.Errorf("patch InnerErrors: additionalProperties is no longer false")
	}
	innerErrors["additionalProperties"] = map[string]any{"$ref": "#/components/schemas/ErrorDetails"}
	if _, ok := inner["items"]; !ok {
		return fmt.Errorf("patch InnerErrors: _errors has no items")
	}
	inner["items"] = map[string]any{
		"type":     "object",
		"required": []any{"code", "message"},
		"properties": map[string]any{
			"code":    map[string]any{"type": "string"},
			"message": map[string]any{"type": "string"},
		},
	}
	return nil
}
