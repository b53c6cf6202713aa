package demo

import "testing"

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
