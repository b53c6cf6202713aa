package discordsim

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
)

func TestSimMemberRoleRoutes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	s.SetBotPermissions(w.guild, DefaultBotPermissions|discord.PermissionManageRoles)
	regular := s.CreateRole(w.guild, RoleSpec{Name: "Regular", Position: 1}) // below the bot's role
	booster := s.CreateRole(w.guild, RoleSpec{Name: "Server Booster", Position: 1, Managed: true})
	// w.role (Officer) is above the bot's role.
	var mu sync.Mutex
	var updates []snowflake.ID
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds, gateway.IntentGuildMembers),
		bot.WithEventListenerFunc(func(e *events.GuildMemberUpdate) { mu.Lock(); updates = append(updates, e.Member.User.ID); mu.Unlock() }))
	openAndWait(t, ctx, client, ready)

	const reason = "rollcall: attended 3 of the last 4 БЗС"
	if err := client.Rest.AddMemberRole(w.guild, w.bob, regular, rest.WithReason(reason)); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.MemberRoles(w.guild, w.bob), regular) {
		t.Fatalf("bob's roles = %v", s.MemberRoles(w.guild, w.bob))
	}
	eventually(t, ctx, "GUILD_MEMBER_UPDATE", func() bool {
		m, ok := client.Caches.Member(w.guild, w.bob)
		return ok && slices.Contains(m.RoleIDs, regular)
	})
	// Giving a role the member has is a no-op: 204, no event, no log entry.
	if err := client.Rest.AddMemberRole(w.guild, w.bob, regular, rest.WithReason(reason)); err != nil {
		t.Fatal(err)
	}
	if err := client.Rest.RemoveMemberRole(w.guild, w.bob, regular, rest.WithReason("rollcall: missed 2 in a row")); err != nil {
		t.Fatal(err)
	}
	log := s.AuditLog(w.guild)
	if len(log) != 2 || !log[0].Added || log[0].Reason != reason || log[0].TargetID != w.bob || log[0].RoleID != regular ||
		log[1].Added || log[1].Reason != "rollcall: missed 2 in a row" || log[0].Action != discord.AuditLogEventMemberRoleUpdate {
		t.Errorf("audit log = %+v", log)
	}
	var reasons []string
	for _, r := range s.Requests() {
		if r.Route == "/guilds/{guild}/members/{user}/roles/{role}" {
			reasons = append(reasons, r.AuditLogReason)
		}
	}
	if len(reasons) != 3 || reasons[0] != reason {
		t.Errorf("transcript reasons = %q", reasons)
	}
	if n := s.CountRequests("PUT", "/guilds/{g}/members/{u}/roles/{r}", map[string]string{"u": w.bob.String()}); n != 2 {
		t.Errorf("PUTs for bob = %d, want 2", n)
	}
	if n := s.CountRequests("PUT", "/guilds/{g}/members/{u}/roles/{r}", map[string]string{"u": w.alice.String()}); n != 0 {
		t.Errorf("PUTs for alice = %d, want 0", n)
	}
	eventually(t, ctx, "two GUILD_MEMBER_UPDATEs", func() bool { mu.Lock(); defer mu.Unlock(); return len(updates) == 2 })

	roles, err := client.Rest.GetRoles(w.guild)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 5 || roles[0].ID != w.guild || roles[1].ID != booster || roles[2].ID != regular || roles[3].ID != s.BotRole(w.guild) {
		t.Errorf("roles by position = %+v", roles)
	}

	refusals := []struct {
		name       string
		setup      func()
		user, role snowflake.ID
		want       int
	}{
		{"a role above the bot's", func() {}, w.bob, w.role, 50013},
		{"a managed role", func() {}, w.bob, booster, 50013},
		{"@everyone", func() {}, w.bob, w.guild, 10011},
		{"an unknown role", func() {}, w.bob, 1, 10011},
		{"an unknown member", func() {}, 1, regular, 10007},
		{"the bot's own role, which is not below itself", func() {}, w.bob, s.BotRole(w.guild), 50013},
		{"moved below the role", func() { s.SetRolePosition(w.guild, s.BotRole(w.guild), 1) }, w.bob, regular, 50013},
		{"Administrator does not lift the hierarchy", func() { s.SetBotPermissions(w.guild, discord.PermissionAdministrator) }, w.bob, regular, 50013},
		{"no Manage Roles", func() {
			s.SetBotPermissions(w.guild, DefaultBotPermissions)
			s.SetRolePosition(w.guild, s.BotRole(w.guild), 4)
		}, w.bob, regular, 50013},
	}
	for _, tc := range refusals {
		tc.setup()
		if err := client.Rest.AddMemberRole(w.guild, tc.user, tc.role); restCode(err) != tc.want {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.want)
		}
	}
	s.SetBotPermissions(w.guild, discord.PermissionManageRoles)
	if err := client.Rest.AddMemberRole(w.guild, w.bob, regular); err != nil {
		t.Errorf("with Manage Roles and the bot's role above again: %v", err)
	}
}

