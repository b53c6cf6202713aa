package bot

import (
	"encoding/base64"
	"io"
	"log/slog"
	"testing"
	"time"

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
	cfg, err := config.Parse(`
[[guilds]]
id = "1100000000000000001"
timezone = "UTC"
report_channels = ["1100000000000000002"]
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
	reg := settings.NewRegistry(cfg.Validated...)
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
