package discordsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"  // register decoders so attachments get width/height
	_ "image/jpeg" // as Discord reports them
	_ "image/png"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// File is an uploaded attachment. ContentType is what Discord would report:
// sniffed from the data, not taken from the part header (disgo always sends
// application/octet-stream).
type File struct {
	Name, ContentType string
	Data              []byte
}

// Message is a message in a channel in its current (possibly edited)
// state: one the bot created (a channel post, an interaction response or a
// follow-up), or one a test posted as a user with PostMessage.
type Message struct {
	ID, ChannelID snowflake.ID
	AuthorID      snowflake.ID // the bot's user id for the bot's messages
	Content       string
	Embeds        []discord.Embed
	Files         []File
	Buttons       []Button // every button of the message's components, in order
	Flags         discord.MessageFlags
	Interaction   bool // an interaction response or follow-up, not a channel post
	Timestamp     time.Time
	Edited        bool
	// Deleted is set only by BotMessages, which lists deleted messages too.
	Deleted bool
	// Nonce is the nonce the message was created with ("" if none).
	Nonce string
	// AllowedMentions is the allowed_mentions object of the request that
	// last wrote the message's content (its creation or its last edit); nil
	// when that request sent none. Writes has every such request.
	AllowedMentions *discord.AllowedMentions
	Writes          []MessageWrite
	// ReplyTo is the message this one replies to (0 if none): a reply
	// made with message_reference, or a component interaction's response.
	ReplyTo snowflake.ID
}

// MessageWrite is one request that set a message's content: its creation,
// or an edit (for a deferred interaction response, the edit that replaced
// the "thinking" placeholder counts as its creation, as it does on Discord:
// the message shows no "(edited)").
type MessageWrite struct {
	Time time.Time // Options.Now at the request
	Edit bool
	// AllowedMentions is the request's allowed_mentions; nil if it sent none,
	// which lets Discord ping whatever the content mentions.
	AllowedMentions *discord.AllowedMentions
}

type attachment struct {
	id          snowflake.ID
	file        File
	description string
	width       int
	height      int
}

type message struct {
	id, channelID, guildID snowflake.ID
	authorID               snowflake.ID
	content                string
	embeds                 []json.RawMessage
	components             []json.RawMessage
	attachments            []attachment
	flags                  int64
	inter                  *interaction // nil for channel posts
	nonce                  string
	timestamp              time.Time
	edited                 *time.Time
	deleted                bool
	writes                 []MessageWrite
	// replyTo is the message replied to: the one whose component was
	// clicked for a component interaction's response, or the one a
	// message_reference names.
	replyTo *message
}

// ephemeral reports whether only the invoking user sees m: Discord never
// dispatches it on the gateway nor lists it in channel routes.
func (m *message) ephemeral() bool { return m.flags&int64(discord.MessageFlagEphemeral) != 0 }

func (m *message) empty() bool {
	return m.content == "" && len(m.embeds) == 0 && len(m.attachments) == 0 && len(m.components) == 0
}

// applyPayloadLocked writes a create or edit body into m. Attachment rules
// (API v10): without an "attachments" array existing files stay and new
// uploads are added; with one, only listed existing attachments stay.
func (s *Server) applyPayloadLocked(m *message, p *msgPayload, files []upload) {
	m.writes = append(m.writes, MessageWrite{Time: s.opts.Now(), Edit: len(m.writes) > 0,
		AllowedMentions: decodeAllowedMentions(p.AllowedMentions)})
	if p.Content != nil {
		m.content = *p.Content
	}
	if p.Embeds != nil {
		m.embeds = p.Embeds
	}
	if p.Components != nil {
		m.components = numberComponents(p.Components)
	}
	if p.Flags != nil {
		// Only some flags can be set by a client; keep the ones the server owns.
		const settable = int64(discord.MessageFlagSuppressEmbeds | discord.MessageFlagEphemeral | discord.MessageFlagSuppressNotifications | discord.MessageFlagIsComponentsV2)
		m.flags = m.flags&^settable | *p.Flags&settable
	}
	meta := map[int]struct{ name, desc string }{}
	if p.Attachments != nil {
		keep := map[snowflake.ID]bool{}
		for _, a := range *p.Attachments {
			// An upload is referenced by its files[n] index (a number, or a
			// digit string); an existing attachment by its snowflake.
			var n json.Number
			var sid string
			switch {
			case json.Unmarshal(a.ID, &n) == nil:
				sid = n.String()
			case json.Unmarshal(a.ID, &sid) == nil:
			default:
				continue
			}
			v, err := strconv.ParseUint(sid, 10, 64)
			if err != nil {
				continue
			}
			if v < 1<<22 {
				meta[int(v)] = struct{ name, desc string }{a.Filename, a.Description}
			} else {
				keep[snowflake.ID(v)] = true
			}
		}
		kept := m.attachments[:0:0]
		for _, a := range m.attachments {
			if keep[a.id] {
				kept = append(kept, a)
			}
		}
		m.attachments = kept
	}
	for _, f := range files {
		name := f.name
		md := meta[f.index]
		if md.name != "" {
			name = md.name
		}
		a := attachment{id: s.newIDLocked(), description: md.desc,
			file: File{Name: name, ContentType: sniff(f.data, name), Data: f.data}}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(f.data)); err == nil {
			a.width, a.height = cfg.Width, cfg.Height
		}
		m.attachments = append(m.attachments, a)
	}
	if p.Embeds != nil || len(files) > 0 {
		s.normalizeEmbedsLocked(m)
	}
}

