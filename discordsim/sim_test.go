package discordsim

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/disgo/handler/middleware"
	"github.com/disgoorg/disgo/sharding"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim/conformance"
)

// decodeErrors is an slog.Handler that keeps disgo's warnings and errors
// about payloads it could not decode: such a payload is dropped, so in a
// test it is an event that silently never arrives.
type decodeErrors struct {
	mu      *sync.Mutex
	records *[]string
	attrs   []slog.Attr
}

func newDecodeErrors() *decodeErrors {
	return &decodeErrors{mu: &sync.Mutex{}, records: new([]string)}
}

// Enabled is true for every level on purpose: disgo's debug logs, taken
// under this handler's mutex, are what orders its heartbeat goroutine
// before the goroutines that close the connection (see WaitHeartbeat).
func (h *decodeErrors) Enabled(context.Context, slog.Level) bool { return true }

func (h *decodeErrors) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Level < slog.LevelWarn {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	text := b.String()
	lower := strings.ToLower(text)
	for _, w := range []string{"unmarshal", "parse", "parsing", "decode", "invalid message data", "unknown interaction"} {
		if strings.Contains(lower, w) {
			*h.records = append(*h.records, text)
			break
		}
	}
	return nil
}

func (h *decodeErrors) WithAttrs(as []slog.Attr) slog.Handler {
	return &decodeErrors{mu: h.mu, records: h.records, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *decodeErrors) WithGroup(string) slog.Handler { return h }

func (h *decodeErrors) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), *h.records...)
}

// testHeartbeat is short enough to beat once within a test and long
// enough not to beat twice: disgo v0.19.6 also races between its ACK
// handling and the second beat (see WaitHeartbeat).
const testHeartbeat = 1500 * time.Millisecond

// newSim starts a simulator for t. With DISCORD_OPENAPI_SPEC set, every
// answer it gives is checked against the spec's response schemas, and t
// fails on one Discord would not give.
func newSim(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = testHeartbeat
	}
	checker, err := conformance.FromEnv()
	if err != nil {
		t.Fatalf("load Discord's OpenAPI spec: %v", err)
	}
	if checker != nil && opts.CheckResponse == nil {
		opts.CheckResponse = checker.CheckResponse
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("new sim: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sim: %v", err)
		}
		for _, e := range s.ResponseConformanceErrors() {
			t.Errorf("simulator answer unlike Discord's: %s", e)
		}
	})
	return s
}

var allCaches = cache.WithCaches(cache.FlagGuilds, cache.FlagMembers, cache.FlagVoiceStates, cache.FlagChannels, cache.FlagRoles, cache.FlagGuildScheduledEvents)

// newClient builds a real disgo client against the sim and fails the test
// at cleanup if disgo logged a decode error.
func newClient(t *testing.T, s *Server, opts ...bot.ConfigOpt) *bot.Client {
	t.Helper()
	logs := newDecodeErrors()
	var acks atomic.Int64
	all := append(s.ClientOpts(), bot.WithLogger(slog.New(logs)), bot.WithCacheConfigOpts(allCaches),
		// disgo's read loop stores the last sequence number and its heartbeat
		// goroutine reads it with no lock between; taking the log mutex on
		// every event (after the store) supplies the missing ordering.
		bot.WithEventListeners(bot.NewListenerFunc(func(bot.Event) { logs.get() })),
		bot.WithEventListenerFunc(func(*events.HeartbeatAck) { acks.Add(1) }))
	client, err := disgo.New(s.Token(), append(all, opts...)...)
	if err != nil {
		t.Fatalf("disgo.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*s.opts.HeartbeatInterval)
		defer cancel()
		beforeClose(t, ctx, s, logs, &acks)
		client.Close(ctx)
		for _, r := range logs.get() {
			t.Errorf("disgo logged a decode problem: %s", r)
		}
		for _, u := range s.UnknownRoutes() {
			t.Logf("unknown route: %s", u)
		}
	})
	return client
}

