package sheet

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// read parses a file as a spreadsheet with comma separators does.
func read(t *testing.T, file string) [][]string {
	t.Helper()
	if !strings.HasPrefix(file, "\ufeff") {
		t.Fatalf("no byte-order mark: %q", file)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, file)
	}
	return rows
}

// splitAt splits one line at sep outside double quotes, as a spreadsheet
// whose locale uses another list separator (Excel in ru-RU: ';') does,
// and returns each cell with its quotes removed.
func splitAt(line string, sep rune) []string {
	var cells []string
	var cur strings.Builder
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case r == sep && !quoted:
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(cells, cur.String())
}

func TestFormulasAreNeutralised(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"hyperlink", `=HYPERLINK("http://x","click")`, `'=HYPERLINK("http://x","click")`},
		{"dde", `+cmd|' /C calc'!A0`, `'+cmd|' /C calc'!A0`},
		{"at", `@SUM(1+1)`, `'@SUM(1+1)`},
		{"minus", `-2+3`, `'-2+3`},
		{"tab", "\t=1+1", "'\t=1+1"},
		{"carriage return", "\r=1+1", "'\r=1+1"},
		{"line feed", "\n=1+1", "'\n=1+1"},
		{"after spaces", "  =1+1", "'  =1+1"},
		{"after a no-break space", "\u00a0=1+1", "'\u00a0=1+1"},
		{"full-width", "＝1+1", "'＝1+1"},
		{"plain name", "Алексей 🎮", "Алексей 🎮"},
		{"inner equals", "a=b", "a=b"},
		{"date", "2026-11-27", "2026-11-27"},
		{"empty", "", ""},
		{"semicolon then formula", "Bob;=1+1", "Bob;=1+1"},
		{"comma then formula", "Bob,=1+1", "Bob,=1+1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := New("name", "minutes")
			tb.Row(Text(tc.in), Int(5))
			rows := read(t, tb.String())
			if got := rows[1][0]; got != tc.want {
				t.Fatalf("cell %q, want %q", got, tc.want)
			}
			if rows[1][1] != "5" {
				t.Fatalf("number cell %q", rows[1][1])
			}
			// A locale that splits at semicolons (or commas) still finds no
			// cell that starts a formula.
			for _, sep := range []rune{';', ','} {
				for _, line := range strings.Split(strings.TrimPrefix(tb.String(), "\ufeff"), "\r\n") {
					for _, cell := range splitAt(line, sep) {
						if Formula(cell) && !strings.HasPrefix(tc.in, "\r") && !strings.HasPrefix(tc.in, "\n") {
							t.Errorf("split at %q: cell %q starts a formula", sep, cell)
						}
					}
				}
			}
		})
	}
}

// Numbers the bot computes stay numbers: no quote, no apostrophe, even
// negative ones.
func TestNumbersStayNumbers(t *testing.T) {
	tb := New("a", "b", "c", "d")
	tb.Row(Int(-3), Uint(123456789012345678), Float(0.5, 2), Int(0))
	if got := strings.Split(tb.String(), "\r\n")[1]; got != "-3,123456789012345678,0.50,0" {
		t.Fatalf("row %q", got)
	}
	if rows := read(t, tb.String()); !slices.Equal(rows[0], []string{"a", "b", "c", "d"}) {
		t.Fatalf("header %v", rows[0])
	}
}

// FuzzSheetText: any text reads back as itself, or as itself after an
// apostrophe, and never as a formula.
func FuzzSheetText(f *testing.F) {
	for _, s := range []string{`=HYPERLINK("http://x","click")`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`, `-2+3`, "\t=1", " \"=1\"", "a\"b", "x\r\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tb := New("x", "n")
		tb.Row(Text(s), Int(1))
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(tb.String(), "\ufeff"))).ReadAll()
		if err != nil || len(rows) != 2 || len(rows[1]) != 2 {
			t.Fatalf("%q: rows %q, err %v", s, rows, err)
		}
		got := rows[1][0]
		// encoding/csv reads \r\n inside a quoted field as \n.
		want := strings.ReplaceAll(s, "\r\n", "\n")
		if got != want && got != "'"+want {
			t.Fatalf("%q reads back as %q", s, got)
		}
		if Formula(got) {
			t.Fatalf("%q reads back as the formula %q", s, got)
		}
	})
}
