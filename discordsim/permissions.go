package discordsim

import (
	"fmt"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// Overwrite is a channel permission overwrite: for a role (Member false; the
// guild id is @everyone's role) or for one member (Member true).
type Overwrite struct {
	ID          snowflake.ID
	Member      bool
	Allow, Deny discord.Permissions
}

// permissions computes a member's guild-level permissions the way Discord
// documents it ("Permission Hierarchy"): the owner and Administrator get
// everything, otherwise @everyone OR the member's roles.
func (g *guild) permissions(userID snowflake.ID) discord.Permissions {
	if userID == g.ownerID {
		return discord.PermissionsAll
	}
	m := g.members[userID]
	if m == nil {
		return 0
	}
	p := g.role(g.id).perms
	for _, rid := range m.roles {
		if r := g.role(rid); r != nil {
			p |= r.perms
		}
	}
	if p.Has(discord.PermissionAdministrator) {
		return discord.PermissionsAll
	}
	return p
}

// channelPermissions computes a member's permissions in a channel in the
// order Discord documents ("Permission Overwrites"): the guild-level
// permissions, then the @everyone overwrite, then all of the member's role
// overwrites together (denies, then allows), then the member's own
// overwrite. Owner and Administrator bypass overwrites. Then the implicit
// rules: without View Channel a member has no permission in the channel,
// and without Send Messages none of the permissions that only make sense
// when sending (mentions, TTS, embeds, files).
func (g *guild) channelPermissions(userID snowflake.ID, c *channel) discord.Permissions {
	base := g.permissions(userID)
	if c == nil || base == discord.PermissionsAll {
		return base
	}
	m := g.members[userID]
	if m == nil {
		return 0
	}
	p := base
	if o := c.overwrite(g.id, false); o != nil {
		p = p&^o.Deny | o.Allow
	}
	var allow, deny discord.Permissions
	for _, rid := range m.roles {
		if o := c.overwrite(rid, false); o != nil {
			allow |= o.Allow
			deny |= o.Deny
		}
	}
	p = p&^deny | allow
	if o := c.overwrite(userID, true); o != nil {
		p = p&^o.Deny | o.Allow
	}
	if !p.Has(discord.PermissionViewChannel) {
		return 0
	}
	if !p.Has(discord.PermissionSendMessages) {
		p &^= discord.PermissionMentionEveryone | discord.PermissionSendTTSMessages |
			discord.PermissionAttachFiles | discord.PermissionEmbedLinks
	}
	return p
}

func (c *channel) overwrite(id snowflake.ID, member bool) *Overwrite {
	for i := range c.overwrites {
		if o := &c.overwrites[i]; o.ID == id && o.Member == member {
			return o
		}
	}
	return nil
}

// SetChannelOverwrite adds or replaces the overwrite for o.ID (a role, or a
// member when o.Member) on a channel and dispatches CHANNEL_UPDATE.
func (s *Server) SetChannelOverwrite(guildID, channelID snowflake.ID, o Overwrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, c := s.channelLocked(guildID, channelID)
	switch {
	case o.Member && g.members[o.ID] == nil:
		panic(fmt.Sprintf("discordsim: overwrite for %s, who is not a member of %s", o.ID, guildID))
	case !o.Member && g.role(o.ID) == nil:
		panic(fmt.Sprintf("discordsim: overwrite for unknown role %s in %s", o.ID, guildID))
	}
	if old := c.overwrite(o.ID, o.Member); old != nil {
		*old = o
	} else {
		c.overwrites = append(c.overwrites, o)
	}
	s.dispatchChannelUpdateLocked(c)
	s.notifyLocked()
}

// RemoveChannelOverwrite removes a channel's overwrite for a role or member
// (whichever targetID is) and dispatches CHANNEL_UPDATE.
func (s *Server) RemoveChannelOverwrite(guildID, channelID, targetID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, c := s.channelLocked(guildID, channelID)
	kept := c.overwrites[:0]
	for _, o := range c.overwrites {
		if o.ID != targetID {
			kept = append(kept, o)
		}
	}
	c.overwrites = kept
	s.dispatchChannelUpdateLocked(c)
	s.notifyLocked()
}

// ChannelPermissions returns a member's computed permissions in a channel,
// as Discord would put them in an interaction's member.permissions.
func (s *Server) ChannelPermissions(guildID, channelID, userID snowflake.ID) discord.Permissions {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, c := s.channelLocked(guildID, channelID)
	return g.channelPermissions(userID, c)
}

// SetBotPermissions sets the permissions of the bot's managed role in a
// guild (what Options.BotPermissions gives every guild at first) and
// dispatches GUILD_ROLE_UPDATE.
func (s *Server) SetBotPermissions(guildID snowflake.ID, perms discord.Permissions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	r := g.role(g.botRoleID)
	if r == nil {
		panic(fmt.Sprintf("discordsim: the bot is not in guild %s", guildID))
	}
	r.perms = perms
	s.dispatchRoleUpdateLocked(g, r)
	s.notifyLocked()
}

func (s *Server) dispatchChannelUpdateLocked(c *channel) {
	s.dispatchGuildLocked(c.guildID, gateway.IntentGuilds, "CHANNEL_UPDATE", func(*session) any { return channelJSON(c, true) })
}

func overwritesJSON(c *channel) []any {
	out := make([]any, 0, len(c.overwrites))
	for _, o := range c.overwrites {
		typ := 0
		if o.Member {
			typ = 1
		}
		out = append(out, obj{"id": o.ID.String(), "type": typ,
			"allow": itoa64(int64(o.Allow)), "deny": itoa64(int64(o.Deny))})
	}
	return out
}