func sniff(data []byte, name string) string {
	ct := http.DetectContentType(data)
	if strings.HasPrefix(ct, "text/plain") || ct == "application/octet-stream" {
		if ext := strings.LastIndex(name, "."); ext >= 0 {
			if t := mime.TypeByExtension(name[ext:]); t != "" {
				return t
			}
		}
	}
	return ct
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func (s *Server) messageJSONLocked(m *message) obj {
	atts := make([]any, 0, len(m.attachments))
	for _, a := range m.attachments {
		fn := safeName.ReplaceAllString(a.file.Name, "_")
		url := s.attachmentURL(m.channelID, a)
		ao := obj{
			"id":           a.id.String(),
			"filename":     fn,
			"size":         len(a.file.Data),
			"url":          url,
			"proxy_url":    url,
			"content_type": a.file.ContentType,
		}
		if a.description != "" {
			ao["description"] = a.description
		}
		if a.width > 0 {
			ao["width"], ao["height"] = a.width, a.height
		}
		if m.flags&int64(discord.MessageFlagEphemeral) != 0 {
			ao["ephemeral"] = true
		}
		atts = append(atts, ao)
	}
	embeds := make([]any, 0, len(m.embeds))
	for _, e := range m.embeds {
		embeds = append(embeds, e)
	}
	components := make([]any, 0, len(m.components))
	for _, c := range m.components {
		components = append(components, c)
	}
	var edited any
	if m.edited != nil {
		edited = timestamp(*m.edited)
	}
	o := obj{
		"id":               m.id.String(),
		"channel_id":       m.channelID.String(),
		"type":             0,
		"content":          m.content,
		"author":           userJSON(s.users[m.authorID]),
		"attachments":      atts,
		"embeds":           embeds,
		"components":       components,
		"mentions":         []any{},
		"mention_roles":    []any{},
		"mention_everyone": false,
		"pinned":           false,
		"tts":              false,
		"timestamp":        timestamp(m.timestamp),
		"edited_timestamp": edited,
		"flags":            m.flags,
	}
	if it := m.inter; it != nil {
		// Interaction messages are sent by the application's webhook.
		o["type"] = 20
		o["webhook_id"] = s.appID.String()
		o["application_id"] = s.appID.String()
		u := userJSON(s.users[it.userID])
		meta := obj{"id": it.id.String(), "type": it.typ, "user": u, "authorizing_integration_owners": it.owners}
		if it.typ == 3 {
			meta["interacted_message_id"] = it.clicked.id.String()
		} else {
			meta["name"] = it.command
			o["interaction"] = obj{"id": it.id.String(), "type": it.typ, "name": it.command, "user": u}
		}
		o["interaction_metadata"] = meta
	}
	if r := m.replyTo; r != nil {
		// A reply: to the clicked message for a button click's response.
		o["type"] = 19
		ref := obj{"type": 0, "message_id": r.id.String(), "channel_id": r.channelID.String()}
		if r.guildID != 0 {
			ref["guild_id"] = r.guildID.String()
		}
		o["message_reference"] = ref
	}
	return o
}

func (s *Server) publicMessageLocked(m *message) Message {
	out := Message{ID: m.id, ChannelID: m.channelID, AuthorID: m.authorID, Content: m.content, Flags: discord.MessageFlags(m.flags),
		Interaction: m.inter != nil, Timestamp: m.timestamp, Edited: m.edited != nil, Nonce: m.nonce,
		Buttons: buttons(m.components), Writes: append([]MessageWrite(nil), m.writes...)}
	if n := len(m.writes); n > 0 {
		out.AllowedMentions = m.writes[n-1].AllowedMentions
	}
	if m.replyTo != nil {
		out.ReplyTo = m.replyTo.id
	}
	for _, raw := range m.embeds {
		var e discord.Embed
		if json.Unmarshal(raw, &e) == nil {
			out.Embeds = append(out.Embeds, e)
		}
	}
	for _, a := range m.attachments {
		out.Files = append(out.Files, a.file)
	}
	return out
}

// Messages returns the live messages in a channel, oldest first: the bot's
// channel posts, interaction responses and follow-ups (ephemeral ones
// included, and deferred responses still "thinking" with the Loading flag),
// and users' posts made with PostMessage.
func (s *Server) Messages(channelID snowflake.ID) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(channelID)
}

func (s *Server) messagesLocked(channelID snowflake.ID) []Message {
	var out []Message
	for _, m := range s.messages[channelID] {
		if !m.deleted {
			out = append(out, s.publicMessageLocked(m))
		}
	}
	return out
}

// WaitMessages waits until a channel has at least n messages and returns them.
func (s *Server) WaitMessages(ctx context.Context, channelID snowflake.ID, n int) ([]Message, error) {
	var out []Message
	err := s.waitFor(ctx, func() bool {
		out = s.messagesLocked(channelID)
		return len(out) >= n
	})
	if err != nil {
		return out, fmt.Errorf("wait for %d messages in %s (have %d): %w", n, channelID, len(out), err)
	}
	return out, nil
}

// serveAttachment serves uploaded files at the URLs messages advertise.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/attachments/"), "/")
	if len(parts) != 3 {
		http.NotFound(w, r)
		return
	}
	chID, _ := snowflake.Parse(parts[0])
	attID, _ := snowflake.Parse(parts[1])
	s.mu.Lock()
	var file *File
	for _, m := range s.messages[chID] {
		for i := range m.attachments {
			if m.attachments[i].id == attID {
				file = &m.attachments[i].file
			}
		}
	}
	s.mu.Unlock()
	if file == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", file.ContentType)
	_, _ = w.Write(file.Data)
}
