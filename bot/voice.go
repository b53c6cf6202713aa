package bot

import (
	"strings"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// Voice is one member in a voice channel, as the sampler sees them.
type Voice struct {
	User, Channel                              uint64
	SelfMute, SelfDeaf, ServerMute, ServerDeaf bool
}

// Channel is a voice or stage channel.
type Channel struct {
	ID   uint64
	Name string
}

// NativeEvent is a Discord Scheduled Event in a voice or stage channel, as
// the gateway cache has it.
type NativeEvent struct {
	ID, Channel    uint64
	Title          string
	Status         discord.ScheduledEventStatus
	ScheduledStart time.Time
	ScheduledEnd   *time.Time
}

// VoiceSource is what the sampler reads of Discord. The bot implements it
// over disgo's gateway cache; unit tests implement it in memory, so the
// sampler's state machine runs under -race without a gateway.
type VoiceSource interface {
	// Ready reports whether the guild's voice states can be trusted: the
	// gateway session is up and the guild and its members have arrived.
	Ready(guild uint64) bool
	// Voice lists who is in a voice channel of the guild, bots left out.
	Voice(guild uint64) []Voice
	// VoiceChannels lists the guild's voice and stage channels.
	VoiceChannels(guild uint64) []Channel
	// AFK is the guild's AFK channel, or 0.
	AFK(guild uint64) uint64
	// ScheduledEvents lists the guild's Scheduled Events in voice or stage channels.
	ScheduledEvents(guild uint64) []NativeEvent
	// Generation grows whenever what Voice, VoiceChannels or AFK answer for
	// the guild may have changed.
	Generation(guild uint64) uint64
}

// cacheVoice reads disgo's cache.
type cacheVoice struct{ b *Bot }

func (c cacheVoice) client() *disgobot.Client { return c.b.client }

func (c cacheVoice) Ready(guild uint64) bool { return c.b.gatewayReady(snowflake.ID(guild)) }

func (c cacheVoice) Generation(guild uint64) uint64 { return c.b.gens.of(snowflake.ID(guild)) }

func (c cacheVoice) Voice(guild uint64) []Voice {
	gid := snowflake.ID(guild)
	var out []Voice
	for vs := range c.client().Caches.VoiceStates(gid) {
		if vs.ChannelID == nil || c.isBot(gid, vs.UserID) {
			continue
		}
		out = append(out, Voice{User: uint64(vs.UserID), Channel: uint64(*vs.ChannelID),
			SelfMute: vs.SelfMute, SelfDeaf: vs.SelfDeaf, ServerMute: vs.GuildMute, ServerDeaf: vs.GuildDeaf})
	}
	return out
}

func (c cacheVoice) isBot(guildID, userID snowflake.ID) bool {
	if m, ok := c.client().Caches.Member(guildID, userID); ok {
		return m.User.Bot
	}
	// Not cached (the member list is still arriving): the only bot we know
	// for sure is ourselves.
	return userID == c.client().ID()
}

func (c cacheVoice) VoiceChannels(guild uint64) []Channel {
	var out []Channel
	for ch := range c.client().Caches.ChannelsForGuild(snowflake.ID(guild)) {
		if isVoice(ch.Type()) {
			out = append(out, Channel{ID: uint64(ch.ID()), Name: ch.Name()})
		}
	}
	return out
}

func (c cacheVoice) AFK(guild uint64) uint64 {
	if g, ok := c.client().Caches.Guild(snowflake.ID(guild)); ok && g.AfkChannelID != nil {
		return uint64(*g.AfkChannelID)
	}
	return 0
}

func (c cacheVoice) ScheduledEvents(guild uint64) []NativeEvent {
	var out []NativeEvent
	for e := range c.client().Caches.GuildScheduledEvents(snowflake.ID(guild)) {
		if e.EntityType == discord.ScheduledEventEntityTypeExternal || e.ChannelID == nil {
			continue // not in a voice channel: nothing to measure (logged when created)
		}
		out = append(out, NativeEvent{ID: uint64(e.ID), Channel: uint64(*e.ChannelID), Title: e.Name, Status: e.Status,
			ScheduledStart: e.ScheduledStartTime, ScheduledEnd: e.ScheduledEndTime})
	}
	return out
}

// gatewayReady reports whether the cache can be trusted now: while the
// gateway is reconnecting it may hold members who have since left voice.
func (b *Bot) gatewayReady(guildID snowflake.ID) bool {
	if !b.guildGatewayReady(guildID) {
		return false
	}
	b.readyMu.Lock()
	defer b.readyMu.Unlock()
	return b.ready[guildID]
}

func isVoice(t discord.ChannelType) bool {
	return t == discord.ChannelTypeGuildVoice || t == discord.ChannelTypeGuildStageVoice
}

func nameMatches(channel, substring string) bool {
	return strings.Contains(strings.ToLower(channel), strings.ToLower(substring))
}
