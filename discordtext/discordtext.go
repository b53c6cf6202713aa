// Package discordtext makes user-supplied text (member display names and
// usernames, schedule, role and channel names) safe to put into what Discord
// shows: embed titles, descriptions, field names and values, and message
// content.
//
// Discord renders that text as markdown: a member named
// "[Nitro](https://dlscord.gg/free)" becomes a masked link, "# Big" a
// heading, "<@&123>" a role mention, and a right-to-left override turns the
// rest of a line around. Escape is the one function every such piece of text
// goes through; Plain is for places that render no markdown (autocomplete
// choices, chart labels) and Code for text inside a code block.
//
// Escape covers what Discord's markdown (its fork of simple-markdown, and the
// mobile clients that follow it) turns into something other than the
// characters typed:
//   - emphasis and other inline markers: * _ ~ | ` (bold, italic, underline,
//     strike, spoiler, inline and block code) are backslash-escaped;
//   - masked links [text](url): [ and ] are escaped;
//   - autolinks: "scheme://" gets a zero-width space after the colon, so no
//     client (nor a phone's own link detector, which runs after markdown and
//     ignores backslashes) sees a URL; wrapping it in <…> would only drop the
//     preview, it would stay a link;
//   - mention and timestamp syntax <@…>, <@!…>, <@&…>, <#…>, <t:…>, </cmd:…>,
//     custom emoji <:name:id>: < is escaped;
//   - @everyone and @here get a zero-width space after the @, which is what
//     keeps Discord's server from treating them as mentions;
//   - line-start constructs (headings #, ##, ###, subtext -#, lists -, *, +,
//     1., block quotes > and >>>): newlines become spaces, so the only line
//     start is the text's own beginning, and a marker there is escaped.
//
// Invisible characters that change how a name reads are removed: bidi
// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), marks
// (U+200E, U+200F, U+061C), zero-width characters (U+200B, U+200C, U+2060,
// U+FEFF) and every other format or control character. A zero-width joiner
// (U+200D) is kept between two emoji, where it builds one emoji out of
// several (👩‍💻, 🏳️‍🌈), and tag characters are kept after a black flag, where
// they spell a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿). Cyrillic, emoji and ordinary punctuation
// stay as they are: a backslash before a character is not shown by Discord.
package discordtext

import (
	"strings"
	"unicode"
)

// zwsp is the zero-width space Escape inserts to break "://" and
// "@everyone"; Plain removes any the input brought.
const zwsp = '\u200b'

