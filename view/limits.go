package view

import (
	"strconv"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"

	"rollcall/store"
)

// Discord's limits on embeds (Discord counts characters, not bytes). A
// message whose embeds break them is refused with 400 Invalid Form Body.
const (
	MaxTitle       = 256
	MaxDescription = 4096
	MaxFields      = 25
	MaxFieldName   = 256
	MaxFieldValue  = 1024
	MaxFooter      = 2048
	// MaxEmbedChars is the total of titles, descriptions, field names and
	// values, footers and authors over all of a message's embeds.
	MaxEmbedChars = 6000
)

// embedBudget is what a report leaves for its lists of names, with room for
// what Fit may still add.
const embedBudget = MaxEmbedChars - 200

func chars(s string) int { return utf8.RuneCountInString(s) }

// EmbedChars is an embed's size as Discord counts it against MaxEmbedChars.
func EmbedChars(e discord.Embed) int {
	n := chars(e.Title) + chars(e.Description)
	for _, f := range e.Fields {
		n += chars(f.Name) + chars(f.Value)
	}
	if e.Footer != nil {
		n += chars(e.Footer.Text)
	}
	if e.Author != nil {
		n += chars(e.Author.Name)
	}
	return n
}

// cut shortens s to at most n characters, ending with "…" when cut.
func cut(s string, n int) string {
	if chars(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Fit makes an embed obey Discord's limits, cutting what is too long. The
// lists of names are sized before (NameFields), so this is the last line of
// defence: a report is never refused for its size.
func Fit(e *discord.Embed) {
	e.Title = cut(e.Title, MaxTitle)
	e.Description = cut(e.Description, MaxDescription)
	if len(e.Fields) > MaxFields {
		e.Fields = e.Fields[:MaxFields]
	}
	for i := range e.Fields {
		e.Fields[i].Name = cut(e.Fields[i].Name, MaxFieldName)
		e.Fields[i].Value = cut(e.Fields[i].Value, MaxFieldValue)
	}
	if e.Footer != nil {
		e.Footer.Text = cut(e.Footer.Text, MaxFooter)
	}
	// Still too big: shorten the description, then drop fields from the end.
	if over := EmbedChars(*e) - MaxEmbedChars; over > 0 && chars(e.Description) > 1 {
		e.Description = cut(e.Description, max(1, chars(e.Description)-over))
	}
	for EmbedChars(*e) > MaxEmbedChars && len(e.Fields) > 0 {
		e.Fields = e.Fields[:len(e.Fields)-1]
	}
}

// NamedList is a list of members shown as one embed field.
type NamedList struct {
	Title   string // shown with the count, e.g. "Late (3)"
	Members []store.Member
}

// NameFields shows lists of names within budget characters in all: each
// list gets an equal share, a list needing less gives the rest to the
// others, and a list cut short ends with "…and N more". It reports whether
// any list was cut, so the caller can attach the full list.
func (l Lang) NameFields(lists []NamedList, budget int) ([]discord.EmbedField, bool) {
	need := make([]int, len(lists))
	limit := make([]int, len(lists))
	for i, nl := range lists {
		need[i] = chars(l.NameList(nl.Members, 1<<30))
		if need[i] == 0 {
			need[i] = chars(l.T("nobody_list"))
		}
		budget -= chars(nl.Title) + 8 // the title and its count
	}
	// Water-filling: the smallest needs are met first.
	left, open := budget, len(lists)
	done := make([]bool, len(lists))
	for open > 0 {
		share := max(left/open, 0)
		progress := false
		for i := range lists {
			if !done[i] && need[i] <= share && need[i] <= MaxFieldValue {
				limit[i], done[i] = need[i], true
				left -= need[i]
				open--
				progress = true
			}
		}
		if !progress {
			for i := range lists {
				if !done[i] {
					limit[i] = min(share, MaxFieldValue)
				}
			}
			break
		}
	}
	var out []discord.EmbedField
	cutShort := false
	for i, nl := range lists {
		v := l.NameList(nl.Members, max(limit[i], 40))
		if len(nl.Members) == 0 {
			v = l.T("nobody_list")
		}
		if chars(v) < need[i] {
			cutShort = true
		}
		out = append(out, discord.EmbedField{Name: nl.Title + " (" + strconv.Itoa(len(nl.Members)) + ")", Value: v})
	}
	return out, cutShort
}