func TestSimGuildJoinAndLeave(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	joins := make(chan snowflake.ID, 4)
	leaves := make(chan snowflake.ID, 4)
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds, gateway.IntentGuildMembers),
		bot.WithEventListenerFunc(func(e *events.GuildJoin) { joins <- e.GuildID }),
		bot.WithEventListenerFunc(func(e *events.GuildLeave) { leaves <- e.GuildID }))
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGuildCommands(client.ApplicationID, w.guild, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}
	wait := func(ch <-chan snowflake.ID, what string) snowflake.ID {
		t.Helper()
		select {
		case id := <-ch:
			return id
		case <-ctx.Done():
			t.Fatalf("no %s", what)
			return 0
		}
	}

	// Joining a guild while connected: GUILD_CREATE, and the bot may post.
	newGuild := s.AddGuild("Second Server")
	general := s.AddChannel(newGuild, "general", discord.ChannelTypeGuildText)
	if got := wait(joins, "GuildJoin for a new guild"); got != newGuild {
		t.Errorf("joined %s, want %s", got, newGuild)
	}
	if _, err := client.Rest.CreateMessage(general, discord.MessageCreate{Content: "hello"}); err != nil {
		t.Error(err)
	}

	s.RemoveBotFromGuild(w.guild)
	if got := wait(leaves, "GuildLeave"); got != w.guild {
		t.Errorf("left %s, want %s", got, w.guild)
	}
	if _, ok := client.Caches.Guild(w.guild); ok {
		t.Error("the guild is still cached after GUILD_DELETE")
	}
	if s.InGuild(w.guild) {
		t.Error("InGuild after removal")
	}
	if _, err := client.Rest.GetGuild(w.guild, false); restCode(err) != 50001 {
		t.Errorf("GET a guild the bot left: %v, want 50001", err)
	}
	if _, err := client.Rest.GetGuild(12345, false); restCode(err) != 10004 {
		t.Errorf("GET a guild that does not exist: %v, want 10004", err)
	}
	if _, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "still here?"}); restCode(err) != 50001 {
		t.Errorf("post in a guild the bot left: %v, want 50001", err)
	}
	if _, err := client.Rest.GetGuildCommands(client.ApplicationID, w.guild, false); restCode(err) != 50001 {
		t.Errorf("guild commands of a guild the bot left: %v, want 50001", err)
	}
	if _, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report", Options: []Option{{Name: "who", Value: w.bob}}}); err == nil {
		t.Error("an interaction started in a guild without the bot")
	}
	carol := s.AddMember(w.guild, MemberSpec{Username: "carol"}) // not dispatched to the bot

	s.AddBotToGuild(w.guild)
	if got := wait(joins, "GuildJoin on re-join"); got != w.guild {
		t.Errorf("re-joined %s, want %s", got, w.guild)
	}
	if _, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "back"}); err != nil {
		t.Errorf("post after re-joining: %v", err)
	}
	if _, ok := client.Caches.Role(w.guild, s.BotRole(w.guild)); !ok {
		t.Error("the new managed role is not in the cache")
	}
	for _, f := range s.Frames() {
		if f.Event == "GUILD_MEMBER_ADD" && strings.Contains(f.Data, carol.String()) {
			t.Error("a member added while the bot was away was dispatched to it")
		}
	}
}
