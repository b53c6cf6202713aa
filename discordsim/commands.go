package discordsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/disgoorg/snowflake/v2"
)

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

// Commands returns the registered commands of a scope (guildID 0 = global),
// by bulk overwrite or one by one, as the full objects Discord answered.
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
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return 0, false
	}
	return g.id, true
}

// decodeCommand reads and validates one command create body; errs is
// Discord's error object for it (nil when valid).
func decodeCommand(raw json.RawMessage) (in *cmdIn, full obj, errs obj) {
	in = &cmdIn{}
	if err := json.Unmarshal(raw, in); err != nil {
		return nil, nil, fieldError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
	}
	_ = json.Unmarshal(raw, &full)
	return in, full, validateCommand(in)
}

// handlePutCommands serves the bulk overwrite, PUT .../commands: the list
// replaces every command of its scope; commands keep their id when a
// command of the same type and name existed. At most 100 chat-input, 15
// user and 15 message commands per scope.
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
	errs := obj{}
	ins := make([]*cmdIn, len(raws))
	fulls := make([]obj, len(raws))
	seen := map[string]bool{}
	perType := map[int]int{}
	for i, raw := range raws {
		in, full, ce := decodeCommand(raw)
		if in == nil {
			errs[strconv.Itoa(i)] = ce
			continue
		}
		ins[i], fulls[i] = in, full
		if ce == nil {
			ce = obj{}
		}
		key := fmt.Sprintf("%d/%s", in.typ(), in.Name)
		if seen[key] {
			ce["name"] = fieldError("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		seen[key] = true
		perType[in.typ()]++
		if len(ce) > 0 {
			errs[strconv.Itoa(i)] = ce
		}
	}
	for typ, n := range perType {
		if limit, ok := maxCommandsByType[typ]; ok && n > limit {
			errs["_errors"] = fieldError("APPLICATION_COMMANDS_TOO_MANY",
				fmt.Sprintf("Maximum number of application commands of type %d reached (%d)", typ, limit))["_errors"]
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
		id, ok := old[fmt.Sprintf("%d/%s", in.typ(), in.Name)]
		if !ok {
			id = s.newIDLocked()
		}
		c := s.newCommandLocked(guildID, id, in, fulls[i])
		cmds = append(cmds, c)
		out = append(out, c.obj)
	}
	s.commands[guildID] = cmds
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, out)
}

// handleCreateCommand serves POST .../commands, which creates one command:
// 201 with the new command, or 200 when a command of that type and name
// existed, which it overwrites (keeping its id), as Discord documents. A
// new command beyond the per-type maximum is refused with 30032.
func (s *Server) handleCreateCommand(rc *reqCtx) {
	guildID, ok := s.commandScope(rc)
	if !ok {
		return
	}
	in, full, errs := decodeCommand(rc.body)
	if errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := s.commands[guildID]
	sameType := 0
	for i, c := range cmds {
		if c.typ == in.typ() && c.name == in.Name {
			nc := s.newCommandLocked(guildID, c.id, in, full)
			cmds[i] = nc
			s.notifyLocked()
			writeJSON(rc.w, http.StatusOK, nc.obj)
			return
		}
		if c.typ == in.typ() {
			sameType++
		}
	}
	if limit, ok := maxCommandsByType[in.typ()]; ok && sameType >= limit {
		writeJSON(rc.w, http.StatusBadRequest, apiError(30032, "Maximum number of application commands reached"))
		return
	}
	nc := s.newCommandLocked(guildID, s.newIDLocked(), in, full)
	s.commands[guildID] = append(cmds, nc)
	s.notifyLocked()
	writeJSON(rc.w, http.StatusCreated, nc.obj)
}

// newCommandLocked renders a registered command as Discord answers it.
func (s *Server) newCommandLocked(guildID, id snowflake.ID, in *cmdIn, full obj) *command {
	typ := in.typ()
	o := obj{
		"id":                         id.String(),
		"application_id":             s.appID.String(),
		"version":                    s.newIDLocked().String(),
		"type":                       typ,
		"name":                       in.Name,
		"name_localizations":         full["name_localizations"],
		"description":                in.Description,
		"description_localizations":  full["description_localizations"],
		"default_member_permissions": permissionsString(in.DefaultMemberPermissions),
		"nsfw":                       full["nsfw"] == true,
		"integration_types":          []int{0},
		"contexts":                   full["contexts"],
	}
	if len(in.IntegrationTypes) > 0 {
		o["integration_types"] = in.IntegrationTypes
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
	return &command{id: id, guildID: guildID, name: in.Name, typ: typ, options: in.Options, obj: o,
		integrationTypes: in.IntegrationTypes}
}
