package demo

import (
	"testing"

	"github.com/disgoorg/snowflake/v2"
)

func TestMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		`1. **Olivia ✨** (player24) — 406 min`: `1. <b>Olivia ✨</b> (player24) — 406 min`,
		`**a\*b** <script>`:                    `<b>a*b</b> &lt;script&gt;`,
		"table:\n```\nA | 1\n```\nafter **x**": "table:\n<pre>A | 1\n</pre>\nafter <b>x</b>",
		`chill\_chris`:                         `chill_chris`,
	} {
		if got := string(markdown(in)); got != want {
			t.Errorf("markdown(%q) = %q, want %q", in, got, want)
		}
	}
}

// Mentions read as Discord shows them: by name, a name's markdown
// characters kept as written.
func TestFeedMentions(t *testing.T) {
	names := map[snowflake.ID]string{1: "#отчёты", 2: "@Regular", 3: "@chill_chris", 4: "@<1>"}
	f := &feed{mention: func(id snowflake.ID) string {
		if n, ok := names[id]; ok {
			return n
		}
		return "@" + id.String()
	}}
	for in, want := range map[string]string{
		"reports in <#1>, role <@&2>":   "reports in #отчёты, role @Regular",
		"<@3> and <@!3>":                `@chill\_chris and @chill\_chris`,
		"<@9> stays an id, <#x> as is":  "@9 stays an id, <#x> as is",
		"a name that looks like <@4>":   `a name that looks like @<1\>`,
		"**<@3>** bold, the name plain": `**@chill\_chris** bold, the name plain`,
	} {
		got := f.mentions(in)
		if got != want {
			t.Errorf("mentions(%q) = %q, want %q", in, got, want)
		}
	}
	if got := string(markdown(f.mentions("<@3>"))); got != "@chill_chris" {
		t.Errorf("rendered %q", got)
	}
}
