package discordsim

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

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
	Deferred  bool // answered with type 5 (or 6, for a click) first
	Updated   bool // a click answered by updating the clicked message (6 or 7)
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
	sessions   int // how many gateway sessions it was dispatched to
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
	// clicked is the message whose button was clicked (type 3): the
	// message that callbacks 6 and 7, and edits of @original after them, edit.
	clicked *message
	// owners is authorizing_integration_owners, sent in the interaction and
	// repeated in its messages' interaction_metadata, which Discord keeps equal.
	owners obj
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
// comes back with Failed set. The command must have been registered (bulk
// overwrite or create), as Discord only offers registered commands.
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
	r := &Response{Deferred: it.deferred, Updated: it.respType == 6 || it.respType == 7,
		Failed: it.failed && !it.acked, Modal: it.respType == 9, Choices: it.choices}
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

func (s *Server) startInteraction(inv Invocation, typ int) (*interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := s.findCommandLocked(inv.GuildID, inv.Command)
	if cmd == nil {
		return nil, fmt.Errorf("command %q is not registered for guild %s or globally; Discord only offers registered commands", inv.Command, inv.GuildID)
	}
	it, payload, err := s.newInteractionLocked(inv, typ, cmd)
	if err != nil {
		return nil, err
	}
	it.command = strings.TrimSpace(inv.Command + " " + inv.Subcommand)
	g := s.guilds[inv.GuildID] // nil in a DM
	var ch *channel
	if g != nil {
		ch = g.channel(it.channelID)
	}

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
					mj["permissions"] = itoa64(int64(g.channelPermissions(id, ch)))
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
				"permissions": itoa64(int64(g.channelPermissions(inv.UserID, c))), "guild_id": g.id.String(), "parent_id": nil, "flags": 0})
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

	payload["data"] = data
	s.deliverInteractionLocked(it, payload)
	return it, nil
}

// newInteractionLocked makes an interaction of type typ by inv's user in
// inv's guild (0: the user's DM with the bot) and channel, and the parts of
// its INTERACTION_CREATE payload common to every type: the user or member
// with their permissions in the channel, the channel, app_permissions,
// locales, context and authorizing_integration_owners. cmd is the command
// run (nil for a component), which decides the DM owners.
func (s *Server) newInteractionLocked(inv Invocation, typ int, cmd *command) (*interaction, obj, error) {
	u := s.users[inv.UserID]
	if u == nil {
		return nil, nil, fmt.Errorf("unknown user %s", inv.UserID)
	}
	var g *guild
	if inv.GuildID != 0 {
		g = s.guilds[inv.GuildID]
		if g == nil {
			return nil, nil, fmt.Errorf("unknown guild %s", inv.GuildID)
		}
		if g.members[inv.UserID] == nil {
			return nil, nil, fmt.Errorf("user %s is not a member of guild %s", inv.UserID, inv.GuildID)
		}
		if g.members[s.botID] == nil {
			return nil, nil, fmt.Errorf("the bot is not in guild %s", inv.GuildID)
		}
	}
	it := &interaction{id: s.newIDLocked(), token: "aW50ZXJhY3Rpb246" + randomToken(96), typ: typ,
		guildID: inv.GuildID, userID: inv.UserID, created: time.Now(), createdSim: s.opts.Now()}
	locale := inv.Locale
	if locale == "" {
		locale = u.locale
	}
	payload := obj{
		"id":                    it.id.String(),
		"application_id":        s.appID.String(),
		"type":                  typ,
		"token":                 it.token,
		"version":               1,
		"locale":                locale,
		"entitlements":          []any{},
		"attachment_size_limit": 10 << 20,
	}
	if g != nil {
		ch := s.pickChannelLocked(g, inv.ChannelID)
		if ch == nil {
			return nil, nil, fmt.Errorf("guild %s has no channel %s to interact in", g.id, inv.ChannelID)
		}
		// member.permissions, channel.permissions and app_permissions are
		// computed in the channel, overwrites included, as Discord sends them.
		it.channelID = ch.id
		perms := g.channelPermissions(inv.UserID, ch)
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
		payload["app_permissions"] = itoa64(int64(g.channelPermissions(s.botID, ch)))
		it.owners = obj{"0": g.id.String()}
		payload["context"] = 0
	} else {
		it.channelID = s.dmChannelLocked(inv.UserID)
		payload["user"] = userJSON(u)
		payload["channel_id"] = it.channelID.String()
		payload["channel"] = obj{"id": it.channelID.String(), "type": 1, "last_message_id": nil, "flags": 0,
			"recipients": []any{userJSON(u)}, "permissions": itoa64(int64(discord.PermissionsAllText))}
		payload["app_permissions"] = itoa64(int64(discord.PermissionsAllText))
		it.owners = dmOwners(cmd, inv.UserID)
		payload["context"] = 1
	}
	payload["authorizing_integration_owners"] = it.owners
	return it, payload, nil
}

// deliverInteractionLocked registers it, sends its INTERACTION_CREATE to the
// session covering its guild, and starts the 3 s acknowledgement clock.
func (s *Server) deliverInteractionLocked(it *interaction, payload obj) {
	s.interactions[it.id] = it
	s.byToken[it.token] = it
	s.dispatchGuildLocked(it.guildID, 0, "INTERACTION_CREATE", func(*session) any {
		it.sessions++
		return payload
	})
	it.timer = time.AfterFunc(ackDeadline, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !it.acked && !it.failed {
			it.failed = true
			s.failed = append(s.failed, fmt.Sprintf("interaction %s (%s): not acknowledged within %s", it.id, it.label(), ackDeadline))
			s.notifyLocked()
		}
	})
	s.notifyLocked()
}

// dmOwners is authorizing_integration_owners for a command run in the bot's
// DM. Discord keys it by installation type: GUILD_INSTALL ("0") maps to "0"
// when the interaction comes from the bot's DM, USER_INSTALL ("1") to the
// installing user. A command registered for guild installs (the default)
// runs under the guild install; one registered only for user installs under
// the user's.
func dmOwners(cmd *command, userID snowflake.ID) obj {
	if cmd == nil || len(cmd.integrationTypes) == 0 || slices.Contains(cmd.integrationTypes, 0) {
		return obj{"0": "0"}
	}
	return obj{"1": userID.String()}
}

// label names the interaction in failure messages: "/report week" for a
// command, "button <custom_id>" for a click.
func (it *interaction) label() string {
	if it.typ == 3 {
		return it.command
	}
	return "/" + it.command
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
