package view

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/discordtext/mdmodel"
	"rollcall/report"
	"rollcall/store"
)

// hostileNames are display names, usernames and event titles members can
// choose, each turning into something else in Discord's markdown if it
// were not escaped.
var hostileNames = []string{
	"[Nitro](https://dlscord.gg/free)",
	"# Big",
	"- item",
	"> quote",
	"-# small",
	"1. first",
	"<@&123456789012345678>",
	"@everyone",
	"||spoiler||",
	"`code`",
	"\u202eevil\u202c",
	"https://dlscord.gg/free",
	"Bob\n# Big",
	`trailing\`,
}

// embedTexts is every piece of text of embeds and fields, one a line so
// that line-start constructs are judged where Discord judges them.
func embedTexts(e discord.Embed, fs ...discord.EmbedField) []string {
	out := []string{e.Title}
	out = append(out, strings.Split(e.Description, "\n")...)
	for _, f := range append(e.Fields, fs...) {
		out = append(out, f.Name, f.Value)
	}
	return out
}

// Every place view puts a name into an embed escapes it: with hostile names
// the embeds render exactly the constructs they render with plain ones (the
// templates' own bold and list numbers), no link, heading or mention more.
func TestNamesInEmbedsRenderAsText(t *testing.T) {
	build := func(name string) []string {
		m := func(id uint64) store.Member {
			return store.Member{UserID: id, DisplayName: name, Username: name + "_acct"}
		}
		start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
		ev := report.Event{
			Occurrence: store.Occurrence{Schedule: name, Start: start, End: start.Add(time.Hour)},
			Minutes:    60,
			Rows: []report.Row{
				{Member: m(1), Class: attendance.Late}, {Member: m(2), Class: attendance.LeftEarly},
				{Member: m(3), Class: attendance.Partial}, {Member: m(4), Class: attendance.Attended},
			},
			InterestedCame: []store.Member{m(1)}, InterestedMissed: []store.Member{m(5)}, CameUninterested: []store.Member{m(2)},
		}
		p := &report.Period{
			From: start, To: start.AddDate(0, 0, 7), Events: []report.Event{ev},
			Totals: []report.Total{{Member: m(1), Minutes: 60, Attended: 1, Expected: 1}},
			Never:  []store.Member{m(6), m(7)},
		}
		var texts []string
		for _, l := range []Lang{EN, RU} {
			texts = append(texts, l.EventTitle(ev))
			texts = append(texts, embedTexts(l.WeekEmbed(p, "Weekly"), nameFields(l, ev)...)...)
			texts = append(texts, strings.Split(l.AbsentNames(AbsentList(p, p.Never), AbsentListChars), "\n")...)
			texts = append(texts, l.NameList(p.Never, 1000), l.RankLine(0, p.Totals[0]))
		}
		return texts
	}
	plain := build("Bob")
	for _, name := range hostileNames {
		t.Run(name, func(t *testing.T) {
			got := build(name)
			for i := range got {
				if g, w := mdmodel.Constructs(got[i]), mdmodel.Constructs(plain[i]); !slices.Equal(g, w) {
					t.Errorf("%q renders %v, with a plain name %v (%q)", got[i], g, w, plain[i])
				}
				if strings.ContainsAny(got[i], "\u202e\u202c") {
					t.Errorf("%q keeps a bidi override", got[i])
				}
			}
		})
	}
}

// A chart draws the name as written (charts render no markdown): escaping
// it there would draw the backslashes.
func TestChartTitlesAreNotMarkdownEscaped(t *testing.T) {
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	ev := report.Event{Occurrence: store.Occurrence{Schedule: "Raid_night *1*", Start: start, End: start.Add(time.Hour)}, Minutes: 60}
	if c := EN.TimelineChart(ev); !strings.HasPrefix(c.Title, "Raid_night *1* · ") {
		t.Fatalf("chart title %q", c.Title)
	}
	if got := EN.EventTitle(ev); !strings.HasPrefix(got, `Raid\_night \*1\* · `) {
		t.Fatalf("embed title %q", got)
	}
}

func TestOccurrenceLabelIsPlain(t *testing.T) {
	start := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	got := EN.OccurrenceLabel(store.Occurrence{Schedule: "\u202eRaid\nnight", Start: start, End: start.Add(time.Hour)}, time.UTC)
	if !strings.HasPrefix(got, "Raid night · ") {
		t.Fatalf("label %q", got)
	}
}

func nameFields(l Lang, ev report.Event) []discord.EmbedField {
	f, _ := l.NameFields(append(l.ClassLists(ev), l.InterestLists(ev)...), 5000)
	return f
}
