package render

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// textBarWidth is the width in cells of the bar/timeline column of the text tables. Discord's
// code blocks wrap at about 60-80 columns on a phone, so name + bar stay under 70.
const textBarWidth = 30

// TimelineText renders a timeline as a monospace table, one line per participant, each cell of
// the bar one step of minutes (1 for events up to textBarWidth minutes): '█' present, '▒' present
// but muted, '▓' deafened, '+' added and '-' removed by a moderator, '?' not recorded, '░'
// present for part of the step, '·' absent. It needs no browser: callers post it (in a code
// block) when rendering fails.
func TimelineText(c TimelineChart) string {
	l := c.Labels.withDefaults()
	minutes := min(max(c.Minutes, 1), 1440)
	per := (minutes + textBarWidth - 1) / textBarWidth
	cells := (minutes + per - 1) / per

	var b strings.Builder
	writeTitle(&b, c.Title, c.Subtitle)
	nameW := nameWidth(len(c.Rows), func(i int) string { return tableText(c.Rows[i].Name) }, l.Participants)
	total := displayWidth(l.Minutes)

	// Time ruler: start and end time over the bar column.
	startLabel := c.Start.Format("15:04")
	endLabel := c.Start.Add(timeMinutes(minutes)).Format("15:04")
	ruler := startLabel
	if cells > len(startLabel)+len(endLabel) {
		ruler += strings.Repeat(" ", cells-len(startLabel)-len(endLabel)) + endLabel
	}
	glyph := [states]rune{absent: '·', present: '█', muted: '▒', deafened: '▓', added: '+', removed: '-', notRecorded: '?'}
	var seen [states]bool
	fmt.Fprintf(&b, "%s  %s  %s\n", pad(l.Participants, nameW), pad(ruler, cells), l.Minutes)
	for _, row := range c.Rows {
		var bar strings.Builder
		for i := 0; i < cells; i++ {
			from, to := i*per, min((i+1)*per, minutes)
			s := cellState(row, from, to)
			in := 0
			for m := from; m < to; m++ {
				if minuteState(row, m).presentLike() {
					in++
				}
			}
			if in > 0 && in < to-from {
				bar.WriteRune('░')
				continue
			}
			seen[s] = true
			bar.WriteRune(glyph[s])
		}
		fmt.Fprintf(&b, "%s  %s  %*d\n", pad(tableText(row.Name), nameW), bar.String(), total, presentMinutes(row, minutes))
	}
	fmt.Fprintf(&b, "%s: █ %s", l.Time, l.Present)
	for _, s := range []struct {
		state state
		name  string
	}{{muted, l.Muted}, {deafened, l.Deafened}, {added, l.Added}, {removed, l.Removed}, {notRecorded, l.NotRecorded}} {
		if seen[s.state] || s.state == muted {
			fmt.Fprintf(&b, "  %c %s", glyph[s.state], s.name)
		}
	}
	if per > 1 {
		fmt.Fprintf(&b, "  ░ %s (%s)", l.Partly, fmt.Sprintf(l.Grouped, per))
	}
	b.WriteByte('\n')
	return b.String()
}

// BarsText renders a bar chart as a monospace table: rank, name, value and a bar scaled to the
// largest value. Unlike the PNG it lists every bar (it is the fallback for the whole data).
func BarsText(c BarChart) string {
	l := c.Labels.withDefaults()
	valueLabel := c.ValueLabel
	if valueLabel == "" {
		valueLabel = l.Minutes
	}
	var b strings.Builder
	writeTitle(&b, c.Title, c.Subtitle)
	maxV := 0.0
	values := make([]string, len(c.Bars))
	valW := displayWidth(valueLabel)
	for i, bar := range c.Bars {
		maxV = max(maxV, bar.Value)
		values[i] = strconv.FormatFloat(bar.Value, 'f', -1, 64)
		if bar.Text != "" {
			values[i] = tableText(bar.Text)
		}
		valW = max(valW, displayWidth(values[i]))
	}
	if len(c.Bars) == 0 {
		b.WriteString("—\n")
		return b.String()
	}
	rankW := len(strconv.Itoa(len(c.Bars)))
	nameW := nameWidth(len(c.Bars), func(i int) string { return tableText(c.Bars[i].Label) }, "")
	b.WriteString(strings.Repeat(" ", rankW+1+nameW) + "  " + padLeft(valueLabel, valW) + "\n")
	highlighted := false
	for i, bar := range c.Bars {
		cells := 0
		if maxV > 0 && bar.Value > 0 {
			cells = max(1, int(bar.Value/maxV*textBarWidth+0.5))
		}
		mark := " "
		if bar.Highlight {
			mark = "▶"
			highlighted = true
		}
		line := fmt.Sprintf("%*d%s%s  %s  %s", rankW, i+1, mark, pad(tableText(bar.Label), nameW), padLeft(values[i], valW),
			strings.Repeat("█", cells))
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	if highlighted {
		// The chart's legend entry, as the table has it.
		b.WriteString("▶ " + tableText(l.You) + "\n")
	}
	return b.String()
}

func writeTitle(b *strings.Builder, title, subtitle string) {
	title, subtitle = tableLines(title), tableLines(subtitle)
	if title != "" {
		b.WriteString(title)
		b.WriteByte('\n')
	}
	if subtitle != "" {
		b.WriteString(subtitle)
		b.WriteByte('\n')
	}
	if title != "" || subtitle != "" {
		b.WriteByte('\n')
	}
}

// maxNameWidth truncates long names so a table stays inside a phone's code block.
const maxNameWidth = 24

func nameWidth(n int, name func(int) string, header string) int {
	w := displayWidth(header)
	for i := 0; i < n; i++ {
		w = max(w, displayWidth(name(i)))
	}
	return min(w, maxNameWidth)
}

// displayWidth approximates the columns a string takes in a monospace font: wide (East Asian,
// emoji) runes count two, combining marks and variation selectors zero. Good enough to keep
// columns aligned in Discord's code blocks for the names we see.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func runeWidth(r rune) int {
	switch {
	case r == 0x200d || (r >= 0xfe00 && r <= 0xfe0f) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		return 0
	case r >= 0x1f000 || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
		(r >= 0xf900 && r <= 0xfaff) || (r >= 0xff00 && r <= 0xff60) || (r >= 0x2600 && r <= 0x27bf):
		return 2
	}
	return 1
}

// pad truncates s to w columns (with '…') and pads it with spaces to exactly w.
func pad(s string, w int) string {
	if displayWidth(s) > w {
		var b strings.Builder
		cur := 0
		for _, r := range s {
			rw := runeWidth(r)
			if cur+rw > w-1 {
				break
			}
			b.WriteRune(r)
			cur += rw
		}
		s = b.String() + "…"
	}
	return s + strings.Repeat(" ", max(w-displayWidth(s), 0))
}

func padLeft(s string, w int) string {
	return strings.Repeat(" ", max(w-displayWidth(s), 0)) + s
}

// tableLines is tableText for each line of a title block.
func tableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = tableText(l)
	}
	return strings.Join(lines, "\n")
}
