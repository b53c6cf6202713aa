package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/discordsim"
)

// community is the synthetic guild the demo runs: people with Russian and
// English names (some with emoji), a few bots, voice channels including an
// AFK channel, a general channel (the server's system channel, where the
// bot says hello), a report channel and a moderator, who is also the
// guild's owner: the simulator makes every guild with an owner of its own
// ("Owner"), and left as it was that 35th person was expected at events and
// listed as never attending, though nobody had scripted them.
type community struct {
	guild                      snowflake.ID
	bzs, bzs2, lobby, afk      snowflake.ID
	general, reports, commands snowflake.ID
	moderatorRole              snowflake.ID
	regular                    snowflake.ID // the role the moderator has rollcall give to regulars
	moderator                  snowflake.ID
	people                     []person
	bots                       []snowflake.ID
	names                      map[snowflake.ID]string // channels and roles, for the feed's mentions
}

type person struct {
	id   snowflake.ID
	name string
}

var names = []string{
	"Алексей 🎮", "Мария", "Дмитрий", "Zoë ⚔️", "Ольга 🌸", "Sam", "Кирилл 🐺", "Aiko", "Никита 🛡️", "Ирина",
	"James", "Сергей", "Анна 🎧", "Lucas", "Павел", "Emma", "Тимур 🔥", "Noah", "Екатерина", "Liam 🎯",
	"Виктор", "Mia", "Григорий", "Olivia ✨", "Юлия", "Ethan", "Роман 🏹", "Sofia", "Артём", "Chloe",
	"Фёдор", "Ava 🐉", "Полина", "Jack",
}

