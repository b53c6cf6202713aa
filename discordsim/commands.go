package discordsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/disgoorg/snowflake/v2"
)

type cmdOption struct {
	Name         string            `json:"name"`
	Type         int               `json:"type"`
	Description  string            `json:"description"`
	Required     bool              `json:"required"`
	Autocomplete bool              `json:"autocomplete"`
	Choices      []json.RawMessage `json:"choices"`
	Options      []cmdOption       `json:"options"`
}

type command struct {
	id      snowflake.ID
	guildID snowflake.ID
	name    string
	typ     int
	options []cmdOption
	obj     obj
	// integrationTypes are the installation contexts (0 guild, 1 user);
	// empty means the default, guild installs only.
	integrationTypes []int
}

// Commands returns the commands of the last bulk overwrite, as the full
// objects Discord answered (guildID 0 = global).
func (s *Server) Commands(guildID snowflake.ID) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []json.RawMessage
	for _, c := range s.commands[guildID] {
		data, _ := json.Marshal(c.obj)
		out = append(out, data)
	}
	return out
}

// findCommandLocked finds a chat-input command: guild commands shadow global ones.
func (s *Server) findCommandLocked(guildID snowflake.ID, name string) *command {
	scopes := []snowflake.ID{0}
	if guildID != 0 {
		scopes = []snowflake.ID{guildID, 0}
	}
	for _, scope := range scopes {
		for _, c := range s.commands[scope] {
			if c.name == name && c.typ == 1 {
				return c
			}
		}
	}
	return nil
}

// ---- REST: application commands ----

