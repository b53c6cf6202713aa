// Package bot is rollcall's Discord side: the disgo client, the gateway
// handlers (which only hand work to workers), the sampler that records who is
// in an event's voice channels on every tick, the recorder that writes it in
// the background, and the bot's presence. Posts are durable jobs (package
// jobs); commands plug in as event listeners (package commands).
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/clock"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// Intents rollcall needs. GuildMembers is privileged: enable "Server Members
// Intent" for the application in the Developer Portal.
var Intents = []gateway.Intents{gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates}

// intents adds GuildScheduledEvents when a guild records native events, or
// when guilds may be set up from Discord (any of them may turn them on).
func intents(gs []*settings.Guild, fromDiscord bool) []gateway.Intents {
	out := Intents[:len(Intents):len(Intents)]
	for _, g := range gs {
		if g.NativeEvents || fromDiscord {
			return append(out, gateway.IntentGuildScheduledEvents)
		}
	}
	return out
}

// Options are what a Bot is built from.
type Options struct {
	// Settings are the guilds served and their settings.
	Settings *settings.Registry
	// FromDiscord: guilds not in the file may be set up from Discord, so the
	// bot serves any guild it is in.
	FromDiscord bool
	// Token is the bot token.
	Token string
	// PollInterval is how often voice is sampled; DBOutageWindow how long
	// samples are kept in memory while the database is unreachable;
	// CatchUp how long after its due time a missed report is still posted.
	PollInterval, DBOutageWindow, CatchUp time.Duration
	// WriteTimeout bounds one write of samples; default 5 s.
	WriteTimeout time.Duration
	Store        *store.Store
	// Poster makes due posts durable jobs.
	Poster Poster
	Clock  clock.Clock
	Logger *slog.Logger
	// ClientOpts are extra disgo options, e.g. the Discord simulator's URLs.
	ClientOpts []disgobot.ConfigOpt
	// Listeners get every gateway event, e.g. the slash command router.
	Listeners []disgobot.EventListener
	// Unconfigured is told (off the gateway goroutine) of each guild the bot
	// is in that has no settings, e.g. so that the commands are registered
	// where it can run /rollcall setup.
	Unconfigured func(ctx context.Context, client *disgobot.Client, guild uint64)
	// Observer, when set, is told how long ticks and writes take (metrics).
	Observer Observer
	// Sharding says which of the gateway's shards this process runs.
	Sharding Sharding
}

// Bot is a rollcall bot: build it with New, connect with Connect, run with Run.
type Bot struct {
	opts  Options
	reg   *settings.Registry
	store *store.Store
	clock clock.Clock
	log   *slog.Logger

	client    *disgobot.Client
	connected chan struct{} // closed once client is set

	readyMu sync.Mutex
	ready   map[snowflake.ID]bool // guilds whose GUILD_CREATE and members arrived since the last READY
	gens    generations
	// unset are guilds that arrived without settings: set up later (from
	// Discord, in any process), they are loaded then (watchSetUp).
	unset   map[snowflake.ID]bool
	session map[snowflake.ID]bool // guilds listed in the last READY of their shard
	// readyShards are the shards whose READY arrived (shard 0 without sharding).
	readyShards map[int]bool

	// Sharding: the shard count, the shards held, those being opened (with
	// the cancel of each opening), and the identify limiter shared with
	// every process.
	shardMu    sync.RWMutex
	shardCount int
	held       map[int]bool
	opening    map[int]context.CancelFunc
	opens      sync.WaitGroup
	limiter    *pgIdentifyLimiter

	running atomic.Bool
	// Stats count what the bot did, for the metrics endpoint.
	Stats *Stats
	// Privacy is the members' choices about being recorded.
	Privacy  *Privacy
	sampler  *Sampler
	recorder *Recorder
	work     *worker
	presence *presence
}

