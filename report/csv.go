package report

import "rollcall/sheet"

// CSV is the period's full table: every attendee by rank, then everyone who
// never attended, one row each; events_excused counts the events a member
// was excused from (not in events_expected). Written with package sheet, so names cannot
// run as spreadsheet formulas and Excel reads Cyrillic names right.
func CSV(p *Period) string {
	t := sheet.New("rank", "display_name", "username", "user_id", "minutes", "events_attended", "events_expected", "attendance_rate", "events_excused")
	for i, tt := range p.Totals {
		t.Row(sheet.Int(i+1), sheet.Text(tt.Member.Name()), sheet.Text(tt.Member.Username), sheet.Uint(tt.Member.UserID),
			sheet.Int(tt.Minutes), sheet.Int(tt.Attended), sheet.Int(tt.Expected), sheet.Float(tt.Rate(), 2), sheet.Int(tt.Excused))
	}
	for _, m := range p.Never {
		tt := p.TotalFor(m.UserID)
		t.Row(sheet.Text(""), sheet.Text(m.Name()), sheet.Text(m.Username), sheet.Uint(m.UserID),
			sheet.Int(0), sheet.Int(0), sheet.Int(tt.Expected), sheet.Float(0, 2), sheet.Int(tt.Excused))
	}
	return t.String()
}
