package view

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/disgoorg/disgo/discord"

	"rollcall/report"
	"rollcall/store"
)

func init() {
	// Kept beside the code that uses them; merged into the one table.
	for k, v := range map[string]string{
		"interested_came":   "Interested and came",
		"interested_missed": "Interested, did not come",
		"came_uninterested": "Came without marking interest",
		"nobody_list":       "—",
		"held_split":        "%d (%d scheduled · %d {{Discord event|Discord events}})",
		"member_native":     "Discord events (%d)",
	} {
		messages[EN][k] = v
	}
	for k, v := range map[string]string{
		"interested_came":   "Интересовались и пришли",
		"interested_missed": "Интересовались, но не пришли",
		"came_uninterested": "Пришли без отметки «Интересно»",
		"nobody_list":       "—",
		"held_split":        "%d (%d по расписанию · %d {{событие|события|событий}} Discord)",
		"member_native":     "События Discord (%d)",
	} {
		messages[RU][k] = v
	}
}

// InterestLists are a native event's three groups: who was interested and
// came, who was interested but did not come, who came without marking it.
func (l Lang) InterestLists(ev report.Event) []NamedList {
	return []NamedList{
		{Title: l.T("interested_came"), Members: ev.InterestedCame},
		{Title: l.T("interested_missed"), Members: ev.InterestedMissed},
		{Title: l.T("came_uninterested"), Members: ev.CameUninterested},
	}
}

// Held is the "events held" figure of a period, saying how many were
// Discord Scheduled Events when there were any.
func (l Lang) Held(p *report.Period) string {
	if n := p.NativeHeld(); n > 0 {
		return l.T("held_split", p.Held(), p.Held()-n, n)
	}
	return strconv.Itoa(p.Held())
}

// MemberInterestField sums, over a period's Discord Scheduled Events, how
// often the member was interested and came, was interested and did not
// come, and came without marking interest; false when the period has none.
func (l Lang) MemberInterestField(p *report.Period, userID uint64) (discord.EmbedField, bool) {
	if p.NativeHeld() == 0 {
		return discord.EmbedField{}, false
	}
	in := func(ms []store.Member) bool {
		return slices.ContainsFunc(ms, func(m store.Member) bool { return m.UserID == userID })
	}
	var came, missed, uninterested int
	for _, ev := range p.Events {
		switch {
		case in(ev.InterestedCame):
			came++
		case in(ev.InterestedMissed):
			missed++
		case in(ev.CameUninterested):
			uninterested++
		}
	}
	return discord.EmbedField{
		Name:  l.T("member_native", p.NativeHeld()),
		Value: fmt.Sprintf("%s: %d · %s: %d · %s: %d", l.T("interested_came"), came, l.T("interested_missed"), missed, l.T("came_uninterested"), uninterested),
	}, true
}
