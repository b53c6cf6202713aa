package discordsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// ackDeadline is how long Discord waits for the initial response.
const ackDeadline = 3 * time.Second

// tokenLifetime is how long an interaction token works for follow-ups and edits.
const tokenLifetime = 15 * time.Minute

// Option is one slash-command option as a user filled it in. Value is a
// string, int, float64, bool, or snowflake.ID for user/role/channel/
// mentionable. Type may be left 0 when the registered command defines the
// option; Focused marks the option being typed (autocomplete).
type Option struct {
	Name    string
	Value   any
	Type    discord.ApplicationCommandOptionType
	Focused bool
}

// Invocation is a user running a slash command. GuildID 0 is a DM.
// Subcommand may be "sub" or "group sub". ChannelID defaults to the guild's
// first text channel; Locale to the user's locale.
type Invocation struct {
	GuildID, UserID snowflake.ID
	ChannelID       snowflake.ID
	Command         string
	Subcommand      string
	Options         []Option
	Locale          string
}

// Response is the final state of an interaction's original response.
type Response struct {
	Deferred  bool // answered with type 5 first
	Ephemeral bool
	Content   string
	Embeds    []discord.Embed
	Files     []File
	Choices   []discord.AutocompleteChoice // autocomplete result (type 8)
	Modal     bool                         // answered with a modal (type 9)
	Failed    bool                         // not acknowledged within 3 s
	Message   *Message                     // the original response message, if any
}

type interaction struct {
	id         snowflake.ID
	token      string
	typ        int // 2 application command, 4 autocomplete
	command    string
	guildID    snowflake.ID
	channelID  snowflake.ID
	userID     snowflake.ID
	focusedTyp int
	created    time.Time // wall clock: the 3 s rule runs on real time
	createdSim time.Time // Options.Now: token expiry follows the injected clock
	acked      bool
	respType   int
	deferred   bool
	original   *message
	followups  []*message
	final      bool
	failed     bool
	choices    []discord.AutocompleteChoice
	timer      *time.Timer
}

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

// FailedInteractions lists interactions that went wrong: not acknowledged
// within 3 s, acknowledged twice, or used after their token expired.
func (s *Server) FailedInteractions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.failed...)
}

