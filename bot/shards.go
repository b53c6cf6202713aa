package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/sharding"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/store"
)

// Sharding says how this process connects to Discord's gateway: one
// connection for every guild (the default), the shards it lists, or the
// shards it holds leases on in PostgreSQL, shared with every other process
// on the same database. Only the guilds of the shards a process holds are
// sampled there; posts and the daily work run in any process.
type Sharding struct {
	// Count is the number of shards: 0 or 1 without sharding, AutoShards
	// for Discord's recommendation (GET /gateway/bot).
	Count int
	// IDs are the shards this process runs; empty (with Count not 0 or 1):
	// the shards it holds by lease.
	IDs []int
	// Lease is how long a lease lasts without renewal; default 30 s. A
	// process that dies loses its shards to the others within about this.
	Lease time.Duration
	// Holder names this process in the leases (the jobs' process id).
	Holder string
}

// AutoShards asks Discord how many shards to run.
const AutoShards = -1

// DefaultLease is a shard lease's default length.
const DefaultLease = 30 * time.Second

// Enabled reports whether the gateway is sharded at all.
func (s Sharding) Enabled() bool { return s.Count > 1 || s.Count == AutoShards || len(s.IDs) > 0 }

// Dynamic reports whether shards are held by lease.
func (s Sharding) Dynamic() bool { return s.Enabled() && len(s.IDs) == 0 }

// identifyInterval is Discord's window: max_concurrency IDENTIFYs per 5 s.
const identifyInterval = 5*time.Second + 250*time.Millisecond // a margin for clock steps between Discord and us

// pgIdentifyLimiter is disgo's IdentifyRateLimiter across processes: at
// most max_concurrency shards identify per 5 s on every connection of the
// bot, whichever process opens them, one slot per rate-limit bucket
// (shard_id % max_concurrency) kept in PostgreSQL. disgo's own limiter
// counts only the shards of its process.
type pgIdentifyLimiter struct {
	store *store.Store
	log   *slog.Logger

	mu             sync.Mutex
	maxConcurrency int
}

func (l *pgIdentifyLimiter) setMaxConcurrency(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxConcurrency = max(n, 1)
}

// Wait returns once the shard's bucket is free, taking it.
func (l *pgIdentifyLimiter) Wait(ctx context.Context, shardID int) error {
	l.mu.Lock()
	bucket := shardID % max(l.maxConcurrency, 1)
	l.mu.Unlock()
	for {
		wait, err := l.store.TakeIdentifySlot(ctx, bucket, identifyInterval)
		if ctx.Err() != nil {
			return ctx.Err() // the opening was cancelled (handed over, or shutdown)
		}
		if err != nil {
			// The database is down: wait a whole interval rather than
			// risk Discord's invalid session.
			l.log.Warn("identify rate limit: the database cannot be asked; waiting a whole interval", slog.Int("shard_id", shardID), slog.Any("error", err))
			wait = identifyInterval
			if !sleepCtx(ctx, wait) {
				return ctx.Err()
			}
			return nil
		}
		if wait == 0 {
			return nil
		}
		if !sleepCtx(ctx, wait) { // network pacing: real time
			return ctx.Err()
		}
	}
}

// Unlock: the slot was taken in Wait and frees itself with time.
func (l *pgIdentifyLimiter) Unlock(int) {}

// Close has nothing to release.
func (l *pgIdentifyLimiter) Close(context.Context) {}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// shardOpts are the disgo options of a sharded client.
func (b *Bot) shardOpts(gw []gateway.ConfigOpt) []sharding.ConfigOpt {
	s := b.opts.Sharding
	b.limiter = &pgIdentifyLimiter{store: b.store, log: b.log, maxConcurrency: 1}
	opts := []sharding.ConfigOpt{
		sharding.WithGatewayConfigOpts(gw...),
		sharding.WithIdentifyRateLimiter(b.limiter),
		// Dynamic: none until leased. Static: the listed ones.
		sharding.WithShardIDs(s.IDs...),
	}
	if s.Count > 1 {
		opts = append(opts, sharding.WithShardCount(s.Count))
	}
	return opts
}