// New builds the bot; nothing touches the network until Connect.
func New(opts Options) (*Bot, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	b := &Bot{
		opts: opts, reg: opts.Settings, store: opts.Store, clock: opts.Clock, log: opts.Logger,
		connected: make(chan struct{}),
		ready:     map[snowflake.ID]bool{}, session: map[snowflake.ID]bool{}, unset: map[snowflake.ID]bool{},
		readyShards: map[int]bool{}, held: map[int]bool{}, opening: map[int]context.CancelFunc{},
		Stats: &Stats{},
	}
	b.recorder = &Recorder{Store: opts.Store, Poster: opts.Poster, Log: opts.Logger.With(slog.String("component", "recorder")),
		PollInterval: opts.PollInterval, OutageWindow: opts.DBOutageWindow, WriteTimeout: opts.WriteTimeout,
		Stats: b.Stats, Observer: opts.Observer}
	b.Privacy = NewPrivacy()
	b.sampler = NewSampler(opts.Settings, cacheVoice{b}, b.recorder, b.Privacy, opts.Logger)
	b.sampler.Owns = b.Owns
	b.work = newWorker(opts.Store, opts.Logger)
	b.presence = &presence{log: opts.Logger, latest: make(chan string, 1)}
	return b, nil
}

// connectBackoff is the wait between connection attempts; it doubles up to
// maxConnectBackoff.
const (
	connectBackoff    = time.Second
	maxConnectBackoff = time.Minute
)

// gatewayOpts configure every gateway connection. zlib-stream rather than
// disgo's default zstd-stream: disgo v0.19.6's zstd transport frees its
// decoder on Close while the read loop may still be decoding a frame, and
// the process dies of a nil dereference; closing a connection that is
// still opening is routine with shards (one handed over just after it was
// taken). zlib's reader answers an error after Close instead. Both are
// compressions Discord offers (?compress=zlib-stream).
func gatewayOpts(in []gateway.Intents) []gateway.ConfigOpt {
	return []gateway.ConfigOpt{gateway.WithIntents(in...), gateway.WithCompression(gateway.CompressionZlibStream)}
}

