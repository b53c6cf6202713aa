package discordsim

import (
	"net/http"
	"sort"

	"github.com/disgoorg/snowflake/v2"
)

// handleGetGateway serves GET /gateway, which needs no token.
func (s *Server) handleGetGateway(rc *reqCtx) {
	writeJSON(rc.w, http.StatusOK, obj{"url": s.GatewayURL()})
}

// handleGetGatewayBot serves GET /gateway/bot: the recommended shard count
// and session_start_limit, whose remaining count goes down with every
// session the gateway starts (see identify.go). max_concurrency is at least
// 1: disgo's shard manager divides by it.
func (s *Server) handleGetGatewayBot(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(rc.w, http.StatusOK, obj{
		"url":                 s.GatewayURL(),
		"shards":              s.shards,
		"session_start_limit": s.sessionStartLimitLocked(),
	})
}

func (s *Server) handleGetMe(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := userJSON(s.users[s.botID])
	u["verified"] = true
	u["mfa_enabled"] = false
	u["email"] = nil
	u["locale"] = "en-US"
	writeJSON(rc.w, http.StatusOK, u)
}

func (s *Server) handleGetApplication(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(rc.w, http.StatusOK, obj{
		"id":                        s.appID.String(),
		"name":                      s.opts.BotName,
		"icon":                      nil,
		"description":               "",
		"summary":                   "",
		"type":                      nil,
		"bot_public":                true,
		"bot_require_code_grant":    false,
		"verify_key":                randomHex(32),
		"flags":                     appFlags,
		"flags_new":                 itoa64(appFlags),
		"team":                      nil,
		"bot":                       userJSON(s.users[s.botID]),
		"owner":                     userJSON(&user{id: 1, username: "owner"}),
		"tags":                      []any{},
		"redirect_uris":             []any{},
		"interactions_endpoint_url": nil,
		"hook":                      true,
		"integration_types_config":  obj{"0": obj{}},
		"approximate_guild_count":   s.joinedGuildCountLocked(),
		// A bot installed only to guilds, never by users.
		"approximate_user_install_count":       0,
		"approximate_user_authorization_count": 0,
		"role_connections_verification_url":    nil,
		"explicit_content_filter":              0,
		"eligible_oauth2_scopes":               []any{"bot", "applications.commands"},
	})
}

// handleGetChannel serves GET /channels/{channel}: 10003 for an unknown or
// deleted channel, 50001 for one the bot cannot see.
func (s *Server) handleGetChannel(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, c, _ := s.restChannelLocked(rc, false); c != nil {
		writeJSON(rc.w, http.StatusOK, channelJSON(c, true))
	}
}

// handleGetGuild serves GET /guilds/{guild}; with_counts=true adds the
// approximate member and presence counts, as on Discord.
func (s *Server) handleGetGuild(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	o := s.guildJSONLocked(g)
	if rc.r.URL.Query().Get("with_counts") == "true" {
		o["approximate_member_count"] = len(g.members)
		o["approximate_presence_count"] = s.onlineCountLocked(g)
	}
	writeJSON(rc.w, http.StatusOK, o)
}

// onlineCountLocked is approximate_presence_count: the simulator has no
// presences, so it counts who must be online: members in voice, and the bot
// while one of its sessions covering the guild is connected.
func (s *Server) onlineCountLocked(g *guild) int {
	n := 0
	for uid := range g.voice {
		if uid != s.botID {
			n++
		}
	}
	for _, sess := range s.sessions {
		if sess.conn != nil && sess.ready && sess.coversGuild(g.id) {
			return n + 1
		}
	}
	return n
}

func (s *Server) handleGetGuildChannels(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	out := []any{}
	for _, c := range g.channels {
		out = append(out, channelJSON(c, true))
	}
	writeJSON(rc.w, http.StatusOK, out)
}

// handleListMembers serves GET /guilds/{guild}/members: limit 1-1000
// (default 1, as on Discord), after = user id, ordered by user id.
func (s *Server) handleListMembers(rc *reqCtx) {
	q := rc.r.URL.Query()
	limit, errs := queryInt(q.Get("limit"), 1, 1, 1000)
	if errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"limit": errs}))
		return
	}
	after, _ := snowflake.Parse(q.Get("after"))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	ids := make([]snowflake.ID, 0, len(g.members))
	for id := range g.members {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := []any{}
	for _, id := range ids {
		out = append(out, s.memberJSONLocked(g, g.members[id]))
	}
	writeJSON(rc.w, http.StatusOK, out)
}

func (s *Server) handleGetMember(rc *reqCtx) {
	uid, _ := snowflake.Parse(rc.param("user"))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	m := g.members[uid]
	if m == nil {
		writeJSON(rc.w, http.StatusNotFound, apiError(10007, "Unknown Member"))
		return
	}
	writeJSON(rc.w, http.StatusOK, s.memberJSONLocked(g, m))
}
