package discordsim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/snowflake/v2"
)

func TestSimClickButtons(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	clickedOn := make(chan snowflake.ID, 8)
	mux := handler.New()
	mux.ButtonComponent("/rsvp/{answer}", func(_ discord.ButtonInteractionData, e *handler.ComponentEvent) error {
		clickedOn <- e.Message.ID
		who := e.User().Username
		switch e.Vars["answer"] {
		case "yes": // callback 7: update the message at once
			return e.UpdateMessage(discord.MessageUpdate{Content: ptrTo("yes: " + who), Components: &[]discord.LayoutComponent{}})
		case "no": // callback 6, then an edit of @original
			if err := e.DeferUpdateMessage(); err != nil {
				return err
			}
			_, err := e.UpdateInteractionResponse(discord.MessageUpdate{Content: ptrTo("no: " + who)})
			return err
		case "why": // callback 9
			return e.Modal(discord.ModalCreate{CustomID: "/why", Title: "Why not?", Components: []discord.LayoutComponent{
				discord.NewLabel("Reason", discord.NewShortTextInput("reason")),
			}})
		case "more": // callback 4: an ephemeral message with a button of its own
			return e.CreateMessage(discord.MessageCreate{Content: "Sure?", Flags: discord.MessageFlagEphemeral,
				Components: []discord.LayoutComponent{discord.NewActionRow(discord.NewPrimaryButton("Sure", "/rsvp/sure"))}})
		default: // "sure": callback 4, a reply
			return e.CreateMessage(discord.MessageCreate{Content: "noted, " + who})
		}
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)

	post := func() snowflake.ID {
		t.Helper()
		m, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "Raid at 20:00?", Components: []discord.LayoutComponent{
			discord.NewActionRow(
				discord.NewSuccessButton("Yes", "/rsvp/yes"),
				discord.NewDangerButton("No", "/rsvp/no"),
				discord.NewSecondaryButton("Why", "/rsvp/why"),
				discord.NewSecondaryButton("More", "/rsvp/more"),
				discord.NewLinkButton("Rules", "https://example.org/rules"),
			),
			discord.NewActionRow(discord.NewSecondaryButton("Maybe", "/rsvp/maybe").AsDisabled()),
		}})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	click := func(msg snowflake.ID, user snowflake.ID, customID string) *Response {
		t.Helper()
		resp, err := s.Click(ctx, ClickSpec{GuildID: w.guild, UserID: user, MessageID: msg, CustomID: customID})
		if err != nil {
			t.Fatalf("click %s: %v", customID, err)
		}
		if got := <-clickedOn; got != msg {
			t.Errorf("click %s: the interaction carried message %s, want %s", customID, got, msg)
		}
		return resp
	}

	first := post()
	if m, _ := s.Message(first); len(m.Buttons) != 6 || m.Buttons[4].URL == "" || !m.Buttons[5].Disabled {
		t.Fatalf("buttons = %+v", m.Buttons)
	}
	resp := click(first, w.alice, "/rsvp/yes")
	if !resp.Updated || resp.Deferred || resp.Message == nil || resp.Message.ID != first || resp.Content != "yes: alice" || !resp.Message.Edited {
		t.Errorf("update-message response = %+v", resp)
	}
	if m, _ := s.Message(first); len(m.Buttons) != 0 {
		t.Errorf("buttons after the update removed them = %+v", m.Buttons)
	}

	second := post()
	resp = click(second, w.bob, "/rsvp/no")
	if !resp.Updated || !resp.Deferred {
		t.Errorf("deferred-update response = %+v", resp)
	}
	if _, err := s.WaitMessage(ctx, second, func(m Message) bool { return m.Content == "no: bob" }); err != nil {
		t.Errorf("the edit of @original after a deferred update did not edit the clicked message: %v", err)
	}

	if resp := click(second, w.alice, "/rsvp/why"); !resp.Modal {
		t.Errorf("modal response = %+v", resp)
	}

	resp = click(second, w.alice, "/rsvp/more")
	if !resp.Ephemeral || resp.Message == nil || len(resp.Message.Buttons) != 1 {
		t.Fatalf("ephemeral response with a button = %+v", resp)
	}
	ephemeral := resp.Message.ID
	if _, err := s.Click(ctx, ClickSpec{GuildID: w.guild, UserID: w.bob, MessageID: ephemeral, CustomID: "/rsvp/sure"}); err == nil {
		t.Error("bob clicked a button on alice's ephemeral message")
	}
	resp = click(ephemeral, w.alice, "/rsvp/sure")
	if resp.Content != "noted, alice" || resp.Updated {
		t.Errorf("reply = %+v", resp)
	}
	raw, err := client.Rest.GetMessage(w.text, resp.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Type != discord.MessageTypeReply || raw.InteractionMetadata == nil || raw.InteractionMetadata.Type != discord.InteractionTypeComponent {
		t.Errorf("reply to a click = type %d, metadata %+v", raw.Type, raw.InteractionMetadata)
	}

	for _, bad := range []struct {
		msg     snowflake.ID
		id, why string
	}{
		{second, "/rsvp/nope", "no such button"},
		{second, "/rsvp/maybe", "disabled"},
		{second, "", "a link button has no custom_id"},
	} {
		if _, err := s.Click(ctx, ClickSpec{GuildID: w.guild, UserID: w.alice, MessageID: bad.msg, CustomID: bad.id}); err == nil {
			t.Errorf("click %q (%s) was delivered", bad.id, bad.why)
		}
	}
	if f := s.FailedInteractions(); len(f) != 0 {
		t.Errorf("failed interactions: %v", f)
	}
}

func TestSimComponentRules(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	button := func(id string) string {
		return `{"type":2,"style":1,"label":"x","custom_id":"` + id + `"}`
	}
	row := func(bs ...string) string { return `{"type":1,"components":[` + strings.Join(bs, ",") + `]}` }
	tests := []struct {
		name, components string
		ok               bool
	}{
		{"a row of buttons", row(button("a"), button("b")), true},
		{"six buttons in a row", row(button("1"), button("2"), button("3"), button("4"), button("5"), button("6")), false},
		{"duplicate custom_id", row(button("a"), button("a")), false},
		{"custom_id too long", row(button(strings.Repeat("x", 101))), false},
		{"button without custom_id", row(`{"type":2,"style":1,"label":"x"}`), false},
		{"link button with custom_id", row(`{"type":2,"style":5,"label":"x","url":"https://example.org","custom_id":"a"}`), false},
		{"button outside a row", button("a"), false},
		{"six rows", strings.Join([]string{row(button("1")), row(button("2")), row(button("3")), row(button("4")), row(button("5")), row(button("6"))}, ","), false},
	}
	for _, tc := range tests {
		status, body := rawRequest(t, s, "POST", "/channels/"+w.text.String()+"/messages", `{"content":"x","components":[`+tc.components+`]}`)
		if (status == 200) != tc.ok {
			t.Errorf("%s: %d %s, want ok=%v", tc.name, status, body, tc.ok)
		}
	}
}
