package discordsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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

func ids(ms []discord.Message) []snowflake.ID {
	var out []snowflake.ID
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestSimChannelMessagesRoutes(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	client := newClient(t, s)
	var posted []snowflake.ID // oldest first
	for i := range 5 {
		m, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: fmt.Sprintf("report %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		posted = append(posted, m.ID)
	}
	byAlice := s.PostMessage(w.text, w.alice, "nice")
	all := append(append([]snowflake.ID(nil), posted...), byAlice)
	desc := func(is ...int) string {
		var out []snowflake.ID
		for _, i := range is {
			out = append(out, all[i])
		}
		return fmt.Sprint(out)
	}

	tests := []struct {
		name                         string
		around, before, after, limit int // indexes into all; -1 none
		want                         string
	}{
		{"default, newest first", -1, -1, -1, 0, desc(5, 4, 3, 2, 1, 0)},
		{"limit", -1, -1, -1, 2, desc(5, 4)},
		{"before", -1, 3, -1, 2, desc(2, 1)},
		{"after: the ones just after, newest first", -1, -1, 1, 2, desc(3, 2)},
		{"around", 2, -1, -1, 3, desc(3, 2, 1)},
	}
	for _, tc := range tests {
		at := func(i int) snowflake.ID {
			if i < 0 {
				return 0
			}
			return all[i]
		}
		got, err := client.Rest.GetMessages(w.text, at(tc.around), at(tc.before), at(tc.after), tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if fmt.Sprint(ids(got)) != tc.want {
			t.Errorf("%s: got %v, want %s", tc.name, ids(got), tc.want)
		}
	}
	for _, bad := range []string{"?limit=101", "?limit=0", "?before=1&after=2", "?around=x"} {
		if status, body := rawRequest(t, s, "GET", "/channels/"+w.text.String()+"/messages"+bad, ""); status != 400 || !strings.Contains(body, "50035") {
			t.Errorf("GET messages%s = %d %s, want 400 50035", bad, status, body)
		}
	}

	m, err := client.Rest.GetMessage(w.text, posted[0])
	if err != nil || m.Content != "report 0" {
		t.Fatalf("get message = %+v, %v", m, err)
	}
	edited, err := client.Rest.UpdateMessage(w.text, posted[0], discord.MessageUpdate{Content: ptrTo("report 0 (corrected)")})
	if err != nil || edited.Content != "report 0 (corrected)" || edited.EditedTimestamp == nil {
		t.Errorf("edit own message = %+v, %v", edited, err)
	}
	if _, err := client.Rest.UpdateMessage(w.text, byAlice, discord.MessageUpdate{Content: ptrTo("mine now")}); restCode(err) != 50005 {
		t.Errorf("edit alice's message: %v, want 50005", err)
	}
	if err := client.Rest.DeleteMessage(w.text, posted[1]); err != nil {
		t.Errorf("delete own message: %v", err)
	}
	if _, err := client.Rest.GetMessage(w.text, posted[1]); restCode(err) != 10008 {
		t.Errorf("get deleted message: %v, want 10008", err)
	}
	if err := client.Rest.DeleteMessage(w.text, byAlice); restCode(err) != 50013 {
		t.Errorf("delete alice's message without Manage Messages: %v, want 50013", err)
	}
	s.SetBotPermissions(w.guild, DefaultBotPermissions|discord.PermissionManageMessages)
	if err := client.Rest.DeleteMessage(w.text, byAlice); err != nil {
		t.Errorf("delete alice's message with Manage Messages: %v", err)
	}
	if got := len(s.Messages(w.text)); got != 4 {
		t.Errorf("messages left = %d, want 4", got)
	}

	// Read Message History and View Channel, as channel overwrites decide them.
	s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotRole(w.guild), Deny: discord.PermissionReadMessageHistory})
	if got, err := client.Rest.GetMessages(w.text, 0, 0, 0, 0); err != nil || len(got) != 0 {
		t.Errorf("list without Read Message History = %d messages, %v; Discord returns none", len(got), err)
	}
	if _, err := client.Rest.GetMessage(w.text, posted[0]); restCode(err) != 50013 {
		t.Errorf("get without Read Message History: %v, want 50013", err)
	}
	s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: w.guild, Deny: discord.PermissionViewChannel})
	if _, err := client.Rest.GetMessages(w.text, 0, 0, 0, 0); restCode(err) != 50001 {
		t.Errorf("list without View Channel: %v, want 50001", err)
	}
}

