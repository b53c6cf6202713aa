package render

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestTimelineText(t *testing.T) {
	tests := []struct {
		name string
		c    TimelineChart
	}{
		{"timeline20.txt", sampleTimeline()},
		{"timeline-short.txt", TimelineChart{
			Title: "Standup", Start: time.Date(2025, 1, 6, 9, 30, 0, 0, time.UTC), Minutes: 10,
			Labels: Labels{Participants: "участники", Minutes: "минуты", Time: "время", Present: "присутствие", Muted: "без звука"},
			Rows: []TimelineRow{
				{Name: "Алексей 🎮", Present: []bool{true, true, true, true, true, false, false, true, true, true}},
				{Name: "Zoë ⚔️", Present: []bool{true, true, true, true, true, true, true, true, true, true},
					Muted: []bool{false, false, true, true}},
				{Name: "nobody"},
			},
		}},
		{"timeline-states.txt", statesTimeline()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, TimelineText(tt.c)) })
	}
}

func TestBarsText(t *testing.T) {
	tests := []struct {
		name string
		c    BarChart
	}{
		{"bars12.txt", sampleBars(12)},
		{"bars-empty.txt", BarChart{Title: "Nothing yet"}},
		{"bars-fractions.txt", BarChart{ValueLabel: "hours", Bars: []Bar{
			{Label: "a very long member name that will not fit the column", Value: 12.5},
			{Label: "Zoë ⚔️", Value: 3.25, Highlight: true}, {Label: "zero", Value: 0}}}},
		// Text replaces the value beside a bar; a Russian legend word for the highlight.
		{"bars-text.txt", BarChart{Title: "Отсутствующие", ValueLabel: "пропущено", Labels: Labels{You: "вы"}, Bars: []Bar{
			{Label: "Noah", Value: 13, Text: "13 из 13"}, {Label: "Owner", Value: 1, Text: "1 из 1", Highlight: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, BarsText(tt.c)) })
	}
}