// Invoke sends INTERACTION_CREATE for a slash command and waits for its
// final state: an immediate message (type 4), a modal (9), or a deferral
// (5) followed by the edit of @original (or the first follow-up, which
// Discord turns into that edit). A response not acknowledged within 3 s
// comes back with Failed set. The command must have been registered by a
// bulk overwrite, as Discord only offers registered commands.
func (s *Server) Invoke(ctx context.Context, inv Invocation) (*Response, error) {
	it, err := s.startInteraction(inv, 2)
	if err != nil {
		return nil, err
	}
	var resp *Response
	err = s.waitFor(ctx, func() bool {
		if it.final || it.failed {
			resp = s.responseLocked(it)
			return true
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("interaction /%s: %w", it.command, err)
	}
	return resp, nil
}

// Autocomplete sends an autocomplete interaction (type 4; exactly one
// option must be Focused) and returns the choices the bot answered.
func (s *Server) Autocomplete(ctx context.Context, inv Invocation) ([]discord.AutocompleteChoice, error) {
	focused := 0
	for _, o := range inv.Options {
		if o.Focused {
			focused++
		}
	}
	if focused != 1 {
		return nil, fmt.Errorf("autocomplete needs exactly one focused option, got %d", focused)
	}
	it, err := s.startInteraction(inv, 4)
	if err != nil {
		return nil, err
	}
	var choices []discord.AutocompleteChoice
	failed := false
	err = s.waitFor(ctx, func() bool {
		choices, failed = it.choices, it.failed
		return it.final || it.failed
	})
	if err != nil {
		return nil, fmt.Errorf("autocomplete /%s: %w", it.command, err)
	}
	if failed {
		return nil, fmt.Errorf("autocomplete /%s: not answered within %s", it.command, ackDeadline)
	}
	return choices, nil
}

func (s *Server) responseLocked(it *interaction) *Response {
	r := &Response{Deferred: it.deferred, Failed: it.failed && !it.acked, Modal: it.respType == 9, Choices: it.choices}
	if m := it.original; m != nil && !m.deleted {
		pm := s.publicMessageLocked(m)
		r.Message = &pm
		r.Content, r.Embeds, r.Files = pm.Content, pm.Embeds, pm.Files
		r.Ephemeral = pm.Flags.Has(discord.MessageFlagEphemeral)
	}
	return r
}

func (s *Server) dmChannelLocked(userID snowflake.ID) snowflake.ID {
	if s.dms == nil {
		s.dms = map[snowflake.ID]snowflake.ID{}
	}
	id, ok := s.dms[userID]
	if !ok {
		id = s.newIDLocked()
		s.dms[userID] = id
	}
	return id
}

// DMChannel returns the id of the DM channel between the bot and a user,
// where responses to DM interactions land.
func (s *Server) DMChannel(userID snowflake.ID) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannelLocked(userID)
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

func (s *Server) startInteraction(inv Invocation, typ int) (*interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[inv.UserID]
	if u == nil {
		return nil, fmt.Errorf("unknown user %s", inv.UserID)
	}
	var g *guild
	if inv.GuildID != 0 {
		g = s.guilds[inv.GuildID]
		if g == nil {
			return nil, fmt.Errorf("unknown guild %s", inv.GuildID)
		}
		if g.members[inv.UserID] == nil {
			return nil, fmt.Errorf("user %s is not a member of guild %s", inv.UserID, inv.GuildID)
		}
	}
	cmd := s.findCommandLocked(inv.GuildID, inv.Command)
	if cmd == nil {
		return nil, fmt.Errorf("command %q is not registered for guild %s or globally; Discord only offers registered commands", inv.Command, inv.GuildID)
	}
	it := &interaction{id: s.newIDLocked(), token: "aW50ZXJhY3Rpb246" + randomToken(96), typ: typ,
		command: strings.TrimSpace(inv.Command + " " + inv.Subcommand), guildID: inv.GuildID, userID: inv.UserID,
		created: time.Now(), createdSim: s.opts.Now()}

	// Options, nested under the subcommand (group) as Discord sends them.
	defs := cmd.options
	var path []cmdOption
	for _, name := range strings.Fields(inv.Subcommand) {
		var found *cmdOption
		for i := range defs {
			if defs[i].Name == name && (defs[i].Type == 1 || defs[i].Type == 2) {
				found = &defs[i]
			}
		}
		if found == nil {
			return nil, fmt.Errorf("command %q has no subcommand %q", inv.Command, name)
		}
		path = append(path, *found)
		defs = found.Options
	}
	resolved := map[string]obj{}
	addResolved := func(kind, id string, v obj) {
		if resolved[kind] == nil {
			resolved[kind] = obj{}
		}
		resolved[kind][id] = v
	}
	opts := []any{}
	given := map[string]bool{}
	for _, o := range inv.Options {
		typ := int(o.Type)
		var def *cmdOption
		for i := range defs {
			if defs[i].Name == o.Name {
				def = &defs[i]
			}
		}
		if def == nil && len(defs) > 0 {
			return nil, fmt.Errorf("command /%s has no option %q", it.command, o.Name)
		}
		if typ == 0 && def != nil {
			typ = def.Type
		}
		if typ == 0 {
			typ = inferOptionType(o.Value)
		}
		given[o.Name] = true
		val, id, err := optionValue(typ, o.Value)
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", o.Name, err)
		}
		if o.Focused {
			// While typing, the focused option carries the raw text.
			val = fmt.Sprint(o.Value)
			it.focusedTyp = typ
		}
		opt := obj{"name": o.Name, "type": typ, "value": val}
		if o.Focused {
			opt["focused"] = true
		}
		opts = append(opts, opt)
		if id == 0 || o.Focused {
			continue
		}
		switch typ {
		case 6, 9:
			if ru := s.users[id]; ru != nil {
				addResolved("users", id.String(), userJSON(ru))
				if g != nil && g.members[id] != nil {
					mj := s.memberJSONLocked(g, g.members[id])
					delete(mj, "user")
					delete(mj, "deaf")
					delete(mj, "mute")
					mj["permissions"] = itoa64(int64(g.permissions(id)))
					addResolved("members", id.String(), mj)
				}
				continue
			}
			if typ == 6 {
				return nil, fmt.Errorf("option %q: unknown user %s", o.Name, id)
			}
			fallthrough
		case 8:
			if g == nil || g.role(id) == nil {
				return nil, fmt.Errorf("option %q: unknown role %s", o.Name, id)
			}
			addResolved("roles", id.String(), roleJSON(g.role(id)))
		case 7:
			if g == nil || g.channel(id) == nil {
				return nil, fmt.Errorf("option %q: unknown channel %s", o.Name, id)
			}
			c := g.channel(id)
			addResolved("channels", id.String(), obj{"id": c.id.String(), "name": c.name, "type": int(c.typ),
				"permissions": itoa64(int64(g.permissions(inv.UserID))), "guild_id": g.id.String(), "parent_id": nil, "flags": 0})
		}
	}
	if typ == 2 {
		for _, d := range defs {
			if d.Required && !given[d.Name] {
				return nil, fmt.Errorf("command /%s: required option %q missing", it.command, d.Name)
			}
		}
	}
	for i := len(path) - 1; i >= 0; i-- {
		opts = []any{obj{"name": path[i].Name, "type": path[i].Type, "options": opts}}
	}
	data := obj{"id": cmd.id.String(), "name": cmd.name, "type": 1}
	if len(opts) > 0 {
		data["options"] = opts
	}
	if len(resolved) > 0 {
		r := obj{}
		for k, v := range resolved {
			r[k] = v
		}
		data["resolved"] = r
	}
	if cmd.guildID != 0 {
		data["guild_id"] = cmd.guildID.String()
	}

	locale := inv.Locale
	if locale == "" {
		locale = u.locale
	}
	payload := obj{
		"id":                    it.id.String(),
		"application_id":        s.appID.String(),
		"type":                  typ,
		"data":                  data,
		"token":                 it.token,
		"version":               1,
		"locale":                locale,
		"entitlements":          []any{},
		"attachment_size_limit": 10 << 20,
	}
	if g != nil {
		ch := s.pickChannelLocked(g, inv.ChannelID)
		if ch == nil {
			return nil, fmt.Errorf("guild %s has no channel to invoke in", g.id)
		}
		it.channelID = ch.id
		perms := g.permissions(inv.UserID)
		mj := s.memberJSONLocked(g, g.members[inv.UserID])
		mj["permissions"] = itoa64(int64(perms))
		cj := channelJSON(ch, true)
		cj["permissions"] = itoa64(int64(perms))
		payload["guild_id"] = g.id.String()
		payload["guild"] = obj{"id": g.id.String(), "locale": g.locale, "features": []any{}}
		payload["guild_locale"] = g.locale
		payload["channel_id"] = ch.id.String()
		payload["channel"] = cj
		payload["member"] = mj
		payload["app_permissions"] = itoa64(int64(g.permissions(s.botID)))
		payload["authorizing_integration_owners"] = obj{"0": g.id.String()}
		payload["context"] = 0
	} else {
		it.channelID = s.dmChannelLocked(inv.UserID)
		payload["user"] = userJSON(u)
		payload["channel_id"] = it.channelID.String()
		payload["channel"] = obj{"id": it.channelID.String(), "type": 1, "last_message_id": nil, "flags": 0,
			"recipients": []any{userJSON(u)}, "permissions": itoa64(int64(discord.PermissionsAllText))}
		payload["app_permissions"] = itoa64(int64(discord.PermissionsAllText))
		payload["authorizing_integration_owners"] = obj{"0": "0"}
		payload["context"] = 1
	}
	s.interactions[it.id] = it
	s.byToken[it.token] = it
	s.dispatchGuildLocked(inv.GuildID, 0, "INTERACTION_CREATE", func(*session) any { return payload })
	it.timer = time.AfterFunc(ackDeadline, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !it.acked && !it.failed {
			it.failed = true
			s.failed = append(s.failed, fmt.Sprintf("interaction %s (/%s): not acknowledged within %s", it.id, it.command, ackDeadline))
			s.notifyLocked()
		}
	})
	s.notifyLocked()
	return it, nil
}

