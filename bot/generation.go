package bot

import (
	"sync"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/snowflake/v2"
)

// generations count the gateway events that may change what the sampler
// reads of a guild: its voice states, members, channels, the guild itself.
// An event of any other kind counts for every guild, except heartbeat acks,
// which change no cache (the bot asks for no message or presence intents,
// so the rest are rare). disgo updates its cache before it calls
// listeners, so a scan that saw the generation unchanged read the same
// cache as the scan before it (see Sampler.sample). One cache change comes
// with no event: the member chunks requested when a guild arrives. The
// guild is ready only once they are all in, and a tick that finds a guild
// not ready drops its last read.
type generations struct {
	mu    sync.Mutex
	guild map[snowflake.ID]uint64
	all   uint64
}

// of is the guild's generation: it only ever grows.
func (g *generations) of(guild snowflake.ID) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.guild[guild] + g.all
}

func (g *generations) bump(e disgobot.Event) {
	var guild snowflake.ID
	switch e := e.(type) {
	case *events.GuildVoiceStateUpdate:
		guild = e.VoiceState.GuildID
	case *events.GuildVoiceJoin, *events.GuildVoiceMove, *events.GuildVoiceLeave:
		return // derived from a GuildVoiceStateUpdate, which counts
	case *events.HeartbeatAck:
		return
	case *events.GuildMemberJoin:
		guild = e.GuildID
	case *events.GuildMemberUpdate:
		guild = e.GuildID
	case *events.GuildMemberLeave:
		guild = e.GuildID
	case *events.GuildChannelCreate:
		guild = e.GuildID
	case *events.GuildChannelUpdate:
		guild = e.GuildID
	case *events.GuildChannelDelete:
		guild = e.GuildID
	case *events.GuildUpdate:
		guild = e.GuildID
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if guild == 0 {
		g.all++
		return
	}
	if g.guild == nil {
		g.guild = map[snowflake.ID]uint64{}
	}
	g.guild[guild]++
}