// resolveShards learns the shard count (Discord's recommendation for
// AutoShards) and max_concurrency once the client exists, and checks the
// static shard ids against the count.
func (b *Bot) resolveShards(ctx context.Context) error {
	gb, err := b.client.Rest.GetGatewayBot()
	if err != nil {
		return fmt.Errorf("ask Discord for the gateway's shard count: %w", err)
	}
	b.limiter.setMaxConcurrency(gb.SessionStartLimit.MaxConcurrency)
	count := b.opts.Sharding.Count
	if count == AutoShards || count <= 1 {
		count = max(gb.Shards, 1)
	}
	for _, id := range b.opts.Sharding.IDs {
		if id >= count {
			return fmt.Errorf("config: shard_ids: shard %d does not exist with %d shards (ids go from 0 to %d)", id, count, count-1)
		}
	}
	if gb.SessionStartLimit.Remaining < count {
		b.log.Warn("Discord allows fewer new sessions today than there are shards; some may not connect until the limit resets",
			slog.Int("remaining", gb.SessionStartLimit.Remaining), slog.Int("shards", count),
			slog.Duration("resets_in", time.Duration(gb.SessionStartLimit.ResetAfter)*time.Millisecond))
	}
	b.shardMu.Lock()
	b.shardCount = count
	b.shardMu.Unlock()
	b.log.Info("sharded gateway", slog.Int("shards", count), slog.Any("shard_ids", b.opts.Sharding.IDs),
		slog.Bool("by_lease", b.opts.Sharding.Dynamic()), slog.Int("max_concurrency", gb.SessionStartLimit.MaxConcurrency))
	return nil
}

// Owns reports whether this process samples the guild: always without
// sharding, else when it holds the guild's shard.
func (b *Bot) Owns(guild uint64) bool {
	if !b.opts.Sharding.Enabled() {
		return true
	}
	b.shardMu.RLock()
	defer b.shardMu.RUnlock()
	return b.shardCount > 0 && b.held[sharding.ShardIDByGuild(snowflake.ID(guild), b.shardCount)]
}

// shardOf is the guild's shard id (0 without sharding).
func (b *Bot) shardOf(guild snowflake.ID) int {
	b.shardMu.RLock()
	defer b.shardMu.RUnlock()
	if b.shardCount <= 1 {
		return 0
	}
	return sharding.ShardIDByGuild(guild, b.shardCount)
}

// Shards are the shard ids this process holds now, and the count.
func (b *Bot) Shards() ([]int, int) {
	b.shardMu.RLock()
	defer b.shardMu.RUnlock()
	var ids []int
	for id := range b.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, b.shardCount
}

// shardRound is the period of maintainShards: a dynamic lease is renewed
// three times a lease; static shards that failed to open are retried.
func (b *Bot) shardRound() time.Duration {
	if b.opts.Sharding.Dynamic() {
		return b.lease() / 3
	}
	return 5 * time.Second
}

func (b *Bot) lease() time.Duration {
	if l := b.opts.Sharding.Lease; l > 0 {
		return l
	}
	return DefaultLease
}

// maintainShards keeps the shards this process should run open: the
// static ones, or the ones it holds a lease on (claimed, renewed, handed
// over when another process starts), until ctx ends.
func (b *Bot) maintainShards(ctx context.Context) {
	t := time.NewTicker(b.shardRound()) // network coordination: real time
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.shardsOnce(ctx)
		}
	}
}

// releaseShards gives the leases up at shutdown, after the connections
// were closed (or their close gave up after 10 s), so the others take over
// at once rather than after a lease.
func (b *Bot) releaseShards() {
	if !b.opts.Sharding.Dynamic() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.store.ReleaseShards(ctx, b.opts.Sharding.Holder); err != nil {
		b.log.Warn("give up shard leases", slog.Any("error", err))
	}
}

