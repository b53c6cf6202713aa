package discordsim

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/snowflake/v2"
)

func TestSimChannelPermissionsInDiscordsOrder(t *testing.T) {
	t.Parallel()
	const view, send = discord.PermissionViewChannel, discord.PermissionSendMessages
	tests := []struct {
		name       string
		setup      func(s *Server, w world, officer snowflake.ID)
		user       func(w world) snowflake.ID
		want, lack discord.Permissions
	}{
		{"no overwrite: guild permissions", func(*Server, world, snowflake.ID) {}, func(w world) snowflake.ID { return w.bob }, view | send, 0},
		{"@everyone deny hides the channel", func(s *Server, w world, _ snowflake.ID) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: view})
		}, func(w world) snowflake.ID { return w.bob }, 0, view | send},
		{"a role allow beats the @everyone deny", func(s *Server, w world, officer snowflake.ID) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: view})
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: officer, Allow: view})
		}, func(w world) snowflake.ID { return w.alice }, view | send, 0},
		{"role allows win over role denies", func(s *Server, w world, officer snowflake.ID) {
			other := s.AddRole(w.guild, "Muted", 0)
			s.UpdateMember(w.guild, w.alice, MemberSpec{Username: "alice", Roles: []snowflake.ID{officer, other}})
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: other, Deny: send})
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: officer, Allow: send})
		}, func(w world) snowflake.ID { return w.alice }, view | send, 0},
		{"the member overwrite comes last", func(s *Server, w world, officer snowflake.ID) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: officer, Allow: send})
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.alice, Member: true, Deny: send})
		}, func(w world) snowflake.ID { return w.alice }, view, send},
		{"no Send Messages: no Embed Links or Attach Files either", func(s *Server, w world, _ snowflake.ID) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: send})
		}, func(w world) snowflake.ID { return w.bob }, view, send | discord.PermissionEmbedLinks | discord.PermissionAttachFiles},
		{"Administrator bypasses overwrites", func(s *Server, w world, officer snowflake.ID) {
			s.SetRolePermissions(w.guild, officer, discord.PermissionAdministrator)
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.alice, Member: true, Deny: view})
		}, func(w world) snowflake.ID { return w.alice }, discord.PermissionsAll, 0},
		{"the owner bypasses overwrites", func(s *Server, w world, _ snowflake.ID) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: view})
		}, func(w world) snowflake.ID { return 0 }, discord.PermissionsAll, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Options{})
			w := buildWorld(s)
			tc.setup(s, w, w.role)
			u := tc.user(w)
			if u == 0 {
				u = s.GuildOwner(w.guild)
			}
			got := s.ChannelPermissions(w.guild, w.text, u)
			if !got.Has(tc.want) || got&tc.lack != 0 {
				t.Errorf("permissions = %s, want %s and not %s", got, tc.want, tc.lack)
			}
		})
	}
}

func TestSimCreateMessageAnswersAsDiscord(t *testing.T) {
	t.Parallel()
	pngData := tinyPNG(t)
	text := discord.MessageCreate{Content: "report"}
	embed := discord.MessageCreate{Embeds: []discord.Embed{{Title: "Week 9"}}}
	file := func() discord.MessageCreate {
		return discord.MessageCreate{Files: []*discord.File{discord.NewFile("c.png", "", bytes.NewReader(pngData))}}
	}
	tests := []struct {
		name     string
		setup    func(s *Server, w world)
		msg      func() discord.MessageCreate
		wantCode int // 0: created
	}{
		{"allowed", func(*Server, world) {}, func() discord.MessageCreate { return text }, 0},
		{"deleted channel", func(s *Server, w world) { s.DeleteChannel(w.guild, w.text) }, func() discord.MessageCreate { return text }, 10003},
		{"no View Channel", func(s *Server, w world) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: discord.PermissionViewChannel})
		}, func() discord.MessageCreate { return text }, 50001},
		{"no Send Messages", func(s *Server, w world) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotRole(w.guild), Deny: discord.PermissionSendMessages})
		}, func() discord.MessageCreate { return text }, 50013},
		{"no Embed Links, with an embed", func(s *Server, w world) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotUserID(), Member: true, Deny: discord.PermissionEmbedLinks})
		}, func() discord.MessageCreate { return embed }, 50013},
		{"no Embed Links, plain text", func(s *Server, w world) {
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotUserID(), Member: true, Deny: discord.PermissionEmbedLinks})
		}, func() discord.MessageCreate { return text }, 0},
		{"no Attach Files, with a file", func(s *Server, w world) {
			s.SetBotPermissions(w.guild, DefaultBotPermissions&^discord.PermissionAttachFiles)
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: discord.PermissionAttachFiles})
		}, file, 50013},
		{"Administrator ignores a deny", func(s *Server, w world) {
			s.SetBotPermissions(w.guild, discord.PermissionAdministrator)
			s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotUserID(), Member: true, Deny: discord.PermissionViewChannel})
		}, func() discord.MessageCreate { return embed }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Options{})
			w := buildWorld(s)
			client := newClient(t, s)
			tc.setup(s, w)
			_, err := client.Rest.CreateMessage(w.text, tc.msg())
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Errorf("create: %v, want success", err)
			case tc.wantCode != 0 && restCode(err) != tc.wantCode:
				t.Errorf("create: %v, want code %d", err, tc.wantCode)
			}
		})
	}
}

