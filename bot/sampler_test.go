package bot

import (
	"encoding/base64"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/config"
	"rollcall/settings"
)

// memVoice is a VoiceSource in memory: the test says when its generation
// moves, as a gateway event would.
type memVoice struct {
	voices []Voice
	gen    uint64
	reads  int // calls of Voice
}

func (m *memVoice) Ready(uint64) bool { return true }
func (m *memVoice) Voice(uint64) []Voice {
	m.reads++
	return append([]Voice(nil), m.voices...)
}
func (m *memVoice) VoiceChannels(uint64) []Channel       { return []Channel{{ID: 5, Name: "БЗС"}} }
func (m *memVoice) AFK(uint64) uint64                    { return 0 }
func (m *memVoice) ScheduledEvents(uint64) []NativeEvent { return nil }
func (m *memVoice) Generation(uint64) uint64             { return m.gen }
func (m *memVoice) join(user uint64) {
	m.voices = append(m.voices, Voice{User: user, Channel: 5})
	m.gen++
}

// testRegistry is one guild, 1100000000000000001, with a daily event at
// 12:00 UTC in the channels named БЗС, and more of its guild-level
// settings (TOML keys of [[guilds]]).
func testRegistry(t *testing.T, more string) *settings.Registry {
	t.Helper()
	cfg, err := config.Parse(`
[[guilds]]
id = "1100000000000000001"
timezone = "UTC"
report_channels = ["1100000000000000002"]
`+more+`
  [guilds.weekly_report]
  enabled = false
  [[guilds.schedules]]
  name = "БЗС"
  times = ["12:00"]
  duration = "60m"
  voice_channel_names = ["БЗС"]
`, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": base64.RawStdEncoding.EncodeToString([]byte("1")) + ".x.y", "DATABASE_URL": "postgres://x@127.0.0.1/x"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return settings.NewRegistry(cfg.Validated...)
}

func pendingMinutes(r *Recorder, user uint64) (present uint64) {
	for k, s := range r.pending {
		if k.user == user {
			present |= s.Present
		}
	}
	return present
}

// The sampler reads the voice cache again only when something it depends
// on changed: a gateway event (the source's generation), a member's privacy
// choice, the guild's settings. A member who pauses while sitting in voice,
// with no gateway event at all (the choice came from another process),
// stops being recorded at the next tick.
func TestSamplerRereadsOnlyWhatChanged(t *testing.T) {
	const guild = 1100000000000000001
	reg := testRegistry(t, "")
	src := &memVoice{}
	src.join(10)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := &Recorder{Log: log}
	priv := NewPrivacy()
	s := NewSampler(reg, src, rec, priv, log)
	at := func(min, sec int) time.Time { return time.Date(2026, 12, 1, 12, min, sec, 0, time.UTC) }

	s.Tick(at(0, 0))
	if got := pendingMinutes(rec, 10); got != 1<<0 || src.reads != 1 {
		t.Fatalf("first tick: minutes %b, %d reads", got, src.reads)
	}
	s.Tick(at(0, 30)) // nothing changed: nothing read, nothing new
	s.Tick(at(1, 0))  // a new minute for the same people: still nothing read
	if got := pendingMinutes(rec, 10); got != 0b11 || src.reads != 1 {
		t.Fatalf("unchanged ticks: minutes %b, %d reads (want 11, 1)", got, src.reads)
	}

	src.join(11) // a gateway event
	s.Tick(at(1, 30))
	if got := pendingMinutes(rec, 11); got != 1<<1 || src.reads != 2 {
		t.Fatalf("after a join: member 11 minutes %b, %d reads", got, src.reads)
	}

	paused := true
	priv.Set(guild, 10, &paused) // no gateway event
	s.Tick(at(2, 0))
	if got := pendingMinutes(rec, 10); got != 0b11 {
		t.Fatalf("member 10 paused at minute 2 is still recorded: minutes %b", got)
	}
	if got := pendingMinutes(rec, 11); got != 0b110 {
		t.Fatalf("member 11 minutes %b, want 110", got)
	}

	// New settings (a moderator's change, another process's): read again.
	g, _ := reg.Get(guild)
	changed := *g
	changed.PausedByDefault = true
	reg.Put(&changed)
	s.Tick(at(3, 0))
	if got := pendingMinutes(rec, 11); got != 0b110 {
		t.Fatalf("paused by default from minute 3, member 11 is still recorded: minutes %b", got)
	}
}

// movingEvent is memVoice with one Discord Scheduled Event, and a hook
// run once after the sampler next reads the events.
type movingEvent struct {
	memVoice
	event       NativeEvent
	afterEvents func()
}

func (m *movingEvent) ScheduledEvents(uint64) []NativeEvent {
	out := []NativeEvent{m.event}
	if f := m.afterEvents; f != nil {
		m.afterEvents = nil
		f()
	}
	return out
}

// A Discord event that moves to another channel is recorded there from the
// next tick, even when the move lands inside a tick: after the sampler read
// the event's channel, before it read the cache's generation. The reused
// read of the old channel used to stand until the next gateway event.
func TestSamplerFollowsANativeEventThatMoves(t *testing.T) {
	const event, first, second = 1100000000000000009, 7, 8
	reg := testRegistry(t, "native_events = true")
	at := func(min, sec int) time.Time { return time.Date(2026, 12, 1, 18, min, sec, 0, time.UTC) }
	src := &movingEvent{event: NativeEvent{ID: event, Channel: first, Title: "Рейд", Status: discord.ScheduledEventStatusActive,
		ScheduledStart: at(0, 0)}}
	src.voices = []Voice{{User: 10, Channel: first}, {User: 11, Channel: second}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := &Recorder{Log: log}
	rec.init()
	rec.native[event] = nativeStart{start: at(0, 0)} // as if looked up: no earlier row
	s := NewSampler(reg, src, rec, NewPrivacy(), log)

	s.Tick(at(0, 0))
	if got := pendingMinutes(rec, 10); got != 1 {
		t.Fatalf("first tick: member 10 (in the event's channel) minutes %b, want 1", got)
	}
	// The move lands between the two reads of the second tick: it still
	// sees the first channel, under the generation after the move.
	src.afterEvents = func() {
		src.event.Channel = second
		src.gen++
	}
	s.Tick(at(0, 30))
	s.Tick(at(1, 0)) // sees the second channel; no gateway event since
	if got := pendingMinutes(rec, 11); got != 0b10 {
		t.Errorf("member 11, in the channel the event moved to, minutes %b; want 10 (minute 1)", got)
	}
	if got := pendingMinutes(rec, 10); got != 1 {
		t.Errorf("member 10, left behind in the old channel, minutes %b; want 1 (minute 0 only)", got)
	}
}