// Connect makes the Discord client, retrying with backoff while Discord
// cannot be reached (each failure logged with its reason), until ctx ends.
// disgo asks Discord for the gateway's address while building its client,
// without a context: the request runs aside so that a signal ends the wait
// at once.
func (b *Bot) Connect(ctx context.Context) error {
	gwOpts := gatewayOpts(intents(b.reg.All(), b.opts.FromDiscord))
	gatewayOpt := disgobot.WithGatewayConfigOpts(gwOpts...)
	if b.opts.Sharding.Enabled() {
		gatewayOpt = disgobot.WithShardManagerConfigOpts(b.shardOpts(gwOpts)...)
	}
	clientOpts := []disgobot.ConfigOpt{
		disgobot.WithLogger(slog.New(newRedactHandler(b.log.Handler(), b.opts.Token)).With(slog.String("component", "disgo"))),
		gatewayOpt,
		disgobot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds, cache.FlagMembers, cache.FlagVoiceStates, cache.FlagChannels, cache.FlagRoles, cache.FlagGuildScheduledEvents)),
		disgobot.WithEventListenerFunc(b.gens.bump),
		disgobot.WithEventListenerFunc(b.onReady),
		disgobot.WithEventListenerFunc(b.onResumed),
		disgobot.WithEventListenerFunc(b.onGuildReady),
		disgobot.WithEventListenerFunc(b.onGuildJoin),
		disgobot.WithEventListenerFunc(b.onGuildLeave),
		disgobot.WithEventListenerFunc(b.onMemberJoin),
		disgobot.WithEventListenerFunc(b.onMemberUpdate),
		disgobot.WithEventListenerFunc(b.onMemberLeave),
		disgobot.WithEventListenerFunc(b.onScheduledEventCreate),
		disgobot.WithEventListenerFunc(b.onScheduledEventUserAdd),
		disgobot.WithEventListenerFunc(b.onScheduledEventUserRemove),
	}
	clientOpts = append(clientOpts, b.opts.ClientOpts...)
	clientOpts = append(clientOpts, disgobot.WithEventListeners(b.opts.Listeners...))
	wait := connectBackoff
	for attempt := 1; ; attempt++ {
		type result struct {
			c   *disgobot.Client
			err error
		}
		done := make(chan result, 1)
		go func() {
			c, err := disgo.New(b.opts.Token, clientOpts...)
			done <- result{c, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err == nil {
			if b.opts.Sharding.Enabled() {
				// Extra options (the simulator's) may have made a single
				// gateway besides the shards: it is never opened.
				r.c.Gateway = nil
			}
			b.client = r.c
			close(b.connected)
			return nil
		}
		if isPermanentConnectError(r.err) {
			// disgo's errors do not include the token, but say where it came from.
			return fmt.Errorf("create Discord client: %w", r.err)
		}
		b.log.Warn("cannot reach Discord; retrying", slog.Int("attempt", attempt), slog.Duration("retry_in", wait), slog.Any("error", r.err))
		select {
		case <-time.After(wait): // network backoff: real time even under a fake clock
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(wait*2, maxConnectBackoff)
	}
}

// isPermanentConnectError: a refused token will not get better by retrying.
func isPermanentConnectError(err error) bool {
	var rerr *rest.Error
	return errors.As(err, &rerr) && rerr.Response != nil && rerr.Response.StatusCode == http.StatusUnauthorized
}

// Client is the disgo client, once Connect has returned; for the command
// router, the post jobs and tests.
func (b *Bot) Client() *disgobot.Client { return b.client }

// Run opens the gateway (retrying with backoff), waits for the guilds the
// file configures, queues the posts missed while no process ran, then
// samples on every tick until ctx ends. It returns nil on a clean shutdown.
func (b *Bot) Run(ctx context.Context) error {
	if b.client == nil {
		if err := b.Connect(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	// The shards' upkeep and their openings end only once Run is done with
	// them: after the work below, before the client closes.
	shardCtx, stopShards := context.WithCancel(context.WithoutCancel(ctx))
	defer stopShards()
	if err := b.openGateway(ctx, shardCtx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	shardsDone := make(chan struct{})
	if b.opts.Sharding.Enabled() {
		go func() { defer close(shardsDone); b.maintainShards(shardCtx) }()
	} else {
		close(shardsDone)
	}
	defer func() {
		// No shard may be opening when the client closes: disgo closes a
		// shard under its shard manager's lock, and a shard still opening
		// holds its connection until its IDENTIFY went out.
		stopShards()
		<-shardsDone
		b.opens.Wait()
		b.closeClient()
		b.releaseShards()
	}()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); b.recorder.Run(workCtx) }()
	go func() { defer wg.Done(); b.work.run(workCtx) }()
	go func() { defer wg.Done(); b.presence.run(workCtx, b.client) }()
	go func() { defer wg.Done(); b.watchSetUp(workCtx) }()
	defer wg.Wait()
	defer stopWork()

	if err := b.waitGuilds(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
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
			left := b.recorder.Flush(flushCtx, b.clock.Now())
			cancel()
			if left > 0 {
				b.log.Error("shutting down with attendance not stored: the database is unreachable", slog.Int("member_chunks", left))
			}
			b.work.flush()
			return nil
		case now := <-b.clock.After(b.untilNextTick(b.clock.Now())):
			b.Tick(now)
		}
	}
}

// openGateway connects the gateway, retrying with backoff until ctx ends;
// sharded, it learns the shard count and opens the first shards (the
// static ones, or those leased at once) for as long as shardCtx lasts.
func (b *Bot) openGateway(ctx, shardCtx context.Context) error {
	wait := connectBackoff
	for attempt := 1; ; attempt++ {
		var err error
		if b.opts.Sharding.Enabled() {
			if err = b.resolveShards(ctx); err == nil {
				b.shardsOnce(shardCtx)
				return nil
			}
		} else if err = b.client.OpenGateway(ctx); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.log.Warn("cannot connect to the Discord gateway; retrying", slog.Int("attempt", attempt), slog.Duration("retry_in", wait), slog.Any("error", err))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(wait*2, maxConnectBackoff)
	}
}

// closeClient closes the Discord connections, waiting at most 10 s: disgo
// closes a shard under its shard manager's lock, and a shard that is
// reconnecting by itself holds its connection until its IDENTIFY goes out,
// which may be a while with many shards. The process exits anyway; Discord
// ends a session whose connection is gone.
func (b *Bot) closeClient() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closed := make(chan struct{})
	go func() { defer close(closed); b.client.Close(ctx) }()
	select {
	case <-closed:
	case <-ctx.Done():
		b.log.Warn("the Discord connections did not close within 10 s; leaving them to the process's exit")
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

// Tick does one poll: sample who is present, hand it to the recorder, and
// refresh the presence. It does no I/O. Exported for benchmarks; Run calls it.
func (b *Bot) Tick(now time.Time) {
	t0 := time.Now() // how long the work takes: real time
	b.sampler.Tick(now)
	b.presence.set(presenceText(b.reg.All(), b.sampler.Present, now))
	if b.opts.Observer != nil {
		b.opts.Observer.Tick(time.Since(t0))
	}
}

// Settled reports whether everything a tick at now started is done: no
// write of samples in progress or due. Tests wait for it after each tick.
func (b *Bot) Settled(now time.Time) bool { return b.recorder.Settled(now) && b.work.settled() }

// Buffered is how many member-chunks of attendance wait to be written.
func (b *Bot) Buffered() int { return b.recorder.Buffered() }

// Recording is how many events were being recorded at the last tick.
func (b *Bot) Recording() int { return b.sampler.Recording() }

// StoredThrough is the latest tick up to which every sample taken is in the
// database: the readiness check compares it with the clock while an event
// is being recorded.
func (b *Bot) StoredThrough() time.Time { return b.recorder.StoredThrough() }

// catchUp queues the posts that fell due within the catch-up window while no
// process made them (the bot was down). A post already made is not made
// again: its job is unique and its ledger row says it went out.
func (b *Bot) catchUp(ctx context.Context, now time.Time) {
	// Today's purge and role evaluations, whatever else: their jobs are
	// unique by day.
	batch := Batch{due: Daily(b.reg, now)}
	defer func() {
		b.recorder.Add(batch)
		b.recorder.Kick(now)
	}()
	window := b.opts.CatchUp
	if window <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, g := range b.reg.All() {
		for _, due := range g.WeeklyDue(now.Add(-window), now) {
			batch.due = append(batch.due, WeeklyPost(g, due))
		}
		occs, err := b.store.Occurrences(ctx, g.ID, now.Add(-window-attendance.MaxDuration), now)
		if err != nil {
			b.log.Error("look for missed reports", slog.Uint64("guild_id", g.ID), slog.Any("error", err))
			continue
		}
		for _, o := range occs {
			if o.End.After(now) || !o.End.After(now.Add(-window)) {
				continue
			}
			channels := g.ReportChannels
			if !o.Native() {
				s := g.ScheduleByName(o.Schedule)
				if s == nil {
					continue // a schedule since removed
				}
				channels = s.ReportChannels
			}
			occ := attendance.Occurrence{Schedule: o.Schedule, Start: o.Start.In(g.Location), End: o.End.In(g.Location)}
			k := keyOf(g.ID, occ)
			k.native = o.NativeEventID
			b.recorder.seed(k, o.ID, occ)
			batch.due = append(batch.due, Due{Kind: KindEvent, GuildID: g.ID, occ: k, Channels: channels, At: o.End})
		}
	}
}

// waitGuilds waits until every guild the file configures arrived, and the
// others of the session did (or a minute passed: a guild Discord does not
// send stays unready, which the health check shows).
func (b *Bot) waitGuilds(ctx context.Context) error {
	// A network wait, not domain time: real time even under a fake clock.
	timeout := time.After(2 * time.Minute)
	for {
		missing := b.missingFileGuilds()
		if len(missing) == 0 && b.sessionReady() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			if len(missing) > 0 {
				g := missing[0]
				return fmt.Errorf("config: %s.id: the bot is not in guild %d (or Discord did not send it): invite the bot to that server first", g.Key, g.ID)
			}
			return nil
		case <-time.After(20 * time.Millisecond):
			// Polling a map is simpler than plumbing another channel through
			// disgo's listeners, and this only runs at start-up.
		}
	}
}

func (b *Bot) missingFileGuilds() []*settings.Guild {
	b.readyMu.Lock()
	defer b.readyMu.Unlock()
	var out []*settings.Guild
	for _, g := range b.reg.All() {
		if g.Source == settings.FromFile && !b.ready[snowflake.ID(g.ID)] && b.Owns(g.ID) {
			out = append(out, g)
		}
	}
	return out
}

// sessionReady: every guild of the last READY has arrived.
func (b *Bot) sessionReady() bool {
	shards := []int{0}
	if b.opts.Sharding.Enabled() {
		shards, _ = b.Shards()
	}
	b.readyMu.Lock()
	defer b.readyMu.Unlock()
	for _, id := range shards {
		if !b.readyShards[id] {
			return false
		}
	}
	for id := range b.session {
		if !b.ready[id] && b.Owns(uint64(id)) {
			return false
		}
	}
	return true
}

// onReady drops the voice states of every guild in READY: GUILD_CREATE only
// adds to disgo's cache, so after a fresh session members who left voice
// while the bot was away would otherwise stay "present" forever.
func (b *Bot) onReady(e *events.Ready) {
	shard := e.ShardID()
	b.readyMu.Lock()
	for gid := range b.ready {
		if b.shardOf(gid) == shard {
			delete(b.ready, gid)
		}
	}
	for gid := range b.session {
		if b.shardOf(gid) == shard {
			delete(b.session, gid)
		}
	}
	for _, g := range e.Guilds {
		b.session[g.ID] = true
	}
	again := b.readyShards[shard]
	b.readyShards[shard] = true
	b.readyMu.Unlock()
	for _, g := range e.Guilds {
		e.Client().Caches.RemoveVoiceStatesByGuildID(g.ID)
	}
	b.Stats.Sessions.Add(1)
	if again {
		b.Stats.NewSessions.Add(1)
	}
	b.log.Info("gateway session ready", slog.Int("shard_id", shard), slog.Int("guilds", len(e.Guilds)))
}

// onResumed counts a session resumed after a disconnect: Discord replayed
// what was missed, so nothing else changes.
func (b *Bot) onResumed(*events.Resumed) {
	b.Stats.Resumes.Add(1)
	b.log.Info("gateway session resumed")
}

func (b *Bot) onGuildReady(e *events.GuildReady) { b.guildArrived(e.Client(), e.GuildID) }

// onGuildJoin is a guild that invited the bot while it runs.
func (b *Bot) onGuildJoin(e *events.GuildJoin) {
	b.readyMu.Lock()
	b.session[e.GuildID] = true
	b.readyMu.Unlock()
	b.guildArrived(e.Client(), e.GuildID)
}

// guildArrived checks the guild's channels against its settings and asks
// for its members; the work happens off the gateway goroutine.
func (b *Bot) guildArrived(client *disgobot.Client, gid snowflake.ID) {
	g, ok := b.reg.Get(uint64(gid))
	if !ok {
		if !b.opts.FromDiscord {
			b.log.Warn("guild is not configured, ignoring it", slog.Uint64("guild_id", uint64(gid)))
		}
		b.readyMu.Lock()
		b.ready[gid] = true // nothing to record there until it is set up
		b.unset[gid] = true
		b.readyMu.Unlock()
		if b.opts.FromDiscord {
			go b.unconfigured(client, gid)
		}
		return
	}
	go b.joined(gid)
	// A missing channel must not stop recording elsewhere: say so, go on.
	for _, err := range b.checkChannels(client.Caches, g) {
		b.log.Error("configured channel missing", slog.Any("error", err))
	}
	// Without the presences intent GUILD_CREATE lists only the bot and the
	// members in voice, so ask for everyone (op 8). The answer arrives on
	// the gateway goroutine this listener runs on: wait for it elsewhere.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := b.Privacy.Load(ctx, b.store, uint64(gid)); err != nil {
			b.log.Error("load members' choices about being recorded", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
		}
		cancel()
		b.loadNative(client, gid)
		b.loadMembers(client, gid)
	}()
}

// watchSetUp loads a guild that arrived without settings once it gets
// some: its members (for rosters, "never attended" and role rules), its
// members' privacy choices and its Discord events, as at arrival.
func (b *Bot) watchSetUp(ctx context.Context) {
	for {
		changed := b.reg.Changed()
		b.readyMu.Lock()
		var now []snowflake.ID
		for gid := range b.unset {
			if _, ok := b.reg.Get(uint64(gid)); ok {
				now = append(now, gid)
				delete(b.unset, gid)
				b.ready[gid] = false // until its members arrive
			}
		}
		b.readyMu.Unlock()
		for _, gid := range now {
			b.log.Info("guild set up: loading it", slog.Uint64("guild_id", uint64(gid)))
			b.guildArrived(b.client, gid)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
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

// checkChannels verifies, when a guild arrives, that every channel its
// settings name exists: a typo would otherwise record nothing, silently.
func (b *Bot) checkChannels(c cache.Caches, g *settings.Guild) []error {
	gid := snowflake.ID(g.ID)
	var errs []error
	for _, s := range g.Schedules {
		for i, id := range s.VoiceChannels {
			ch, ok := c.Channel(snowflake.ID(id))
			if !ok || ch.GuildID() != gid || !isVoice(ch.Type()) {
				errs = append(errs, fmt.Errorf("%s.voice_channels[%d]: %d is not a voice or stage channel of guild %d", s.Key, i, id, g.ID))
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
				errs = append(errs, fmt.Errorf("%s.voice_channel_names[%d]: no voice channel of guild %d has a name containing %q", s.Key, i, g.ID, name))
			}
		}
	}
	for _, id := range g.PostChannels() {
		ch, ok := c.Channel(snowflake.ID(id))
		if !ok || ch.GuildID() != gid {
			errs = append(errs, fmt.Errorf("report channel %d is not a channel of guild %d: its reports will fail until it is fixed", id, g.ID))
			continue
		}
		if _, ok := ch.(discord.GuildMessageChannel); !ok {
			errs = append(errs, fmt.Errorf("report channel %q (%d) cannot hold messages", ch.Name(), id))
		}
	}
	return errs
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

// served reports whether rollcall keeps anything about the guild: it has settings.
func (b *Bot) served(gid snowflake.ID) bool {
	_, ok := b.reg.Get(uint64(gid))
	return ok
}

func (b *Bot) onMemberJoin(e *events.GuildMemberJoin) {
	if b.served(e.GuildID) {
		b.work.upsert(toMember(e.GuildID, e.Member))
	}
}

func (b *Bot) onMemberUpdate(e *events.GuildMemberUpdate) {
	if b.served(e.GuildID) {
		b.work.upsert(toMember(e.GuildID, e.Member))
	}
}

func (b *Bot) onMemberLeave(e *events.GuildMemberLeave) {
	if b.served(e.GuildID) {
		b.work.left(uint64(e.GuildID), uint64(e.User.ID), b.clock.Now())
	}
}

// Ready reports whether the gateway session is up and every guild with
// settings that Discord sent has arrived with its members: the state in
// which the bot records.
func (b *Bot) Ready() bool {
	if !b.isConnected() {
		return false
	}
	for _, g := range b.reg.All() {
		if !b.Owns(g.ID) {
			continue
		}
		b.readyMu.Lock()
		inSession := b.session[snowflake.ID(g.ID)]
		b.readyMu.Unlock()
		if (inSession || g.Source == settings.FromFile) && !b.gatewayReady(snowflake.ID(g.ID)) {
			return false
		}
	}
	return b.gatewaysReady()
}

// Holds reports whether this process has the guild's gateway events and
// members now: it samples the guild, and the guild has arrived.
func (b *Bot) Holds(guild uint64) bool {
	return b.isConnected() && b.Owns(guild) && b.gatewayReady(snowflake.ID(guild))
}

// isConnected reports whether Connect has made the client; once true,
// b.client may be read from any goroutine (the close of connected orders
// the write before it).
func (b *Bot) isConnected() bool {
	select {
	case <-b.connected:
		return true
	default:
		return false
	}
}

// GatewayState is Ready in words, for the readiness check: what is not
// ready yet, or how many guilds are.
func (b *Bot) GatewayState() (ready bool, detail string) {
	if !b.isConnected() {
		return false, "not connected to Discord yet"
	}
	if !b.gatewaysReady() {
		status := "not opened"
		if b.client.Gateway != nil {
			status = b.client.Gateway.Status().String()
		}
		if b.opts.Sharding.Enabled() {
			ids, count := b.Shards()
			status = fmt.Sprintf("shards %v of %d held, not all connected", ids, count)
		}
		return false, "gateway session not ready (" + status + ")"
	}
	var waiting []string
	n := 0
	for _, g := range b.reg.All() {
		b.readyMu.Lock()
		inSession := b.session[snowflake.ID(g.ID)]
		b.readyMu.Unlock()
		if !inSession && g.Source != settings.FromFile || !b.Owns(g.ID) {
			continue
		}
		n++
		if !b.gatewayReady(snowflake.ID(g.ID)) {
			waiting = append(waiting, strconv.FormatUint(g.ID, 10))
		}
	}
	if len(waiting) > 0 {
		return false, fmt.Sprintf("%d of %d guilds not ready yet (members not loaded, or Discord did not send them): %s", len(waiting), n, strings.Join(waiting, ", "))
	}
	if b.opts.Sharding.Enabled() {
		ids, count := b.Shards()
		return true, fmt.Sprintf("shards %v of %d ready, %d guilds ready", ids, count, n)
	}
	return true, fmt.Sprintf("session ready, %d guilds ready", n)
}

// Lang is the language of a guild's automatic posts: its setting, or with
// "auto" its Discord locale.
func (b *Bot) Lang(g *settings.Guild) view.Lang {
	locale := ""
	if b.client != nil {
		if guild, ok := b.client.Caches.Guild(snowflake.ID(g.ID)); ok {
			locale = guild.PreferredLocale
		}
	}
	if locale == "" && g.Language == "auto" {
		// Another process holds the guild's shard: the locale it recorded.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if l, err := b.store.GuildLocale(ctx, g.ID); err == nil {
			locale = l
		}
	}
	return view.PostLang(g.Language, locale)
}

// SetPoster gives the recorder the job queue that makes due posts durable
// (the queue needs the bot for its REST client, so it comes second).
func (b *Bot) SetPoster(p Poster) { b.recorder.Poster = p }

// WaitWritten waits until the samples of the last tick are written (or
// failed to be): for benchmarks, which time a tick with its write.
func (b *Bot) WaitWritten() { b.recorder.WaitWritten() }

// joined records that the bot is in a guild: a departed guild that comes
// back within its grace period keeps its data.
func (b *Bot) joined(gid snowflake.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.GuildJoined(ctx, uint64(gid), b.clock.Now()); err != nil {
		b.log.Warn("record a guild the bot is in", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
	}
	if guild, ok := b.client.Caches.Guild(gid); ok && guild.PreferredLocale != "" {
		if err := b.store.SetGuildLocale(ctx, uint64(gid), guild.PreferredLocale); err != nil {
			b.log.Warn("record a guild's locale", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
		}
	}
}

// onGuildLeave: the bot was removed from a guild (or it was deleted);
// disgo reports an outage as GuildUnavailable instead.
func (b *Bot) onGuildLeave(e *events.GuildLeave) {
	gid := e.GuildID
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.store.GuildDeparted(ctx, uint64(gid), b.clock.Now()); err != nil {
			b.log.Warn("record a guild the bot left", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
		}
		b.log.Info("the bot left a guild", slog.Uint64("guild_id", uint64(gid)))
	}()
}

// unconfigured handles a guild without settings: it is recorded, the
// commands are told, and, once ever, the bot says hello in the guild's
// system channel with the one command to run, if it may post there.
func (b *Bot) unconfigured(client *disgobot.Client, gid snowflake.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b.joined(gid)
	if b.opts.Unconfigured != nil {
		b.opts.Unconfigured(ctx, client, uint64(gid))
	}
	guild, ok := client.Caches.Guild(gid)
	if !ok || guild.SystemChannelID == nil {
		return
	}
	ch, ok := client.Caches.GuildMessageChannel(*guild.SystemChannelID)
	self, okSelf := client.Caches.SelfMember(gid)
	if !ok || !okSelf {
		return
	}
	perms := client.Caches.MemberPermissionsInChannel(ch, self)
	if !perms.Has(discord.PermissionViewChannel | discord.PermissionSendMessages) {
		b.log.Info("not saying hello: the bot may not post in the system channel", slog.Uint64("guild_id", uint64(gid)))
		return
	}
	first, err := b.store.ClaimWelcome(ctx, uint64(gid), b.clock.Now())
	if err != nil || !first {
		if err != nil {
			b.log.Warn("welcome a new guild", slog.Any("error", err))
		}
		return
	}
	text := view.LangOf(guild.PreferredLocale).T("rc_welcome")
	if _, err := client.Rest.CreateMessage(ch.ID(), discord.MessageCreate{Content: text,
		AllowedMentions: &discord.AllowedMentions{Parse: []discord.AllowedMentionType{}}}, rest.WithCtx(ctx)); err != nil {
		b.log.Warn("welcome a new guild", slog.Uint64("guild_id", uint64(gid)), slog.Any("error", err))
		return
	}
	b.log.Info("said hello in a guild that is not set up", slog.Uint64("guild_id", uint64(gid)))
}

// MemberChanged applies a member's pause, resume or deletion at once: the
// cache the sampler reads, and what the recorder buffered for them (a
// member who paused or asked to be forgotten has nothing written from then
// on, not even what was waiting in memory). paused nil: the member's data
// was deleted.
func (b *Bot) MemberChanged(guild, user uint64, paused *bool) {
	b.Privacy.Set(guild, user, paused)
	if paused == nil {
		b.Privacy.forget(guild, user)
	}
	if paused == nil || *paused {
		b.recorder.ForgetMember(guild, user)
	}
}
