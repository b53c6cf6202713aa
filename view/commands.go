package view

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/discordtext"
	"rollcall/render"
	"rollcall/report"
	"rollcall/sheet"
	"rollcall/store"
)

// Limits of what an embed lists; the rest goes in an attached CSV.
const (
	// RanksListed is how many leaderboard lines a week embed shows.
	RanksListed = 15
	// namesChars bounds a list of names in one embed field (Discord allows 1024).
	namesChars = 900
	// AbsentListChars bounds the absent list in an embed description (Discord allows 4096).
	AbsentListChars = 3000
)

// Colours of the command embeds.
const (
	ColorMember = 0xFEE75C
	ColorAbsent = 0xEB459E
)

// WeekEmbed is a period's leaderboard: the first RanksListed ranks, then
// events held, members attended and who never attended. The weekly post and
// /week both show it.
func (l Lang) WeekEmbed(p *report.Period, title string) discord.Embed {
	var lines []string
	for i, t := range p.Totals {
		if i == RanksListed {
			lines = append(lines, l.T("and_more_csv", len(p.Totals)-RanksListed))
			break
		}
		lines = append(lines, l.RankLine(i, t))
	}
	if len(p.Totals) == 0 {
		lines = append(lines, l.T("nobody"))
	}
	e := discord.Embed{
		Title: title, Color: ColorWeek, Description: strings.Join(lines, "\n"),
		Fields: []discord.EmbedField{
			{Name: l.T("events_held"), Value: l.Held(p), Inline: ptr(true)},
			{Name: l.T("members_attended"), Value: strconv.Itoa(len(p.Totals)), Inline: ptr(true)},
		},
	}
	var lists []NamedList
	if len(p.Never) == 0 {
		e.Fields = append(e.Fields, discord.EmbedField{Name: l.T("never_attended"), Value: "0", Inline: ptr(true)})
	} else {
		// One field for who never attended, its count in the heading: the
		// count as a field of its own printed the heading twice.
		lists = append(lists, NamedList{Title: l.T("never_attended"), Members: p.Never})
	}
	if ex := ExcusedMembers(p, 0); len(ex) > 0 {
		lists = append(lists, NamedList{Title: l.T("excused"), Members: ex})
	}
	fields, _ := l.NameFields(lists, min(namesChars*len(lists), embedBudget-EmbedChars(e)))
	e.Fields = append(e.Fields, fields...)
	return e
}

// ExcusedMembers are the members of a period excused from an event they
// did not come to, by name; with role non-zero only holders of that role.
func ExcusedMembers(p *report.Period, role uint64) []store.Member {
	var out []store.Member
	for _, t := range p.Excused {
		if role == 0 || slices.Contains(t.Member.Roles, role) {
			out = append(out, t.Member)
		}
	}
	return out
}

// ClassLists name who was late, who left early and who did both, one list
// per class that has anyone.
func (l Lang) ClassLists(ev report.Event) []NamedList {
	var out []NamedList
	for _, c := range []struct {
		class attendance.Class
		key   string
	}{{attendance.Late, "class_late"}, {attendance.LeftEarly, "class_left_early"}, {attendance.Partial, "class_partial"}} {
		var ms []store.Member
		for _, r := range ev.Rows {
			if r.Class == c.class {
				ms = append(ms, r.Member)
			}
		}
		if len(ms) > 0 {
			out = append(out, NamedList{Title: l.T(c.key), Members: ms})
		}
	}
	if len(ev.Excused) > 0 {
		out = append(out, NamedList{Title: l.T("excused"), Members: ev.Excused})
	}
	return out
}

