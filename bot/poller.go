package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/settings"
	"rollcall/store"
)

// maxPending bounds the member-chunks kept in memory while the database is
// unreachable: one entry covers a member's whole hour, so 50,000 is a very
// large guild over several events, a few MB.
const maxPending = 50000

// maxBackoff caps the wait between write attempts while the database is down.
const maxBackoff = time.Minute

// occKey names an occurrence without the database: its row id may not be
// known yet when Postgres is unreachable.
type occKey struct {
	guild    snowflake.ID
	schedule string
	start    int64        // unix seconds
	native   snowflake.ID // the Discord Scheduled Event, for native occurrences
}

// run is an occurrence being recorded this tick.
type run struct {
	guild    *settings.Guild
	schedule *settings.Schedule // nil for a native event
	key      occKey
	occ      attendance.Occurrence
	watched  map[snowflake.ID]bool // native events: the event's channel
}

func keyOf(gid snowflake.ID, o attendance.Occurrence) occKey {
	return occKey{guild: gid, schedule: o.Schedule, start: o.Start.Unix()}
}

type sampleKey struct {
	occ   occKey
	user  uint64
	chunk int
}

type covKey struct {
	occ   occKey
	chunk int
}

// poller remembers what it already queued for each occurrence, so that a
// tick that sees nobody new costs no database statement, and keeps what
// could not be written yet.
type poller struct {
	occs    map[occKey]attendance.Occurrence // occurrences seen running, until an hour after they end
	occIDs  map[occKey]int64                 // their row ids, once known
	written map[sampleKey]store.Sample       // bits already queued or stored
	covered map[occKey]attendance.Mask
	pending map[sampleKey]store.Sample // bits not yet stored
	pendCov map[covKey]uint64

	failures   int       // consecutive failed writes
	retryAt    time.Time // no write attempt before this
	failingFor time.Time // when the current outage began

	running map[snowflake.ID]int // members present per guild at the last tick, for the presence
}

func (p *poller) init() {
	p.occs = map[occKey]attendance.Occurrence{}
	p.occIDs = map[occKey]int64{}
	p.written = map[sampleKey]store.Sample{}
	p.covered = map[occKey]attendance.Mask{}
	p.pending = map[sampleKey]store.Sample{}
	p.pendCov = map[covKey]uint64{}
	p.running = map[snowflake.ID]int{}
}

// watchedChannels is the set of channels a schedule records in: its ids and
// every voice or stage channel whose name contains one of its substrings,
// evaluated now from the cache (so created and renamed channels count at
// once), never the AFK channel.
func (b *Bot) watchedChannels(g *settings.Guild, s *settings.Schedule) map[snowflake.ID]bool {
	gid := snowflake.ID(g.ID)
	out := map[snowflake.ID]bool{}
	for _, id := range s.VoiceChannels {
		out[snowflake.ID(id)] = true
	}
	if len(s.VoiceChannelNames) > 0 {
		for ch := range b.client.Caches.ChannelsForGuild(gid) {
			if !isVoice(ch.Type()) {
				continue
			}
			for _, n := range s.VoiceChannelNames {
				if nameMatches(ch.Name(), n) {
					out[ch.ID()] = true
				}
			}
		}
	}
	return out
}

func (b *Bot) isBot(guildID, userID snowflake.ID) bool {
	if m, ok := b.client.Caches.Member(guildID, userID); ok {
		return m.User.Bot
	}
	// Not cached (the member list is still arriving): the only bot we know
	// for sure is ourselves.
	return userID == b.client.ID()
}

