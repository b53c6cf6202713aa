package discordsim

import (
	"fmt"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

type guild struct {
	id          snowflake.ID
	name        string
	ownerID     snowflake.ID
	locale      string
	afkChannel  snowflake.ID
	sysChannel  snowflake.ID // system_channel_id: where Discord posts joins; 0 none
	createdAt   time.Time
	channels    []*channel
	roles       []*role
	members     map[snowflake.ID]*member
	memberOrder []snowflake.ID
	voice       map[snowflake.ID]*voiceState
	events      []*scheduledEvent
	botRoleID   snowflake.ID // 0 while the bot is not in the guild
	auditLog    []AuditLogEntry
}

type channel struct {
	id         snowflake.ID
	guildID    snowflake.ID
	name       string
	typ        discord.ChannelType
	position   int
	overwrites []Overwrite
}

func (s *Server) guildLocked(id snowflake.ID) *guild {
	g, ok := s.guilds[id]
	if !ok {
		panic(fmt.Sprintf("discordsim: unknown guild %s", id))
	}
	return g
}

func (g *guild) channel(id snowflake.ID) *channel {
	for _, c := range g.channels {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (g *guild) role(id snowflake.ID) *role {
	for _, r := range g.roles {
		if r.id == id {
			return r
		}
	}
	return nil
}

// channelLocked finds a channel of a guild for the scripting API, which
// panics on a test's mistake.
func (s *Server) channelLocked(guildID, channelID snowflake.ID) (*guild, *channel) {
	g := s.guildLocked(guildID)
	c := g.channel(channelID)
	if c == nil {
		panic(fmt.Sprintf("discordsim: unknown channel %s in guild %s", channelID, guildID))
	}
	return g, c
}

// findChannelLocked finds a guild channel by id anywhere.
func (s *Server) findChannelLocked(id snowflake.ID) (*guild, *channel) {
	for _, gid := range s.guildOrder {
		g := s.guilds[gid]
		if c := g.channel(id); c != nil {
			return g, c
		}
	}
	return nil, nil
}

// AddGuild creates a guild with an @everyone role (id = guild id), an owner
// member, the bot as a member with its managed role, and locale "en-US".
// Connected sessions that should see it get a GUILD_CREATE.
func (s *Server) AddGuild(name string) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	g := &guild{
		id:        s.newGuildIDLocked(),
		name:      name,
		locale:    "en-US",
		createdAt: now,
		members:   map[snowflake.ID]*member{},
		voice:     map[snowflake.ID]*voiceState{},
	}
	g.roles = append(g.roles, &role{id: g.id, name: "@everyone", perms: defaultEveryonePermissions})
	owner := &user{id: s.newIDLocked(), username: "owner", globalName: "Owner", locale: "en-US"}
	s.users[owner.id] = owner
	g.ownerID = owner.id
	g.addMember(&member{userID: owner.id, joinedAt: now})
	s.addBotLocked(g)
	s.guilds[g.id] = g
	s.guildOrder = append(s.guildOrder, g.id)
	s.dispatchGuildCreateLocked(g)
	s.notifyLocked()
	return g.id
}

// GuildOwner returns the owner's user id of a guild made by AddGuild.
func (s *Server) GuildOwner(guildID snowflake.ID) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.guildLocked(guildID).ownerID
}

// SetGuildLocale sets the guild's preferred_locale (sent as guild_locale in
// interactions) and dispatches GUILD_UPDATE.
func (s *Server) SetGuildLocale(guildID snowflake.ID, locale string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	g.locale = locale
	s.dispatchGuildUpdateLocked(g)
	s.notifyLocked()
}

// AddChannel adds a guild channel (text 0, voice 2, category 4, stage 13,
// ...) and dispatches CHANNEL_CREATE. DM/group types panic: Discord never
// puts them in a guild and disgo crashes on one inside GUILD_CREATE.
func (s *Server) AddChannel(guildID snowflake.ID, name string, typ discord.ChannelType) snowflake.ID {
	switch typ {
	case discord.ChannelTypeGuildText, discord.ChannelTypeGuildVoice, discord.ChannelTypeGuildCategory,
		discord.ChannelTypeGuildNews, discord.ChannelTypeGuildStageVoice, discord.ChannelTypeGuildForum,
		discord.ChannelTypeGuildMedia:
	default:
		panic(fmt.Sprintf("discordsim: channel type %d cannot be a guild channel", typ))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	c := &channel{id: s.newIDLocked(), guildID: guildID, name: name, typ: typ, position: len(g.channels)}
	g.channels = append(g.channels, c)
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "CHANNEL_CREATE", func(*session) any { return channelJSON(c, true) })
	s.notifyLocked()
	return c.id
}

// RenameChannel renames a channel and dispatches CHANNEL_UPDATE.
func (s *Server) RenameChannel(guildID, channelID snowflake.ID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, c := s.channelLocked(guildID, channelID)
	c.name = name
	s.dispatchChannelUpdateLocked(c)
	s.notifyLocked()
}

// DeleteChannel deletes a channel (as a moderator would) and dispatches
// CHANNEL_DELETE. Its messages go with it: REST routes on it answer 10003
// Unknown Channel from then on. Members in it (a voice channel) are
// disconnected, and the guild's AFK or system channel setting is cleared
// (GUILD_UPDATE), as Discord does.
func (s *Server) DeleteChannel(guildID, channelID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, c := s.channelLocked(guildID, channelID)
	for uid, vs := range g.voice {
		if vs.channelID == c.id {
			s.setVoiceLocked(g, uid, 0, VoiceFlags{})
		}
	}
	for i, x := range g.channels {
		if x == c {
			g.channels = append(g.channels[:i], g.channels[i+1:]...)
			break
		}
	}
	for _, m := range s.messages[c.id] {
		m.deleted = true
	}
	delete(s.messages, c.id)
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "CHANNEL_DELETE", func(*session) any { return channelJSON(c, true) })
	if g.afkChannel == c.id || g.sysChannel == c.id {
		if g.afkChannel == c.id {
			g.afkChannel = 0
		}
		if g.sysChannel == c.id {
			g.sysChannel = 0
		}
		s.dispatchGuildUpdateLocked(g)
	}
	s.notifyLocked()
}

// SetSystemChannel sets the guild's system_channel_id (0 clears it), the
// channel Discord posts member joins in and a bot greets a new guild in,
// and dispatches GUILD_UPDATE.
func (s *Server) SetSystemChannel(guildID, channelID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if channelID != 0 && g.channel(channelID) == nil {
		panic(fmt.Sprintf("discordsim: unknown channel %s in guild %s", channelID, guildID))
	}
	g.sysChannel = channelID
	s.dispatchGuildUpdateLocked(g)
	s.notifyLocked()
}

// SetAFKChannel sets the guild's afk_channel_id (0 clears it) and dispatches GUILD_UPDATE.
func (s *Server) SetAFKChannel(guildID, channelID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	g.afkChannel = channelID
	s.dispatchGuildUpdateLocked(g)
	s.notifyLocked()
}

// joinedGuildCountLocked counts the guilds the bot is a member of.
func (s *Server) joinedGuildCountLocked() int {
	n := 0
	for _, g := range s.guilds {
		if g.members[s.botID] != nil {
			n++
		}
	}
	return n
}
