package bot

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/settings"
	"rollcall/store"
)

// occKey names an occurrence without the database: its row id may not be
// known yet when PostgreSQL is unreachable.
type occKey struct {
	guild    uint64
	schedule string
	start    int64  // unix seconds
	native   uint64 // the Discord Scheduled Event, for native occurrences
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

// activeOcc is an occurrence being recorded. It keeps the schedule it
// started under: a schedule edited while its event runs applies from the
// next occurrence.
type activeOcc struct {
	key      occKey
	occ      attendance.Occurrence
	schedule *settings.Schedule // nil for a native event
	channel  uint64             // a native event's channel
	reportTo []uint64
	last     scan // the last read of who is in its channels
}

// scan is who an occurrence recorded at a tick, and what that depended
// on: while nothing it depended on changed, the next tick records the
// same people without reading the cache again.
type scan struct {
	valid   bool
	gen     uint64          // the voice source's and privacy's generations
	guild   *settings.Guild // the settings it ran under (immutable values)
	channel uint64          // a native event's channel (it may move)
	voices  []Voice         // in a watched channel, not AFK, not paused
	minute  int             // the minute last queued for them
}

// Sampler samples who is in the voice channels of running events on every
// tick. It does no I/O: a tick reads the voice cache, computes which minutes
// are new, and hands them to the Recorder, which writes them in the
// background. So a slow database, a slow Discord or a hung browser can never
// delay a sample. All its state belongs to the tick goroutine.
type Sampler struct {
	reg     *settings.Registry
	src     VoiceSource
	rec     *Recorder
	log     *slog.Logger
	privacy *Privacy

	active  map[occKey]*activeOcc
	written map[sampleKey]store.Sample // bits already handed to the recorder
	covered map[occKey]attendance.Mask
	native  map[uint64]*nativeEvent // Discord Scheduled Events being followed, by id

	// Owns reports whether this process samples a guild (sharded, the
	// guilds of the shards it holds); nil samples every guild.
	Owns func(guild uint64) bool

	lastTick time.Time
	// recording is how many events were being recorded at the last tick,
	// for the readiness check (read from other goroutines).
	recording atomic.Int64
	// Present counts members present per guild at the last tick, for the
	// bot's presence.
	Present map[uint64]int
}

// NewSampler returns a sampler reading src for the guilds in reg.
func NewSampler(reg *settings.Registry, src VoiceSource, rec *Recorder, privacy *Privacy, log *slog.Logger) *Sampler {
	return &Sampler{reg: reg, src: src, rec: rec, log: log, privacy: privacy,
		active: map[occKey]*activeOcc{}, written: map[sampleKey]store.Sample{}, covered: map[occKey]attendance.Mask{},
		native: map[uint64]*nativeEvent{}, Present: map[uint64]int{}}
}

func keyOf(guild uint64, o attendance.Occurrence) occKey {
	return occKey{guild: guild, schedule: o.Schedule, start: o.Start.Unix()}
}

// Recording is how many events (occurrences of schedules, and Discord
// Scheduled Events) were being recorded at the last tick. Safe to call from
// any goroutine.
func (s *Sampler) Recording() int { return int(s.recording.Load()) }

// Tick samples at now: records a minute for every member present in a
// running event's channels, and reports occurrences and weeks that ended
// since the last tick. It returns at once; the recorder writes.
func (s *Sampler) Tick(now time.Time) {
	var b Batch
	s.drop()
	s.start(now)
	s.startNative(now, &b)
	for gid := range s.Present {
		s.Present[gid] = 0
	}
	for _, a := range s.active {
		if !now.Before(a.occ.End) {
			continue
		}
		s.sample(now, a, &b)
	}
	s.finish(now, &b)
	s.rejoined()
	s.weekly(now, &b)
	s.daily(now, &b)
	s.lastTick = now
	s.recording.Store(int64(len(s.active)))
	s.rec.Add(b)
	s.rec.Kick(now)
}

// owns reports whether this process samples the guild.
func (s *Sampler) owns(guild uint64) bool { return s.Owns == nil || s.Owns(guild) }

// drop forgets the events of guilds another process samples now (their
// shard was handed over): that process records them to the end and makes
// their report due; buffered minutes are still written.
func (s *Sampler) drop() {
	for k := range s.active {
		if !s.owns(k.guild) {
			s.forget(k)
		}
	}
}

// start makes active the configured schedules' occurrences running at now.
func (s *Sampler) start(now time.Time) {
	for _, g := range s.reg.All() {
		if !s.owns(g.ID) {
			continue
		}
		for j := range g.Schedules {
			sc := &g.Schedules[j]
			for _, occ := range sc.Parsed.Running(now) {
				k := keyOf(g.ID, occ)
				if _, ok := s.active[k]; ok || s.overlapsActive(g.ID, sc.Name, occ) {
					continue
				}
				s.active[k] = &activeOcc{key: k, occ: occ, schedule: sc, reportTo: sc.ReportChannels}
				s.log.Info("recording event", slog.Uint64("guild_id", g.ID), slog.String("schedule", sc.Name),
					slog.Time("start", occ.Start), slog.Time("end", occ.End))
			}
		}
	}
}

// overlapsActive reports whether an occurrence of the schedule that started
// under earlier settings still runs when occ would start: the running one
// finishes first, and the edited schedule applies from its next occurrence.
func (s *Sampler) overlapsActive(guild uint64, schedule string, occ attendance.Occurrence) bool {
	for k, a := range s.active {
		if k.guild == guild && k.native == 0 && k.schedule == schedule && occ.Start.Before(a.occ.End) {
			return true
		}
	}
	return false
}

// sample records minute now of one active occurrence.
func (s *Sampler) sample(now time.Time, a *activeOcc, b *Batch) {
	gid := a.key.guild
	if !s.src.Ready(gid) {
		a.last = scan{}
		return // the cache may hold people who left: record nothing rather than phantoms
	}
	b.occs = append(b.occs, occRef{key: a.key, occ: a.occ})
	minute := a.occ.MinuteAt(now)
	chunk, bit := minute/attendance.ChunkMinutes, uint64(1)<<(minute%attendance.ChunkMinutes)
	if !s.covered[a.key].Has(minute) {
		m := s.covered[a.key]
		m.Set(minute)
		s.covered[a.key] = m
		b.cov = append(b.cov, covSample{key: covKey{a.key, chunk}, bits: bit})
	}
	g, _ := s.reg.Get(gid)
	// The generations are read before the cache: a change that lands
	// while this tick reads moves them, and the next tick reads again.
	gen := s.src.Generation(gid) + s.privacy.Generation()
	if !a.last.valid || a.last.gen != gen || a.last.guild != g || a.last.channel != a.channel {
		a.last = scan{valid: true, gen: gen, guild: g, channel: a.channel, voices: s.present(a, g), minute: -1}
	} else if a.last.minute == minute {
		// Nobody came, left or changed state since this minute was
		// queued for them: nothing can be new.
		s.Present[gid] += len(a.last.voices)
		return
	}
	a.last.minute = minute
	s.Present[gid] += len(a.last.voices)
	for _, v := range a.last.voices {
		s.queue(a.key, v, chunk, bit, b)
	}
}

// present reads who is recorded in an occurrence now: in its watched
// channels, not in the AFK channel, not paused.
func (s *Sampler) present(a *activeOcc, g *settings.Guild) []Voice {
	watched := s.watched(a)
	afk := s.src.AFK(a.key.guild)
	var out []Voice
	for _, v := range s.src.Voice(a.key.guild) {
		if v.Channel == afk || !watched[v.Channel] {
			continue
		}
		if g != nil && s.privacy.Paused(g, v.User) {
			continue // paused: nothing about them is written, not even here
		}
		out = append(out, v)
	}
	return out
}

// watched is the set of channels an occurrence records in: its schedule's
// ids and every voice or stage channel whose name contains one of its
// substrings, evaluated now (so created and renamed channels count at once),
// never the AFK channel; a native event's own channel.
func (s *Sampler) watched(a *activeOcc) map[uint64]bool {
	out := map[uint64]bool{}
	if a.schedule == nil {
		out[a.channel] = true
		return out
	}
	for _, id := range a.schedule.VoiceChannels {
		out[id] = true
	}
	if len(a.schedule.VoiceChannelNames) > 0 {
		for _, ch := range s.src.VoiceChannels(a.key.guild) {
			for _, n := range a.schedule.VoiceChannelNames {
				if nameMatches(ch.Name, n) {
					out[ch.ID] = true
				}
			}
		}
	}
	return out
}

func (s *Sampler) queue(k occKey, v Voice, chunk int, bit uint64, b *Batch) {
	sk := sampleKey{occ: k, user: v.User, chunk: chunk}
	want := store.Sample{UserID: v.User, Chunk: chunk, Present: bit}
	if v.SelfMute {
		want.SelfMute = bit
	}
	if v.SelfDeaf {
		want.SelfDeaf = bit
	}
	if v.ServerMute {
		want.ServerMute = bit
	}
	if v.ServerDeaf {
		want.ServerDeaf = bit
	}
	had := s.written[sk]
	add := subtract(want, had)
	if add.Present|add.SelfMute|add.SelfDeaf|add.ServerMute|add.ServerDeaf == 0 {
		return
	}
	s.written[sk] = merge(had, want)
	b.samples = append(b.samples, keyedSample{key: sk, s: add})
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

// finish reports the active occurrences that ended and forgets them.
func (s *Sampler) finish(now time.Time, b *Batch) {
	for k, a := range s.active {
		if now.Before(a.occ.End) {
			continue
		}
		b.occs = append(b.occs, occRef{key: k, occ: a.occ})
		if k.native != 0 {
			b.ends = append(b.ends, occRef{key: k, occ: a.occ})
		}
		if len(a.reportTo) > 0 {
			b.due = append(b.due, Due{Kind: KindEvent, GuildID: k.guild, occ: k, Channels: a.reportTo, At: a.occ.End})
		}
		if g, ok := s.reg.Get(k.guild); ok && len(g.RoleRules) > 0 {
			b.due = append(b.due, RoleEvaluation(g.ID, a.occ.End))
		}
		s.forget(k)
	}
}

// forget drops the tick's state of an occurrence that is over; the
// recorder keeps what it has not written yet.
func (s *Sampler) forget(k occKey) {
	delete(s.active, k)
	delete(s.covered, k)
	for sk := range s.written {
		if sk.occ == k {
			delete(s.written, sk)
		}
	}
}

// weekly reports the weekly posts that fell due since the last tick. The
// first tick reports none: posts missed while no process ran are found by
// the catch-up at start.
func (s *Sampler) weekly(now time.Time, b *Batch) {
	if s.lastTick.IsZero() {
		return
	}
	for _, g := range s.reg.All() {
		for _, due := range g.WeeklyDue(s.lastTick, now) {
			b.due = append(b.due, WeeklyPost(g, due))
		}
	}
}

// daily starts the day's purge and role evaluations when a (UTC) day begins.
func (s *Sampler) daily(now time.Time, b *Batch) {
	if !s.lastTick.IsZero() && s.lastTick.UTC().Truncate(24*time.Hour) != now.UTC().Truncate(24*time.Hour) {
		b.due = append(b.due, Daily(s.reg, now)...)
	}
}

// Daily is the work of now's (UTC) day: the purge, and an evaluation of the
// role rules of every guild that has some (a member inactive for 30 days
// becomes so on a day without events too).
func Daily(reg *settings.Registry, now time.Time) []Due {
	out := []Due{DailyPurge(now)}
	for _, g := range reg.All() {
		if len(g.RoleRules) > 0 {
			out = append(out, RoleEvaluation(g.ID, now.UTC().Truncate(24*time.Hour)))
		}
	}
	return out
}

// RoleEvaluation is an evaluation of a guild's role rules as of at.
func RoleEvaluation(guild uint64, at time.Time) Due {
	return Due{Kind: KindRoles, GuildID: guild, At: at}
}

// DailyPurge is the purge of now's (UTC) day.
func DailyPurge(now time.Time) Due {
	day := now.UTC().Truncate(24 * time.Hour)
	return Due{Kind: KindPurge, At: day}
}

// WeeklyPost is the weekly report of g due at due: the seven days before it.
func WeeklyPost(g *settings.Guild, due time.Time) Due {
	return Due{Kind: KindWeekly, GuildID: g.ID, From: due.AddDate(0, 0, -7), To: due, Channels: g.Weekly.Channels, At: due}
}

// nativeEvent is a Discord Scheduled Event as the sampler follows it. Each
// tick reconciles it with the cache, so a status change is noticed by the
// first tick after it arrives.
type nativeEvent struct {
	guild, id, channel uint64
	title              string
	status             discord.ScheduledEventStatus
	scheduledStart     time.Time
	scheduledEnd       *time.Time
	activeAt           time.Time // first tick that saw it ACTIVE
	completedAt        time.Time // first tick that saw it COMPLETED (or deleted while running)
	gone               bool      // canceled, or deleted before it ran

	recording bool
	start     time.Time // fixed once recording begins
	key       occKey
}

// rejoined ends the forgetting of deleted members who have left voice: the
// next time they join an event they are recorded afresh.
func (s *Sampler) rejoined() {
	for _, g := range s.reg.All() {
		if !s.privacy.anyForgotten(g.ID) || !s.src.Ready(g.ID) {
			continue
		}
		in := map[uint64]bool{}
		for _, v := range s.src.Voice(g.ID) {
			in[v.User] = true
		}
		s.privacy.leftVoice(g.ID, in)
	}
}
