package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/attendance"
	"rollcall/config"
	"rollcall/store"
)

// maxPending bounds the samples kept in memory while the database is
// unreachable: 20,000 member-chunks is a few MB and covers a large guild for
// the whole of a one-hour event.
const maxPending = 20000

type occKey struct {
	guild    snowflake.ID
	schedule string
	start    int64 // unix seconds
}

type sampleKey struct {
	occ   int64
	user  uint64
	chunk int
}

// poller remembers what it already sent this occurrence, so that a tick that
// sees nobody new costs no database statement.
type poller struct {
	occIDs  map[occKey]int64
	written map[sampleKey]store.Sample // bits already queued or stored
	covered map[int64]attendance.Mask
	pending map[sampleKey]store.Sample // bits not yet stored (a failed write is retried)
	pendCov map[[2]int64]uint64
	running map[snowflake.ID]int // members present per guild at the last tick, for the presence
	live    map[int64]time.Time  // occurrence id -> end, to forget finished occurrences
}

func (p *poller) init() {
	p.occIDs = map[occKey]int64{}
	p.written = map[sampleKey]store.Sample{}
	p.covered = map[int64]attendance.Mask{}
	p.pending = map[sampleKey]store.Sample{}
	p.pendCov = map[[2]int64]uint64{}
	p.running = map[snowflake.ID]int{}
	p.live = map[int64]time.Time{}
}