// commandName is Discord's rule for command and option names; the OpenAPI
// spec does not carry it.
var commandName = regexp.MustCompile(`^[-_\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

func validateOptions(opts []cmdOption) obj {
	errs := obj{}
	if len(opts) > 25 {
		errs["_errors"] = fieldError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")["_errors"]
	}
	seenOptional := false
	for i, o := range opts {
		oe := obj{}
		if !commandName.MatchString(o.Name) || strings.ToLower(o.Name) != o.Name {
			oe["name"] = fieldError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
			oe["description"] = fieldError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		if o.Type < 1 || o.Type > 11 {
			oe["type"] = fieldError("BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11).")
		}
		if o.Type != 1 && o.Type != 2 {
			if o.Required && seenOptional {
				oe["required"] = fieldError("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
			}
			if !o.Required {
				seenOptional = true
			}
		}
		if o.Autocomplete && len(o.Choices) > 0 {
			oe["autocomplete"] = fieldError("AUTOCOMPLETE_CHOICES_INVALID", "Autocomplete cannot be used with choices")
		}
		if len(o.Choices) > 25 {
			oe["choices"] = fieldError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		if len(o.Options) > 0 {
			if sub := validateOptions(o.Options); sub != nil {
				oe["options"] = sub
			}
		}
		if len(oe) > 0 {
			errs[fmt.Sprint(i)] = oe
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (s *Server) handleListCommands(rc *reqCtx) {
	guildID, ok := s.commandScope(rc)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, c := range s.commands[guildID] {
		out = append(out, c.obj)
	}
	writeJSON(rc.w, http.StatusOK, out)
}

// commandScope checks {app} and {guild}; false means an error was written.
func (s *Server) commandScope(rc *reqCtx) (snowflake.ID, bool) {
	if app, _ := snowflake.Parse(rc.param("app")); app != s.appID {
		writeJSON(rc.w, http.StatusForbidden, apiError(50001, "Missing Access"))
		return 0, false
	}
	if rc.param("guild") == "" {
		return 0, true
	}
	gid, _ := snowflake.Parse(rc.param("guild"))
	s.mu.Lock()
	_, ok := s.guilds[gid]
	s.mu.Unlock()
	if !ok {
		writeJSON(rc.w, http.StatusNotFound, apiError(10004, "Unknown Guild"))
		return 0, false
	}
	return gid, true
}

func (s *Server) handlePutCommands(rc *reqCtx) {
	guildID, ok := s.commandScope(rc)
	if !ok {
		return
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(rc.body, &raws); err != nil {
		writeJSON(rc.w, http.StatusBadRequest, badJSON().body)
		return
	}
	type cmdIn struct {
		Name                     string          `json:"name"`
		Type                     *int            `json:"type"`
		Description              string          `json:"description"`
		Options                  []cmdOption     `json:"options"`
		DefaultMemberPermissions json.RawMessage `json:"default_member_permissions"`
		IntegrationTypes         []int           `json:"integration_types"`
	}
	errs := obj{}
	ins := make([]cmdIn, len(raws))
	fulls := make([]obj, len(raws))
	seen := map[string]bool{}
	for i, raw := range raws {
		ce := obj{}
		if err := json.Unmarshal(raw, &ins[i]); err != nil {
			errs[fmt.Sprint(i)] = fieldError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
			continue
		}
		_ = json.Unmarshal(raw, &fulls[i])
		in := ins[i]
		typ := 1
		if in.Type != nil {
			typ = *in.Type
		}
		if !commandName.MatchString(in.Name) || (typ == 1 && strings.ToLower(in.Name) != in.Name) {
			if typ == 1 || utf8.RuneCountInString(in.Name) < 1 || utf8.RuneCountInString(in.Name) > 32 {
				ce["name"] = fieldError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			}
		}
		if n := utf8.RuneCountInString(in.Description); typ == 1 && (n < 1 || n > 100) {
			ce["description"] = fieldError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		if oe := validateOptions(in.Options); oe != nil {
			ce["options"] = oe
		}
		if dmp := strings.TrimSpace(string(in.DefaultMemberPermissions)); dmp != "" && dmp != "null" {
			var str string
			if json.Unmarshal(in.DefaultMemberPermissions, &str) != nil {
				// Discord also takes a bare integer, but disgo and practice use a string.
				var n uint64
				if json.Unmarshal(in.DefaultMemberPermissions, &n) != nil {
					ce["default_member_permissions"] = fieldError("NUMBER_TYPE_COERCE", "Value is not int.")
				}
			} else if _, err := snowflake.Parse(str); err != nil && str != "0" {
				ce["default_member_permissions"] = fieldError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not int.", str))
			}
		}
		key := fmt.Sprintf("%d/%s", typ, in.Name)
		if seen[key] {
			ce["name"] = fieldError("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		seen[key] = true
		if len(ce) > 0 {
			errs[fmt.Sprint(i)] = ce
		}
	}
	if len(errs) > 0 {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]snowflake.ID{}
	for _, c := range s.commands[guildID] {
		old[fmt.Sprintf("%d/%s", c.typ, c.name)] = c.id
	}
	var cmds []*command
	out := []any{}
	for i, in := range ins {
		typ := 1
		if in.Type != nil {
			typ = *in.Type
		}
		id, ok := old[fmt.Sprintf("%d/%s", typ, in.Name)]
		if !ok {
			id = s.newIDLocked()
		}
		full := fulls[i]
		o := obj{
			"id":                         id.String(),
			"application_id":             s.appID.String(),
			"version":                    s.newIDLocked().String(),
			"type":                       typ,
			"name":                       in.Name,
			"name_localizations":         full["name_localizations"],
			"description":                in.Description,
			"description_localizations":  full["description_localizations"],
			"default_member_permissions": nil,
			"nsfw":                       full["nsfw"] == true,
			"integration_types":          []int{0},
			"contexts":                   full["contexts"],
		}
		if v, ok := full["default_member_permissions"]; ok && v != nil {
			o["default_member_permissions"] = fmt.Sprint(v)
		}
		if it, ok := full["integration_types"]; ok && it != nil {
			o["integration_types"] = it
		}
		if opts, ok := full["options"]; ok && opts != nil {
			o["options"] = opts
		}
		if guildID != 0 {
			o["guild_id"] = guildID.String()
		} else {
			dm := true
			if v, ok := full["dm_permission"].(bool); ok {
				dm = v
			}
			o["dm_permission"] = dm
		}
		cmds = append(cmds, &command{id: id, guildID: guildID, name: in.Name, typ: typ, options: in.Options, obj: o,
			integrationTypes: in.IntegrationTypes})
		out = append(out, o)
	}
	s.commands[guildID] = cmds
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, out)
}
