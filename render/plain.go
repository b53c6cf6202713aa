package render

import (
	"strings"

	"rollcall/discordtext"
)

// wordJoiner is invisible and zero-width in Chromium's canvas text, and
// breaks nothing a reader sees.
const wordJoiner = "\u2060"

// chartText is how a name (or a title holding one) enters an ECharts option:
// drawn as the characters it is, never as markup.
//
//   - ECharts (zrender's parseRichText) reads "{style|text}" as rich text and
//     draws only "text" in that style, wherever the text's style, or one of
//     its parents in the option, defines `rich`. No option of ours defines
//     one today, and render tests check in Chromium that such a name is then
//     drawn in full, but one added for styling (a bold name for the person
//     who asked) would make every member's name markup. A word joiner after
//     each "{" keeps the pattern from ever matching, and draws as nothing.
//   - "{a}", "{b}", "{c}" templates are only expanded in formatter strings we
//     write, never in data, so a name holding them is drawn as is.
//   - HTML is not interpreted: the canvas renderer draws text, and the
//     tooltip (the one HTML component) is off.
//   - Bidi overrides and isolates would turn a label around on a canvas as
//     in Discord, and a newline would break it into two lines: the name is
//     cleaned with discordtext.Plain.
func chartText(s string) string {
	return strings.ReplaceAll(discordtext.Plain(s), "{", "{"+wordJoiner)
}

// chartLines is chartText for each line of a title or subtitle, whose lines
// are ours (a cap line under the caller's subtitle).
func chartLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = chartText(l)
	}
	return strings.Join(lines, "\n")
}

// tableText is a name in a text table, which callers post in a code block:
// Discord shows a code block literally up to the first run of backticks, so
// they are replaced, and the name is kept on one line (discordtext.Code).
func tableText(s string) string { return discordtext.Code(s) }
