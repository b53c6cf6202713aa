package discordsim

import (
	"fmt"
	"sort"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// RoleSpec describes a role to create. Position 0 puts the role on top of
// all others (as AddRole does); a position from 1 up inserts it there and
// moves the roles at and above it up by one, as dragging it in Discord's
// role list does (@everyone is always 0). Managed marks a role an
// integration owns (a bot's role, the booster role): nobody, a bot
// included, can give it to or take it from a member.
type RoleSpec struct {
	Name        string
	Permissions discord.Permissions
	Position    int
	Managed     bool
	Color       int
	Hoist       bool
	Mentionable bool
}

type role struct {
	id          snowflake.ID
	name        string
	perms       discord.Permissions
	position    int
	managed     bool
	color       int
	hoist       bool
	mentionable bool
	botID       snowflake.ID // tags.bot_id for the bot's managed role
}

// AddRole adds a role on top of the role list and dispatches GUILD_ROLE_CREATE.
func (s *Server) AddRole(guildID snowflake.ID, name string, perms discord.Permissions) snowflake.ID {
	return s.CreateRole(guildID, RoleSpec{Name: name, Permissions: perms})
}

// CreateRole adds a role described by spec and dispatches GUILD_ROLE_CREATE
// (and GUILD_ROLE_UPDATE for the roles it moved up).
func (s *Server) CreateRole(guildID snowflake.ID, spec RoleSpec) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	r := &role{id: s.newIDLocked(), name: spec.Name, perms: spec.Permissions, managed: spec.Managed,
		color: spec.Color, hoist: spec.Hoist, mentionable: spec.Mentionable, position: g.topPosition() + 1}
	g.roles = append(g.roles, r)
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_ROLE_CREATE", func(*session) any {
		return obj{"guild_id": g.id.String(), "role": roleJSON(r)}
	})
	if spec.Position > 0 {
		s.moveRoleLocked(g, r, spec.Position)
	}
	s.notifyLocked()
	return r.id
}

// BotRole returns the id of the bot's managed role in a guild.
func (s *Server) BotRole(guildID snowflake.ID) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.guildLocked(guildID).botRoleID
}

// RolePosition returns a role's position (0 for @everyone; higher is above).
func (s *Server) RolePosition(guildID, roleID snowflake.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roleLocked(guildID, roleID).position
}

// SetRolePosition moves a role to position (1 = just above @everyone),
// shifting the roles in between by one as Discord does, and dispatches
// GUILD_ROLE_UPDATE for every role whose position changed.
func (s *Server) SetRolePosition(guildID, roleID snowflake.ID, position int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	r := s.roleLocked(guildID, roleID)
	if r.id == g.id {
		panic("discordsim: @everyone cannot be moved")
	}
	s.moveRoleLocked(g, r, position)
	s.notifyLocked()
}

// SetRolePermissions changes a role's permissions and dispatches GUILD_ROLE_UPDATE.
func (s *Server) SetRolePermissions(guildID, roleID snowflake.ID, perms discord.Permissions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	r := s.roleLocked(guildID, roleID)
	r.perms = perms
	s.dispatchRoleUpdateLocked(g, r)
	s.notifyLocked()
}

// DeleteRole deletes a role (as a moderator would) and dispatches
// GUILD_ROLE_DELETE. Members lose it and channel overwrites for it go, with
// no further events: Discord sends only the role deletion, and clients drop
// the role everywhere. @everyone and managed roles cannot be deleted.
func (s *Server) DeleteRole(guildID, roleID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	r := s.roleLocked(guildID, roleID)
	if r.id == g.id || r.managed {
		panic(fmt.Sprintf("discordsim: role %s (%s) cannot be deleted", r.id, r.name))
	}
	for i, x := range g.roles {
		if x == r {
			g.roles = append(g.roles[:i], g.roles[i+1:]...)
			break
		}
	}
	for _, m := range g.members {
		m.roles = removeID(m.roles, r.id)
	}
	for _, c := range g.channels {
		kept := c.overwrites[:0]
		for _, o := range c.overwrites {
			if o.Member || o.ID != r.id {
				kept = append(kept, o)
			}
		}
		c.overwrites = kept
	}
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_ROLE_DELETE", func(*session) any {
		return obj{"guild_id": g.id.String(), "role_id": r.id.String()}
	})
	s.notifyLocked()
}

func (s *Server) roleLocked(guildID, roleID snowflake.ID) *role {
	r := s.guildLocked(guildID).role(roleID)
	if r == nil {
		panic(fmt.Sprintf("discordsim: unknown role %s in guild %s", roleID, guildID))
	}
	return r
}

func (g *guild) topPosition() int {
	top := 0
	for _, r := range g.roles {
		top = max(top, r.position)
	}
	return top
}

// sortedRoles lists the roles below @everyone first, by position (ties by id,
// as Discord orders them).
func (g *guild) sortedRoles() []*role {
	out := append([]*role(nil), g.roles...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].position != out[j].position {
			return out[i].position < out[j].position
		}
		return out[i].id < out[j].id
	})
	return out
}

// moveRoleLocked puts r at position among the other roles (clamped to
// 1..top) and renumbers every role but @everyone 1..n in order, dispatching
// GUILD_ROLE_UPDATE for each role whose position changed.
func (s *Server) moveRoleLocked(g *guild, r *role, position int) {
	var others []*role
	for _, x := range g.sortedRoles() {
		if x != r && x.id != g.id {
			others = append(others, x)
		}
	}
	i := min(max(position, 1), len(others)+1) - 1
	order := append(append(append([]*role(nil), others[:i]...), r), others[i:]...)
	for n, x := range order {
		if x.position != n+1 {
			x.position = n + 1
			s.dispatchRoleUpdateLocked(g, x)
		}
	}
}

// highestPosition is the position of a member's highest role (0 with none:
// @everyone's).
func (g *guild) highestPosition(userID snowflake.ID) int {
	top := 0
	if m := g.members[userID]; m != nil {
		for _, rid := range m.roles {
			if r := g.role(rid); r != nil {
				top = max(top, r.position)
			}
		}
	}
	return top
}

func (s *Server) dispatchRoleUpdateLocked(g *guild, r *role) {
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_ROLE_UPDATE", func(*session) any {
		return obj{"guild_id": g.id.String(), "role": roleJSON(r)}
	})
}

func removeID(ids []snowflake.ID, id snowflake.ID) []snowflake.ID {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
