package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim"
)

// community is the synthetic guild the demo runs: people with Russian and
// English names (some with emoji), a few bots, voice channels including an
// AFK channel, a report channel and a moderator.
type community struct {
	guild                 snowflake.ID
	bzs, bzs2, lobby, afk snowflake.ID
	reports, commands     snowflake.ID
	moderatorRole         snowflake.ID
	moderator             snowflake.ID
	people                []person
	bots                  []snowflake.ID
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
	c.reports = sim.AddChannel(c.guild, "отчёты", discord.ChannelTypeGuildText)
	c.commands = sim.AddChannel(c.guild, "команды", discord.ChannelTypeGuildText)
	c.moderatorRole = sim.AddRole(c.guild, "Модератор", discord.PermissionManageGuild)
	rng := rand.New(rand.NewPCG(2026, 11))
	for i, n := range names {
		spec := discordsim.MemberSpec{Username: fmt.Sprintf("player%02d", i+1), GlobalName: n, JoinedAt: now.AddDate(0, -2, -rng.IntN(30))}
		if i == 0 {
			spec.Roles = []snowflake.ID{c.moderatorRole}
		}
		if i == len(names)-1 {
			spec.JoinedAt = now.AddDate(0, 0, -3) // joined this week: not expected at earlier events
		}
		id := sim.AddMember(c.guild, spec)
		c.people = append(c.people, person{id: id, name: n})
	}
	c.moderator = c.people[0].id
	for _, b := range []string{"MusicBot", "Статистика", "Mee7"} {
		c.bots = append(c.bots, sim.AddMember(c.guild, discordsim.MemberSpec{Username: b, Bot: true, JoinedAt: now.AddDate(-1, 0, 0)}))
	}
	return c
}

// configText is the rollcall configuration for the community.
func (c *community) configText() string {
	return fmt.Sprintf(`
poll_interval = "5s"
[[guilds]]
id = "%d"
timezone = "Europe/Moscow"
report_channels = ["%d"]
moderator_roles = ["%d"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["16:00", "21:00"]
  duration = "60m"
  voice_channel_names = ["БЗС"]
`, c.guild, c.reports, c.moderatorRole)
}

// move is one scripted voice change at a minute of the event.
type move struct {
	minute  int
	user    snowflake.ID
	channel snowflake.ID // 0: leaves voice
	flags   discordsim.VoiceFlags
}

// eventScript plans a lively hour: most people come, some late, some leave
// early, a few hop to the lobby and back, some mute, two idle in AFK, the
// bots sit in БЗС (and never count).
func (c *community) eventScript(seed uint64) []move {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []move
	for i, p := range c.people {
		switch {
		case i%9 == 8: // never comes
			continue
		case i%11 == 10: // idles in AFK
			out = append(out, move{minute: -1, user: p.id, channel: c.afk})
			continue
		}
		ch := c.bzs
		if i%3 == 2 {
			ch = c.bzs2
		}
		join := -1
		if rng.IntN(3) == 0 {
			join = 2 + rng.IntN(25) // late
		}
		out = append(out, move{minute: join, user: p.id, channel: ch})
		if rng.IntN(4) == 0 {
			m := join + 5 + rng.IntN(10)
			out = append(out, move{minute: m, user: p.id, channel: c.lobby}, move{minute: m + 3 + rng.IntN(5), user: p.id, channel: ch})
		}
		if rng.IntN(5) == 0 {
			m := max(join, 0) + 10 + rng.IntN(20)
			out = append(out, move{minute: m, user: p.id, channel: ch, flags: discordsim.VoiceFlags{SelfMute: true}})
		}
		if rng.IntN(4) == 0 {
			out = append(out, move{minute: 35 + rng.IntN(20), user: p.id}) // leaves early
		}
	}
	for _, b := range c.bots {
		out = append(out, move{minute: -1, user: b, channel: c.bzs})
	}
	return out
}
