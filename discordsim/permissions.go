package discordsim

import (
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// permissionsLocked computes a member's guild-level permissions the way
// Discord does without channel overwrites: owner and Administrator get
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