// beforeClose orders disgo's heartbeat goroutine before whatever closes
// the connection next, so -race does not flag disgo's own unsynchronised
// fields: wait for its first beat, then take the log mutex it beat under.
// It also waits until the client has processed the ACK of every beat:
// disgo's zstd transport frees its decoder on Close while the read loop may
// still be decoding a frame.
func beforeClose(t *testing.T, ctx context.Context, s *Server, logs *decodeErrors, acks *atomic.Int64) {
	t.Helper()
	if s.Sessions() > 0 {
		if err := s.WaitHeartbeat(ctx); err != nil {
			t.Errorf("no heartbeat before close: %v", err)
		}
	}
	beats := 0
	for _, f := range s.Frames() {
		if !f.Out && f.Op == 1 {
			beats++
		}
	}
	eventually(t, ctx, "heartbeat ACKs processed", func() bool { return acks.Load() >= int64(beats) })
	logs.get()
}

func intents(i ...gateway.Intents) bot.ConfigOpt {
	return bot.WithGatewayConfigOpts(gateway.WithIntents(i...))
}

// openAndWait opens the gateway and waits until every guild is ready.
func openAndWait(t *testing.T, ctx context.Context, client *bot.Client, ready <-chan struct{}) {
	t.Helper()
	if err := client.OpenGateway(ctx); err != nil {
		t.Fatalf("open gateway: %v", err)
	}
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("guilds never became ready")
	}
}

func guildsReady() (bot.ConfigOpt, <-chan struct{}) {
	ch := make(chan struct{}, 16)
	return bot.WithEventListenerFunc(func(*events.GuildsReady) { ch <- struct{}{} }), ch
}

// eventually polls cond until it holds or the context ends; disgo's cache
// has no change notifications to wait on.
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

type world struct {
	guild, voiceA, voiceB, stage, text, afk, role snowflake.ID
	alice, bob                                    snowflake.ID
}

func buildWorld(s *Server) world {
	var w world
	w.guild = s.AddGuild("Raid Night")
	w.voiceA = s.AddChannel(w.guild, "General", discord.ChannelTypeGuildVoice)
	w.voiceB = s.AddChannel(w.guild, "Raid", discord.ChannelTypeGuildVoice)
	w.stage = s.AddChannel(w.guild, "Stage", discord.ChannelTypeGuildStageVoice)
	w.text = s.AddChannel(w.guild, "general", discord.ChannelTypeGuildText)
	w.afk = s.AddChannel(w.guild, "AFK", discord.ChannelTypeGuildVoice)
	s.SetAFKChannel(w.guild, w.afk)
	w.role = s.AddRole(w.guild, "Officer", discord.PermissionManageEvents)
	w.alice = s.AddMember(w.guild, MemberSpec{Username: "alice", GlobalName: "Alice", Nick: "Ali", Roles: []snowflake.ID{w.role}})
	w.bob = s.AddMember(w.guild, MemberSpec{Username: "bob", Locale: "de"})
	s.SetVoice(w.guild, w.alice, w.voiceA, VoiceFlags{SelfMute: true})
	return w
}

func TestSimConnectFillsCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		intents     []gateway.Intents
		wantBob     bool // bob is not in voice: only sent with GUILD_PRESENCES
		wantVoice   bool
		wantMembers int
	}{
		{"voice and members", []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates}, false, true, 2},
		{"with presences", []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates, gateway.IntentGuildPresences}, true, true, 4},
		{"no voice intent", []gateway.Intents{gateway.IntentGuilds}, false, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s := newSim(t, Options{})
			w := buildWorld(s)
			readyOpt, ready := guildsReady()
			client := newClient(t, s, intents(tc.intents...), readyOpt)
			openAndWait(t, ctx, client, ready)

			g, ok := client.Caches.Guild(w.guild)
			if !ok || g.Name != "Raid Night" || g.AfkChannelID == nil || *g.AfkChannelID != w.afk || g.PreferredLocale != "en-US" {
				t.Fatalf("guild in cache = %+v, %v", g, ok)
			}
			if client.ID() != s.BotUserID() {
				t.Errorf("bot id = %s, want %s", client.ID(), s.BotUserID())
			}
			for _, id := range []snowflake.ID{w.voiceA, w.stage, w.text, w.afk} {
				if _, ok := client.Caches.Channel(id); !ok {
					t.Errorf("channel %s missing from cache", id)
				}
			}
			if r, ok := client.Caches.Role(w.guild, w.guild); !ok || r.Name != "@everyone" {
				t.Errorf("@everyone role = %+v, %v", r, ok)
			}
			alice, ok := client.Caches.Member(w.guild, w.alice)
			if !ok || alice.Nick == nil || *alice.Nick != "Ali" || alice.User.Username != "alice" || alice.JoinedAt == nil || len(alice.RoleIDs) != 1 {
				t.Errorf("alice = %+v, %v", alice, ok)
			}
			if _, ok := client.Caches.Member(w.guild, w.bob); ok != tc.wantBob {
				t.Errorf("bob cached = %v, want %v", ok, tc.wantBob)
			}
			if n := client.Caches.MemberCache().Len(); n != tc.wantMembers {
				t.Errorf("members cached = %d, want %d", n, tc.wantMembers)
			}
			vs, ok := client.Caches.VoiceState(w.guild, w.alice)
			if ok != tc.wantVoice {
				t.Fatalf("voice state cached = %v, want %v", ok, tc.wantVoice)
			}
			if ok && (vs.ChannelID == nil || *vs.ChannelID != w.voiceA || !vs.SelfMute) {
				t.Errorf("alice voice = %+v", vs)
			}
		})
	}
}

func TestSimVoiceStateUpdates(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	moves := make(chan *events.GuildVoiceMove, 4)
	leaves := make(chan *events.GuildVoiceLeave, 4)
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt,
		intents(gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates),
		bot.WithEventListenerFunc(func(e *events.GuildVoiceMove) { moves <- e }),
		bot.WithEventListenerFunc(func(e *events.GuildVoiceLeave) { leaves <- e }))
	openAndWait(t, ctx, client, ready)

	s.SetVoice(w.guild, w.alice, w.voiceB, VoiceFlags{SelfDeaf: true, Mute: true})
	select {
	case e := <-moves:
		if e.Member.User.ID != w.alice || *e.OldVoiceState.ChannelID != w.voiceA {
			t.Errorf("move event = %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("no GuildVoiceMove")
	}
	vs, ok := client.Caches.VoiceState(w.guild, w.alice)
	if !ok || *vs.ChannelID != w.voiceB || !vs.SelfDeaf || !vs.GuildMute || vs.SelfMute {
		t.Errorf("voice state after move = %+v, %v", vs, ok)
	}
	s.SetVoice(w.guild, w.alice, 0, VoiceFlags{})
	select {
	case <-leaves:
	case <-ctx.Done():
		t.Fatal("no GuildVoiceLeave")
	}
	if _, ok := client.Caches.VoiceState(w.guild, w.alice); ok {
		t.Error("voice state still cached after leave")
	}
}

func TestSimResumeReplaysMissedDispatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		trigger func(s *Server)
	}{
		{"forced close 4000", func(s *Server) { s.Disconnect(4000) }},
		{"op 7 reconnect", func(s *Server) { s.RequestReconnect() }},
		{"resumable op 9", func(s *Server) { s.InvalidateSession(true) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			s := newSim(t, Options{})
			w := buildWorld(s)
			resumed := make(chan struct{}, 1)
			joins := make(chan snowflake.ID, 4)
			readyOpt, ready := guildsReady()
			client := newClient(t, s, readyOpt,
				intents(gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates),
				bot.WithEventListenerFunc(func(*events.Resumed) { resumed <- struct{}{} }),
				bot.WithEventListenerFunc(func(e *events.GuildVoiceJoin) { joins <- e.VoiceState.UserID }))
			openAndWait(t, ctx, client, ready)

			if err := s.WaitHeartbeat(ctx); err != nil { // see beforeClose
				t.Fatal(err)
			}
			tc.trigger(s)
			// Sent while the client is away (or about to leave): it must be replayed.
			s.SetVoice(w.guild, w.bob, w.voiceB, VoiceFlags{})
			select {
			case id := <-joins:
				if id != w.bob {
					t.Errorf("join of %s, want bob", id)
				}
			case <-ctx.Done():
				t.Fatal("dispatch lost across the reconnect")
			}
			select {
			case <-resumed:
			case <-ctx.Done():
				t.Fatal("no RESUMED")
			}
			if got := s.Identifies(); got != 1 {
				t.Errorf("identifies = %d, want 1", got)
			}
			if got := s.Resumes(); got != 1 {
				t.Errorf("resumes = %d, want 1", got)
			}
			if err := s.WaitSessions(ctx, 1); err != nil {
				t.Fatal(err)
			}
			// The client must have dialled READY's resume_gateway_url.
			var resumedOn int
			for _, f := range s.Frames() {
				if f.Out && f.Event == "RESUMED" {
					resumedOn = f.Conn
				}
			}
			if resumedOn < 2 {
				t.Errorf("RESUMED sent on connection %d", resumedOn)
			}
		})
	}
}

