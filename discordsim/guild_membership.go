package discordsim

import (
	"net/http"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// The bot joining and leaving guilds while it runs.

// botInLocked reports whether the bot is a member of g. A guild the bot is
// not in sends it nothing and answers its REST requests 50001.
func (s *Server) botInLocked(g *guild) bool { return g != nil && g.members[s.botID] != nil }

// RemoveBotFromGuild removes the bot from a guild, as when a moderator kicks
// it or the guild removes the app: the sessions covering the guild get
// GUILD_DELETE {id, unavailable: false} (no unavailable outage, so clients
// forget the guild), the bot's managed role is deleted, and from then on the
// guild's REST routes (its channels' included) answer 50001 Missing Access,
// it dispatches nothing to the bot, and its interactions cannot start. The
// guild itself goes on: scripting changes it, and AddBotToGuild brings the
// bot back.
func (s *Server) RemoveBotFromGuild(guildID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if !s.botInLocked(g) {
		return
	}
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_DELETE", func(*session) any {
		return obj{"id": g.id.String(), "unavailable": false}
	})
	if _, inVoice := g.voice[s.botID]; inVoice {
		delete(g.voice, s.botID)
	}
	delete(g.members, s.botID)
	g.memberOrder = removeID(g.memberOrder, s.botID)
	for i, r := range g.roles {
		if r.id == g.botRoleID {
			g.roles = append(g.roles[:i], g.roles[i+1:]...)
			break
		}
	}
	for _, c := range g.channels {
		kept := c.overwrites[:0]
		for _, o := range c.overwrites {
			if o.ID != g.botRoleID && o.ID != s.botID {
				kept = append(kept, o)
			}
		}
		c.overwrites = kept
	}
	g.botRoleID = 0
	s.notifyLocked()
}

// AddBotToGuild adds the bot back to a guild it was removed from, as a new
// invite does: a new managed role with Options.BotPermissions just above
// @everyone, joined_at now, and GUILD_CREATE to the sessions covering the
// guild.
func (s *Server) AddBotToGuild(guildID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if s.botInLocked(g) {
		return
	}
	s.addBotLocked(g)
	s.dispatchGuildCreateLocked(g)
	s.notifyLocked()
}

// addBotLocked makes the bot a member of g with a managed role of its own
// at position 1, the rest moving up, as Discord places a new integration's role.
func (s *Server) addBotLocked(g *guild) {
	r := &role{id: s.newIDLocked(), name: s.opts.BotName, perms: s.opts.BotPermissions, managed: true, botID: s.botID}
	for _, x := range g.roles {
		if x.id != g.id {
			x.position++
		}
	}
	r.position = 1
	g.roles = append(g.roles, r)
	g.botRoleID = r.id
	g.addMember(&member{userID: s.botID, roles: []snowflake.ID{r.id}, joinedAt: s.opts.Now()})
}

// InGuild reports whether the bot is a member of a guild.
func (s *Server) InGuild(guildID snowflake.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botInLocked(s.guildLocked(guildID))
}

// restGuildLocked finds the guild of a /guilds/{guild} route: 10004
// Unknown Guild (404) for an id no guild has, 50001 Missing Access (403)
// for a guild the bot is not in, as Discord answers. nil means an error
// was written.
func (s *Server) restGuildLocked(rc *reqCtx) *guild {
	gid, _ := snowflake.Parse(rc.param("guild"))
	g := s.guilds[gid]
	switch {
	case g == nil:
		writeJSON(rc.w, http.StatusNotFound, apiError(10004, "Unknown Guild"))
		return nil
	case !s.botInLocked(g):
		writeJSON(rc.w, http.StatusForbidden, apiError(50001, "Missing Access"))
		return nil
	}
	return g
}