// Percent writes 0.8 as "80%".
func Percent(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

// MemberFields are one member's figures over a period. Events attended are
// counted of the events the member was expected at (report.Total.Expected),
// the same denominator as the rate beside them: counted of the events held,
// a member who left and rejoined read "4843 of 7304" next to "99%".
func (l Lang) MemberFields(t report.Total) []discord.EmbedField {
	last := l.T("never")
	if !t.LastSeen.IsZero() {
		last = l.Date(t.LastSeen)
	}
	f := []discord.EmbedField{
		{Name: l.T("attended_expected"), Value: l.T("of", t.Attended, t.Expected), Inline: ptr(true)},
		{Name: l.T("total_minutes"), Value: strconv.Itoa(t.Minutes), Inline: ptr(true)},
		{Name: l.T("attendance_rate"), Value: Percent(t.Rate()), Inline: ptr(true)},
		{Name: l.T("last_seen"), Value: last, Inline: ptr(true)},
	}
	if t.Excused > 0 {
		f = append(f, discord.EmbedField{Name: l.T("excused_events"), Value: strconv.Itoa(t.Excused), Inline: ptr(true)})
	}
	return f
}

// MemberChart is one member's minutes per event, in time order; with more
// events than a chart holds (render.MaxBars) it is minutes per week instead,
// so the chart stays in time order rather than being cut to the top bars.
func (l Lang) MemberChart(p *report.Period, userID uint64, name string) render.BarChart {
	minutes := func(ev report.Event) int {
		for _, r := range ev.Rows {
			if r.Member.UserID == userID && r.Class.Attends() {
				return r.Counted
			}
		}
		return 0
	}
	c := render.BarChart{Title: l.T("member_chart_title", name), Subtitle: l.Week(p.From, p.To), ValueLabel: l.T("minutes"), Labels: l.Labels()}
	if len(p.Events) <= render.MaxBars {
		for _, ev := range p.Events {
			s := ev.Occurrence.Start
			c.Bars = append(c.Bars, render.Bar{Label: l.DayMonth(s) + " " + s.Format("15:04") + " · " + ev.Occurrence.Schedule, Value: float64(minutes(ev))})
		}
		return c
	}
	c.Title = l.T("member_chart_weeks", name)
	loc := p.From.Location()
	for _, ev := range p.Events {
		ws := attendance.WeekStart(ev.Occurrence.Start, loc)
		label := l.Week(ws, ws.AddDate(0, 0, 7))
		if n := len(c.Bars); n > 0 && c.Bars[n-1].Label == label {
			c.Bars[n-1].Value += float64(minutes(ev))
			continue
		}
		c.Bars = append(c.Bars, render.Bar{Label: label, Value: float64(minutes(ev))})
	}
	return c
}

// Absent is who was expected in a period and never came, with how many
// events each missed of how many they were expected at, most missed first.
type Absent struct {
	Member   store.Member
	Missed   int
	Expected int
}

// AbsentList orders ms (e.g. report.Period.Never) by events missed, then name.
func AbsentList(p *report.Period, ms []store.Member) []Absent {
	out := make([]Absent, len(ms))
	for i, m := range ms {
		t := p.TotalFor(m.UserID)
		out[i] = Absent{Member: m, Missed: t.Expected - t.Attended, Expected: t.Expected}
	}
	slices.SortStableFunc(out, func(a, b Absent) int {
		if c := cmp.Compare(b.Missed, a.Missed); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Member.Name()), strings.ToLower(b.Member.Name()))
	})
	return out
}

// AbsentChart is the absent members as bars of events missed, each labelled
// "missed of expected": members are expected at different numbers of events
// (they joined or left during the period), and a bare "1" beside a "13" read
// as if the one had done better, though both missed everything.
func (l Lang) AbsentChart(as []Absent, title string) render.BarChart {
	c := render.BarChart{Title: title, Subtitle: l.T("absent_chart"), ValueLabel: l.T("events_missed"), Labels: l.Labels()}
	for _, a := range as {
		c.Bars = append(c.Bars, render.Bar{Label: a.Member.Name(), Value: float64(a.Missed), Text: l.T("of", a.Missed, a.Expected)})
	}
	return c
}

// AbsentNames lists names with the events each missed of those expected,
// until limit characters.
func (l Lang) AbsentNames(as []Absent, limit int) string {
	var sb strings.Builder
	for i, a := range as {
		line := fmt.Sprintf("%d. %s — %s", i+1, Escape(a.Member.Name()), l.T("of", a.Missed, a.Expected))
		if sb.Len()+len(line)+1 > limit {
			sb.WriteString(l.T("and_more", len(as)-i))
			break
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(line)
	}
	return sb.String()
}

// AbsentCSV is the full absent list for a spreadsheet (written with package
// sheet, as report.CSV: names cannot run as formulas).
func AbsentCSV(as []Absent) string {
	// events_expected goes last: a column inserted before joined_at would
	// shift the columns of every spreadsheet already reading this file.
	t := sheet.New("display_name", "username", "user_id", "events_missed", "joined_at", "events_expected")
	for _, a := range as {
		joined := ""
		if !a.Member.JoinedAt.IsZero() {
			joined = a.Member.JoinedAt.UTC().Format("2006-01-02")
		}
		t.Row(sheet.Text(a.Member.Name()), sheet.Text(a.Member.Username), sheet.Uint(a.Member.UserID), sheet.Int(a.Missed), sheet.Text(joined), sheet.Int(a.Expected))
	}
	return t.String()
}

// OccurrenceLabel names an occurrence in a pick list: "БЗС · Fri 27 Nov 2026,
// 16:00–17:00 MSK", at most 100 characters as Discord requires of choices.
func (l Lang) OccurrenceLabel(o store.Occurrence, loc *time.Location) string {
	// A choice shows no markdown, but a bidi override or a newline in the
	// name would still turn the label around or be refused by Discord.
	s := discordtext.Plain(o.Schedule) + " · " + l.Span(o.Start.In(loc), o.End.In(loc))
	if r := []rune(s); len(r) > 100 {
		s = string(r[:99]) + "…"
	}
	return s
}