func newCommunity(sim *discordsim.Server, now time.Time) *community {
	c := &community{}
	c.guild = sim.AddGuild("Клан «Северный ветер»")
	c.bzs = sim.AddChannel(c.guild, "БЗС основной", discord.ChannelTypeGuildVoice)
	c.bzs2 = sim.AddChannel(c.guild, "БЗС резерв", discord.ChannelTypeGuildVoice)
	c.lobby = sim.AddChannel(c.guild, "Лобби", discord.ChannelTypeGuildVoice)
	c.afk = sim.AddChannel(c.guild, "AFK", discord.ChannelTypeGuildVoice)
	sim.SetAFKChannel(c.guild, c.afk)
	c.general = sim.AddChannel(c.guild, "общий", discord.ChannelTypeGuildText)
	sim.SetSystemChannel(c.guild, c.general)
	c.reports = sim.AddChannel(c.guild, "отчёты", discord.ChannelTypeGuildText)
	c.commands = sim.AddChannel(c.guild, "команды", discord.ChannelTypeGuildText)
	c.moderatorRole = sim.AddRole(c.guild, "Модератор", discord.PermissionManageGuild)
	// A role rollcall may give: below the bot's own role (Discord lets a
	// bot manage only the roles under its highest), and the bot invited
	// with Manage Roles.
	c.regular = sim.CreateRole(c.guild, discordsim.RoleSpec{Name: "Regular", Position: 1})
	sim.SetBotPermissions(c.guild, discordsim.DefaultBotPermissions|discord.PermissionManageRoles)
	c.names = map[snowflake.ID]string{
		c.bzs: "БЗС основной", c.bzs2: "БЗС резерв", c.lobby: "Лобби", c.afk: "AFK",
		c.general: "общий", c.reports: "отчёты", c.commands: "команды", c.moderatorRole: "Модератор", c.regular: "Regular",
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	for i, n := range names {
		spec := discordsim.MemberSpec{Username: fmt.Sprintf("player%02d", i+1), GlobalName: n, JoinedAt: now.AddDate(0, -2, -rng.IntN(30))}
		if i == 0 {
			spec.Roles = []snowflake.ID{c.moderatorRole}
		}
		if i == len(names)-1 {
			spec.JoinedAt = now.AddDate(0, 0, -3) // joined this week: not expected at earlier events
		}
		var id snowflake.ID
		if i == 0 {
			// The first of the community owns the server (and moderates it).
			id = sim.GuildOwner(c.guild)
			sim.UpdateMember(c.guild, id, spec)
		} else {
			id = sim.AddMember(c.guild, spec)
		}
		c.people = append(c.people, person{id: id, name: n})
	}
	c.moderator = c.people[0].id
	for _, b := range []string{"MusicBot", "Статистика", "Mee7"} {
		c.bots = append(c.bots, sim.AddMember(c.guild, discordsim.MemberSpec{Username: b, Bot: true, JoinedAt: now.AddDate(-1, 0, 0)}))
	}
	return c
}

// configText is the rollcall configuration the demo starts the bot with.
// It lists no guild: the community is managed from Discord, and its
// moderator sets it up there with /rollcall setup and /rollcall schedule
// add (see setUp), as a community that invites the bot does.
const configText = `poll_interval = "5s"
`

// move is one scripted voice change at a minute of an event: the member's
// whole voice state from then on, channel and flags both, so that a later
// move never undoes an earlier story (a mute that also set the channel
// brought back a member who had left).
type move struct {
	minute  int // -1: before the event starts
	user    snowflake.ID
	channel snowflake.ID // 0: leaves voice
	flags   discordsim.VoiceFlags
}

// story is one member's scripted hour, in minutes from the event's start.
type story struct {
	user    snowflake.ID
	channel snowflake.ID // where they sit: a БЗС channel, or AFK
	join    int          // the minute they join; -1 before the start
	hop     [2]int       // minutes in the lobby [from, to), or {-1, -1}
	mute    int          // the minute they self-mute, staying muted; -1 never
	leave   int          // the minute they leave; -1 they stay to the end
}

func (s story) hops() bool { return s.hop[0] >= 0 }

// state is the member's voice state at minute m of an event of minutes
// minutes: after it they all go home.
func (s story) state(m, minutes int, lobby snowflake.ID) (snowflake.ID, discordsim.VoiceFlags) {
	if m < s.join || m >= minutes || s.leave >= 0 && m >= s.leave {
		return 0, discordsim.VoiceFlags{}
	}
	f := discordsim.VoiceFlags{SelfMute: s.mute >= 0 && m >= s.mute}
	if s.hops() && m >= s.hop[0] && m < s.hop[1] {
		return lobby, f
	}
	return s.channel, f
}

// moves are the story as voice changes, in time order, each carrying the
// whole state.
func (s story) moves(lobby snowflake.ID, minutes int) []move {
	at := []int{s.join, minutes}
	if s.hops() {
		at = append(at, s.hop[0], s.hop[1])
	}
	if s.mute >= 0 {
		at = append(at, s.mute)
	}
	if s.leave >= 0 {
		at = append(at, s.leave)
	}
	slices.Sort(at)
	var out []move
	var ch snowflake.ID
	var f discordsim.VoiceFlags
	for _, m := range slices.Compact(at) {
		nch, nf := s.state(m, minutes, lobby)
		if nch == ch && nf == f {
			continue
		}
		ch, f = nch, nf
		out = append(out, move{minute: m, user: s.user, channel: ch, flags: f})
	}
	return out
}

// counted are the minutes the bot should store for the story: present in a
// watched channel, and of those the self-muted ones.
func (s story) counted(watched func(snowflake.ID) bool, lobby snowflake.ID, minutes int) (present, muted attendance.Mask) {
	for m := range minutes {
		ch, f := s.state(m, minutes, lobby)
		if ch == 0 || !watched(ch) {
			continue
		}
		present.Set(m)
		if f.SelfMute {
			muted.Set(m)
		}
	}
	return present, muted
}

// eventStories plan a lively hour: most people come, some late, some leave
// early, a few hop to the lobby and back, some mute, three idle in AFK,
// three never come. Every story fits together: a hop and a mute happen
// while the member is there, and nothing brings back who left. The bots sit
// in БЗС (and never count): see script.
func (c *community) eventStories(seed uint64) []story {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []story
	for i, p := range c.people {
		st := story{user: p.id, channel: c.bzs, join: -1, hop: [2]int{-1, -1}, mute: -1, leave: -1}
		switch {
		case i%9 == 8: // never comes
			continue
		case i%11 == 10: // idles in AFK, which never counts
			st.channel = c.afk
			out = append(out, st)
			continue
		}
		if i%3 == 2 {
			st.channel = c.bzs2
		}
		if rng.IntN(3) == 0 {
			st.join = 6 + rng.IntN(20) // late: after the 5 minutes late_after allows
		}
		arrived := max(st.join, 0)
		if rng.IntN(4) == 0 {
			st.hop[0] = arrived + 5 + rng.IntN(10)
			st.hop[1] = st.hop[0] + 3 + rng.IntN(5)
		}
		if rng.IntN(5) == 0 {
			st.mute = arrived + 10 + rng.IntN(20)
		}
		if rng.IntN(4) == 0 {
			st.leave = 35 + rng.IntN(20) // left early: before the last 5 minutes
		}
		if st.leave >= 0 {
			// A story that reads as told: back from the lobby and muted
			// (if at all) a few minutes before leaving, or not at all.
			if st.hops() && st.hop[1] > st.leave-3 {
				st.hop = [2]int{-1, -1}
			}
			if st.mute > st.leave-3 {
				st.mute = -1
			}
		}
		out = append(out, st)
	}
	return out
}

// eveningStories are the quieter 21:00 event: every other regular, on
// time, but for two who come late, all staying to the end.
func (c *community) eveningStories() []story {
	var out []story
	for i, p := range c.people {
		if i%2 == 1 || i%9 == 8 || i%11 == 10 {
			continue
		}
		st := story{user: p.id, channel: c.bzs, join: -1, hop: [2]int{-1, -1}, mute: -1, leave: -1}
		if len(out)%7 == 3 {
			st.join = 12
		}
		out = append(out, st)
	}
	return out
}

// script is the stories' moves, and the bots sitting in БЗС from the start.
func (c *community) script(stories []story, minutes int) []move {
	var out []move
	for _, st := range stories {
		out = append(out, st.moves(c.lobby, minutes)...)
	}
	for _, b := range c.bots {
		out = append(out, move{minute: -1, user: b, channel: c.bzs}, move{minute: minutes, user: b})
	}
	slices.SortStableFunc(out, func(a, b move) int { return a.minute - b.minute })
	return out
}

// watched reports whether the demo's schedule records a channel.
func (c *community) watched(ch snowflake.ID) bool { return ch == c.bzs || ch == c.bzs2 }