func (s *Server) pickChannelLocked(g *guild, id snowflake.ID) *channel {
	if id != 0 {
		return g.channel(id)
	}
	for _, want := range []discord.ChannelType{discord.ChannelTypeGuildText, discord.ChannelTypeGuildVoice} {
		for _, c := range g.channels {
			if c.typ == want {
				return c
			}
		}
	}
	return nil
}

func inferOptionType(v any) int {
	switch v.(type) {
	case string:
		return 3
	case int, int64, int32:
		return 4
	case bool:
		return 5
	case snowflake.ID:
		return 6
	case float64, float32:
		return 10
	}
	return 3
}

// optionValue converts a Go value to the option's JSON value; id is set
// for snowflake types.
func optionValue(typ int, v any) (any, snowflake.ID, error) {
	switch typ {
	case 3:
		if s, ok := v.(string); ok {
			return s, 0, nil
		}
	case 4:
		switch n := v.(type) {
		case int:
			return n, 0, nil
		case int64:
			return n, 0, nil
		case float64:
			if n == math.Trunc(n) {
				return int64(n), 0, nil
			}
		}
	case 5:
		if b, ok := v.(bool); ok {
			return b, 0, nil
		}
	case 6, 7, 8, 9:
		var id snowflake.ID
		switch x := v.(type) {
		case snowflake.ID:
			id = x
		case uint64:
			id = snowflake.ID(x)
		case string:
			p, err := snowflake.Parse(x)
			if err != nil {
				return nil, 0, err
			}
			id = p
		default:
			return nil, 0, fmt.Errorf("value %v (%T) is not a snowflake", v, v)
		}
		return id.String(), id, nil
	case 10:
		switch n := v.(type) {
		case float64:
			return n, 0, nil
		case int:
			return float64(n), 0, nil
		}
	default:
		return nil, 0, fmt.Errorf("option type %d is not supported by the simulator", typ)
	}
	return nil, 0, fmt.Errorf("value %v (%T) does not fit option type %d", v, v, typ)
}

