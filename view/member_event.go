package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"

	"rollcall/attendance"
	"rollcall/render"
	"rollcall/report"
	"rollcall/store"
)

// One member in one event (/member with an event): the minute-by-minute
// record, the rules that judged it and the result, so a member can see why
// the numbers are what they are.

// MemberTimelineChart is one row, every minute of the event accounted for:
// present, muted, deafened, added or removed by a moderator, not recorded
// (the bot was not sampling) or absent. Server-muted minutes count under
// every rule, so they show as present.
func (l Lang) MemberTimelineChart(ev report.Event, row report.Row, cov attendance.Mask, name string) render.TimelineChart {
	n := ev.Minutes
	m := row.Masks
	notRecorded := make([]bool, n)
	for i := range notRecorded {
		notRecorded[i] = !cov.Has(i)
	}
	labels := l.Labels()
	labels.Muted = l.T("chart_muted") // deafened minutes have their own colour here
	return render.TimelineChart{
		Title: name + " · " + l.eventChartTitle(ev), Start: ev.Occurrence.Start, Minutes: n, Labels: labels, ShowAbsent: true,
		Rows: []render.TimelineRow{{
			Name:        name,
			Present:     m.Present.Bools(n),
			Muted:       m.SelfMute.Bools(n),
			Deafened:    m.SelfDeaf.Or(m.ServerDeaf).Bools(n),
			Added:       m.Added.Bools(n),
			Removed:     m.Removed.Bools(n),
			NotRecorded: notRecorded,
		}},
	}
}

// ClassName is one member's class in an event, as a sentence's subject
// says it: "Attended", "Late", "No-show", or "Excused".
func (l Lang) ClassName(c attendance.Class, excused bool) string {
	if excused && !c.Attends() {
		return l.T("mc_excused")
	}
	return l.T("mc_" + string(c))
}

// RulesText says which rules judged an event: which minutes count, how
// many make attendance, when a member is late or left early (as clock
// times of this event).
func (l Lang) RulesText(r attendance.Rules, start time.Time, minutes int) string {
	var not []string
	if !r.CountSelfMuted {
		not = append(not, l.T("mr_muted"))
	}
	if !r.CountSelfDeafened {
		not = append(not, l.T("mr_deafened"))
	}
	if !r.CountServerDeafened {
		not = append(not, l.T("mr_server_deafened"))
	}
	var parts []string
	if len(not) == 0 {
		parts = append(parts, l.T("mr_all_count"))
	} else {
		parts = append(parts, l.T("mr_not_count", strings.Join(not, ", ")))
	}
	parts = append(parts, l.T("mr_min", r.MinMinutes))
	if r.LateAfter > 0 {
		parts = append(parts, l.T("mr_late", r.LateAfter, start.Add(time.Duration(r.LateAfter)*time.Minute).Format("15:04")))
	}
	if r.LeftEarlyBefore > 0 {
		end := start.Add(time.Duration(minutes) * time.Minute)
		parts = append(parts, l.T("mr_early", r.LeftEarlyBefore, end.Add(-time.Duration(r.LeftEarlyBefore)*time.Minute).Format("15:04")))
	}
	return strings.Join(parts, "\n")
}

// MemberEventFields are the figures of one member in one event: the class,
// the minutes counted of those present, the rules, and any corrections.
func (l Lang) MemberEventFields(ev report.Event, row report.Row, rules attendance.Rules, excused bool, corrections []string) []discord.EmbedField {
	f := []discord.EmbedField{
		{Name: l.T("mt_class"), Value: l.ClassName(row.Class, excused), Inline: ptr(true)},
		{Name: l.T("mt_counted"), Value: l.T("of", row.Counted, row.Masks.Present.Count()), Inline: ptr(true)},
		{Name: l.T("mt_event_minutes"), Value: fmt.Sprint(ev.Minutes), Inline: ptr(true)},
		{Name: l.T("mt_rules"), Value: l.RulesText(rules, ev.Occurrence.Start, ev.Minutes)},
	}
	if len(corrections) > 0 {
		f = append(f, discord.EmbedField{Name: l.T("mt_corrections"), Value: strings.Join(corrections, "\n")})
	}
	return f
}

// CorrectionLine describes a correction for the member it is about:
// "+16:10–16:40 · Mod: the bot was down".
func (l Lang) CorrectionLine(span string, c store.Correction) string {
	return span + " · " + Escape(c.AuthorName) + ": " + Escape(c.Reason)
}
