package compose_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/compose"
	"rollcall/config"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/store/storetest"
	"rollcall/view"
)

// guild is one configured guild (id 1) with a daily 20:00 schedule "raid" in
// Europe/Moscow; extra goes into its [[guilds]] table.
func guild(t *testing.T, extra string) *settings.Guild {
	t.Helper()
	tok := base64.RawStdEncoding.EncodeToString([]byte("1")) + ".a.b"
	c, err := config.Parse(`
[[guilds]]
id = "1"
timezone = "Europe/Moscow"
report_channels = ["2"]
`+extra+`
  [[guilds.schedules]]
  name = "raid"
  times = ["20:00"]
  voice_channel_names = ["raid"]
`, func(k string) string {
		return map[string]string{"DISCORD_TOKEN": tok, "DATABASE_URL": "postgres://x"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.Validated[0]
}

// charts records the charts a report asked for, and draws each as a PNG
// that is only a stand-in: these tests check what is drawn, render's tests
// how it looks.
type charts struct {
	mu   sync.Mutex
	bars []render.BarChart
}

func (c *charts) Timeline(context.Context, render.TimelineChart) ([]byte, error) {
	return []byte("png"), nil
}

func (c *charts) Bars(_ context.Context, b render.BarChart) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bars = append(c.bars, b)
	return []byte("png"), nil
}

func (c *charts) last(t *testing.T) render.BarChart {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bars) == 0 {
		t.Fatal("no bar chart was drawn")
	}
	return c.bars[len(c.bars)-1]
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// seed stores the members and, for each day from first for days days, one
// 20:00 event; came[day] lists who attended it (the whole hour).
func seed(t *testing.T, st *store.Store, g *settings.Guild, members []store.Member, first time.Time, days int, came map[int][]uint64) {
	t.Helper()
	ctx := context.Background()
	if err := st.UpsertMembers(ctx, g.ID, members); err != nil {
		t.Fatal(err)
	}
	for d := range days {
		s := time.Date(first.Year(), first.Month(), first.Day()+d, 20, 0, 0, 0, g.Location)
		id, err := st.EnsureOccurrence(ctx, g.ID, "raid", s, s.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var samples []store.Sample
		for _, u := range came[d] {
			samples = append(samples, store.Sample{OccurrenceID: id, UserID: u, Present: 1<<60 - 1})
		}
		if err := st.Record(ctx, samples, []store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
			t.Fatal(err)
		}
	}
}

func field(t *testing.T, e discord.Embed, name string) string {
	t.Helper()
	var names []string
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value
		}
		names = append(names, f.Name)
	}
	t.Fatalf("no field %q in %q", name, names)
	return ""
}

// /member counts events attended of the events the member was expected at,
// the rate's denominator too. A member who left and rejoined is not expected
// at the events before their (latest) join, unless they came: counted of the
// events held, they read "5 of 10" beside "71%".
func TestMemberCountsOfExpected(t *testing.T) {
	st := storetest.New(t)
	g := guild(t, "")
	first := time.Date(2026, 10, 1, 0, 0, 0, 0, g.Location)
	rejoined := time.Date(2026, 10, 6, 12, 0, 0, 0, g.Location)
	members := []store.Member{
		// Came on 2 and 3 October, left, rejoined on the 6th: came 6-8, not 9 and 10.
		{UserID: 11, Username: "rejoiner", JoinedAt: rejoined},
		// A member all along who came to 3 of the 10 events.
		{UserID: 12, Username: "steady", JoinedAt: first.AddDate(0, -1, 0)},
	}
	came := map[int][]uint64{1: {11}, 2: {11, 12}, 5: {11, 12}, 6: {11}, 7: {11, 12}}
	seed(t, st, g, members, first, 10, came)
	r := &compose.Reports{Store: st, Log: quiet(), Renderer: &charts{}}
	tests := []struct {
		name                   string
		user                   uint64
		lang                   view.Lang
		attendedName, attended string
		rateName, rate         string
	}{
		{"rejoined", 11, view.EN, "Events attended of expected", "5 of 7", "Attendance rate", "71%"},
		{"rejoined, Russian", 11, view.RU, "Посещено событий из ожидаемых", "5 из 7", "Посещаемость", "71%"},
		{"member all along", 12, view.EN, "Events attended of expected", "3 of 10", "Attendance rate", "30%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, found, err := r.Member(context.Background(), g, tt.lang, compose.MemberOptions{UserID: tt.user, From: first, To: first.AddDate(0, 0, 10)})
			if err != nil {
				t.Fatal(err)
			}
			if !found.Known {
				t.Fatal("member not found")
			}
			e := m.Embeds[0]
			if got := field(t, e, tt.attendedName); got != tt.attended {
				t.Errorf("%s = %q, want %q", tt.attendedName, got, tt.attended)
			}
			if got := field(t, e, tt.rateName); got != tt.rate {
				t.Errorf("%s = %q, want %q", tt.rateName, got, tt.rate)
			}
		})
	}
}

