package discordsim

import (
	"fmt"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

type user struct {
	id         snowflake.ID
	username   string
	globalName string
	bot        bool
	locale     string
}

type member struct {
	userID   snowflake.ID
	nick     string
	roles    []snowflake.ID
	joinedAt time.Time
}

// MemberSpec describes a guild member to add or update. Zero fields take
// defaults: Username "user<id>", JoinedAt Options.Now(), Locale "en-US".
type MemberSpec struct {
	Username, GlobalName, Nick string
	Bot                        bool
	Roles                      []snowflake.ID
	JoinedAt                   time.Time
	Locale                     string
}

// AddMember creates a user and adds it to the guild, dispatching
// GUILD_MEMBER_ADD to sessions with the GUILD_MEMBERS intent. It returns the user id.
func (s *Server) AddMember(guildID snowflake.ID, m MemberSpec) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	u := &user{id: s.newIDLocked()}
	s.users[u.id] = u
	s.applyUserSpec(u, m)
	mem := &member{userID: u.id}
	s.applyMemberSpec(mem, m)
	g.addMember(mem)
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_ADD", func(*session) any {
		o := s.memberJSONLocked(g, mem)
		o["guild_id"] = g.id.String()
		return o
	})
	s.notifyLocked()
	return u.id
}

// AddExistingMember adds a user created elsewhere (e.g. in another guild) to
// a guild; spec supplies the member fields (Nick, Roles, JoinedAt).
func (s *Server) AddExistingMember(guildID, userID snowflake.ID, m MemberSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if _, ok := s.users[userID]; !ok {
		panic(fmt.Sprintf("discordsim: unknown user %s", userID))
	}
	mem := &member{userID: userID}
	s.applyMemberSpec(mem, m)
	g.addMember(mem)
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_ADD", func(*session) any {
		o := s.memberJSONLocked(g, mem)
		o["guild_id"] = g.id.String()
		return o
	})
	s.notifyLocked()
}

func (s *Server) applyUserSpec(u *user, m MemberSpec) {
	u.username = m.Username
	if u.username == "" {
		u.username = "user" + u.id.String()
	}
	u.globalName = m.GlobalName
	u.bot = m.Bot
	u.locale = m.Locale
	if u.locale == "" {
		u.locale = "en-US"
	}
}

func (s *Server) applyMemberSpec(mem *member, m MemberSpec) {
	mem.nick = m.Nick
	mem.roles = append([]snowflake.ID(nil), m.Roles...)
	mem.joinedAt = m.JoinedAt
	if mem.joinedAt.IsZero() {
		mem.joinedAt = s.opts.Now()
	}
}

// UpdateMember replaces a member's user and member fields (a zero JoinedAt
// keeps the old one) and dispatches GUILD_MEMBER_UPDATE.
func (s *Server) UpdateMember(guildID, userID snowflake.ID, m MemberSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	mem := g.members[userID]
	if mem == nil {
		panic(fmt.Sprintf("discordsim: user %s is not a member of %s", userID, guildID))
	}
	joined := mem.joinedAt
	s.applyUserSpec(s.users[userID], m)
	s.applyMemberSpec(mem, m)
	if m.JoinedAt.IsZero() {
		mem.joinedAt = joined
	}
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_UPDATE", func(*session) any {
		o := s.memberJSONLocked(g, mem)
		o["guild_id"] = g.id.String()
		return o
	})
	s.notifyLocked()
}

// RemoveMember removes a member (and its voice state, as leaving a guild
// disconnects from its voice channels) and dispatches GUILD_MEMBER_REMOVE.
func (s *Server) RemoveMember(guildID, userID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if _, ok := g.members[userID]; !ok {
		return
	}
	if _, inVoice := g.voice[userID]; inVoice {
		s.setVoiceLocked(g, userID, 0, VoiceFlags{})
	}
	delete(g.members, userID)
	for i, id := range g.memberOrder {
		if id == userID {
			g.memberOrder = append(g.memberOrder[:i], g.memberOrder[i+1:]...)
			break
		}
	}
	u := s.users[userID]
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_REMOVE", func(*session) any {
		return obj{"guild_id": g.id.String(), "user": userJSON(u)}
	})
	s.notifyLocked()
}

func (g *guild) addMember(m *member) {
	if _, ok := g.members[m.userID]; !ok {
		g.memberOrder = append(g.memberOrder, m.userID)
	}
	g.members[m.userID] = m
}
