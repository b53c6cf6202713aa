package discordsim

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// The /channels/{channel}/messages routes, and posting as a user.

// nonceWindow is how long Discord remembers an enforced nonce ("a few minutes").
const nonceWindow = 5 * time.Minute

// restChannelLocked finds the guild channel of a /channels/{channel} route
// and checks the bot may see it, writing Discord's error otherwise: 10003
// Unknown Channel (404) for a channel that does not exist (or was deleted),
// 50001 Missing Access (403) for one in a guild the bot is not in or
// without View Channel (and, for a voice channel's messages, Connect).
func (s *Server) restChannelLocked(rc *reqCtx, voiceNeedsConnect bool) (*guild, *channel, discord.Permissions) {
	id, err := snowflake.Parse(rc.param("channel"))
	var g *guild
	var c *channel
	if err == nil {
		g, c = s.findChannelLocked(id)
	}
	if c == nil {
		writeJSON(rc.w, http.StatusNotFound, apiError(10003, "Unknown Channel"))
		return nil, nil, 0
	}
	perms := g.channelPermissions(s.botID, c)
	if g.members[s.botID] == nil || !perms.Has(discord.PermissionViewChannel) ||
		(voiceNeedsConnect && isVoice(c) && !perms.Has(discord.PermissionConnect)) {
		writeJSON(rc.w, http.StatusForbidden, apiError(50001, "Missing Access"))
		return nil, nil, 0
	}
	return g, c, perms
}

func isVoice(c *channel) bool {
	return c.typ == discord.ChannelTypeGuildVoice || c.typ == discord.ChannelTypeGuildStageVoice
}

func missingPermissions(rc *reqCtx) {
	writeJSON(rc.w, http.StatusForbidden, apiError(50013, "Missing Permissions"))
}

// handleCreateMessage serves POST /channels/{channel}/messages. Beyond
// seeing the channel, the bot needs Send Messages, and Embed Links or
// Attach Files when the message has embeds or files (50013 otherwise).
func (s *Server) handleCreateMessage(rc *reqCtx) {
	var p msgPayload
	files, herr := decodeBody(rc.r, rc.body, &p)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ch, perms := s.restChannelLocked(rc, false)
	if ch == nil {
		return
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return
	}
	if ch.typ == discord.ChannelTypeGuildCategory || ch.typ == discord.ChannelTypeGuildForum || ch.typ == discord.ChannelTypeGuildMedia {
		writeJSON(rc.w, http.StatusBadRequest, apiError(50008, "Cannot send messages in a non-text channel"))
		return
	}
	need := discord.PermissionSendMessages
	if len(p.Embeds) > 0 {
		need |= discord.PermissionEmbedLinks
	}
	if len(files) > 0 {
		need |= discord.PermissionAttachFiles
	}
	if !perms.Has(need) {
		missingPermissions(rc)
		return
	}
	nonce := strings.Trim(string(p.Nonce), `"`)
	if len(nonce) > 25 {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"nonce": fieldError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")}))
		return
	}
	if p.EnforceNonce && nonce != "" {
		// Discord returns the message already created with this nonce by
		// the same author in the last few minutes instead of a new one.
		for _, old := range s.messages[ch.id] {
			if old.nonce == nonce && old.authorID == s.botID && !old.deleted && s.opts.Now().Sub(old.timestamp) < nonceWindow {
				writeJSON(rc.w, http.StatusOK, s.createdJSONLocked(old))
				return
			}
		}
	}
	if p.Flags != nil && *p.Flags&int64(discord.MessageFlagEphemeral) != 0 {
		// Only interaction responses can be ephemeral.
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"flags": fieldError("MESSAGE_FLAGS_INVALID", "Invalid flags")}))
		return
	}
	m := &message{id: s.newIDLocked(), channelID: ch.id, guildID: g.id, authorID: s.botID, timestamp: s.opts.Now(), nonce: nonce}
	if ref := p.MessageReference; ref != nil {
		// A reply: Discord needs Read Message History to reference a
		// message, and the message in this channel; a missing one fails
		// the request unless fail_if_not_exists is false, when the message
		// is sent as an ordinary one.
		if !perms.Has(discord.PermissionReadMessageHistory) {
			missingPermissions(rc)
			return
		}
		var to *message
		if ref.ChannelID == nil || *ref.ChannelID == ch.id {
			for _, old := range s.messages[ch.id] {
				if old.id == ref.MessageID && !old.deleted && !old.ephemeral() {
					to = old
				}
			}
		}
		if to == nil && (ref.FailIfNotExists == nil || *ref.FailIfNotExists) {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"message_reference": fieldError("REPLIES_UNKNOWN_MESSAGE", "Unknown message")}))
			return
		}
		m.replyTo = to
	}
	s.applyPayloadLocked(m, &p, files)
	if m.empty() {
		writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
		return
	}
	s.storeMessageLocked(m)
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.createdJSONLocked(m))
}

