package view

import (
	"encoding/csv"
	"strings"
	"testing"

	"rollcall/store"
)

// The absent list's CSV is written by the same neutralising writer as the
// week's (issue 13, item 3).
func TestAbsentCSVNeutralisesFormulas(t *testing.T) {
	var as []Absent
	for i, n := range []string{`=HYPERLINK("http://x","click")`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`, `-2+3`} {
		as = append(as, Absent{Member: store.Member{UserID: uint64(i + 1), DisplayName: n, Username: n}, Missed: 3, Expected: 4})
	}
	file := AbsentCSV(as)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\ufeff"))).ReadAll()
	if err != nil || !strings.HasPrefix(file, "\ufeff") {
		t.Fatalf("%v\n%s", err, file)
	}
	for _, row := range rows[1:] {
		if !strings.HasPrefix(row[0], "'") || !strings.HasPrefix(row[1], "'") {
			t.Errorf("row %q would run as a formula", row)
		}
		if row[3] != "3" || row[5] != "4" {
			t.Errorf("events_missed %q, events_expected %q", row[3], row[5])
		}
	}
}