// shardsOnce is one round of maintainShards.
func (b *Bot) shardsOnce(ctx context.Context) {
	want := b.opts.Sharding.IDs
	b.shardMu.RLock()
	count := b.shardCount
	b.shardMu.RUnlock()
	if b.opts.Sharding.Dynamic() {
		rctx, cancel := context.WithTimeout(ctx, b.lease()/3)
		got, err := b.store.ClaimShards(rctx, b.opts.Sharding.Holder, count, b.lease())
		cancel()
		if err != nil {
			// Keep what runs: the leases may run out and another process
			// take a shard too, which samples idempotently.
			b.Stats.LeaseFailures.Add(1)
			b.log.Warn("renew shard leases", slog.Any("error", err))
			return
		}
		b.Stats.LeaseRenewals.Add(1)
		want = got
	}
	b.shardMu.Lock()
	var open, closing []int
	next := map[int]bool{}
	for _, id := range want {
		next[id] = true
		if !b.held[id] {
			open = append(open, id)
		}
	}
	for id := range b.held {
		if !next[id] {
			closing = append(closing, id)
		}
	}
	b.held = next
	var closeNow []int
	for _, id := range closing {
		if stop, ok := b.opening[id]; ok {
			// Still opening: end the opening, which then closes the shard
			// (see openShard). Closing it here would wait, with disgo's
			// shard manager locked, until its IDENTIFY went out, and disgo
			// would then reconnect it for no one.
			stop()
		} else {
			closeNow = append(closeNow, id)
		}
	}
	b.shardMu.Unlock()
	for _, id := range closing {
		b.Stats.ShardsHandedOver.Add(1)
		b.log.Info("shard handed over", slog.Int("shard_id", id))
	}
	for _, id := range closeNow {
		// Closed first, then forgotten: an event it sends meanwhile would
		// otherwise mark it ready again.
		b.client.ShardManager.CloseShard(ctx, id)
		b.forgetShard(id)
	}
	for _, id := range open {
		b.Stats.ShardsTaken.Add(1)
		b.log.Info("shard taken", slog.Int("shard_id", id), slog.Int("shards", count))
	}
	// (Re)open every held shard that is not connected: new ones, and those
	// whose first connection failed (disgo reconnects a shard only once it
	// was open).
	for _, id := range want {
		if sh := b.client.ShardManager.Shard(id); sh != nil {
			continue
		}
		b.openShard(ctx, id)
	}
}

// openShard opens a held shard in the background unless it is being opened
// already. An opening ends early when the shard is handed over; a shard
// not held once its opening ends (failed, or handed over meanwhile) is
// closed again, and a failed one is opened at the next round.
func (b *Bot) openShard(ctx context.Context, id int) {
	b.shardMu.Lock()
	if _, busy := b.opening[id]; busy {
		b.shardMu.Unlock()
		return
	}
	octx, stop := context.WithCancel(ctx)
	b.opening[id] = stop
	b.opens.Add(1)
	b.shardMu.Unlock()
	go func() {
		defer b.opens.Done()
		defer stop()
		err := b.client.ShardManager.OpenShard(octx, id)
		b.shardMu.Lock()
		delete(b.opening, id)
		keep := err == nil && b.held[id]
		b.shardMu.Unlock()
		if keep {
			return
		}
		if err != nil && octx.Err() == nil {
			b.log.Warn("open shard; retrying at the next round", slog.Int("shard_id", id), slog.Any("error", err))
		}
		b.client.ShardManager.CloseShard(context.WithoutCancel(ctx), id)
		b.shardMu.RLock()
		held := b.held[id]
		b.shardMu.RUnlock()
		if !held {
			b.forgetShard(id) // handed over while it opened
		}
	}()
}

// forgetShard drops what this process knew of a shard's guilds.
func (b *Bot) forgetShard(id int) {
	b.readyMu.Lock()
	defer b.readyMu.Unlock()
	delete(b.readyShards, id) // taken again later, it is ready at its new READY
	for gid := range b.ready {
		if b.shardOf(gid) == id {
			delete(b.ready, gid)
			delete(b.session, gid)
		}
	}
}

// gatewaysReady reports whether every connection this process should have
// is up: the one gateway, or every shard it holds.
func (b *Bot) gatewaysReady() bool {
	if !b.opts.Sharding.Enabled() {
		return b.client.Gateway != nil && b.client.Gateway.Status() == gateway.StatusReady
	}
	ids, _ := b.Shards()
	for _, id := range ids {
		sh := b.client.ShardManager.Shard(id)
		if sh == nil || sh.Status() != gateway.StatusReady {
			return false
		}
	}
	return true
}

// guildGatewayReady reports whether the connection a guild's events come
// on is ready.
func (b *Bot) guildGatewayReady(guild snowflake.ID) bool {
	sh, err := b.client.Shard(guild)
	return err == nil && sh.Status() == gateway.StatusReady
}