// createdJSONLocked is the answer to the request that created m: the
// message with the nonce its creator sent (later reads do not have it).
func (s *Server) createdJSONLocked(m *message) obj {
	o := s.messageJSONLocked(m)
	if m.nonce != "" {
		o["nonce"] = m.nonce
	}
	return o
}

// channelHistoryLocked lists the messages a channel route can return,
// oldest first: ephemeral messages are never part of a channel's history.
func (s *Server) channelHistoryLocked(channelID snowflake.ID) []*message {
	var out []*message
	for _, m := range s.messages[channelID] {
		if !m.deleted && !m.ephemeral() {
			out = append(out, m)
		}
	}
	return out
}

// handleListMessages serves GET /channels/{channel}/messages: newest first,
// limit 1-100 (default 50), and at most one of before, after (the messages
// just after the id) and around (those around it, itself included). Without
// Read Message History the answer is an empty list, as Discord documents.
func (s *Server) handleListMessages(rc *reqCtx) {
	q := rc.r.URL.Query()
	limit, errs := queryInt(q.Get("limit"), 50, 1, 100)
	if errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"limit": errs}))
		return
	}
	var anchors []string
	for _, k := range []string{"before", "after", "around"} {
		if q.Get(k) != "" {
			anchors = append(anchors, k)
		}
	}
	if len(anchors) > 1 {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{anchors[1]: fieldError("BASE_TYPE_INVALID",
			"before, after and around are mutually exclusive")}))
		return
	}
	var anchor snowflake.ID
	if len(anchors) == 1 {
		id, err := snowflake.Parse(q.Get(anchors[0]))
		if err != nil {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{anchors[0]: fieldError("NUMBER_TYPE_COERCE",
				fmt.Sprintf("Value %q is not snowflake.", q.Get(anchors[0])))}))
			return
		}
		anchor = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ch, perms := s.restChannelLocked(rc, true)
	if ch == nil {
		return
	}
	out := []any{}
	if !perms.Has(discord.PermissionReadMessageHistory) {
		writeJSON(rc.w, http.StatusOK, out)
		return
	}
	all := s.channelHistoryLocked(ch.id) // ascending ids
	at := sort.Search(len(all), func(i int) bool { return all[i].id >= anchor })
	var page []*message
	switch {
	case len(anchors) == 0:
		page = all[max(0, len(all)-limit):]
	case anchors[0] == "before":
		page = all[max(0, at-limit):at]
	case anchors[0] == "after":
		if at < len(all) && all[at].id == anchor {
			at++
		}
		page = all[at:min(len(all), at+limit)]
	default: // around
		from := max(0, at-limit/2)
		page = all[from:min(len(all), from+limit)]
	}
	for i := len(page) - 1; i >= 0; i-- {
		out = append(out, s.messageJSONLocked(page[i]))
	}
	writeJSON(rc.w, http.StatusOK, out)
}

// restMessageLocked finds the message of a /channels/{c}/messages/{m}
// route among the channel's history; nil means 10008 Unknown Message was
// written.
func (s *Server) restMessageLocked(rc *reqCtx, ch *channel) *message {
	id, _ := snowflake.Parse(rc.param("message"))
	for _, m := range s.channelHistoryLocked(ch.id) {
		if m.id == id {
			return m
		}
	}
	writeJSON(rc.w, http.StatusNotFound, apiError(10008, "Unknown Message"))
	return nil
}

