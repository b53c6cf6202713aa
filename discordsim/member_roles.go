package discordsim

import (
	"net/http"
	"net/url"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// Giving and taking members' roles over REST, with Discord's role
// hierarchy, and the audit log those changes write.

// AuditLogEntry is a change the bot made that Discord writes to a guild's
// audit log, with the reason the request gave in X-Audit-Log-Reason.
type AuditLogEntry struct {
	Time     time.Time             // Options.Now at the change
	Action   discord.AuditLogEvent // discord.AuditLogEventMemberRoleUpdate for role changes
	ActorID  snowflake.ID          // who made the change: the bot
	TargetID snowflake.ID          // the member changed
	RoleID   snowflake.ID
	Added    bool   // the role was given (false: taken)
	Reason   string // decoded; "" when the request gave none
}

// AuditLog returns the audit log entries of a guild, oldest first. Only
// changes are logged: giving a member a role they already have (or taking
// one they lack) answers 204 and writes nothing, as on Discord.
func (s *Server) AuditLog(guildID snowflake.ID) []AuditLogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AuditLogEntry(nil), s.guildLocked(guildID).auditLog...)
}

// auditReason decodes X-Audit-Log-Reason: Discord takes it URL-encoded
// (so that it can carry any UTF-8), at most 512 characters. A value that is
// not valid percent-encoding is taken as it is.
func auditReason(r *http.Request) string {
	raw := r.Header.Get("X-Audit-Log-Reason")
	if v, err := url.PathUnescape(raw); err == nil {
		raw = v
	}
	if rs := []rune(raw); len(rs) > 512 {
		raw = string(rs[:512])
	}
	return raw
}

// handleListRoles serves GET /guilds/{guild}/roles.
func (s *Server) handleListRoles(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	out := []any{}
	for _, r := range g.sortedRoles() {
		out = append(out, roleJSON(r))
	}
	writeJSON(rc.w, http.StatusOK, out)
}

// handleMemberRole serves PUT and DELETE
// /guilds/{guild}/members/{user}/roles/{role} with Discord's checks, in
// this order: the guild (10004, 50001), the role (10011 Unknown Role, also
// for @everyone, which every member has implicitly and nobody can give or
// take), the member (10007 Unknown Member), then 50013 Missing Permissions
// without Manage Roles, for a managed role (a bot's, the booster role),
// and for a role at or above the bot's highest role, Administrator or not;
// only the owner is above the hierarchy. A change dispatches
// GUILD_MEMBER_UPDATE and is logged with its X-Audit-Log-Reason; 204 either way.
func (s *Server) handleMemberRole(rc *reqCtx) {
	add := rc.r.Method == http.MethodPut
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	rid, _ := snowflake.Parse(rc.param("role"))
	r := g.role(rid)
	if r == nil || r.id == g.id {
		writeJSON(rc.w, http.StatusNotFound, apiError(10011, "Unknown Role"))
		return
	}
	uid, _ := snowflake.Parse(rc.param("user"))
	m := g.members[uid]
	if m == nil {
		writeJSON(rc.w, http.StatusNotFound, apiError(10007, "Unknown Member"))
		return
	}
	if !g.permissions(s.botID).Has(discord.PermissionManageRoles) || r.managed ||
		(s.botID != g.ownerID && r.position >= g.highestPosition(s.botID)) {
		missingPermissions(rc)
		return
	}
	has := false
	for _, x := range m.roles {
		has = has || x == r.id
	}
	if has != add {
		if add {
			m.roles = append(m.roles, r.id)
		} else {
			m.roles = removeID(m.roles, r.id)
		}
		g.auditLog = append(g.auditLog, AuditLogEntry{Time: s.opts.Now(), Action: discord.AuditLogEventMemberRoleUpdate,
			ActorID: s.botID, TargetID: uid, RoleID: r.id, Added: add, Reason: auditReason(rc.r)})
		s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_UPDATE", func(*session) any {
			o := s.memberJSONLocked(g, m)
			o["guild_id"] = g.id.String()
			return o
		})
		s.notifyLocked()
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

// MemberRoles returns the roles of a guild member.
func (s *Server) MemberRoles(guildID, userID snowflake.ID) []snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.guildLocked(guildID).members[userID]; m != nil {
		return append([]snowflake.ID(nil), m.roles...)
	}
	return nil
}
