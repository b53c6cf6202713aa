package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim"
)

// call is one use of a slash command by someone in the community.
type call struct {
	who  snowflake.ID
	name string // "event", or a command and its subcommand: "rollcall schedule add"
	opts []discordsim.Option
	// shown are option values as Discord shows them in the invocation
	// when that is not the value sent: a choice's name.
	shown map[string]string
	// pick is an autocomplete option filled as a person does: typing
	// nothing and taking the first of the choices offered.
	pick string
}

// invoke runs the call in the commands channel and puts it and the bot's
// answer in the feed.
func (d *driver) invoke(ctx context.Context, cl call) (*discordsim.Response, error) {
	c := d.c
	ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	command, sub, _ := strings.Cut(cl.name, " ")
	inv := discordsim.Invocation{GuildID: c.guild, UserID: cl.who, ChannelID: c.commands, Command: command, Subcommand: sub, Options: cl.opts, Locale: "ru"}
	if cl.pick != "" {
		typing := inv
		typing.Options = append(append([]discordsim.Option(nil), cl.opts...), discordsim.Option{Name: cl.pick, Value: "", Focused: true})
		choices, err := d.sim.Autocomplete(ictx, typing)
		if err != nil {
			return nil, fmt.Errorf("/%s %s: %w", cl.name, cl.pick, err)
		}
		if len(choices) == 0 {
			return nil, fmt.Errorf("/%s %s: nothing offered to choose from", cl.name, cl.pick)
		}
		first, ok := choices[0].(discord.AutocompleteChoiceString)
		if !ok {
			return nil, fmt.Errorf("/%s %s: a choice of %T", cl.name, cl.pick, choices[0])
		}
		inv.Options = append(append([]discordsim.Option(nil), cl.opts...), discordsim.Option{Name: cl.pick, Value: first.Value})
		cl.shown = map[string]string{cl.pick: first.Name}
	}
	r, err := d.sim.Invoke(ictx, inv)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", cl.name, err)
	}
	if r.Failed {
		return nil, fmt.Errorf("/%s was not answered in time", cl.name)
	}
	d.f.reply(c.describe(cl.name, inv.Options, cl.shown), c.nameOf(cl.who), d.clk.Now(), r)
	return r, nil
}

// runCommands has a moderator and members use every slash command, the
// way a community would after an event.
func (d *driver) runCommands(ctx context.Context, p *played) error {
	c := d.c
	member := c.people[3]
	for _, cl := range []call{
		{who: c.moderator, name: "event"},
		{who: c.moderator, name: "week", opts: []discordsim.Option{{Name: "week", Value: "this"}}},
		{who: c.moderator, name: "absent", opts: []discordsim.Option{{Name: "period", Value: "7d"}}},
		{who: c.moderator, name: "member", opts: []discordsim.Option{{Name: "member", Value: member.id, Type: discord.ApplicationCommandOptionTypeUser}, {Name: "period", Value: "7d"}}},
		{who: member.id, name: "member", opts: []discordsim.Option{{Name: "period", Value: "7d"}}},
		// Someone's own minute by minute of the event just over, picked
		// from the list of events Discord offers while typing.
		{who: lively(p.eventStories), name: "member", pick: "event"},
		{who: member.id, name: "week"}, // not a moderator: politely refused
	} {
		if _, err := d.invoke(ctx, cl); err != nil {
			return err
		}
	}
	return nil
}

// lively is who had the most going on in an event: a trip to the lobby
// and a mute, or at least the trip; their timeline shows it.
func lively(stories []story) snowflake.ID {
	for _, hopAndMute := range []bool{true, false} {
		for _, s := range stories {
			if s.hops() && (s.mute >= 0 || !hopAndMute) {
				return s.user
			}
		}
	}
	return stories[0].user
}

func (c *community) nameOf(id snowflake.ID) string {
	for _, p := range c.people {
		if p.id == id {
			return p.name
		}
	}
	if n, ok := c.names[id]; ok {
		return n
	}
	return id.String()
}

// mention is an id as Discord shows it: "@Zoë ⚔️", "#отчёты", "@Модератор".
func (c *community) mention(id snowflake.ID) string {
	if n, ok := c.names[id]; ok && c.isChannel(id) {
		return "#" + n
	}
	return "@" + c.nameOf(id)
}

func (c *community) isChannel(id snowflake.ID) bool {
	switch id {
	case c.bzs, c.bzs2, c.lobby, c.afk, c.general, c.reports, c.commands:
		return true
	}
	return false
}

// describe writes an invocation as Discord shows it:
// "/member member: @Zoë ⚔️ period: 7d", "/rollcall setup report_channel: #отчёты".
func (c *community) describe(name string, opts []discordsim.Option, shown map[string]string) string {
	out := "/" + name
	for _, o := range opts {
		v := fmt.Sprint(o.Value)
		if id, ok := o.Value.(snowflake.ID); ok {
			v = c.mention(id)
		}
		if s, ok := shown[o.Name]; ok {
			v = s
		}
		out += " " + o.Name + ": " + v
	}
	return out
}

// setUp is the server's owner setting rollcall up from Discord once it
// has joined and said hello: the time zone and the report channel, the
// БЗС schedule (the two daily events the week so far was recorded under),
// and a role for the regulars, a minute apart. The bot's settings for the
// guild right after the schedule is added go into p for the tests.
func (d *driver) setUp(ctx context.Context, p *played) error {
	c := d.c
	// The bot says hello in the system channel of a server that is not
	// set up, once it has seen the server: wait for it, so the feed opens
	// with it.
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	_, err := d.sim.WaitMessages(wctx, c.general, 1)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the bot never said hello in #общий: %w", err)
	}
	if err := d.settle(ctx); err != nil {
		return err
	}
	channel := func(name string, id snowflake.ID) discordsim.Option {
		return discordsim.Option{Name: name, Value: id, Type: discord.ApplicationCommandOptionTypeChannel}
	}
	for i, cl := range []call{
		{who: c.moderator, name: "rollcall setup", opts: []discordsim.Option{{Name: "timezone", Value: "Europe/Moscow"}, channel("report_channel", c.reports),
			{Name: "language", Value: "en"}}, shown: map[string]string{"language": "English"}}, // a mixed community: posts in English
		{who: c.moderator, name: "rollcall schedule add", opts: []discordsim.Option{{Name: "name", Value: "БЗС"}, {Name: "times", Value: "16:00,21:00"},
			{Name: "duration", Value: "60m"}, channel("voice_channel", c.bzs), channel("voice_channel_2", c.bzs2)}},
		{who: c.moderator, name: "rollcall roles add", opts: []discordsim.Option{{Name: "role", Value: c.regular, Type: discord.ApplicationCommandOptionTypeRole},
			{Name: "attended_at_least", Value: 3}, {Name: "of_last", Value: 4}}},
	} {
		if i > 0 {
			if err := d.step(ctx, d.clk.Now().Add(time.Minute), nil, d.speed); err != nil {
				return err
			}
		}
		if _, err := d.invoke(ctx, cl); err != nil {
			return err
		}
		if cl.name == "rollcall schedule add" {
			p.setUp, _ = d.app.Settings.Get(uint64(c.guild))
		}
	}
	// The rule's first evaluation gives the role to who earned it this week.
	if err := d.settle(ctx); err != nil {
		return err
	}
	for _, person := range c.people {
		if slices.Contains(d.sim.MemberRoles(c.guild, person.id), c.regular) {
			p.regulars++
		}
	}
	return nil
}
