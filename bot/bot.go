// Package bot is rollcall's Discord side: the disgo client, the poller that
// samples who is in an event's voice channels, the reporter that posts each
// report exactly once, and the bot's presence. Commands plug in as event
// listeners (package commands); the bot does not know them.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo"
	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/clock"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
)

// Intents rollcall needs. GuildMembers is privileged: enable "Server Members
// Intent" for the application in the Developer Portal.
var Intents = []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates}

// intents adds GuildScheduledEvents when a guild records native events.
func intents(gs []*settings.Guild) []gateway.Intents {
	for _, g := range gs {
		if g.NativeEvents {
			return append(Intents[:len(Intents):len(Intents)], gateway.IntentGuildScheduledEvents)
		}
	}
	return Intents
}

// Renderer draws charts. *render.Renderer implements it; a nil Renderer
// means every report goes out as a text table.
type Renderer interface {
	Timeline(ctx context.Context, c render.TimelineChart) ([]byte, error)
	Bars(ctx context.Context, c render.BarChart) ([]byte, error)
}

// Options are what a Bot is built from.
type Options struct {
	// Settings are the guilds served and their settings.
	Settings *settings.Registry
	// Token is the bot token.
	Token string
	// PollInterval is how often voice is sampled; DBOutageWindow how long
	// samples are kept in memory while the database is unreachable;
	// CatchUp how long after its due time a missed report is still posted.
	PollInterval, DBOutageWindow, CatchUp time.Duration
	Store                                 *store.Store
	Renderer                              Renderer
	Clock                                 clock.Clock
	Logger                                *slog.Logger
	// ClientOpts are extra disgo options, e.g. the Discord simulator's URLs.
	ClientOpts []disgobot.ConfigOpt
	// Listeners get every gateway event, e.g. the slash command router.
	Listeners []disgobot.EventListener
	// Instance names this process in report claims, so two processes on
	// one database can tell their claims apart.
	Instance string
	// ClaimLease is how long a report claim of a process that died blocks
	// others; default 2 minutes.
	ClaimLease time.Duration
}

// Bot is a running rollcall bot.
type Bot struct {
	opts   Options
	reg    *settings.Registry
	store  *store.Store
	render Renderer
	clock  clock.Clock
	log    *slog.Logger
	client *disgobot.Client
	inst   string
	lease  time.Duration

	readyMu  sync.Mutex
	ready    map[snowflake.ID]bool // guilds whose GUILD_CREATE arrived since the last READY
	startErr chan error            // first fatal problem found while connecting

	running  atomic.Bool                   // set once start-up checks passed
	native   map[snowflake.ID]*nativeEvent // Discord Scheduled Events being followed; tick goroutine only
	poll     poller
	reports  reporter
	presence string
}

// New builds the bot and its disgo client; nothing connects until Run.
func New(opts Options) (*Bot, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ClaimLease == 0 {
		opts.ClaimLease = 2 * time.Minute
	}
	b := &Bot{
		opts: opts, reg: opts.Settings, store: opts.Store, render: opts.Renderer, clock: opts.Clock, log: opts.Logger,
		inst: opts.Instance, lease: opts.ClaimLease,
		ready:    map[snowflake.ID]bool{},
		startErr: make(chan error, 1),
		native:   map[snowflake.ID]*nativeEvent{},
	}
	b.poll.init()
	b.reports.init()
	clientOpts := []disgobot.ConfigOpt{
		disgobot.WithLogger(slog.New(newRedactHandler(b.log.Handler(), opts.Token)).With(slog.String("component", "disgo"))),
		disgobot.WithGatewayConfigOpts(gateway.WithIntents(intents(b.reg.All())...)),
		disgobot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds, cache.FlagMembers, cache.FlagVoiceStates, cache.FlagChannels, cache.FlagRoles, cache.FlagGuildScheduledEvents)),
		disgobot.WithEventListenerFunc(b.onReady),
		disgobot.WithEventListenerFunc(b.onGuildReady),
		disgobot.WithEventListenerFunc(b.onMemberJoin),
		disgobot.WithEventListenerFunc(b.onMemberUpdate),
		disgobot.WithEventListenerFunc(b.onMemberLeave),
		disgobot.WithEventListenerFunc(b.onScheduledEventCreate),
		disgobot.WithEventListenerFunc(b.onScheduledEventUserAdd),
		disgobot.WithEventListenerFunc(b.onScheduledEventUserRemove),
	}
	clientOpts = append(clientOpts, opts.ClientOpts...)
	clientOpts = append(clientOpts, disgobot.WithEventListeners(opts.Listeners...))
	client, err := disgo.New(opts.Token, clientOpts...)
	if err != nil {
		// disgo's errors do not include the token, but say where it came from.
		return nil, fmt.Errorf("create Discord client: %w", err)
	}
	b.client = client
	return b, nil
}