func TestSimInvalidSessionForcesIdentify(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The fresh IDENTIFY must come 5 s after the first, or the gateway
	// answers op 9 as Discord does (max_concurrency 1), and disgo v0.19.6
	// races on an op 9 during IDENTIFY (see Traps in doc.go). disgo beats
	// first one interval after HELLO, so with 6 s the op 9 below comes
	// after 6 s and before the second beat, which would race too.
	s := newSim(t, Options{HeartbeatInterval: 6 * time.Second})
	buildWorld(s)
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds))
	openAndWait(t, ctx, client, ready)

	if err := s.WaitHeartbeat(ctx); err != nil { // see beforeClose
		t.Fatal(err)
	}
	s.InvalidateSession(false)
	if err := s.WaitIdentifies(ctx, 2); err != nil {
		t.Fatalf("no fresh IDENTIFY after op 9: %v", err)
	}
	if err := s.WaitSessions(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := s.Resumes(); got != 0 {
		t.Errorf("resumes = %d, want 0", got)
	}
	for _, a := range s.IdentifyAttempts() {
		if !a.Accepted {
			t.Errorf("IDENTIFY refused: %+v", a)
		}
	}
}

// tinyPNG renders a 3x2 image with a red top-left pixel.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var reportCommand = discord.SlashCommandCreate{
	Name:        "report",
	Description: "Attendance report",
	Options: []discord.ApplicationCommandOption{
		discord.ApplicationCommandOptionUser{Name: "who", Description: "Member", Required: true},
		discord.ApplicationCommandOptionInt{Name: "weeks", Description: "Weeks back"},
		discord.ApplicationCommandOptionRole{Name: "role", Description: "Role"},
		discord.ApplicationCommandOptionString{Name: "game", Description: "Game", Autocomplete: true},
	},
}

