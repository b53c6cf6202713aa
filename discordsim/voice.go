package discordsim

import (
	"fmt"
	"sort"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

type voiceState struct {
	userID    snowflake.ID
	channelID snowflake.ID
	sessionID string
	flags     VoiceFlags
}

// VoiceFlags are the mute/deaf bits of a voice state. SelfMute/SelfDeaf are
// set by the user; Mute/Deaf are server-side (by a moderator).
type VoiceFlags struct {
	SelfMute, SelfDeaf, Mute, Deaf bool
}

// SetVoice joins, moves or updates a member's voice state; channelID 0
// leaves voice. It dispatches VOICE_STATE_UPDATE (with member) to sessions
// with the GUILD_VOICE_STATES intent.
func (s *Server) SetVoice(guildID, userID, channelID snowflake.ID, f VoiceFlags) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if g.members[userID] == nil {
		panic(fmt.Sprintf("discordsim: user %s is not a member of %s", userID, guildID))
	}
	if channelID != 0 {
		c := g.channel(channelID)
		if c == nil || (c.typ != discord.ChannelTypeGuildVoice && c.typ != discord.ChannelTypeGuildStageVoice) {
			panic(fmt.Sprintf("discordsim: %s is not a voice channel of %s", channelID, guildID))
		}
	}
	s.setVoiceLocked(g, userID, channelID, f)
	s.notifyLocked()
}

func (s *Server) setVoiceLocked(g *guild, userID, channelID snowflake.ID, f VoiceFlags) {
	vs := g.voice[userID]
	if channelID == 0 {
		if vs == nil {
			return
		}
		delete(g.voice, userID)
		// A leave is a voice state with channel_id null; session_id stays.
		left := &voiceState{userID: userID, sessionID: vs.sessionID}
		s.dispatchVoiceLocked(g, left)
		return
	}
	if vs == nil {
		vs = &voiceState{userID: userID, sessionID: randomHex(16)}
		g.voice[userID] = vs
	}
	vs.channelID = channelID
	vs.flags = f
	s.dispatchVoiceLocked(g, vs)
}

func (s *Server) dispatchVoiceLocked(g *guild, vs *voiceState) {
	s.dispatchGuildLocked(g.id, gateway.IntentGuildVoiceStates, "VOICE_STATE_UPDATE", func(*session) any {
		o := voiceStateJSON(vs)
		o["guild_id"] = g.id.String()
		if m := g.members[vs.userID]; m != nil {
			// Discord's member here has no guild_id (disgo then caches it
			// under guild 0; see Traps in doc.go).
			o["member"] = s.memberJSONLocked(g, m)
		}
		return o
	})
}

// VoiceMembers lists the users currently in voice in a guild, by channel.
func (s *Server) VoiceMembers(guildID snowflake.ID) map[snowflake.ID][]snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	out := map[snowflake.ID][]snowflake.ID{}
	for uid, vs := range g.voice {
		out[vs.channelID] = append(out[vs.channelID], uid)
	}
	for _, ids := range out {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	return out
}