// watchedChannels is the set of channels a schedule records in: its ids and
// every voice or stage channel whose name contains one of its substrings,
// evaluated now from the cache (so created and renamed channels count at
// once), never the AFK channel.
func (b *Bot) watchedChannels(g *config.Guild, s *config.Schedule) map[snowflake.ID]bool {
	gid := snowflake.ID(g.ID)
	var afk snowflake.ID
	if guild, ok := b.client.Caches.Guild(gid); ok && guild.AfkChannelID != nil {
		afk = *guild.AfkChannelID
	}
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
	delete(out, afk)
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

// sample records the current minute for every member in a running event's
// channels, in at most one statement, and none if nothing is new.
func (b *Bot) sample(ctx context.Context, now time.Time) {
	p := &b.poll
	for gid := range p.running {
		p.running[gid] = 0
	}
	for i := range b.cfg.Guilds {
		g := &b.cfg.Guilds[i]
		gid := snowflake.ID(g.ID)
		for j := range g.Schedules {
			s := &g.Schedules[j]
			for _, occ := range s.Parsed.Running(now) {
				id, ok := b.occurrenceID(ctx, gid, occ)
				if !ok {
					continue
				}
				if !b.gatewayReady(gid) {
					continue // the cache may hold people who left: record nothing rather than phantoms
				}
				minute := occ.MinuteAt(now)
				chunk, bit := minute/attendance.ChunkMinutes, uint64(1)<<(minute%attendance.ChunkMinutes)
				if !p.covered[id].Has(minute) {
					m := p.covered[id]
					m.Set(minute)
					p.covered[id] = m
					p.pendCov[[2]int64{id, int64(chunk)}] |= bit
				}
				watched := b.watchedChannels(g, s)
				for vs := range b.client.Caches.VoiceStates(gid) {
					if vs.ChannelID == nil || !watched[*vs.ChannelID] || b.isBot(gid, vs.UserID) {
						continue
					}
					p.running[gid]++
					b.queue(id, g.ID, vs, chunk, bit)
				}
			}
		}
	}
	b.flush()
}

func (b *Bot) queue(occ int64, guildID config.Snowflake, vs discord.VoiceState, chunk int, bit uint64) {
	p := &b.poll
	k := sampleKey{occ: occ, user: uint64(vs.UserID), chunk: chunk}
	want := store.Sample{OccurrenceID: occ, GuildID: uint64(guildID), UserID: uint64(vs.UserID), Chunk: chunk, Present: bit}
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
	had := p.written[k]
	add := store.Sample{
		Present: want.Present &^ had.Present, SelfMute: want.SelfMute &^ had.SelfMute, SelfDeaf: want.SelfDeaf &^ had.SelfDeaf,
		ServerMute: want.ServerMute &^ had.ServerMute, ServerDeaf: want.ServerDeaf &^ had.ServerDeaf,
	}
	if add.Present|add.SelfMute|add.SelfDeaf|add.ServerMute|add.ServerDeaf == 0 {
		return
	}
	had.OccurrenceID, had.GuildID, had.UserID, had.Chunk = occ, want.GuildID, want.UserID, chunk
	had.Present |= want.Present
	had.SelfMute |= want.SelfMute
	had.SelfDeaf |= want.SelfDeaf
	had.ServerMute |= want.ServerMute
	had.ServerDeaf |= want.ServerDeaf
	p.written[k] = had
	if len(p.pending) >= maxPending {
		if _, queued := p.pending[k]; !queued {
			b.log.Error("database unreachable for too long: dropping a sample", slog.Uint64("user_id", uint64(vs.UserID)))
			return
		}
	}
	pend := p.pending[k]
	pend.OccurrenceID, pend.GuildID, pend.UserID, pend.Chunk = occ, want.GuildID, want.UserID, chunk
	pend.Present |= add.Present
	pend.SelfMute |= add.SelfMute
	pend.SelfDeaf |= add.SelfDeaf
	pend.ServerMute |= add.ServerMute
	pend.ServerDeaf |= add.ServerDeaf
	p.pending[k] = pend
}

// flush writes what is pending in one statement; on failure it stays
// pending and the next tick tries again with whatever is new by then.
func (b *Bot) flush() {
	p := &b.poll
	if len(p.pending) == 0 && len(p.pendCov) == 0 {
		return
	}
	samples := make([]store.Sample, 0, len(p.pending))
	for _, s := range p.pending {
		samples = append(samples, s)
	}
	cov := make([]store.Coverage, 0, len(p.pendCov))
	for k, bits := range p.pendCov {
		cov = append(cov, store.Coverage{OccurrenceID: k[0], Chunk: int(k[1]), Sampled: bits})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.store.Record(ctx, samples, cov); err != nil {
		b.log.Error("record attendance (will retry)", slog.Int("samples", len(samples)), slog.Any("error", err))
		return
	}
	clear(p.pending)
	clear(p.pendCov)
}

// occurrenceID returns the stored id of a running occurrence, creating the
// row on the occurrence's first tick (so an event nobody attends still exists
// and is reported). It also forgets occurrences that are over.
func (b *Bot) occurrenceID(ctx context.Context, gid snowflake.ID, occ attendance.Occurrence) (int64, bool) {
	p := &b.poll
	k := occKey{guild: gid, schedule: occ.Schedule, start: occ.Start.Unix()}
	if id, ok := p.occIDs[k]; ok {
		return id, true
	}
	id, err := b.store.EnsureOccurrence(ctx, uint64(gid), occ.Schedule, occ.Start, occ.End)
	if err != nil {
		b.log.Error("create occurrence (will retry next tick)", slog.String("schedule", occ.Schedule), slog.Any("error", err))
		return 0, false
	}
	p.occIDs[k] = id
	p.live[id] = occ.End
	b.forgetFinished(occ.Start)
	return id, true
}

// forgetFinished drops in-memory state of occurrences that ended over an
// hour before t. The hour leaves the reporter time to find the id of an
// occurrence that ended just as the next one began.
func (b *Bot) forgetFinished(t time.Time) {
	p := &b.poll
	for id, end := range p.live {
		if end.After(t.Add(-time.Hour)) {
			continue
		}
		delete(p.live, id)
		delete(p.covered, id)
		for k := range p.written {
			if k.occ == id {
				delete(p.written, k)
			}
		}
		for k, v := range p.occIDs {
			if v == id {
				delete(p.occIDs, k)
			}
		}
	}
}
