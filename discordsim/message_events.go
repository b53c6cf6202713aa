package discordsim

import (
	"strings"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// storeMessageLocked adds a new message to its channel and dispatches its
// MESSAGE_CREATE, as Discord does for every message that is not ephemeral:
// channel posts, user posts, interaction responses (the deferred "thinking"
// message included) and follow-ups.
func (s *Server) storeMessageLocked(m *message) {
	s.messages[m.channelID] = append(s.messages[m.channelID], m)
	if s.messageIndex == nil {
		s.messageIndex = map[snowflake.ID]*message{}
	}
	s.messageIndex[m.id] = m
	s.dispatchMessageLocked("MESSAGE_CREATE", m)
}

// messageByIDLocked finds a live message by id in any channel.
func (s *Server) messageByIDLocked(id snowflake.ID) *message {
	if m := s.messageIndex[id]; m != nil && !m.deleted {
		return m
	}
	return nil
}

// dispatchMessageLocked sends MESSAGE_CREATE or MESSAGE_UPDATE (which on
// Discord carries the whole message) for m to the sessions with
// GUILD_MESSAGES (guild channels) or DIRECT_MESSAGES (DMs). An ephemeral
// message is never dispatched.
func (s *Server) dispatchMessageLocked(event string, m *message) {
	if m.ephemeral() {
		return
	}
	intent := gateway.IntentGuildMessages
	if m.guildID == 0 {
		intent = gateway.IntentDirectMessages
	}
	s.dispatchGuildLocked(m.guildID, intent, event, func(sess *session) any {
		o := s.messageJSONLocked(m)
		if event == "MESSAGE_CREATE" && m.nonce != "" {
			// Discord echoes the nonce the sender sent, which is how a
			// client recognises its own message arriving.
			o["nonce"] = m.nonce
		}
		if m.guildID != 0 {
			o["guild_id"] = m.guildID.String()
			// Messages sent by a webhook (interaction responses and
			// follow-ups) carry no member.
			if g := s.guilds[m.guildID]; g != nil && m.inter == nil && g.members[m.authorID] != nil {
				mj := s.memberJSONLocked(g, g.members[m.authorID])
				delete(mj, "user")
				o["member"] = mj
			}
		}
		if !sess.intents.Has(gateway.IntentMessageContent) && !s.contentVisibleLocked(m) {
			// Without the privileged MESSAGE_CONTENT intent Discord empties
			// what a message says, except in the bot's own messages, DMs and
			// messages that mention the bot.
			o["content"] = ""
			o["embeds"] = []any{}
			o["attachments"] = []any{}
			o["components"] = []any{}
		}
		return o
	})
}

func (s *Server) contentVisibleLocked(m *message) bool {
	return m.authorID == s.botID || m.guildID == 0 ||
		strings.Contains(m.content, "<@"+s.botID.String()+">") || strings.Contains(m.content, "<@!"+s.botID.String()+">")
}

// deleteMessageLocked marks m deleted and dispatches MESSAGE_DELETE.
func (s *Server) deleteMessageLocked(m *message) {
	m.deleted = true
	if m.ephemeral() {
		return
	}
	intent := gateway.IntentGuildMessages
	if m.guildID == 0 {
		intent = gateway.IntentDirectMessages
	}
	s.dispatchGuildLocked(m.guildID, intent, "MESSAGE_DELETE", func(*session) any {
		o := obj{"id": m.id.String(), "channel_id": m.channelID.String()}
		if m.guildID != 0 {
			o["guild_id"] = m.guildID.String()
		}
		return o
	})
}
