package discordsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// Button is a button of a message, as a test sees it to click it.
type Button struct {
	CustomID string // "" for a link button
	Label    string
	Style    discord.ButtonStyle
	URL      string // link buttons (style 5)
	Disabled bool
}

// component is the part of a message component the simulator reads.
type component struct {
	Type       int             `json:"type"`
	CustomID   string          `json:"custom_id"`
	Label      string          `json:"label"`
	Style      int             `json:"style"`
	URL        string          `json:"url"`
	SKUID      json.RawMessage `json:"sku_id"`
	Disabled   bool            `json:"disabled"`
	Components []component     `json:"components"`
	Accessory  *component      `json:"accessory"`
}

// buttons lists every button in a message's components, walking action rows
// and (Components V2) containers and section accessories.
func buttons(raws []json.RawMessage) []Button {
	var out []Button
	var walk func(cs []component)
	walk = func(cs []component) {
		for _, c := range cs {
			if c.Type == 2 {
				out = append(out, Button{CustomID: c.CustomID, Label: c.Label, Style: discord.ButtonStyle(c.Style), URL: c.URL, Disabled: c.Disabled})
			}
			walk(c.Components)
			if c.Accessory != nil {
				walk([]component{*c.Accessory})
			}
		}
	}
	for _, raw := range raws {
		var c component
		if json.Unmarshal(raw, &c) == nil {
			walk([]component{c})
		}
	}
	return out
}