// handleGetMessage serves GET /channels/{channel}/messages/{message}, which
// needs Read Message History besides View Channel.
func (s *Server) handleGetMessage(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ch, perms := s.restChannelLocked(rc, true)
	if ch == nil {
		return
	}
	if !perms.Has(discord.PermissionReadMessageHistory) {
		missingPermissions(rc)
		return
	}
	if m := s.restMessageLocked(rc, ch); m != nil {
		writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
	}
}

// handleEditMessage serves PATCH /channels/{channel}/messages/{message}.
// Only the author may edit a message's content (50005 otherwise):
// interaction responses and follow-ups belong to the application's webhook
// and are edited through the interaction token, not here. MESSAGE_UPDATE
// follows.
func (s *Server) handleEditMessage(rc *reqCtx) {
	var p msgPayload
	files, herr := decodeBody(rc.r, rc.body, &p)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ch, perms := s.restChannelLocked(rc, false)
	if ch == nil {
		return
	}
	m := s.restMessageLocked(rc, ch)
	if m == nil {
		return
	}
	if m.authorID != s.botID || m.inter != nil {
		writeJSON(rc.w, http.StatusForbidden, apiError(50005, "Cannot edit a message authored by another user"))
		return
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return
	}
	if (len(p.Embeds) > 0 && !perms.Has(discord.PermissionEmbedLinks)) || (len(files) > 0 && !perms.Has(discord.PermissionAttachFiles)) {
		missingPermissions(rc)
		return
	}
	if p.Flags != nil && *p.Flags&int64(discord.MessageFlagEphemeral) != 0 {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"flags": fieldError("MESSAGE_FLAGS_INVALID", "Invalid flags")}))
		return
	}
	before := *m
	s.applyPayloadLocked(m, &p, files)
	if m.empty() {
		*m = before
		writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
		return
	}
	now := s.opts.Now()
	m.edited = &now
	s.dispatchMessageLocked("MESSAGE_UPDATE", m)
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
}

// handleDeleteMessage serves DELETE /channels/{channel}/messages/{message}:
// the bot may delete its own posts; anyone else's message (a webhook's,
// such as an interaction response, included) needs Manage Messages.
// MESSAGE_DELETE follows.
func (s *Server) handleDeleteMessage(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ch, perms := s.restChannelLocked(rc, false)
	if ch == nil {
		return
	}
	m := s.restMessageLocked(rc, ch)
	if m == nil {
		return
	}
	if (m.authorID != s.botID || m.inter != nil) && !perms.Has(discord.PermissionManageMessages) {
		missingPermissions(rc)
		return
	}
	s.deleteMessageLocked(m)
	s.notifyLocked()
	rc.w.WriteHeader(http.StatusNoContent)
}

// PostMessage posts a plain message as a user (a member of the channel's
// guild) and dispatches MESSAGE_CREATE, whose content sessions without the
// MESSAGE_CONTENT intent receive empty, as on Discord. It returns the id.
func (s *Server) PostMessage(channelID, userID snowflake.ID, content string) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, c := s.findChannelLocked(channelID)
	if c == nil {
		panic(fmt.Sprintf("discordsim: unknown channel %s", channelID))
	}
	if g.members[userID] == nil {
		panic(fmt.Sprintf("discordsim: user %s is not a member of %s", userID, g.id))
	}
	m := &message{id: s.newIDLocked(), channelID: c.id, guildID: g.id, authorID: userID,
		timestamp: s.opts.Now(), content: content}
	s.storeMessageLocked(m)
	s.notifyLocked()
	return m.id
}

// Message returns a live message by id (channel post, interaction
// response, follow-up or user post), and whether it exists.
func (s *Server) Message(id snowflake.ID) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messageByIDLocked(id)
	if m == nil {
		return Message{}, false
	}
	return s.publicMessageLocked(m), true
}

// WaitMessage waits until the message with id exists and cond holds for it
// (nil cond: exists), and returns it.
func (s *Server) WaitMessage(ctx context.Context, id snowflake.ID, cond func(Message) bool) (Message, error) {
	var out Message
	err := s.waitFor(ctx, func() bool {
		m := s.messageByIDLocked(id)
		if m == nil {
			return false
		}
		out = s.publicMessageLocked(m)
		return cond == nil || cond(out)
	})
	if err != nil {
		return out, fmt.Errorf("wait for message %s: %w", id, err)
	}
	return out, nil
}