// Escape returns s such that Discord shows it exactly as typed (less the
// invisible characters Plain removes), wherever it is put in markdown text:
// no link, heading, list, quote, subtext, code, spoiler, emphasis or mention
// can come out of it, and it cannot end what surrounds it (a trailing
// backslash is escaped too, so "**" + Escape(s) + "**" stays bold).
func Escape(s string) string {
	rs := []rune(Plain(s))
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range rs {
		switch {
		case i == 0 && lineStartMarker(r):
			// Headings, subtext, lists and block quotes only begin a line,
			// and the text's start is its only line start.
			b.WriteByte('\\')
		case r == '.' || r == ')':
			// "1. item" (and "1) item") is an ordered list at a line start.
			if allDigits(rs[:i]) && i > 0 {
				b.WriteByte('\\')
			}
		case inlineMarker(r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		switch {
		case r == ':' && i+2 < len(rs) && rs[i+1] == '/' && rs[i+2] == '/':
			b.WriteRune(zwsp)
		case r == '@' && (hasPrefixFold(rs[i+1:], "everyone") || hasPrefixFold(rs[i+1:], "here")):
			b.WriteRune(zwsp)
		}
	}
	return b.String()
}

// Plain returns s on one line without the invisible characters described in
// the package doc, trimmed. It is for text Discord shows without markdown
// (autocomplete choices) and for chart labels, where a bidi override would
// turn the label around just the same.
func Plain(s string) string {
	in := []rune(s)
	out := make([]rune, 0, len(in))
	for i, r := range in {
		switch {
		case isLineBreak(r) || r == '\t':
			out = append(out, ' ')
		case r == '\u200d':
			// Kept only inside an emoji ZWJ sequence: an emoji before it
			// (past any variation selector) and one after it.
			if i+1 < len(in) && isEmoji(in[i+1]) && lastIsEmoji(out) {
				out = append(out, r)
			}
		case r >= 0xe0020 && r <= 0xe007f:
			// Tag characters spell a subdivision flag after U+1F3F4.
			if n := len(out); n > 0 && (out[n-1] == 0x1f3f4 || (out[n-1] >= 0xe0020 && out[n-1] <= 0xe007f)) {
				out = append(out, r)
			}
		case invisible(r):
		default:
			out = append(out, r)
		}
	}
	return strings.TrimSpace(string(out))
}

// Code returns s for a line inside a code block (the text tables posted when
// a chart cannot be drawn): Discord shows everything in a code block
// literally, backslashes included, except a run of backticks, which would
// end the block. Backticks become U+02CB (ˋ, which looks the same).
func Code(s string) string {
	return strings.ReplaceAll(Plain(s), "`", "\u02cb")
}

// inlineMarker reports whether r starts or ends inline markdown anywhere in
// a line: emphasis (* _), strike (~~), spoiler (||), code (`), masked links
// ([ ]), mentions, timestamps and custom emoji (<), and the escape itself.
func inlineMarker(r rune) bool {
	switch r {
	case '\\', '*', '_', '~', '|', '`', '[', ']', '<':
		return true
	}
	return false
}

// lineStartMarker reports whether r begins a construct when it starts a
// line: # heading, -# subtext, - and + list items (* is escaped anyway), >
// and >>> block quotes.
func lineStartMarker(r rune) bool {
	switch r {
	case '#', '-', '+', '>':
		return true
	}
	return false
}

func allDigits(rs []rune) bool {
	for _, r := range rs {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func hasPrefixFold(rs []rune, word string) bool {
	if len(rs) < len(word) {
		return false
	}
	return strings.EqualFold(string(rs[:len(word)]), word)
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// invisible reports the characters Plain removes: controls (C0, DEL, C1)
// and format characters (Unicode category Cf), which include the bidi
// controls, the zero-width space, non-joiner and word joiner, and the BOM;
// plus U+180E, which looks like nothing but is not Cf in every version.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u180e' || r == zwsp
}

// lastIsEmoji reports whether the last rune of out, past variation
// selectors (U+FE0E, U+FE0F), is an emoji.
func lastIsEmoji(out []rune) bool {
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] == '\ufe0f' || out[i] == '\ufe0e' {
			continue
		}
		return isEmoji(out[i])
	}
	return false
}

// isEmoji approximates Unicode's Extended_Pictographic (Go's unicode package
// has no table for it) plus the skin-tone modifiers: the blocks emoji live
// in. It only decides whether a zero-width joiner may stay, so erring wide
// keeps a joiner between two symbols, which is harmless.
func isEmoji(r rune) bool {
	switch {
	case r >= 0x1f000 && r <= 0x1faff, // emoticons, pictographs, transport, flags, skin tones
		r >= 0x2600 && r <= 0x27bf, // miscellaneous symbols, dingbats (❤, ⚔, ✈)
		r >= 0x2300 && r <= 0x23ff, // miscellaneous technical (⌚, ⏰)
		r >= 0x2b00 && r <= 0x2bff, // arrows and shapes (⬛, ⭐)
		r >= 0x2190 && r <= 0x21ff, // arrows (↔)
		r >= 0x25a0 && r <= 0x25ff, // geometric shapes (▶)
		r == 0x00a9, r == 0x00ae, r == 0x203c, r == 0x2049, r == 0x2122, r == 0x2139,
		r == 0x2934, r == 0x2935, r == 0x3030, r == 0x303d, r == 0x3297, r == 0x3299:
		return true
	}
	return false
}