// validateComponents applies Discord's rules for classic message
// components (action rows of buttons): at most 5 rows of at most 5 buttons;
// a link button (style 5) has a url and no custom_id, a premium button
// (style 6) a sku_id, every other button a custom_id of 1-100 characters,
// unique in the message; labels are at most 80 characters. Components V2
// layouts are accepted as sent, with the same button and custom_id rules.
func validateComponents(raws []json.RawMessage, v2 bool) obj {
	errs := obj{}
	if !v2 && len(raws) > 5 {
		return obj{"_errors": fieldError("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")["_errors"]}
	}
	seen := map[string]bool{}
	var check func(c component, path []string)
	add := func(path []string, e obj) {
		cur := errs
		for _, p := range path[:len(path)-1] {
			next, ok := cur[p].(obj)
			if !ok {
				next = obj{}
				cur[p] = next
			}
			cur = next
		}
		cur[path[len(path)-1]] = e
	}
	check = func(c component, path []string) {
		if !v2 && len(path) == 1 && c.Type != 1 {
			// Without the IS_COMPONENTS_V2 flag only action rows may be top
			// level, and they hold buttons or one select menu.
			add(append(path, "type"), fieldError("UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,)."))
			return
		}
		switch c.Type {
		case 1:
			if !v2 && len(c.Components) > 5 {
				add(append(path, "components"), fieldError("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
			}
			if len(c.Components) == 0 {
				add(append(path, "components"), fieldError("BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."))
			}
		case 2:
			switch {
			case c.Style < 1 || c.Style > 6:
				add(append(path, "style"), fieldError("BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6)."))
			case c.Style == 5:
				if c.URL == "" {
					add(append(path, "url"), fieldError("BUTTON_COMPONENT_URL_REQUIRED", "A url is required"))
				}
				if c.CustomID != "" {
					add(append(path, "custom_id"), fieldError("BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id is not allowed"))
				}
			case c.Style == 6:
				if len(c.SKUID) == 0 {
					add(append(path, "sku_id"), fieldError("BUTTON_COMPONENT_SKU_ID_REQUIRED", "A sku id is required"))
				}
			default:
				if n := utf8.RuneCountInString(c.CustomID); n < 1 || n > 100 {
					add(append(path, "custom_id"), fieldError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
				} else if seen[c.CustomID] {
					add(append(path, "custom_id"), fieldError("COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"))
				}
				seen[c.CustomID] = true
			}
			if utf8.RuneCountInString(c.Label) > 80 {
				add(append(path, "label"), fieldError("BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."))
			}
		}
		for i, sub := range c.Components {
			check(sub, append(append(append([]string(nil), path...), "components"), strconv.Itoa(i)))
		}
		if c.Accessory != nil {
			check(*c.Accessory, append(append([]string(nil), path...), "accessory"))
		}
	}
	for i, raw := range raws {
		var c component
		if err := json.Unmarshal(raw, &c); err != nil {
			errs[strconv.Itoa(i)] = fieldError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
			continue
		}
		check(c, []string{strconv.Itoa(i)})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// ClickSpec is a user clicking a button of a message. GuildID 0 is a DM
// (the message must then be in the user's DM with the bot).
type ClickSpec struct {
	GuildID, UserID snowflake.ID
	MessageID       snowflake.ID
	CustomID        string
	Locale          string // defaults to the user's locale
}

// Click sends the MESSAGE_COMPONENT interaction (type 3) Discord sends when
// a user clicks a button, with the message in the payload, and waits for its
// final state as Invoke does: a new message (callback 4), a deferral (5)
// and its edit, a deferred update (6: final once acknowledged, and an edit
// of @original then edits the clicked message), an update of the clicked
// message (7), or a modal (9). Clicking a button the message does not have,
// a disabled or link button, or a message the user cannot see (another
// user's ephemeral message, another channel's guild) is refused with an
// error, as Discord's client offers no such click.
func (s *Server) Click(ctx context.Context, c ClickSpec) (*Response, error) {
	it, err := s.startClick(c)
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
		return nil, fmt.Errorf("click %q: %w", c.CustomID, err)
	}
	return resp, nil
}

func (s *Server) startClick(c ClickSpec) (*interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messageByIDLocked(c.MessageID)
	if m == nil {
		return nil, fmt.Errorf("unknown message %s", c.MessageID)
	}
	if m.guildID != c.GuildID {
		return nil, fmt.Errorf("message %s is not in guild %s", m.id, c.GuildID)
	}
	if m.ephemeral() && (m.inter == nil || m.inter.userID != c.UserID) {
		return nil, fmt.Errorf("message %s is ephemeral and not shown to user %s", m.id, c.UserID)
	}
	if c.GuildID == 0 && s.dms[c.UserID] != m.channelID {
		return nil, fmt.Errorf("message %s is not in the DM of user %s", m.id, c.UserID)
	}
	var found *Button
	for _, b := range buttons(m.components) {
		if b.CustomID == c.CustomID && b.CustomID != "" {
			found = &b
			break
		}
	}
	switch {
	case found == nil:
		return nil, fmt.Errorf("message %s has no button with custom_id %q", m.id, c.CustomID)
	case found.Disabled:
		return nil, fmt.Errorf("button %q of message %s is disabled", c.CustomID, m.id)
	}
	inv := Invocation{GuildID: c.GuildID, UserID: c.UserID, ChannelID: m.channelID, Locale: c.Locale}
	it, payload, err := s.newInteractionLocked(inv, 3, nil)
	if err != nil {
		return nil, err
	}
	it.command = "button " + c.CustomID
	it.clicked = m
	payload["data"] = obj{"custom_id": c.CustomID, "component_type": 2}
	payload["message"] = s.messageJSONLocked(m)
	s.deliverInteractionLocked(it, payload)
	return it, nil
}

// numberComponents gives every component without an id one, as Discord
// does: numbers in depth-first order, after the largest id already set.
func numberComponents(raws []json.RawMessage) []json.RawMessage {
	var trees []any
	for _, raw := range raws {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return raws
		}
		trees = append(trees, v)
	}
	used := 0
	var visit func(v any, f func(map[string]any))
	visit = func(v any, f func(map[string]any)) {
		c, ok := v.(map[string]any)
		if !ok {
			return
		}
		f(c)
		if subs, ok := c["components"].([]any); ok {
			for _, sub := range subs {
				visit(sub, f)
			}
		}
		if acc, ok := c["accessory"]; ok {
			visit(acc, f)
		}
	}
	for _, t := range trees {
		visit(t, func(c map[string]any) {
			if n, ok := c["id"].(float64); ok {
				used = max(used, int(n))
			}
		})
	}
	for _, t := range trees {
		visit(t, func(c map[string]any) {
			if _, ok := c["id"]; !ok {
				used++
				c["id"] = used
			}
		})
	}
	out := make([]json.RawMessage, len(trees))
	for i, t := range trees {
		out[i], _ = json.Marshal(t)
	}
	return out
}
