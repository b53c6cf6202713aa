package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
)

// CSV is the period's full table: every attendee by rank, then everyone who
// never attended, one row each. Spreadsheet-friendly (UTF-8 with BOM so
// Excel reads Cyrillic names right).
func CSV(p *Period) string {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"rank", "display_name", "username", "user_id", "minutes", "events_attended", "events_expected", "attendance_rate"})
	for i, t := range p.Totals {
		_ = w.Write([]string{strconv.Itoa(i + 1), t.Member.Name(), t.Member.Username, strconv.FormatUint(t.Member.UserID, 10),
			strconv.Itoa(t.Minutes), strconv.Itoa(t.Attended), strconv.Itoa(t.Expected), fmt.Sprintf("%.2f", t.Rate())})
	}
	for _, m := range p.Never {
		t := p.TotalFor(m.UserID)
		_ = w.Write([]string{"", m.Name(), m.Username, strconv.FormatUint(m.UserID, 10), "0", "0", strconv.Itoa(t.Expected), "0.00"})
	}
	w.Flush()
	return buf.String()
}