// Client is the disgo client, for the command router and tests.
func (b *Bot) Client() *disgobot.Client { return b.client }

// Run connects, checks the configuration against the guilds Discord sends,
// then polls and reports until ctx ends. It returns nil on a clean shutdown.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.client.OpenGateway(ctx); err != nil {
		return fmt.Errorf("connect to the Discord gateway: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.client.Close(closeCtx)
	}()
	if err := b.waitGuilds(ctx); err != nil {
		return err
	}
	b.running.Store(true)
	b.log.Info("rollcall is running", slog.Int("guilds", len(b.reg.All())), slog.Duration("poll_interval", b.opts.PollInterval))
	b.catchUp(ctx, b.clock.Now())
	for {
		select {
		case <-ctx.Done():
			// Shutting down: store what is buffered, ignoring the backoff.
			flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			b.flush(flushCtx, b.clock.Now())
			cancel()
			if n := len(b.poll.pending); n > 0 {
				b.log.Error("shutting down with attendance not stored: the database is unreachable", slog.Int("member_chunks", n))
			}
			return nil
		case err := <-b.startErr:
			return err
		case now := <-b.clock.After(b.untilNextTick(b.clock.Now())):
			b.Tick(ctx, now)
		}
	}
}

// untilNextTick aligns polls to multiples of the interval so that each
// minute gets the same number of samples whatever time the bot started.
func (b *Bot) untilNextTick(now time.Time) time.Duration {
	p := b.opts.PollInterval
	d := p - time.Duration(now.UnixNano())%p
	if d <= 0 {
		d = p
	}
	return d
}

// Tick does one poll: record who is present, post reports of events that
// ended, update the presence. Exported for benchmarks; Run calls it.
func (b *Bot) Tick(ctx context.Context, now time.Time) {
	b.sample(ctx, now)
	b.reportEnded(ctx, now)
	b.updatePresence(ctx, now)
}

// waitGuilds waits until every configured guild arrived and was checked.
func (b *Bot) waitGuilds(ctx context.Context) error {
	// A network wait, not domain time: real time even under a fake clock.
	timeout := time.After(2 * time.Minute)
	for {
		b.readyMu.Lock()
		n := len(b.ready)
		b.readyMu.Unlock()
		if n == len(b.reg.All()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-b.startErr:
			return err
		case <-timeout:
			return b.missingGuildsError()
		case <-time.After(20 * time.Millisecond):
			// Polling a map is simpler than plumbing another channel through
			// disgo's listeners, and this only runs at start-up.
		}
	}
}

func (b *Bot) missingGuildsError() error {
	b.readyMu.Lock()
	defer b.readyMu.Unlock()
	for _, g := range b.reg.All() {
		if !b.ready[snowflake.ID(g.ID)] {
			return fmt.Errorf("config: %s.id: the bot is not in guild %d (or Discord did not send it): invite the bot to that server first", g.Key, g.ID)
		}
	}
	return errors.New("guilds did not arrive")
}

func (b *Bot) fail(err error) {
	select {
	case b.startErr <- err:
	default:
	}
}

// onReady drops the voice states of every guild in READY: GUILD_CREATE only
// adds to disgo's cache, so after a fresh session members who left voice
// while the bot was away would otherwise stay "present" forever.
func (b *Bot) onReady(e *events.Ready) {
	b.readyMu.Lock()
	b.ready = map[snowflake.ID]bool{}
	b.readyMu.Unlock()
	for _, g := range e.Guilds {
		e.Client().Caches.RemoveVoiceStatesByGuildID(g.ID)
	}
	b.log.Info("gateway session ready", slog.Int("guilds", len(e.Guilds)))
}

func (b *Bot) onGuildReady(e *events.GuildReady) {
	g, ok := b.reg.Get(uint64(e.GuildID))
	if !ok {
		b.log.Warn("guild is not configured, ignoring it", slog.Uint64("guild_id", uint64(e.GuildID)))
		return
	}
	if err := b.checkChannels(e.Client().Caches, g); err != nil {
		if !b.running.Load() {
			b.fail(err)
			return
		}
		// Once running, a deleted channel must not stop recording elsewhere.
		b.log.Error("configured channel missing", slog.Any("error", err))
	}
	// Without the presences intent GUILD_CREATE lists only the bot and the
	// members in voice, so ask for everyone (op 8). The answer arrives on
	// the gateway goroutine this listener runs on: wait for it elsewhere.
	go func() {
		b.loadNative(e.Client(), e.GuildID)
		b.loadMembers(e.Client(), e.GuildID)
	}()
}

