package discordsim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/snowflake/v2"
)

// Tests of details where the simulator once answered differently from
// Discord (issue #21's "Simulator fidelity"), each through a real disgo client.

func TestSimEmbedsEchoedAsDiscordStoresThem(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	client := newClient(t, s)
	pngData := tinyPNG(t)
	msg, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{
		Embeds: []discord.Embed{{
			Title:     "Week 9",
			Fields:    []discord.EmbedField{{Name: "alice", Value: "5h"}},
			Image:     &discord.EmbedResource{URL: "attachment://chart.png"},
			Thumbnail: &discord.EmbedResource{URL: "attachment://missing.png"},
		}},
		Files: []*discord.File{discord.NewFile("chart.png", "", bytes.NewReader(pngData))},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := msg.Embeds[0]
	if e.Type != discord.EmbedTypeRich {
		t.Errorf("embed type = %q, want rich", e.Type)
	}
	if f := e.Fields[0]; f.Inline == nil || *f.Inline {
		t.Errorf("field inline = %v, want an explicit false", f.Inline)
	}
	img := e.Image
	if img == nil || img.URL != msg.Attachments[0].URL || img.ProxyURL == "" || img.Width != 3 || img.Height != 2 {
		t.Fatalf("image = %+v, want the attachment's URL (%s) with 3x2", img, msg.Attachments[0].URL)
	}
	if e.Thumbnail == nil || e.Thumbnail.URL != "attachment://missing.png" {
		t.Errorf("thumbnail referring to no attachment = %+v, want it left as sent", e.Thumbnail)
	}
	rs, err := http.Get(img.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rs.Body)
	rs.Body.Close()
	if !bytes.Equal(got, pngData) {
		t.Error("the resolved image URL does not serve the uploaded file")
	}
	if m := s.Messages(w.text); m[0].Embeds[0].Image.URL != img.URL {
		t.Errorf("recorded embed image = %+v", m[0].Embeds[0].Image)
	}
}

func TestSimGuildWithCounts(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	client := newClient(t, s)
	g, err := client.Rest.GetGuild(w.guild, true)
	if err != nil {
		t.Fatal(err)
	}
	// owner, bot, alice, bob; alice is in voice, the bot has no session.
	if g.ApproximateMemberCount != 4 || g.ApproximatePresenceCount != 1 {
		t.Errorf("counts = %d, %d; want 4 members, 1 online", g.ApproximateMemberCount, g.ApproximatePresenceCount)
	}
	g, err = client.Rest.GetGuild(w.guild, false)
	if err != nil {
		t.Fatal(err)
	}
	if g.ApproximateMemberCount != 0 {
		t.Errorf("counts without with_counts: %d", g.ApproximateMemberCount)
	}
}

func TestSimCallbackWithResponse(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	type result struct {
		cb  *discord.InteractionCallbackResponse
		err error
	}
	results := make(chan result, 2)
	mux := handler.New()
	mux.Command("/report", func(e *handler.CommandEvent) error {
		typ := discord.InteractionResponseTypeCreateMessage
		var data discord.InteractionResponseData = discord.MessageCreate{Content: "3 present"}
		if e.SlashCommandInteractionData().Int("weeks") == 1 {
			typ, data = discord.InteractionResponseTypeDeferredCreateMessage, nil
		}
		cb, err := e.Client().Rest.CreateInteractionResponseWithCallback(e.ID(), e.Token(), discord.InteractionResponse{Type: typ, Data: data})
		results <- result{cb, err}
		if err == nil && typ == discord.InteractionResponseTypeDeferredCreateMessage {
			_, err = e.Client().Rest.UpdateInteractionResponse(e.ApplicationID(), e.Token(), discord.MessageUpdate{Content: ptrTo("done")})
		}
		return err
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGuildCommands(client.ApplicationID, w.guild, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}
	for _, weeks := range []int{0, 1} {
		resp, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report",
			Options: []Option{{Name: "who", Value: w.bob}, {Name: "weeks", Value: weeks}}})
		if err != nil {
			t.Fatal(err)
		}
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		deferred := weeks == 1
		if r.cb.Interaction.ResponseMessageID != resp.Message.ID || r.cb.Interaction.ResponseMessageLoading != deferred {
			t.Errorf("deferred=%v: callback interaction = %+v, response message %s", deferred, r.cb.Interaction, resp.Message.ID)
		}
		switch {
		case deferred && r.cb.Resource != nil:
			t.Errorf("deferred callback returned a resource %+v; Discord returns one only for message responses", r.cb.Resource)
		case !deferred && (r.cb.Resource == nil || r.cb.Resource.Message == nil || r.cb.Resource.Message.Content != "3 present"):
			t.Errorf("message callback resource = %+v", r.cb.Resource)
		}
	}
}

func TestSimDMInteractionOwnersAgreeWithMessage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	type seen struct {
		interaction, message map[discord.ApplicationIntegrationType]snowflake.ID
		err                  error
	}
	got := make(chan seen, 1)
	mux := handler.New()
	mux.Command("/report", func(e *handler.CommandEvent) error {
		if err := e.DeferCreateMessage(false); err != nil {
			return err
		}
		m, err := e.UpdateInteractionResponse(discord.MessageUpdate{Content: ptrTo("your week")})
		sn := seen{interaction: e.AuthorizingIntegrationOwners(), err: err}
		if m != nil && m.InteractionMetadata != nil {
			sn.message = m.InteractionMetadata.AuthorizingIntegrationOwners
		}
		got <- sn
		return err
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds, gateway.IntentDirectMessages), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGlobalCommands(client.ApplicationID, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invoke(ctx, Invocation{UserID: w.alice, Command: "report", Options: []Option{{Name: "who", Value: w.bob}}}); err != nil {
		t.Fatal(err)
	}
	sn := <-got
	if sn.err != nil {
		t.Fatal(sn.err)
	}
	want := map[discord.ApplicationIntegrationType]snowflake.ID{discord.ApplicationIntegrationTypeGuildInstall: 0}
	if len(sn.interaction) != 1 || sn.interaction[discord.ApplicationIntegrationTypeGuildInstall] != 0 {
		t.Errorf("interaction owners = %v, want %v (guild install, from the bot's DM)", sn.interaction, want)
	}
	if len(sn.message) != len(sn.interaction) || sn.message[discord.ApplicationIntegrationTypeGuildInstall] != sn.interaction[discord.ApplicationIntegrationTypeGuildInstall] {
		t.Errorf("message interaction_metadata owners = %v, interaction's = %v: Discord keeps them equal", sn.message, sn.interaction)
	}
}

func ptrTo[T any](v T) *T { return &v }