func TestSimWorldChangesReachTheCache(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	var mu sync.Mutex
	seen := map[string]int{}
	mark := func(k string) { mu.Lock(); seen[k]++; mu.Unlock() }
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds, gateway.IntentGuildMembers),
		bot.WithEventListenerFunc(func(*events.RoleUpdate) { mark("role-update") }),
		bot.WithEventListenerFunc(func(*events.RoleDelete) { mark("role-delete") }),
		bot.WithEventListenerFunc(func(*events.GuildChannelDelete) { mark("channel-delete") }))
	openAndWait(t, ctx, client, ready)

	// Overwrites in CHANNEL_UPDATE and GET /channels.
	s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotUserID(), Member: true, Allow: discord.PermissionManageMessages, Deny: discord.PermissionEmbedLinks})
	eventually(t, ctx, "overwrite in the cache", func() bool {
		c, ok := client.Caches.GuildMessageChannel(w.text)
		if !ok {
			return false
		}
		o, ok := c.PermissionOverwrites().Member(s.BotUserID())
		return ok && o.Deny == discord.PermissionEmbedLinks && o.Allow == discord.PermissionManageMessages
	})
	ch, err := client.Rest.GetChannel(w.text)
	if err != nil {
		t.Fatal(err)
	}
	if gc, ok := ch.(discord.GuildMessageChannel); !ok || len(gc.PermissionOverwrites()) != 1 {
		t.Errorf("GET channel overwrites = %+v", ch)
	}

	// Roles: a managed role below the bot, a move, a deletion.
	booster := s.CreateRole(w.guild, RoleSpec{Name: "Server Booster", Managed: true, Position: 1, Color: 0xf47fff})
	eventually(t, ctx, "new role in the cache", func() bool {
		r, ok := client.Caches.Role(w.guild, booster)
		return ok && r.Managed && r.Position == 1 && r.Color == 0xf47fff
	})
	if s.RolePosition(w.guild, s.BotRole(w.guild)) != 2 {
		t.Errorf("bot role position = %d, want 2 after a role was inserted below it", s.RolePosition(w.guild, s.BotRole(w.guild)))
	}
	top := s.RolePosition(w.guild, w.role)
	s.SetRolePosition(w.guild, s.BotRole(w.guild), top)
	eventually(t, ctx, "bot role moved to the top", func() bool {
		r, ok := client.Caches.Role(w.guild, s.BotRole(w.guild))
		o, ok2 := client.Caches.Role(w.guild, w.role)
		return ok && ok2 && r.Position == top && o.Position == top-1
	})
	s.DeleteRole(w.guild, w.role)
	eventually(t, ctx, "role gone from the cache", func() bool {
		_, ok := client.Caches.Role(w.guild, w.role)
		return !ok
	})

	// Channels: deletion; the guild's system channel.
	s.SetSystemChannel(w.guild, w.text)
	eventually(t, ctx, "system channel", func() bool {
		g, ok := client.Caches.Guild(w.guild)
		return ok && g.SystemChannelID != nil && *g.SystemChannelID == w.text
	})
	inVoiceChat := s.PostMessage(w.voiceB, w.alice, "gg")
	s.DeleteChannel(w.guild, w.voiceB)
	if _, ok := s.Message(inVoiceChat); ok {
		t.Error("a message of a deleted channel is still found")
	}
	eventually(t, ctx, "channel gone from the cache", func() bool {
		_, ok := client.Caches.Channel(w.voiceB)
		return !ok
	})
	if _, err := client.Rest.GetChannel(w.voiceB); restCode(err) != 10003 {
		t.Errorf("GET deleted channel: %v, want 10003", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["role-delete"] != 1 || seen["channel-delete"] != 1 || seen["role-update"] < 2 {
		t.Errorf("events = %v", seen)
	}
}

func TestSimInteractionPermissionsIncludeOverwrites(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	type seen struct{ app, member discord.Permissions }
	got := make(chan seen, 1)
	mux := handler.New()
	mux.Command("/report", func(e *handler.CommandEvent) error {
		got <- seen{*e.AppPermissions(), e.Member().Permissions}
		return e.CreateMessage(discord.MessageCreate{Content: "ok"})
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGuildCommands(client.ApplicationID, w.guild, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}
	s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotRole(w.guild), Deny: discord.PermissionEmbedLinks})
	s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.alice, Member: true, Allow: discord.PermissionManageMessages})
	if _, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, ChannelID: w.text, Command: "report",
		Options: []Option{{Name: "who", Value: w.bob}}}); err != nil {
		t.Fatal(err)
	}
	sn := <-got
	if sn.app.Has(discord.PermissionEmbedLinks) || !sn.app.Has(discord.PermissionSendMessages) {
		t.Errorf("app_permissions = %s, want the channel's (no Embed Links)", sn.app)
	}
	if !sn.member.Has(discord.PermissionManageMessages) {
		t.Errorf("member.permissions = %s, want the member overwrite's Manage Messages", sn.member)
	}
}