// ---- REST: interaction callback and webhooks ----

func (s *Server) recordFailureLocked(format string, args ...any) {
	s.failed = append(s.failed, fmt.Sprintf(format, args...))
	s.notifyLocked()
}

// handleCallback serves POST /interactions/{interaction}/{token}/callback.
func (s *Server) handleCallback(rc *reqCtx) {
	id, _ := snowflake.Parse(rc.param("interaction"))
	var body struct {
		Type *int            `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	files, herr := decodeBody(rc.r, rc.body, &body)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.interactions[id]
	if it == nil || it.token != rc.param("token") {
		writeJSON(rc.w, http.StatusNotFound, apiError(10062, "Unknown interaction"))
		return
	}
	if it.acked {
		s.recordFailureLocked("interaction %s (/%s): second initial response", it.id, it.command)
		writeJSON(rc.w, http.StatusBadRequest, apiError(40060, "Interaction has already been acknowledged."))
		return
	}
	if time.Since(it.created) > ackDeadline {
		if !it.failed {
			it.failed = true
			s.recordFailureLocked("interaction %s (/%s): not acknowledged within %s", it.id, it.command, ackDeadline)
		}
		writeJSON(rc.w, http.StatusNotFound, apiError(10062, "Unknown interaction"))
		return
	}
	if body.Type == nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"type": fieldError("BASE_TYPE_REQUIRED", "This field is required")}))
		return
	}
	typ := *body.Type
	allowed := map[int][]int{2: {4, 5, 9}, 4: {8}}
	ok := false
	for _, t := range allowed[it.typ] {
		ok = ok || t == typ
	}
	if !ok {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"type": fieldError("BASE_TYPE_CHOICES",
			fmt.Sprintf("Value must be one of %v.", allowed[it.typ]))}))
		return
	}
	var p msgPayload
	if len(body.Data) > 0 && string(body.Data) != "null" {
		if err := json.Unmarshal(body.Data, &p); err != nil {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": fieldError("MODEL_TYPE_CONVERT", "Could not interpret the value as the expected type.")}))
			return
		}
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": errs}))
		return
	}
	switch typ {
	case 4, 5:
		m := &message{id: s.newIDLocked(), channelID: it.channelID, guildID: it.guildID, timestamp: s.opts.Now(), inter: it}
		if typ == 5 {
			// The "is thinking..." placeholder; only flags (ephemeral) count.
			m.flags = int64(discord.MessageFlagLoading)
			if p.Flags != nil {
				m.flags |= *p.Flags & int64(discord.MessageFlagEphemeral)
			}
			it.deferred = true
		} else {
			s.applyPayloadLocked(m, &p, files)
			if m.empty() {
				writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
				return
			}
			it.final = true
		}
		it.original = m
		s.messages[m.channelID] = append(s.messages[m.channelID], m)
	case 8:
		choices, err := decodeChoices(p.Choices, it.focusedTyp)
		if err != nil {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": obj{"choices": fieldError("BASE_TYPE_BAD_LENGTH", err.Error())}}))
			return
		}
		it.choices = choices
		it.final = true
	case 9:
		if p.CustomID == "" || p.Title == "" {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": fieldError("BASE_TYPE_REQUIRED", "custom_id and title are required")}))
			return
		}
		it.final = true
	}
	it.acked = true
	it.respType = typ
	if it.timer != nil {
		it.timer.Stop()
	}
	s.notifyLocked()
	if rc.r.URL.Query().Get("with_response") == "true" {
		res := obj{"interaction": obj{"id": it.id.String(), "type": it.typ,
			"response_message_loading": typ == 5, "response_message_ephemeral": it.original != nil && it.original.flags&int64(discord.MessageFlagEphemeral) != 0}}
		if it.original != nil {
			res["interaction"].(obj)["response_message_id"] = it.original.id.String()
			res["resource"] = obj{"type": typ, "message": s.messageJSONLocked(it.original)}
		} else {
			res["resource"] = obj{"type": typ}
		}
		writeJSON(rc.w, http.StatusOK, res)
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

func decodeChoices(raw json.RawMessage, focusedTyp int) ([]discord.AutocompleteChoice, error) {
	var cs []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &cs); err != nil {
			return nil, fmt.Errorf("choices must be an array: %w", err)
		}
	}
	if len(cs) > 25 {
		return nil, errors.New("Must be 25 or fewer in length.")
	}
	out := []discord.AutocompleteChoice{}
	for _, c := range cs {
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 100 {
			return nil, errors.New("choice name must be between 1 and 100 in length")
		}
		switch focusedTyp {
		case 4:
			var v int
			if err := json.Unmarshal(c.Value, &v); err != nil {
				return nil, fmt.Errorf("choice %q: value must be an integer", c.Name)
			}
			out = append(out, discord.AutocompleteChoiceInt{Name: c.Name, Value: v})
		case 10:
			var v float64
			if err := json.Unmarshal(c.Value, &v); err != nil {
				return nil, fmt.Errorf("choice %q: value must be a number", c.Name)
			}
			out = append(out, discord.AutocompleteChoiceFloat{Name: c.Name, Value: v})
		default:
			var v string
			if err := json.Unmarshal(c.Value, &v); err != nil || utf8.RuneCountInString(v) > 100 {
				return nil, fmt.Errorf("choice %q: value must be a string of at most 100 characters", c.Name)
			}
			out = append(out, discord.AutocompleteChoiceString{Name: c.Name, Value: v})
		}
	}
	return out, nil
}

// webhookInteractionLocked resolves /webhooks/{app}/{token} for an
// interaction, writing Discord's error when it cannot be used.
func (s *Server) webhookInteractionLocked(rc *reqCtx) *interaction {
	app, _ := snowflake.Parse(rc.param("app"))
	it := s.byToken[rc.param("token")]
	if app != s.appID || it == nil {
		writeJSON(rc.w, http.StatusNotFound, apiError(10015, "Unknown Webhook"))
		return nil
	}
	if s.opts.Now().Sub(it.createdSim) > tokenLifetime {
		s.recordFailureLocked("interaction %s (/%s): token used after %s (%s %s)", it.id, it.command, tokenLifetime, rc.r.Method, rc.route.pattern)
		writeJSON(rc.w, http.StatusUnauthorized, apiError(50027, "Invalid Webhook Token"))
		return nil
	}
	if !it.acked {
		writeJSON(rc.w, http.StatusNotFound, apiError(10015, "Unknown Webhook"))
		return nil
	}
	return it
}

// originalLocked finds the interaction of a webhook route whose original
// response exists; nil means a 404 was written.
func (s *Server) originalLocked(rc *reqCtx) *interaction {
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return nil
	}
	if it.original == nil || it.original.deleted {
		writeJSON(rc.w, http.StatusNotFound, apiError(10008, "Unknown Message"))
		return nil
	}
	return it
}

func (s *Server) handleGetOriginal(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.originalLocked(rc)
	if it == nil {
		return
	}
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(it.original))
}

func (s *Server) handleDeleteOriginal(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.originalLocked(rc)
	if it == nil {
		return
	}
	it.original.deleted = true
	it.final = true
	s.notifyLocked()
	rc.w.WriteHeader(http.StatusNoContent)
}

// editLocked applies an edit body to m; false means an error was written.
func (s *Server) editLocked(rc *reqCtx, m *message) bool {
	var p msgPayload
	files, herr := decodeBody(rc.r, rc.body, &p)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return false
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return false
	}
	before := *m
	loading := m.flags&int64(discord.MessageFlagLoading) != 0
	s.applyPayloadLocked(m, &p, files)
	if m.empty() {
		*m = before
		writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
		return false
	}
	if loading {
		// The first edit after a deferral is the response itself, not an edit.
		m.flags &^= int64(discord.MessageFlagLoading)
	} else {
		now := s.opts.Now()
		m.edited = &now
	}
	return true
}

func (s *Server) handleEditOriginal(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.originalLocked(rc)
	if it == nil {
		return
	}
	if !s.editLocked(rc, it.original) {
		return
	}
	it.final = true
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(it.original))
}

// handleFollowup serves POST /webhooks/{app}/{token}. After a deferral the
// first follow-up replaces the "thinking" placeholder, as on Discord.
func (s *Server) handleFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	if o := it.original; o != nil && !o.deleted && o.flags&int64(discord.MessageFlagLoading) != 0 {
		if !s.editLocked(rc, o) {
			return
		}
		it.final = true
		s.notifyLocked()
		writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(o))
		return
	}
	var p msgPayload
	files, herr := decodeBody(rc.r, rc.body, &p)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return
	}
	m := &message{id: s.newIDLocked(), channelID: it.channelID, guildID: it.guildID, timestamp: s.opts.Now(), inter: it}
	s.applyPayloadLocked(m, &p, files)
	if m.empty() {
		writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
		return
	}
	it.followups = append(it.followups, m)
	s.messages[m.channelID] = append(s.messages[m.channelID], m)
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
}

func (s *Server) followupLocked(rc *reqCtx, it *interaction) *message {
	id, _ := snowflake.Parse(rc.param("message"))
	for _, m := range append([]*message{it.original}, it.followups...) {
		if m != nil && m.id == id && !m.deleted {
			return m
		}
	}
	writeJSON(rc.w, http.StatusNotFound, apiError(10008, "Unknown Message"))
	return nil
}

func (s *Server) handleGetFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	if m := s.followupLocked(rc, it); m != nil {
		writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
	}
}

func (s *Server) handleEditFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	m := s.followupLocked(rc, it)
	if m == nil || !s.editLocked(rc, m) {
		return
	}
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
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
		cmds = append(cmds, &command{id: id, guildID: guildID, name: in.Name, typ: typ, options: in.Options, obj: o})
		out = append(out, o)
	}
	s.commands[guildID] = cmds
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, out)
}