// sample queues the current minute for every member in a running event's
// channels and writes what is new in at most one statement (plus, once per
// occurrence, the statement that creates its row).
func (b *Bot) sample(ctx context.Context, now time.Time) {
	p := &b.poll
	for gid := range p.running {
		p.running[gid] = 0
	}
	runs := b.scheduledRuns(now)
	runs = append(runs, b.nativeRuns(ctx, now)...)
	for _, r := range runs {
		gid := snowflake.ID(r.guild.ID)
		if _, ok := p.occs[r.key]; !ok {
			b.forgetFinished(now)
		}
		p.occs[r.key] = r.occ
		if !b.gatewayReady(gid) {
			continue // the cache may hold people who left: record nothing rather than phantoms
		}
		minute := r.occ.MinuteAt(now)
		chunk, bit := minute/attendance.ChunkMinutes, uint64(1)<<(minute%attendance.ChunkMinutes)
		if !p.covered[r.key].Has(minute) {
			m := p.covered[r.key]
			m.Set(minute)
			p.covered[r.key] = m
			p.pendCov[covKey{r.key, chunk}] |= bit
		}
		watched := r.watched
		if r.schedule != nil {
			watched = b.watchedChannels(r.guild, r.schedule)
		}
		afk := b.afkChannel(gid)
		for vs := range b.client.Caches.VoiceStates(gid) {
			if vs.ChannelID == nil || *vs.ChannelID == afk || !watched[*vs.ChannelID] || b.isBot(gid, vs.UserID) {
				continue
			}
			p.running[gid]++
			b.queue(r.key, r.guild.ID, vs, chunk, bit)
		}
	}
	if now.Before(p.retryAt) {
		return // backing off after a failed write; the samples wait in memory
	}
	b.flush(ctx, now)
}

// scheduledRuns lists the configured schedules' occurrences running now.
func (b *Bot) scheduledRuns(now time.Time) []run {
	var out []run
	for _, g := range b.reg.All() {
		for j := range g.Schedules {
			s := &g.Schedules[j]
			for _, occ := range s.Parsed.Running(now) {
				out = append(out, run{guild: g, schedule: s, key: keyOf(snowflake.ID(g.ID), occ), occ: occ})
			}
		}
	}
	return out
}

func (b *Bot) afkChannel(gid snowflake.ID) snowflake.ID {
	if guild, ok := b.client.Caches.Guild(gid); ok && guild.AfkChannelID != nil {
		return *guild.AfkChannelID
	}
	return 0
}

func (b *Bot) queue(k occKey, guildID uint64, vs discord.VoiceState, chunk int, bit uint64) {
	p := &b.poll
	sk := sampleKey{occ: k, user: uint64(vs.UserID), chunk: chunk}
	want := store.Sample{GuildID: uint64(guildID), UserID: uint64(vs.UserID), Chunk: chunk, Present: bit}
	if vs.SelfMute {
		want.SelfMute = bit
	}
	if vs.SelfDeaf {
		want.SelfDeaf = bit
	}
	if vs.GuildMute {
		want.ServerMute = bit
	}
	if vs.GuildDeaf {
		want.ServerDeaf = bit
	}
	had := p.written[sk]
	add := subtract(want, had)
	if add.Present|add.SelfMute|add.SelfDeaf|add.ServerMute|add.ServerDeaf == 0 {
		return
	}
	if _, queued := p.pending[sk]; !queued && len(p.pending) >= maxPending {
		b.log.Error("database unreachable for too long: the in-memory buffer is full, dropping a sample",
			slog.Uint64("user_id", uint64(vs.UserID)), slog.Int("buffered", len(p.pending)))
		return
	}
	p.written[sk] = merge(had, want)
	p.pending[sk] = merge(p.pending[sk], add)
}

func subtract(a, b store.Sample) store.Sample {
	a.Present &^= b.Present
	a.SelfMute &^= b.SelfMute
	a.SelfDeaf &^= b.SelfDeaf
	a.ServerMute &^= b.ServerMute
	a.ServerDeaf &^= b.ServerDeaf
	return a
}

func merge(a, b store.Sample) store.Sample {
	b.Present |= a.Present
	b.SelfMute |= a.SelfMute
	b.SelfDeaf |= a.SelfDeaf
	b.ServerMute |= a.ServerMute
	b.ServerDeaf |= a.ServerDeaf
	return b
}