// messageEvents collects the message events a disgo client receives.
type messageEvents struct {
	mu      sync.Mutex
	created []discord.Message
	updated []discord.Message
	deleted []snowflake.ID
}

func (e *messageEvents) opts() []bot.ConfigOpt {
	return []bot.ConfigOpt{
		bot.WithEventListenerFunc(func(ev *events.GuildMessageCreate) {
			e.mu.Lock()
			e.created = append(e.created, ev.Message)
			e.mu.Unlock()
		}),
		bot.WithEventListenerFunc(func(ev *events.GuildMessageUpdate) {
			e.mu.Lock()
			e.updated = append(e.updated, ev.Message)
			e.mu.Unlock()
		}),
		bot.WithEventListenerFunc(func(ev *events.GuildMessageDelete) {
			e.mu.Lock()
			e.deleted = append(e.deleted, ev.MessageID)
			e.mu.Unlock()
		}),
	}
}

func (e *messageEvents) find(id snowflake.ID, updated bool) (discord.Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.created
	if updated {
		list = e.updated
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].ID == id {
			return list[i], true
		}
	}
	return discord.Message{}, false
}

func TestSimBotMessagesArriveOnGateway(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	mux := handler.New()
	mux.Command("/report", func(e *handler.CommandEvent) error {
		switch e.SlashCommandInteractionData().Int("weeks") {
		case 1: // an answer at once, then a follow-up
			if err := e.CreateMessage(discord.MessageCreate{Content: "3 present"}); err != nil {
				return err
			}
			_, err := e.CreateFollowupMessage(discord.MessageCreate{Content: "and 2 late"})
			return err
		case 2: // deferred, then edited
			if err := e.DeferCreateMessage(false); err != nil {
				return err
			}
			_, err := e.UpdateInteractionResponse(discord.MessageUpdate{Content: ptrTo("chart ready")})
			return err
		default: // ephemeral: never on the gateway
			return e.CreateMessage(discord.MessageCreate{Content: "only you", Flags: discord.MessageFlagEphemeral})
		}
	})
	var evs messageEvents
	readyOpt, ready := guildsReady()
	client := newClient(t, s, append(evs.opts(), readyOpt, bot.WithEventListeners(mux),
		intents(gateway.IntentGuilds, gateway.IntentGuildMessages))...)
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGuildCommands(client.ApplicationID, w.guild, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}

	post, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "weekly report", Nonce: "report-2025-w09"})
	if err != nil {
		t.Fatal(err)
	}
	if post.Nonce != "report-2025-w09" {
		t.Errorf("created message nonce = %q", post.Nonce)
	}
	eventually(t, ctx, "MESSAGE_CREATE of the channel post", func() bool { _, ok := evs.find(post.ID, false); return ok })
	if m, _ := evs.find(post.ID, false); m.Nonce != "report-2025-w09" || m.Author.ID != s.BotUserID() || m.Content != "weekly report" {
		t.Errorf("MESSAGE_CREATE = nonce %q author %s content %q", m.Nonce, m.Author.ID, m.Content)
	}
	if _, err := client.Rest.UpdateMessage(w.text, post.ID, discord.MessageUpdate{Content: ptrTo("weekly report (v2)")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "MESSAGE_UPDATE of the channel post", func() bool {
		m, ok := evs.find(post.ID, true)
		return ok && m.Content == "weekly report (v2)"
	})

	invoke := func(weeks int) *Response {
		t.Helper()
		resp, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report",
			Options: []Option{{Name: "who", Value: w.bob}, {Name: "weeks", Value: weeks}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	immediate := invoke(1)
	eventually(t, ctx, "MESSAGE_CREATE of the response and the follow-up", func() bool {
		_, ok := evs.find(immediate.Message.ID, false)
		return ok && len(s.Messages(w.text)) == 3
	})
	followup := s.Messages(w.text)[2]
	eventually(t, ctx, "MESSAGE_CREATE of the follow-up", func() bool { _, ok := evs.find(followup.ID, false); return ok })
	if m, _ := evs.find(immediate.Message.ID, false); m.InteractionMetadata == nil || m.WebhookID == nil || m.Member != nil {
		t.Errorf("interaction response MESSAGE_CREATE: metadata %v, webhook %v, member %v (webhook messages have no member)", m.InteractionMetadata, m.WebhookID, m.Member)
	}

	deferred := invoke(2)
	eventually(t, ctx, "MESSAGE_UPDATE of the deferred response", func() bool {
		m, ok := evs.find(deferred.Message.ID, true)
		return ok && m.Content == "chart ready" && !m.Flags.Has(discord.MessageFlagLoading)
	})
	if m, ok := evs.find(deferred.Message.ID, false); !ok || !m.Flags.Has(discord.MessageFlagLoading) {
		t.Errorf("MESSAGE_CREATE of the thinking message = %+v, %v", m.Flags, ok)
	}

	ephemeral := invoke(0)
	if !ephemeral.Ephemeral {
		t.Fatalf("response = %+v", ephemeral)
	}
	// A later event is the marker that the ephemeral one would have arrived.
	marker, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "marker"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "marker", func() bool { _, ok := evs.find(marker.ID, false); return ok })
	if _, ok := evs.find(ephemeral.Message.ID, false); ok {
		t.Error("an ephemeral response arrived as MESSAGE_CREATE")
	}
	if err := client.Rest.DeleteMessage(w.text, marker.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "MESSAGE_DELETE", func() bool {
		evs.mu.Lock()
		defer evs.mu.Unlock()
		return len(evs.deleted) == 1 && evs.deleted[0] == marker.ID
	})
	// Listed history has no ephemeral message either.
	hist, err := client.Rest.GetMessages(w.text, 0, 0, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range hist {
		if m.ID == ephemeral.Message.ID {
			t.Error("GET messages lists an ephemeral response")
		}
	}
}

func TestSimMessageIntents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		intents     []gateway.Intents
		wantEvent   bool
		wantContent bool
	}{
		{"no GUILD_MESSAGES", []gateway.Intents{gateway.IntentGuilds}, false, false},
		{"GUILD_MESSAGES without MESSAGE_CONTENT", []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMessages}, true, false},
		{"with MESSAGE_CONTENT", []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMessages, gateway.IntentMessageContent}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s := newSim(t, Options{})
			w := buildWorld(s)
			var evs messageEvents
			readyOpt, ready := guildsReady()
			client := newClient(t, s, append(evs.opts(), readyOpt, intents(tc.intents...))...)
			openAndWait(t, ctx, client, ready)
			id := s.PostMessage(w.text, w.alice, "see you at 20:00")
			own, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "noted"})
			if err != nil {
				t.Fatal(err)
			}
			s.RenameChannel(w.guild, w.text, "raid") // GUILDS: a marker that always arrives
			eventually(t, ctx, "marker", func() bool {
				c, ok := client.Caches.Channel(w.text)
				return ok && c.Name() == "raid"
			})
			m, ok := evs.find(id, false)
			if ok != tc.wantEvent {
				t.Fatalf("MESSAGE_CREATE received = %v, want %v", ok, tc.wantEvent)
			}
			if ok && (m.Content != "") == !tc.wantContent {
				t.Errorf("content = %q, want content %v", m.Content, tc.wantContent)
			}
			if mine, ok := evs.find(own.ID, false); ok && mine.Content != "noted" {
				t.Errorf("the bot's own message arrived with content %q; Discord never hides it", mine.Content)
			}
		})
	}
}