func TestSimSlashCommandDeferThenEditWithPNG(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	pngData := tinyPNG(t)

	type seen struct {
		who         discord.ResolvedMember
		weeks       int
		role        discord.Role
		locale      discord.Locale
		guildLocale discord.Locale
		perms       discord.Permissions
	}
	got := make(chan seen, 1)
	mux := handler.New()
	mux.Route("/report", func(r handler.Router) {
		r.Use(middleware.GoDefer(discord.InteractionTypeApplicationCommand, false, false))
		r.SlashCommand("/", func(data discord.SlashCommandInteractionData, e *handler.CommandEvent) error {
			got <- seen{who: data.Member("who"), weeks: data.Int("weeks"), role: data.Role("role"),
				locale: e.Locale(), guildLocale: *e.GuildLocale(), perms: e.Member().Permissions}
			_, err := e.UpdateInteractionResponse(discord.MessageUpdate{
				Files: []*discord.File{discord.NewFile("report.png", "", bytes.NewReader(pngData))},
			})
			return err
		})
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds, gateway.IntentGuildVoiceStates), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)
	if err := handler.SyncCommands(client, []discord.ApplicationCommandCreate{reportCommand}, []snowflake.ID{w.guild}); err != nil {
		t.Fatalf("sync commands: %v", err)
	}
	s.SetGuildLocale(w.guild, "de")

	resp, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.bob, Command: "report",
		Options: []Option{{Name: "who", Value: w.alice}, {Name: "weeks", Value: 4}, {Name: "role", Value: w.role}}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Deferred || resp.Failed || resp.Ephemeral || len(resp.Files) != 1 {
		t.Fatalf("response = %+v", resp)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(resp.Files[0].Data))
	if err != nil || format != "png" || cfg.Width != 3 || cfg.Height != 2 || resp.Files[0].ContentType != "image/png" {
		t.Errorf("file = %s %q, decode %v %s %dx%d", resp.Files[0].Name, resp.Files[0].ContentType, err, format, cfg.Width, cfg.Height)
	}
	sn := <-got
	if sn.who.User.ID != w.alice || sn.who.Nick == nil || *sn.who.Nick != "Ali" || sn.weeks != 4 || sn.role.ID != w.role {
		t.Errorf("options seen by the bot = %+v", sn)
	}
	if sn.locale != "de" || sn.guildLocale != "de" || !sn.perms.Has(discord.PermissionViewChannel) || sn.perms.Has(discord.PermissionManageEvents) {
		t.Errorf("context seen by the bot = %+v", sn)
	}
	msgs := s.Messages(w.text)
	if len(msgs) != 1 || !msgs[0].Interaction || len(msgs[0].Files) != 1 {
		t.Errorf("messages = %+v", msgs)
	}
	if f := s.FailedInteractions(); len(f) != 0 {
		t.Errorf("failed interactions: %v", f)
	}
	if raw := s.Commands(w.guild); len(raw) != 1 || !strings.Contains(string(raw[0]), `"name":"report"`) {
		t.Errorf("commands = %s", raw)
	}
}

