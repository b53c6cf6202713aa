package view

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/discordtext"
	"rollcall/render"
	"rollcall/report"
	"rollcall/store"
)

// Embed colours.
const (
	ColorEvent = 0x5865F2
	ColorWeek  = 0x57F287
	ColorError = 0xED4245
)

// EventTitle is "БЗС · Fri 27 Nov 2026, 16:00–17:00 MSK", for an embed or a
// message: the schedule's name (a native event's title, which any member
// who may create events chooses) is escaped.
func (l Lang) EventTitle(ev report.Event) string {
	return Escape(ev.Occurrence.Schedule) + " · " + l.Span(ev.Occurrence.Start, ev.Occurrence.End)
}

// eventChartTitle is EventTitle as a chart draws it: charts show no
// markdown, so the name goes in as written (render keeps it plain text).
func (l Lang) eventChartTitle(ev report.Event) string {
	return ev.Occurrence.Schedule + " · " + l.Span(ev.Occurrence.Start, ev.Occurrence.End)
}

// TimelineChart draws an event's attendees, one row each.
func (l Lang) TimelineChart(ev report.Event) render.TimelineChart {
	c := render.TimelineChart{Title: l.eventChartTitle(ev), Start: ev.Occurrence.Start, Minutes: ev.Minutes, Labels: l.Labels()}
	for _, r := range ev.Rows {
		if !r.Class.Attends() {
			continue
		}
		c.Rows = append(c.Rows, render.TimelineRow{
			Name:    r.Member.Name(),
			Present: r.Masks.Present.Bools(ev.Minutes),
			Muted:   r.Masks.SelfMute.Or(r.Masks.SelfDeaf).Bools(ev.Minutes),
			Added:   r.Masks.Added.Bools(ev.Minutes),
			Removed: r.Masks.Removed.Bools(ev.Minutes),
		})
	}
	return c
}

// Labels are the words a chart draws besides the data: axis names, legend
// entries, the notes of a long or busy chart. Every one is given in Russian:
// a missing one falls back to English in the middle of a Russian chart.
func (l Lang) Labels() render.Labels {
	if l == RU {
		return render.Labels{
			Minutes: "минуты", Participants: "участники", Time: "время",
			Present: "в канале", Muted: "микрофон или звук выключен", Partly: "частично",
			Deafened: "звук выключен", Added: "добавлено модератором", Removed: "убрано модератором",
			NotRecorded: "не записано", Absent: "не было",
			TopOf: "первые %d из %d", FirstOf: "первые %d из %d", Grouped: "шаг %d мин",
			You: "вы",
		}
	}
	return render.Labels{}
}

// EventFields are an event's key numbers.
func (l Lang) EventFields(ev report.Event) []discord.EmbedField {
	f := []discord.EmbedField{
		{Name: l.T("participants"), Value: strconv.Itoa(ev.Participants), Inline: ptr(true)},
		{Name: l.T("total_minutes"), Value: strconv.Itoa(ev.Total), Inline: ptr(true)},
		{Name: l.T("median_minutes"), Value: Number(ev.Median), Inline: ptr(true)},
	}
	if n := ev.Classes[attendance.Late] + ev.Classes[attendance.LeftEarly] + ev.Classes[attendance.Partial]; n > 0 {
		f = append(f, discord.EmbedField{Name: l.T("late_early"), Value: fmt.Sprintf("%d · %d · %d",
			ev.Classes[attendance.Late], ev.Classes[attendance.LeftEarly], ev.Classes[attendance.Partial])})
	}
	return f
}

// Gaps lists the minutes of occ not in cov as local clock ranges, e.g.
// "16:20–16:24, 16:50–17:00". Empty when every minute was sampled.
func Gaps(cov attendance.Mask, start time.Time, minutes int) string {
	var parts []string
	for m := 0; m < minutes; {
		if cov.Has(m) {
			m++
			continue
		}
		from := m
		for m < minutes && !cov.Has(m) {
			m++
		}
		parts = append(parts, start.Add(time.Duration(from)*time.Minute).Format("15:04")+"–"+start.Add(time.Duration(m)*time.Minute).Format("15:04"))
	}
	return strings.Join(parts, ", ")
}

// Number prints 12 as "12" and 12.5 as "12.5".
func Number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// RankLine is one leaderboard line.
func (l Lang) RankLine(i int, t report.Total) string {
	name := t.Member.Name()
	acct := ""
	if t.Member.Username != "" && t.Member.Username != name {
		acct = " (" + Escape(t.Member.Username) + ")"
	}
	return l.T("rank_line", i+1, Escape(name), acct, t.Minutes, t.Attended, t.Expected, 100*t.Rate())
}

// Escape makes user-supplied text (names of members, schedules, roles,
// channels) show as typed in an embed or message: see discordtext.Escape,
// which every such text goes through.
func Escape(s string) string { return discordtext.Escape(s) }

// LeaderboardChart is a period's minutes per member as bars; highlight (the
// member who asked, 0 for none) is drawn in the accent colour with a legend
// entry, also when their bar is a zero.
func (l Lang) LeaderboardChart(p *report.Period, title string, highlight uint64) render.BarChart {
	c := render.BarChart{Title: title, ValueLabel: l.T("minutes"), Labels: l.Labels()}
	for _, t := range p.Totals {
		c.Bars = append(c.Bars, render.Bar{Label: t.Member.Name(), Value: float64(t.Minutes),
			Highlight: highlight != 0 && t.Member.UserID == highlight})
	}
	// Who never came is on the board too, at zero: leaving them out made the
	// week look better attended than it was.
	for _, m := range p.Never {
		c.Bars = append(c.Bars, render.Bar{Label: m.Name(), Value: 0, Highlight: highlight != 0 && m.UserID == highlight})
	}
	return c
}

// NameList joins names until limit characters, then says how many more
// (room for that is kept inside the limit).
func (l Lang) NameList(ms []store.Member, limit int) string {
	var sb strings.Builder
	n := 0 // characters so far
	for i, m := range ms {
		name := Escape(m.Name())
		more := 0
		if i < len(ms)-1 {
			more = chars(l.T("and_more", len(ms)-i))
		}
		if n+chars(name)+2+more > limit {
			sb.WriteString(l.T("and_more", len(ms)-i))
			break
		}
		if i > 0 {
			sb.WriteString(", ")
			n += 2
		}
		sb.WriteString(name)
		n += chars(name)
	}
	return sb.String()
}

func ptr[T any](v T) *T { return &v }
