package report

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"rollcall/store"
)

// formulaNames are display names that a spreadsheet would run as formulas.
var formulaNames = []string{`=HYPERLINK("http://x","click")`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`, `-2+3`}

// The week's CSV neither runs a member's name as a formula nor turns the
// bot's own numbers into text (issue 13, item 3).
func TestCSVNeutralisesFormulas(t *testing.T) {
	p := &Period{}
	for i, n := range formulaNames {
		m := store.Member{UserID: uint64(100 + i), DisplayName: n, Username: n}
		if i%2 == 0 {
			p.Totals = append(p.Totals, Total{Member: m, Minutes: 60, Attended: 1, Expected: 2})
		} else {
			p.Never = append(p.Never, m)
		}
	}
	file := CSV(p)
	if !strings.HasPrefix(file, "\ufeff") {
		t.Fatal("no byte-order mark: Excel would misread Cyrillic names")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(formulaNames) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows[1:] {
		for _, col := range []int{1, 2} { // display_name, username
			if !strings.HasPrefix(row[col], "'") {
				t.Errorf("cell %q would run as a formula", row[col])
			}
		}
		for _, col := range []int{3, 4, 5, 6, 7, 8} { // user_id, minutes, attended, expected, rate, excused
			if _, err := strconv.ParseFloat(row[col], 64); err != nil {
				t.Errorf("column %d is %q, not a number", col, row[col])
			}
		}
	}
	if !strings.Contains(file, ",100,60,1,2,0.50,0\r\n") {
		t.Errorf("numbers are not written bare:\n%s", file)
	}
}
