// Package sheet writes the CSV files rollcall attaches (the week's table,
// the absent list) for a moderator to open in a spreadsheet. It is the one
// CSV writer: every table goes through it, so no cell a member controls can
// run as a formula.
//
// Spreadsheets (Excel, LibreOffice Calc, Google Sheets) read a cell that
// starts with =, +, - or @ as a formula, and a member's display name can be
// =HYPERLINK("http://x","click") or +cmd|' /C calc'!A0. Following OWASP's
// CSV Injection guidance:
//   - a text cell that starts with =, +, -, @, a tab or a carriage return
//     (or a line feed) is written with a leading ' so the spreadsheet reads
//     it as text; so is one where those follow leading whitespace, which
//     some importers trim before they look, and one starting with the
//     full-width forms (＝ ＋ － ＠) that some locales read as the ASCII ones;
//   - every text cell is wrapped in double quotes, inner quotes doubled, so
//     neither a comma nor a semicolon in a name starts a new cell (Excel in
//     a Russian or German locale splits unquoted text at semicolons, and
//     the new cell could start with =);
//   - numbers the bot computes (minutes, counts, rates, ids) are a separate
//     kind of cell, written bare so they stay numbers; they can only hold
//     digits, a sign and a decimal point, which no spreadsheet reads as a
//     formula.
//
// Files start with a UTF-8 byte-order mark so Excel reads Cyrillic names as
// UTF-8.
package sheet

import (
	"strconv"
	"strings"
	"unicode"
)

// Cell is one value of a row: Text for anything that may come from a
// person, Int, Uint or Float for numbers the bot computed.
type Cell struct {
	s      string
	number bool
}

// Text is a cell of text, neutralised as the package doc says.
func Text(s string) Cell { return Cell{s: s} }

// Int is an integer cell.
func Int(n int) Cell { return Cell{s: strconv.Itoa(n), number: true} }

// Uint is an unsigned integer cell (a Discord id).
func Uint(n uint64) Cell { return Cell{s: strconv.FormatUint(n, 10), number: true} }

// Float is a number cell with prec digits after the point.
func Float(f float64, prec int) Cell {
	return Cell{s: strconv.FormatFloat(f, 'f', prec, 64), number: true}
}

// Table is a CSV file being written: a header, then rows.
type Table struct {
	b strings.Builder
}

// New starts a table with a header row.
func New(header ...string) *Table {
	t := &Table{}
	t.b.WriteString("\ufeff")
	cells := make([]Cell, len(header))
	for i, h := range header {
		cells[i] = Text(h)
	}
	t.Row(cells...)
	return t
}

// Row appends one row.
func (t *Table) Row(cells ...Cell) {
	for i, c := range cells {
		if i > 0 {
			t.b.WriteByte(',')
		}
		if c.number {
			t.b.WriteString(c.s)
			continue
		}
		t.b.WriteByte('"')
		if Formula(c.s) {
			t.b.WriteByte('\'')
		}
		t.b.WriteString(strings.ReplaceAll(c.s, `"`, `""`))
		t.b.WriteByte('"')
	}
	t.b.WriteString("\r\n")
}

// String is the whole file.
func (t *Table) String() string { return t.b.String() }

// Formula reports whether a spreadsheet could read s as a formula: its
// first character past leading whitespace is one of = + - @ (or their
// full-width forms), or s starts with a tab, carriage return or line feed.
func Formula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '\t', '\r', '\n':
		return true
	}
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		switch r {
		case '=', '+', '-', '@', '＝', '＋', '－', '＠':
			return true
		}
		return false
	}
	return false
}