// flush writes everything pending in one statement, creating occurrence rows
// first where needed. On failure all of it stays pending and the next try
// waits a little longer, up to maxBackoff.
func (b *Bot) flush(ctx context.Context, now time.Time) {
	p := &b.poll
	if len(p.pending) == 0 && len(p.pendCov) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := b.write(ctx)
	if err == nil {
		if p.failures > 0 {
			b.log.Info("database reachable again: buffered attendance stored", slog.Duration("outage", now.Sub(p.failingFor)))
		}
		p.failures, p.retryAt, p.failingFor = 0, time.Time{}, time.Time{}
		return
	}
	if p.failures == 0 {
		p.failingFor = now
	}
	p.failures++
	wait := min(b.opts.PollInterval<<min(p.failures, 10), maxBackoff)
	p.retryAt = now.Add(wait)
	b.log.Error("record attendance failed; keeping it in memory and retrying", slog.Int("buffered", len(p.pending)),
		slog.Duration("retry_in", wait), slog.Duration("failing_for", now.Sub(p.failingFor)), slog.Any("error", err))
	if window := b.opts.DBOutageWindow; now.Sub(p.failingFor) > window {
		b.dropExpired(now.Add(-window))
	}
}

func (b *Bot) write(ctx context.Context) error {
	p := &b.poll
	samples := make([]store.Sample, 0, len(p.pending))
	for k, s := range p.pending {
		id, err := b.occurrenceID(ctx, k.occ)
		if err != nil {
			return err
		}
		s.OccurrenceID = id
		samples = append(samples, s)
	}
	cov := make([]store.Coverage, 0, len(p.pendCov))
	for k, bits := range p.pendCov {
		id, err := b.occurrenceID(ctx, k.occ)
		if err != nil {
			return err
		}
		cov = append(cov, store.Coverage{OccurrenceID: id, Chunk: k.chunk, Sampled: bits})
	}
	if err := b.store.Record(ctx, samples, cov); err != nil {
		return err
	}
	clear(p.pending)
	clear(p.pendCov)
	return nil
}

// dropExpired gives up on buffered samples of occurrences that ended before
// t: the outage has lasted longer than db_outage_window.
func (b *Bot) dropExpired(t time.Time) {
	p := &b.poll
	dropped := 0
	for k := range p.pending {
		if o, ok := p.occs[k.occ]; !ok || o.End.Before(t) {
			delete(p.pending, k)
			dropped++
		}
	}
	for k := range p.pendCov {
		if o, ok := p.occs[k.occ]; !ok || o.End.Before(t) {
			delete(p.pendCov, k)
		}
	}
	if dropped > 0 {
		b.log.Error("database unreachable for longer than db_outage_window: dropped buffered attendance", slog.Int("member_chunks", dropped))
	}
}

// occurrenceID returns the row id of an occurrence, creating the row if
// needed (so an event nobody attends still exists and is reported).
func (b *Bot) occurrenceID(ctx context.Context, k occKey) (int64, error) {
	p := &b.poll
	if id, ok := p.occIDs[k]; ok {
		return id, nil
	}
	occ := p.occs[k]
	var id int64
	var err error
	if k.native != 0 {
		id, err = b.store.EnsureNativeOccurrence(ctx, uint64(k.guild), uint64(k.native), occ.Schedule, occ.Start, occ.End)
	} else {
		id, err = b.store.EnsureOccurrence(ctx, uint64(k.guild), occ.Schedule, occ.Start, occ.End)
	}
	if err != nil {
		return 0, err
	}
	p.occIDs[k] = id
	return id, nil
}

// forgetFinished drops in-memory state of occurrences that ended over an
// hour before t and have nothing pending. The hour leaves the reporter time
// to post an occurrence that ended just as the next one began.
func (b *Bot) forgetFinished(t time.Time) {
	p := &b.poll
	busy := map[occKey]bool{}
	for k := range p.pending {
		busy[k.occ] = true
	}
	for k := range p.pendCov {
		busy[k.occ] = true
	}
	for k, o := range p.occs {
		if busy[k] || o.End.After(t.Add(-time.Hour)) {
			continue
		}
		delete(p.occs, k)
		delete(p.occIDs, k)
		delete(p.covered, k)
	}
	for k := range p.written {
		if _, ok := p.occs[k.occ]; !ok {
			delete(p.written, k)
		}
	}
}
