package attendance

import "testing"

func maskOf(from, to int) Mask {
	var m Mask
	for i := from; i <= to; i++ {
		m.Set(i)
	}
	return m
}

func TestClassify(t *testing.T) {
	r := DefaultRules()
	for _, tc := range []struct {
		name  string
		m     Masks
		rules Rules
		want  Class
		n     int
	}{
		{"whole event", Masks{Present: maskOf(0, 59)}, r, Attended, 60},
		{"within grace", Masks{Present: maskOf(4, 55)}, r, Attended, 52},
		{"late", Masks{Present: maskOf(5, 59)}, r, Late, 55},
		{"left early", Masks{Present: maskOf(0, 53)}, r, LeftEarly, 54},
		{"partial", Masks{Present: maskOf(20, 30)}, r, Partial, 11},
		{"absent", Masks{}, r, NoShow, 0},
		{"below minimum", Masks{Present: maskOf(0, 59)}, Rules{MinMinutes: 61}, NoShow, 60},
		{"deafened minutes do not count", Masks{Present: maskOf(0, 59), SelfDeaf: maskOf(0, 29)},
			Rules{MinMinutes: 1, CountSelfMuted: true, LateAfter: 5}, Late, 30},
		{"deafened minutes count by default", Masks{Present: maskOf(0, 59), SelfDeaf: maskOf(0, 29)}, r, Attended, 60},
		{"muted all event, muted not counted", Masks{Present: maskOf(0, 59), SelfMute: maskOf(0, 59)},
			Rules{MinMinutes: 1, CountSelfDeafened: true}, NoShow, 0},
		{"server deafened", Masks{Present: maskOf(0, 59), ServerDeaf: maskOf(50, 59)},
			Rules{MinMinutes: 1, CountSelfMuted: true, CountSelfDeafened: true, LeftEarlyBefore: 5}, LeftEarly, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n := tc.rules.Classify(tc.m, 60)
			if got != tc.want || n != tc.n {
				t.Fatalf("got %s %d, want %s %d", got, n, tc.want, tc.n)
			}
		})
	}
}
