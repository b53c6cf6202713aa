// Package mdmodel is a small model of how Discord renders markdown in
// message content and embeds, for tests: given a text, it names the
// constructs Discord would draw from it (a link, a heading, a mention, ...).
// It exists so tests can check that text built from hostile names renders as
// plain characters; it is not used to render anything.
//
// The model follows Discord's rules (its fork of simple-markdown, see
// https://support.discord.com/hc/en-us/articles/210298617) and errs on the
// side of finding a construct: where Discord needs more (a closing marker, a
// word boundary), a lone live marker already counts. "Live" means not
// escaped: Discord's escape rule is a backslash before any character that is
// not a letter, a digit or whitespace, which then shows as itself.
package mdmodel

import (
	"regexp"
	"strings"
	"unicode"
)

// Construct names what Discord would draw from a piece of text.
type Construct string

// The constructs the model recognises.
const (
	Bold      Construct = "bold"      // **x**
	Italic    Construct = "italic"    // *x* or _x_
	Underline Construct = "underline" // __x__
	Strike    Construct = "strike"    // ~~x~~
	Spoiler   Construct = "spoiler"   // ||x||
	Code      Construct = "code"      // `x`, ``x``, ```x```
	Link      Construct = "link"      // [x](url), <url>, or a bare scheme://
	Heading   Construct = "heading"   // # x, ## x, ### x at a line start
	Subtext   Construct = "subtext"   // -# x at a line start
	List      Construct = "list"      // - x, * x, 1. x at a line start
	Quote     Construct = "quote"     // > x, >>> x at a line start
	Mention   Construct = "mention"   // <@id>, <@!id>, <@&id>, <#id>, <t:…>, </cmd:id>, <:e:id>, @everyone, @here
	Dangling  Construct = "dangling"  // a trailing live backslash: it would escape whatever follows
)

// tok is one shown character and whether markdown can act on it.
type tok struct {
	r    rune
	live bool
}

// tokens applies Discord's escape rule: `\` followed by a character that is
// not a letter, digit or whitespace shows that character literally.
func tokens(s string) []tok {
	rs := []rune(s)
	var out []tok
	for i := 0; i < len(rs); i++ {
		if rs[i] == '\\' && i+1 < len(rs) && !isAlnum(rs[i+1]) && !unicode.IsSpace(rs[i+1]) {
			out = append(out, tok{rs[i+1], false})
			i++
			continue
		}
		out = append(out, tok{rs[i], true})
	}
	return out
}

func isAlnum(r rune) bool { return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// Shown is the text Discord displays for s once markdown escapes are
// applied: what a reader sees, constructs aside.
func Shown(s string) string {
	var b strings.Builder
	for _, t := range tokens(s) {
		b.WriteRune(t.r)
	}
	return b.String()
}

// autolink is a bare URL as Discord's url rule and the phones' own link
// detectors find it: a scheme, "://" and something after it. It is matched
// on the shown text, since a phone's detector runs after markdown.
var autolink = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://\S`)

// everyone is the server-side @everyone / @here mention (matched loosely).
var everyone = regexp.MustCompile(`(?i)@(everyone|here)`)

// Constructs returns every construct Discord would draw from s, each once,
// in a fixed order; nil when s renders as plain characters.
func Constructs(s string) []Construct {
	ts := tokens(s)
	found := map[Construct]bool{}

	// Line starts: the text's start and after every newline, past spaces
	// (Discord allows indentation before list markers and quotes).
	for i := 0; i < len(ts); i++ {
		if i > 0 && !(ts[i-1].r == '\n' && ts[i-1].live) {
			continue
		}
		j := i
		for j < len(ts) && (ts[j].r == ' ' || ts[j].r == '\t') {
			j++
		}
		lineStart(ts[j:], found)
	}

	// Inline markers: a pair of live markers makes the construct; a single
	// live one counts too (the model errs wide), except for lone characters
	// that Discord never treats as markup on their own.
	count := func(r rune) int {
		n := 0
		for _, t := range ts {
			if t.live && t.r == r {
				n++
			}
		}
		return n
	}
	if n := count('*'); n > 0 {
		found[Italic] = true
		if n > 1 {
			found[Bold] = true
		}
	}
	if n := count('_'); n > 0 {
		found[Italic] = true
		if n > 1 {
			found[Underline] = true
		}
	}
	if count('~') > 1 {
		found[Strike] = true
	}
	if count('|') > 1 {
		found[Spoiler] = true
	}
	if count('`') > 0 {
		found[Code] = true
	}
	// Masked link: a live [ then later a live ] followed by (.
	for i, t := range ts {
		if !t.live || t.r != '[' {
			continue
		}
		for k := i + 1; k+1 < len(ts); k++ {
			if ts[k].live && ts[k].r == ']' && ts[k+1].r == '(' {
				found[Link] = true
			}
		}
	}
	// Angle-bracket syntax: mentions <@id> <@!id> <@&id>, channels <#id>,
	// timestamps <t:…>, slash commands </cmd:id>, custom emoji <:e:id> and
	// <a:e:id>. (<url> links are found with the bare ones below.)
	for i, t := range ts {
		if t.live && t.r == '<' && i+1 < len(ts) && strings.ContainsRune("@#:/at", ts[i+1].r) {
			found[Mention] = true
		}
	}
	if autolink.MatchString(shown(ts)) {
		found[Link] = true
	}
	if everyone.MatchString(shown(ts)) {
		found[Mention] = true
	}
	if n := len(ts); n > 0 && ts[n-1].live && ts[n-1].r == '\\' {
		found[Dangling] = true
	}

	var out []Construct
	for _, c := range []Construct{Bold, Italic, Underline, Strike, Spoiler, Code, Link, Heading, Subtext, List, Quote, Mention, Dangling} {
		if found[c] {
			out = append(out, c)
		}
	}
	return out
}

// lineStart recognises the constructs that begin a line.
func lineStart(ts []tok, found map[Construct]bool) {
	at := func(i int, r rune) bool { return i < len(ts) && ts[i].live && ts[i].r == r }
	spaceAt := func(i int) bool { return i >= len(ts) || ts[i].r == ' ' }
	switch {
	case at(0, '#'):
		// Discord: one to three # then a space; more # or none is text, but
		// the model counts any live # at a line start.
		found[Heading] = true
	case at(0, '-') && at(1, '#'):
		found[Subtext] = true
	case (at(0, '-') || at(0, '*') || at(0, '+')) && spaceAt(1):
		found[List] = true
	case at(0, '>'):
		found[Quote] = true
	}
	// Ordered list: digits, then a live . or ), then a space.
	j := 0
	for j < len(ts) && ts[j].r >= '0' && ts[j].r <= '9' {
		j++
	}
	if j > 0 && (at(j, '.') || at(j, ')')) && spaceAt(j+1) {
		found[List] = true
	}
}

func shown(ts []tok) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteRune(t.r)
	}
	return b.String()
}
