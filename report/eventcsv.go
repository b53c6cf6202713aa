package report

import (
	"slices"

	"rollcall/sheet"
	"rollcall/store"
)

// EventCSV is one event's people in full, for when the report's lists had
// to be cut to fit Discord: everyone seen, with class and counted minutes,
// then (native events) who was interested and did not come, then who was
// excused and did not come.
func EventCSV(ev Event) string {
	t := sheet.New("display_name", "username", "user_id", "class", "minutes", "interested")
	in := func(ms []store.Member, id uint64) bool {
		return slices.ContainsFunc(ms, func(m store.Member) bool { return m.UserID == id })
	}
	interested := func(id uint64) string {
		switch {
		case !ev.Occurrence.Native():
			return ""
		case in(ev.InterestedCame, id) || in(ev.InterestedMissed, id):
			return "yes"
		}
		return "no"
	}
	for _, r := range ev.Rows {
		t.Row(sheet.Text(r.Member.Name()), sheet.Text(r.Member.Username), sheet.Uint(r.Member.UserID), sheet.Text(string(r.Class)),
			sheet.Int(r.Counted), sheet.Text(interested(r.Member.UserID)))
	}
	for _, m := range ev.InterestedMissed {
		if slices.ContainsFunc(ev.Rows, func(r Row) bool { return r.Member.UserID == m.UserID }) {
			continue
		}
		t.Row(sheet.Text(m.Name()), sheet.Text(m.Username), sheet.Uint(m.UserID), sheet.Text(""), sheet.Int(0), sheet.Text("yes"))
	}
	for _, m := range ev.Excused {
		if slices.ContainsFunc(ev.Rows, func(r Row) bool { return r.Member.UserID == m.UserID }) {
			continue
		}
		t.Row(sheet.Text(m.Name()), sheet.Text(m.Username), sheet.Uint(m.UserID), sheet.Text("excused"), sheet.Int(0), sheet.Text(interested(m.UserID)))
	}
	return t.String()
}
