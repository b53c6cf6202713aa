package discordtext_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"rollcall/discordtext"
	"rollcall/discordtext/mdmodel"
)

// hostile are names members could pick, each with what Discord would make
// of it unescaped.
var hostile = []struct {
	name, in string
	want     mdmodel.Construct
}{
	{"masked link", "[Nitro](https://dlscord.gg/free)", mdmodel.Link},
	{"autolink", "free nitro https://dlscord.gg/free", mdmodel.Link},
	{"angle link", "<https://dlscord.gg/free>", mdmodel.Link},
	{"other scheme", "steam://run/1", mdmodel.Link},
	{"heading", "# Big", mdmodel.Heading},
	{"heading 3", "### Big", mdmodel.Heading},
	{"subtext", "-# small", mdmodel.Subtext},
	{"list dash", "- item", mdmodel.List},
	{"list star", "* item", mdmodel.List},
	{"ordered list", "1. first", mdmodel.List},
	{"quote", "> quote", mdmodel.Quote},
	{"block quote", ">>> quote", mdmodel.Quote},
	{"bold", "**bold**", mdmodel.Bold},
	{"italic", "_it_", mdmodel.Italic},
	{"underline", "__u__", mdmodel.Underline},
	{"strike", "~~s~~", mdmodel.Strike},
	{"spoiler", "||spoiler||", mdmodel.Spoiler},
	{"inline code", "`x`", mdmodel.Code},
	{"code block", "```go\nx```", mdmodel.Code},
	{"user mention", "<@123456789012345678>", mdmodel.Mention},
	{"nick mention", "<@!123456789012345678>", mdmodel.Mention},
	{"role mention", "<@&123456789012345678>", mdmodel.Mention},
	{"channel mention", "<#123456789012345678>", mdmodel.Mention},
	{"timestamp", "<t:1700000000:R>", mdmodel.Mention},
	{"custom emoji", "<:pepe:123456789012345678>", mdmodel.Mention},
	{"slash command", "</week:123456789012345678>", mdmodel.Mention},
	{"everyone", "@everyone", mdmodel.Mention},
	{"here", "hi @here", mdmodel.Mention},
	{"newline heading", "Bob\n# Big", mdmodel.Heading},
	{"trailing backslash", `Bob\`, mdmodel.Dangling},
}

// The model must see each construct in the raw name, or the fuzz target
// below would prove nothing.
func TestModelFindsEachConstruct(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdmodel.Constructs(tc.in); !slices.Contains(got, tc.want) {
				t.Fatalf("Constructs(%q) = %v, want %s among them", tc.in, got, tc.want)
			}
		})
	}
	for _, plain := range []string{"Алексей 🎮", "Zoë ⚔️", "Gogol-Yanovsky", "a > b", "2 + 2", "C#", `\_`} {
		if got := mdmodel.Constructs(plain); got != nil {
			t.Errorf("Constructs(%q) = %v, want none", plain, got)
		}
	}
}

func TestEscapeLeavesNoConstruct(t *testing.T) {
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			out := discordtext.Escape(tc.in)
			if got := mdmodel.Constructs(out); got != nil {
				t.Fatalf("Escape(%q) = %q renders %v", tc.in, out, got)
			}
			// Inside a template's bold, the name stays inside it.
			if got := mdmodel.Constructs("**" + out + "**"); !slices.Equal(got, []mdmodel.Construct{mdmodel.Bold, mdmodel.Italic}) {
				t.Fatalf("**%s** renders %v", out, got)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"masked link", "[Nitro](https://dlscord.gg/free)", `\[Nitro\](https:` + "\u200b" + `//dlscord.gg/free)`},
		{"heading", "# Big", `\# Big`},
		{"subtext", "-# small", `\-# small`},
		{"list", "- item", `\- item`},
		{"ordered list", "12. item", `12\. item`},
		{"quote", ">>> q", `\>>> q`},
		{"mid-line markers stay", "a - b # c > d 1. e", "a - b # c > d 1. e"},
		{"inline", "**b** _i_ ~~s~~ ||p|| `c`", `\*\*b\*\* \_i\_ \~\~s\~\~ \|\|p\|\| ` + "\\`c\\`"},
		{"backslash", `a\b\`, `a\\b\\`},
		{"mention", "<@&1>", `\<@&1>`},
		{"everyone", "@everyone @Here", "@\u200beveryone @\u200bHere"},
		{"email stays", "bob@example.com", "bob@example.com"},
		{"newlines", "a\nb\r\nc\u2028d", "a b  c d"},
		{"rtl override", "\u202eevil\u202c name", "evil name"},
		{"isolates and marks", "\u2066a\u2069\u200e\u200f\u061cb", "ab"},
		{"zero width", "e\u200bv\u200ce\u2060r\ufeffy", "every"},
		{"zwj between letters", "a\u200db", "ab"},
		{"zwj emoji", "👩\u200d💻 dev", "👩\u200d💻 dev"},
		{"zwj emoji with selector", "❤\ufe0f\u200d🔥", "❤\ufe0f\u200d🔥"},
		{"zwj family", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"zwj skin tone", "👩🏽\u200d💻", "👩🏽\u200d💻"},
		{"zwj at the end", "🎮\u200d", "🎮"},
		{"subdivision flag", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"},
		{"stray tags", "a\U000e0067b", "ab"},
		{"cyrillic and emoji", "Алексей 🎮", "Алексей 🎮"},
		{"keycap", "#️⃣ one", "\\#️⃣ one"},
		{"punctuation", "Zoë, O'Neil (x) & co. ⚔️!", "Zoë, O'Neil (x) & co. ⚔️!"},
		{"controls", "a\x00b\x07c\x7f\u0085d", "abc d"},
		{"trimmed", "  \u200b # x ", `\# x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := discordtext.Escape(tc.in); got != tc.want {
				t.Fatalf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	if got := discordtext.Code("a```b\n`c\u202e"); got != "aˋˋˋb ˋc" {
		t.Fatalf("Code = %q", got)
	}
	if got := discordtext.Code(`\*x*`); got != `\*x*` {
		t.Fatalf("Code changed markdown that a code block shows literally: %q", got)
	}
}

// FuzzEscapeRendersPlain: whatever a member names themselves, the escaped
// name renders as characters, never as a construct; a reader sees exactly
// the name (less the invisible characters); and nothing invisible is left
// but the joiners of emoji sequences and the zero-width spaces Escape puts
// in on purpose.
func FuzzEscapeRendersPlain(f *testing.F) {
	for _, tc := range hostile {
		f.Add(tc.in)
	}
	for _, s := range []string{"\u202eevil", "Алексей 🎮", "👩\u200d💻", "a\u200db", "1) x", "+ x", "http://x", `\`, "\\\\*", "<@\u200b1>", "@\u200beveryone"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		out := discordtext.Escape(name)
		if got := mdmodel.Constructs(out); got != nil {
			t.Fatalf("Escape(%q) = %q renders %v", name, out, got)
		}
		if got := mdmodel.Constructs("**" + out + "**"); !slices.Equal(got, []mdmodel.Construct{mdmodel.Bold, mdmodel.Italic}) {
			t.Fatalf("**%s** renders %v: the name leaks out of the template's bold", out, got)
		}
		shown := strings.ReplaceAll(strings.ReplaceAll(mdmodel.Shown(out), ":\u200b//", "://"), "@\u200b", "@")
		if want := discordtext.Plain(name); shown != want {
			t.Fatalf("Escape(%q) shows %q, want %q", name, shown, want)
		}
		rs := []rune(out)
		for i, r := range rs {
			switch {
			case r == '\u200b':
				if i == 0 || (rs[i-1] != ':' && rs[i-1] != '@') {
					t.Fatalf("Escape(%q) = %q has a zero-width space at %d it did not put there", name, out, i)
				}
			case r == '\u200d':
				prev := i - 1
				for prev >= 0 && (rs[prev] == '\ufe0f' || rs[prev] == '\ufe0e') {
					prev--
				}
				if prev < 0 || i+1 == len(rs) || !emojiBlock(rs[prev]) || !emojiBlock(rs[i+1]) {
					t.Fatalf("Escape(%q) = %q keeps a joiner outside an emoji sequence", name, out)
				}
			case r >= 0xe0020 && r <= 0xe007f:
			case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
				t.Fatalf("Escape(%q) = %q keeps the invisible %U", name, out, r)
			}
		}
	})
}

// emojiBlock is a looser test than the package's: a symbol, not a letter,
// digit, space or punctuation.
func emojiBlock(r rune) bool {
	return r > 0x2000 && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && !unicode.IsPunct(r)
}