// loadMembers requests the full member list, stores it, and then marks the
// guild ready: only then do bot flags and names in the cache mean anything.
func (b *Bot) loadMembers(client *disgobot.Client, gid snowflake.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	members, reqErr := client.MemberChunkingManager.RequestAllMembers(ctx, gid)
	if reqErr != nil {
		b.log.Error("request guild members", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", reqErr))
	}
	ms := make([]store.Member, 0, len(members))
	for _, m := range members {
		ms = append(ms, toMember(gid, m))
	}
	if err := b.store.UpsertMembers(ctx, uint64(gid), ms); err != nil {
		// Names are a nicety for reports; attendance does not depend on them.
		b.log.Error("store guild members", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
	} else if reqErr == nil && len(ms) > 0 {
		ids := make([]uint64, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
		}
		if err := b.store.MarkMissingLeft(ctx, uint64(gid), ids, b.clock.Now()); err != nil {
			b.log.Error("store members who left", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
		}
	}
	b.readyMu.Lock()
	b.ready[gid] = true
	b.readyMu.Unlock()
	b.log.Info("guild ready", slog.Uint64("guild_id", uint64(gid)), slog.Int("members", len(ms)))
}

// checkChannels verifies, when a guild arrives, that every channel the
// config names exists: a typo would otherwise record nothing, silently.
func (b *Bot) checkChannels(c cache.Caches, g *settings.Guild) error {
	gid := snowflake.ID(g.ID)
	for _, s := range g.Schedules {
		for i, id := range s.VoiceChannels {
			ch, ok := c.Channel(snowflake.ID(id))
			if !ok || ch.GuildID() != gid || !isVoice(ch.Type()) {
				return fmt.Errorf("config: %s.voice_channels[%d]: %d is not a voice or stage channel of guild %d", s.Key, i, id, g.ID)
			}
		}
		for i, name := range s.VoiceChannelNames {
			found := false
			for ch := range c.ChannelsForGuild(gid) {
				if isVoice(ch.Type()) && nameMatches(ch.Name(), name) {
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("config: %s.voice_channel_names[%d]: no voice channel of guild %d has a name containing %q", s.Key, i, g.ID, name)
			}
		}
		for i, id := range s.ReportChannels {
			ch, ok := c.Channel(snowflake.ID(id))
			if !ok || ch.GuildID() != gid {
				return fmt.Errorf("config: %s.report_channels[%d]: %d is not a channel of guild %d", s.Key, i, id, g.ID)
			}
			if _, ok := ch.(discord.GuildMessageChannel); !ok {
				return fmt.Errorf("config: %s.report_channels[%d]: channel %q cannot hold messages", s.Key, i, ch.Name())
			}
		}
	}
	return nil
}

func isVoice(t discord.ChannelType) bool {
	return t == discord.ChannelTypeGuildVoice || t == discord.ChannelTypeGuildStageVoice
}

func nameMatches(channel, substring string) bool {
	return strings.Contains(strings.ToLower(channel), strings.ToLower(substring))
}

func toMember(guildID snowflake.ID, m discord.Member) store.Member {
	sm := store.Member{
		GuildID: uint64(guildID), UserID: uint64(m.User.ID), Username: m.User.Username,
		DisplayName: m.EffectiveName(), Bot: m.User.Bot,
	}
	if m.JoinedAt != nil {
		sm.JoinedAt = *m.JoinedAt
	}
	for _, r := range m.RoleIDs {
		sm.Roles = append(sm.Roles, uint64(r))
	}
	return sm
}

func (b *Bot) storeMember(guildID snowflake.ID, m discord.Member) {
	if _, ok := b.reg.Get(uint64(guildID)); !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.UpsertMembers(ctx, uint64(guildID), []store.Member{toMember(guildID, m)}); err != nil {
		b.log.Error("store member", slog.Uint64("user_id", uint64(m.User.ID)), slog.Any("error", err))
	}
}

func (b *Bot) onMemberJoin(e *events.GuildMemberJoin)     { b.storeMember(e.GuildID, e.Member) }
func (b *Bot) onMemberUpdate(e *events.GuildMemberUpdate) { b.storeMember(e.GuildID, e.Member) }

func (b *Bot) onMemberLeave(e *events.GuildMemberLeave) {
	if _, ok := b.reg.Get(uint64(e.GuildID)); !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.MarkLeft(ctx, uint64(e.GuildID), uint64(e.User.ID), b.clock.Now()); err != nil {
		b.log.Error("store member left", slog.Uint64("user_id", uint64(e.User.ID)), slog.Any("error", err))
	}
}

// gatewayReady reports whether the cache can be trusted now: while the
// gateway is reconnecting it may hold members who have since left voice.
func (b *Bot) gatewayReady(guildID snowflake.ID) bool {
	if b.client.Gateway == nil || b.client.Gateway.Status() != gateway.StatusReady {
		return false
	}
	b.readyMu.Lock()
	defer b.readyMu.Unlock()
	return b.ready[guildID]
}

// Ready reports whether the gateway session is up and every configured
// guild has arrived with its members: the state in which the bot records.
func (b *Bot) Ready() bool {
	for _, g := range b.reg.All() {
		if !b.gatewayReady(snowflake.ID(g.ID)) {
			return false
		}
	}
	return true
}