func TestSimAutocomplete(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	mux := handler.New()
	mux.Autocomplete("/report", func(e *handler.AutocompleteEvent) error {
		typed := e.Data.String("game")
		return e.AutocompleteResult([]discord.AutocompleteChoice{
			discord.AutocompleteChoiceString{Name: typed + " Classic", Value: "classic"},
		})
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGlobalCommands(client.ApplicationID, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}
	choices, err := s.Autocomplete(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report",
		Options: []Option{{Name: "game", Value: "Wo", Focused: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 1 || choices[0].ChoiceName() != "Wo Classic" {
		t.Errorf("choices = %+v", choices)
	}
}

func TestSimInteractionRules(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock := time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	s := newSim(t, Options{Now: now})
	w := buildWorld(s)
	secondErr := make(chan error, 1)
	tokens := make(chan string, 1)
	mux := handler.New()
	mux.Command("/report", func(e *handler.CommandEvent) error {
		err := e.CreateMessage(discord.MessageCreate{Content: "hello", Flags: discord.MessageFlagEphemeral})
		secondErr <- e.CreateMessage(discord.MessageCreate{Content: "again"})
		tokens <- e.Token()
		return err
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)
	if _, err := client.Rest.SetGuildCommands(client.ApplicationID, w.guild, []discord.ApplicationCommandCreate{reportCommand}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report", Options: []Option{{Name: "who", Value: w.bob}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Deferred || !resp.Ephemeral || resp.Content != "hello" {
		t.Errorf("response = %+v", resp)
	}
	if err := <-secondErr; err == nil || !strings.Contains(err.Error(), "40060") {
		t.Errorf("second response error = %v, want 40060", err)
	}
	// Token expiry follows the injected clock.
	clockMu.Lock()
	clock = clock.Add(16 * time.Minute)
	clockMu.Unlock()
	_, err = client.Rest.CreateFollowupMessage(client.ApplicationID, <-tokens, discord.MessageCreate{Content: "late"})
	if err == nil || !strings.Contains(err.Error(), "50027") {
		t.Errorf("follow-up after 16 min: %v, want 50027", err)
	}
	failed := strings.Join(s.FailedInteractions(), "\n")
	if !strings.Contains(failed, "second initial response") || !strings.Contains(failed, "token used after") {
		t.Errorf("failed interactions = %q", failed)
	}
	if _, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "nope"}); err == nil {
		t.Error("invoking an unregistered command succeeded")
	}
}

func TestSimUnacknowledgedInteractionFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	// No bot at all: nobody answers, as when the bot is down.
	req, _ := http.NewRequest("PUT", s.APIURL()+"/applications/"+s.AppID().String()+"/commands",
		strings.NewReader(`[{"name":"report","description":"Attendance report"}]`))
	req.Header.Set("Authorization", "Bot "+s.Token())
	req.Header.Set("Content-Type", "application/json")
	rs, err := http.DefaultClient.Do(req)
	if err != nil || rs.StatusCode != 200 {
		t.Fatalf("put commands: %v %v", rs, err)
	}
	rs.Body.Close()
	start := time.Now()
	resp, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report"})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Failed || time.Since(start) < ackDeadline {
		t.Errorf("response = %+v after %s", resp, time.Since(start))
	}
	if f := s.FailedInteractions(); len(f) != 1 || !strings.Contains(f[0], "not acknowledged") {
		t.Errorf("failed = %v", f)
	}
}

func TestSimRateLimit429IsRetried(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	s.SetRateLimits(true)
	s.FailNext("POST", "/channels/{id}/messages", 1, http.StatusTooManyRequests, time.Second)
	client := newClient(t, s)
	start := time.Now()
	msg, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "Attendance: 3"})
	if err != nil {
		t.Fatalf("create message: %v", err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("retried after %s, before Retry-After", elapsed)
	}
	if msg.Content != "Attendance: 3" || msg.ChannelID != w.text || msg.Author.ID != s.BotUserID() {
		t.Errorf("message = %+v", msg)
	}
	var statuses []int
	for _, r := range s.Requests() {
		if r.Route == "/channels/{channel}/messages" {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[429 200]" {
		t.Errorf("statuses = %v", statuses)
	}
	if got, err := s.WaitMessages(ctx, w.text, 1); err != nil || got[0].Content != "Attendance: 3" {
		t.Errorf("messages = %+v, %v", got, err)
	}
}

func TestSimShardingSplitsGuilds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{Shards: 2})
	var guilds []snowflake.ID
	for i := 0; i < 4; i++ {
		guilds = append(guilds, s.AddGuild(fmt.Sprintf("g%d", i)))
	}
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, bot.WithShardManagerConfigOpts(
		sharding.WithShardIDs(1),
		sharding.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds)),
	))
	if err := client.OpenShardManager(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("shard never ready")
	}
	for _, id := range guilds {
		_, cached := client.Caches.Guild(id)
		want := (uint64(id)>>22)%2 == 1
		if cached != want {
			t.Errorf("guild %s cached = %v, want %v", id, cached, want)
		}
	}
	if n := client.Caches.GuildCache().Len(); n != 2 {
		t.Errorf("guilds cached = %d, want 2", n)
	}
}

func TestSimIntentsFilterDispatches(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds))
	openAndWait(t, ctx, client, ready)

	s.AddMember(w.guild, MemberSpec{Username: "carol"})
	s.SetVoice(w.guild, w.bob, w.voiceA, VoiceFlags{})
	s.CreateScheduledEvent(w.guild, ScheduledEventSpec{Name: "Raid", ChannelID: w.voiceA})
	s.RenameChannel(w.guild, w.voiceA, "Lobby") // GUILDS: delivered, and a marker to wait for
	eventually(t, ctx, "channel rename", func() bool {
		c, ok := client.Caches.Channel(w.voiceA)
		return ok && c.Name() == "Lobby"
	})
	for _, f := range s.Frames() {
		switch f.Event {
		case "GUILD_MEMBER_ADD", "VOICE_STATE_UPDATE", "GUILD_SCHEDULED_EVENT_CREATE":
			t.Errorf("%s sent without its intent", f.Event)
		}
		if f.Event == "GUILD_CREATE" && (strings.Contains(f.Data, `"voice_states":[{`) || strings.Contains(f.Data, `"username":"bob"`)) {
			t.Errorf("GUILD_CREATE carries voice states or members the intents exclude: %s", f.Data)
		}
	}
}