func TestSimAllowedMentionsRecorded(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	client := newClient(t, s)
	none := &discord.AllowedMentions{Parse: []discord.AllowedMentionType{}}
	m, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "<@" + w.alice.String() + "> was late", AllowedMentions: none})
	if err != nil {
		t.Fatal(err)
	}
	users := &discord.AllowedMentions{Users: []snowflake.ID{w.alice}}
	if _, err := client.Rest.UpdateMessage(w.text, m.ID, discord.MessageUpdate{Content: ptrTo("<@" + w.alice.String() + "> came"), AllowedMentions: users}); err != nil {
		t.Fatal(err)
	}
	// disgo fills in its default allowed_mentions when a message sets none,
	// so "none sent" needs a raw request.
	status, resp := rawRequest(t, s, "POST", "/channels/"+w.text.String()+"/messages", `{"content":"no allowed_mentions"}`)
	var plain struct{ ID snowflake.ID }
	if status != 200 || json.Unmarshal([]byte(resp), &plain) != nil {
		t.Fatalf("raw post = %d %s", status, resp)
	}
	got, _ := s.Message(m.ID)
	if len(got.Writes) != 2 || got.Writes[0].Edit || !got.Writes[1].Edit {
		t.Fatalf("writes = %+v", got.Writes)
	}
	if am := got.Writes[0].AllowedMentions; am == nil || am.Parse == nil || len(am.Parse) != 0 {
		t.Errorf("create allowed_mentions = %+v, want an explicit empty parse", am)
	}
	if am := got.AllowedMentions; am == nil || len(am.Users) != 1 || am.Users[0] != w.alice {
		t.Errorf("last allowed_mentions = %+v, want users [alice]", am)
	}
	if got, _ := s.Message(plain.ID); got.AllowedMentions != nil || len(got.Writes) != 1 || got.Writes[0].AllowedMentions != nil {
		t.Errorf("message sent without allowed_mentions records %+v", got.AllowedMentions)
	}
	// Discord refuses parse "users" together with a users list.
	body := `{"content":"x","allowed_mentions":{"parse":["users"],"users":["` + w.alice.String() + `"]}}`
	if status, resp := rawRequest(t, s, "POST", "/channels/"+w.text.String()+"/messages", body); status != 400 || !strings.Contains(resp, "allowed_mentions") {
		t.Errorf("exclusive allowed_mentions = %d %s, want 400 naming allowed_mentions", status, resp)
	}
}

