package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"

	"rollcall/store"
)

// EventCSV is one event's people in full, for when the report's lists had
// to be cut to fit Discord: everyone seen, with class and counted minutes,
// then (native events) who was interested and did not come.
func EventCSV(ev Event) string {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"display_name", "username", "user_id", "class", "minutes", "interested"})
	interested := func(id uint64) string {
		if !ev.Occurrence.Native() {
			return ""
		}
		for _, l := range [][]uint64{ids(ev.InterestedCame), ids(ev.InterestedMissed)} {
			if slices.Contains(l, id) {
				return "yes"
			}
		}
		return "no"
	}
	for _, r := range ev.Rows {
		_ = w.Write([]string{r.Member.Name(), r.Member.Username, strconv.FormatUint(r.Member.UserID, 10), string(r.Class),
			strconv.Itoa(r.Counted), interested(r.Member.UserID)})
	}
	for _, m := range ev.InterestedMissed {
		if slices.ContainsFunc(ev.Rows, func(r Row) bool { return r.Member.UserID == m.UserID }) {
			continue
		}
		_ = w.Write([]string{m.Name(), m.Username, strconv.FormatUint(m.UserID, 10), "", "0", "yes"})
	}
	w.Flush()
	return buf.String()
}

func ids(ms []store.Member) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}