func TestSimManyEventsDecodeCleanly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	ev := s.CreateScheduledEvent(w.guild, ScheduledEventSpec{Name: "Raid", ChannelID: w.voiceA, Start: time.Now().Add(time.Hour)})
	var mu sync.Mutex
	seen := map[string]bool{}
	mark := func(name string) { mu.Lock(); seen[name] = true; mu.Unlock() }
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt,
		intents(gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates, gateway.IntentGuildScheduledEvents, gateway.IntentGuildMessages),
		bot.WithEventListenerFunc(func(*events.GuildMemberJoin) { mark("join") }),
		bot.WithEventListenerFunc(func(*events.GuildMemberUpdate) { mark("update") }),
		bot.WithEventListenerFunc(func(*events.GuildMemberLeave) { mark("leave") }),
		bot.WithEventListenerFunc(func(*events.GuildChannelCreate) { mark("channel") }),
		bot.WithEventListenerFunc(func(*events.GuildScheduledEventCreate) { mark("event-create") }),
		bot.WithEventListenerFunc(func(*events.GuildScheduledEventUpdate) { mark("event-update") }),
		bot.WithEventListenerFunc(func(*events.GuildScheduledEventUserAdd) { mark("event-user-add") }),
		bot.WithEventListenerFunc(func(*events.GuildScheduledEventUserRemove) { mark("event-user-remove") }),
		bot.WithEventListenerFunc(func(*events.GuildScheduledEventDelete) { mark("event-delete") }),
		bot.WithEventListenerFunc(func(*events.GuildUpdate) { mark("guild-update") }),
		bot.WithEventListenerFunc(func(*events.RoleCreate) { mark("role") }),
		bot.WithEventListenerFunc(func(*events.GuildMessageCreate) { mark("message") }),
	)
	openAndWait(t, ctx, client, ready)
	if e, ok := client.Caches.GuildScheduledEvent(w.guild, ev); !ok || e.Name != "Raid" {
		t.Errorf("scheduled event from GUILD_CREATE = %+v, %v", e, ok)
	}

	carol := s.AddMember(w.guild, MemberSpec{Username: "carol"})
	s.UpdateMember(w.guild, carol, MemberSpec{Username: "carol", Nick: "Caz"})
	s.AddChannel(w.guild, "Overflow", discord.ChannelTypeGuildStageVoice)
	s.AddRole(w.guild, "Raider", 0)
	s.SetGuildLocale(w.guild, "fr")
	s.UpdateScheduledEvent(w.guild, ev, ScheduledEventSpec{Name: "Raid", ChannelID: w.voiceA, Status: discord.ScheduledEventStatusActive})
	s.AddInterested(w.guild, ev, carol)
	s.RemoveInterested(w.guild, ev, carol)
	s.DeleteScheduledEvent(w.guild, s.CreateScheduledEvent(w.guild, ScheduledEventSpec{Name: "Outside", Location: "Park"}))
	s.RemoveMember(w.guild, carol)
	if _, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "hi", Embeds: []discord.Embed{{Title: "Week 9"}}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"join", "update", "leave", "channel", "event-create", "event-update", "event-user-add", "event-user-remove", "event-delete", "guild-update", "role", "message"}
	eventually(t, ctx, "all events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range want {
			if !seen[k] {
				return false
			}
		}
		return true
	})
	members, err := client.Rest.GetMembers(w.guild, 2, 0)
	if err != nil || len(members) != 2 {
		t.Errorf("list members page 1 = %d, %v", len(members), err)
	}
	users, err := client.Rest.GetGuildScheduledEventUsers(w.guild, ev, true, 0, 0, 100)
	if err != nil || len(users) != 0 {
		t.Errorf("event users = %+v, %v", users, err)
	}
}

