package compose

import (
	"cmp"
	"slices"
	"strings"

	"rollcall/report"
	"rollcall/view"
)

// MemberStreaks are a member's streaks per schedule they were ever
// expected at in the ledger.
func MemberStreaks(l *report.Ledger, userID uint64) []report.Streak {
	var out []report.Streak
	for _, s := range l.Schedules() {
		if st := l.Streak(userID, s); st.Best > 0 {
			out = append(out, st)
		}
	}
	return out
}

// TopStreaks are the n longest current streaks (of two events or more),
// each member's longest over their schedules; longest first, then by name.
func TopStreaks(l *report.Ledger, n int) []view.TopStreak {
	var out []view.TopStreak
	schedules := l.Schedules()
	for id, m := range l.Members {
		best := report.Streak{}
		for _, s := range schedules {
			if st := l.Streak(id, s); st.Current > best.Current {
				best = st
			}
		}
		if best.Current >= 2 {
			out = append(out, view.TopStreak{Member: m, Streak: best})
		}
	}
	slices.SortFunc(out, func(a, b view.TopStreak) int {
		if c := cmp.Compare(b.Current, a.Current); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Member.Name()), strings.ToLower(b.Member.Name()))
	})
	return out[:min(n, len(out))]
}