// /absent says, beside each member and on the chart, how many events they
// missed of how many they were expected at: a member who joined late missed
// fewer, and a bare "1" next to a "13" read as the better record.
func TestAbsentMissedOfExpected(t *testing.T) {
	st := storetest.New(t)
	g := guild(t, "")
	first := time.Date(2026, 11, 16, 0, 0, 0, 0, g.Location)
	members := []store.Member{
		{UserID: 21, Username: "regular", JoinedAt: first.AddDate(0, -1, 0)},
		{UserID: 22, Username: "noah", DisplayName: "Noah", JoinedAt: first.AddDate(0, -1, 0)},
		{UserID: 23, Username: "owner", DisplayName: "Owner", JoinedAt: first.AddDate(0, 0, 6).Add(12 * time.Hour)},
	}
	came := map[int][]uint64{}
	for d := range 7 {
		came[d] = []uint64{21}
	}
	seed(t, st, g, members, first, 7, came)
	ch := &charts{}
	r := &compose.Reports{Store: st, Log: quiet(), Renderer: ch}
	m, err := r.Absent(context.Background(), g, view.EN, compose.AbsentOptions{From: first, To: first.AddDate(0, 0, 7)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "1. Noah — 7 of 7\n2. Owner — 1 of 1"; m.Embeds[0].Description != want {
		t.Errorf("description %q, want %q", m.Embeds[0].Description, want)
	}
	c := ch.last(t)
	var got []string
	for _, b := range c.Bars {
		got = append(got, b.Label+" "+b.Text)
	}
	if strings.Join(got, ", ") != "Noah 7 of 7, Owner 1 of 1" {
		t.Errorf("chart bars %q, want each labelled missed of expected", got)
	}
	if !strings.Contains(c.Subtitle, "of those expected") {
		t.Errorf("chart subtitle %q does not say what the numbers count", c.Subtitle)
	}
	ru, err := r.Absent(context.Background(), g, view.RU, compose.AbsentOptions{From: first, To: first.AddDate(0, 0, 7)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ru.Embeds[0].Description, "Noah — 7 из 7") || ch.last(t).Labels.You != "вы" {
		t.Errorf("Russian: %q, labels %+v", ru.Embeds[0].Description, ch.last(t).Labels)
	}
}

// The leaderboard highlights who asked, also when they never came (a zero
// bar), and a weekly post due at another time than Monday 00:00 names the
// span it covers, times included, not an ISO week nor whole days it does not.
func TestWeek(t *testing.T) {
	st := storetest.New(t)
	g := guild(t, "")
	first := time.Date(2026, 11, 12, 0, 0, 0, 0, g.Location) // a Thursday
	members := []store.Member{
		{UserID: 31, Username: "one", JoinedAt: first.AddDate(0, -1, 0)},
		{UserID: 32, Username: "two", JoinedAt: first.AddDate(0, -1, 0)},
		{UserID: 33, Username: "never", JoinedAt: first.AddDate(0, -1, 0)},
	}
	came := map[int][]uint64{}
	for d := range 21 {
		came[d] = []uint64{31, 32}
	}
	seed(t, st, g, members, first, 21, came)
	iso := time.Date(2026, 11, 16, 0, 0, 0, 0, g.Location)  // Monday of 2026-W47
	thu := time.Date(2026, 11, 19, 18, 0, 0, 0, g.Location) // weekly_report.day = "thu", time = "18:00"
	tests := []struct {
		name      string
		lang      view.Lang
		from, to  time.Time
		highlight uint64
		title     string
		notTitle  string
		file      string
	}{
		{"ISO week", view.EN, iso, iso.AddDate(0, 0, 7), 32, "Weekly report · 16–22 Nov 2026 · 2026-W47", "", "week-2026-W47.csv"},
		{"ISO week, Russian", view.RU, iso, iso.AddDate(0, 0, 7), 33, "Отчёт за неделю · 16–22 ноя 2026 · 2026-W47", "", "week-2026-W47.csv"},
		{"Thursday 18:00", view.EN, thu, thu.AddDate(0, 0, 7), 0, "Weekly report · 19 Nov 18:00 – 26 Nov 2026 18:00", "25 Nov", "week-2026-11-19–2026-11-26.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &charts{}
			r := &compose.Reports{Store: st, Log: quiet(), Renderer: ch}
			m, err := r.Week(context.Background(), g, tt.lang, tt.from, tt.to, compose.WeekOptions{Now: tt.to, Highlight: tt.highlight, CSV: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Embeds[0].Title; got != tt.title || (tt.notTitle != "" && strings.Contains(got, tt.notTitle)) {
				t.Errorf("title %q, want %q", got, tt.title)
			}
			var files []string
			for _, f := range m.Files {
				files = append(files, f.Name)
			}
			if !strings.Contains(strings.Join(files, " "), tt.file) {
				t.Errorf("files %q, want %s", files, tt.file)
			}
			c := ch.last(t)
			var lit []string
			for _, b := range c.Bars {
				if b.Highlight {
					lit = append(lit, b.Label)
				}
			}
			want := map[uint64]string{0: "", 32: "two", 33: "never"}[tt.highlight]
			if strings.Join(lit, ",") != want {
				t.Errorf("highlighted bars %q, want %q", lit, want)
			}
			if len(c.Bars) != 3 {
				t.Errorf("%d bars, want 3 (who never came at zero)", len(c.Bars))
			}
		})
	}
}