func TestSimRESTErrors(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	tests := []struct {
		name, method, path, body, ctype string
		auth                            bool
		wantStatus                      int
		wantBody                        string
	}{
		{"unknown route", "GET", "/nope/nope", "", "", true, 404, `{"code":0,"message":"404: Not Found"}`},
		{"wrong method", "DELETE", "/users/@me", "", "", true, 405, `{"code":0,"message":"405: Method Not Allowed"}`},
		{"no token", "GET", "/users/@me", "", "", false, 401, `{"code":0,"message":"401: Unauthorized"}`},
		{"me", "GET", "/users/@me", "", "", true, 200, `"bot":true`},
		{"gateway needs no token", "GET", "/gateway", "", "", false, 200, `"url":"ws://`},
		{"invalid JSON", "POST", "/channels/" + w.text.String() + "/messages", "{", "application/json", true, 400, `"code":50109`},
		{"empty message", "POST", "/channels/" + w.text.String() + "/messages", `{"content":""}`, "application/json", true, 400, `"code":50006`},
		{"too long", "POST", "/channels/" + w.text.String() + "/messages", `{"content":"` + strings.Repeat("x", 2001) + `"}`, "application/json", true, 400, `"errors":{"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH"`},
		{"wrong type", "POST", "/channels/" + w.text.String() + "/messages", `{"content":5}`, "application/json", true, 400, `"code":50035`},
		{"unknown channel", "POST", "/channels/123/messages", `{"content":"x"}`, "application/json", true, 404, `"code":10003`},
		{"bad command name", "PUT", "/applications/" + s.AppID().String() + "/commands", `[{"name":"Report","description":"x"}]`, "application/json", true, 400, `APPLICATION_COMMAND_INVALID_NAME`},
		{"unknown interaction", "POST", "/interactions/1/abc/callback", `{"type":4,"data":{"content":"x"}}`, "application/json", false, 404, `"code":10062`},
		{"members page", "GET", "/guilds/" + w.guild.String() + "/members?limit=1001", "", "", true, 400, `"limit"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.APIURL()+tc.path, strings.NewReader(tc.body))
			if tc.auth {
				req.Header.Set("Authorization", "Bot "+s.Token())
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rs, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Body.Close()
			body, _ := io.ReadAll(rs.Body)
			if rs.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("%s %s = %d %s, want %d containing %s", tc.method, tc.path, rs.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if !json.Valid(body) {
				t.Errorf("body is not JSON: %s", body)
			}
		})
	}
	unknown := s.UnknownRoutes()
	if len(unknown) != 2 || unknown[0] != "GET /nope/nope" {
		t.Errorf("unknown routes = %v", unknown)
	}
}

func TestSimMultipartMessageAndConformanceHook(t *testing.T) {
	t.Parallel()
	var hooked sync.Map
	s := newSim(t, Options{CheckRequest: func(r *http.Request, body []byte) error {
		hooked.Store(r.Method+" "+r.URL.Path, true)
		if strings.Contains(string(body), "forbidden-word") {
			return fmt.Errorf("body mentions forbidden-word")
		}
		return nil
	}})
	w := buildWorld(s)
	client := newClient(t, s)
	pngData := tinyPNG(t)
	msg, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{
		Content: "chart",
		Files:   []*discord.File{discord.NewFile("chart.png", "weekly chart", bytes.NewReader(pngData))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Filename != "chart.png" || *msg.Attachments[0].Width != 3 ||
		msg.Attachments[0].Description == nil || *msg.Attachments[0].Description != "weekly chart" {
		t.Errorf("attachments = %+v", msg.Attachments)
	}
	rs, err := http.Get(msg.Attachments[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rs.Body)
	rs.Body.Close()
	if !bytes.Equal(got, pngData) {
		t.Error("attachment URL does not serve the uploaded file")
	}
	if _, err := client.Rest.CreateMessage(w.text, discord.MessageCreate{Content: "forbidden-word"}); err == nil {
		t.Error("conformance failure did not fail the request")
	}
	if c := s.ConformanceErrors(); len(c) != 1 {
		t.Errorf("conformance errors = %v", c)
	}
	if _, ok := hooked.Load("POST /api/v10/channels/" + w.text.String() + "/messages"); !ok {
		t.Error("CheckRequest not called")
	}
	if m := s.Messages(w.text); len(m) != 1 || m[0].Files[0].ContentType != "image/png" {
		t.Errorf("messages = %+v", m)
	}
}

// TestMain raises test parallelism when -parallel was not given: these
// tests spend their time waiting on disgo's 1 s connect delay and the
// heartbeat, not on CPU, and the default (GOMAXPROCS) serialises them on
// small CI machines.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "16")
	}
	os.Exit(m.Run())
}