func TestSimReplies(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	client := newClient(t, s)
	report, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "report"})
	if err != nil {
		t.Fatal(err)
	}
	reply := func(id snowflake.ID) (*discord.Message, error) {
		return client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "correction",
			MessageReference: &discord.MessageReference{MessageID: &id, ChannelID: &w.text}})
	}
	m, err := reply(report.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != discord.MessageTypeReply || m.MessageReference == nil || *m.MessageReference.MessageID != report.ID {
		t.Errorf("reply: type %d, reference %+v; want a reply to %s", m.Type, m.MessageReference, report.ID)
	}
	if got := s.Messages(w.text)[1].ReplyTo; got != report.ID {
		t.Errorf("recorded reply to %s, want %s", got, report.ID)
	}

	if _, err := reply(report.ID + 1000); restCode(err) != 50035 || !strings.Contains(err.Error(), "REPLIES_UNKNOWN_MESSAGE") {
		t.Errorf("reply to an unknown message: %v, want 50035 REPLIES_UNKNOWN_MESSAGE", err)
	}
	// disgo omits a false fail_if_not_exists; Discord then sends the
	// message as an ordinary one.
	code, body := rawRequest(t, s, "POST", "/channels/"+w.text.String()+"/messages",
		fmt.Sprintf(`{"content":"c","message_reference":{"message_id":"%d","fail_if_not_exists":false}}`, report.ID+1000))
	if code != 200 || !strings.Contains(body, `"type":0`) || s.Messages(w.text)[2].ReplyTo != 0 {
		t.Errorf("reply to an unknown message with fail_if_not_exists false: %d %s, want an ordinary message", code, body)
	}

	s.SetChannelOverwrite(w.guild, w.text, Overwrite{ID: s.BotUserID(), Member: true, Deny: discord.PermissionReadMessageHistory})
	if _, err := reply(report.ID); restCode(err) != 50013 {
		t.Errorf("reply without Read Message History: %v, want 50013", err)
	}
}
