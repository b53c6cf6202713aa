package app_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordsim"
)

// checkDiscordLimits fails t for a message Discord would refuse for its
// embeds (the simulator refuses it too; this says which limit).
func checkDiscordLimits(t *testing.T, what string, embeds []discord.Embed) {
	t.Helper()
	n := utf8.RuneCountInString
	if len(embeds) == 0 || len(embeds) > 10 {
		t.Errorf("%s: %d embeds", what, len(embeds))
	}
	total := 0
	for _, e := range embeds {
		total += n(e.Title) + n(e.Description)
		if n(e.Description) > 4096 || n(e.Title) > 256 || len(e.Fields) > 25 {
			t.Errorf("%s: title %d, description %d characters, %d fields", what, n(e.Title), n(e.Description), len(e.Fields))
		}
		for _, f := range e.Fields {
			total += n(f.Name) + n(f.Value)
			if n(f.Name) > 256 || n(f.Value) > 1024 || f.Value == "" {
				t.Errorf("%s: field %q has %d characters", what, f.Name, n(f.Value))
			}
		}
		if e.Footer != nil {
			total += n(e.Footer.Text)
		}
		if e.Author != nil {
			total += n(e.Author.Name)
		}
	}
	if total > 6000 {
		t.Errorf("%s: %d characters in its embeds, more than Discord's 6,000", what, total)
	}
}

// eventCSV reads the event's full list: user id -> its row.
func eventCSV(t *testing.T, what string, files []discordsim.File) map[string]map[string]string {
	t.Helper()
	for _, f := range files {
		if f.Name != "event-members.csv" {
			continue
		}
		// Excel wants the byte-order mark (package sheet); a CSV reader does not.
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(f.Data), "\ufeff"))).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: the CSV does not read: %v", what, err)
		}
		out := map[string]map[string]string{}
		for _, r := range recs[1:] {
			row := map[string]string{}
			for i, col := range recs[0] {
				row[col] = r[i]
			}
			out[row["user_id"]] = row
		}
		return out
	}
	t.Fatalf("%s: no event-members.csv among %d files", what, len(files))
	return nil
}

// TestFaultNativeEventWith600AttendeesAnd500Interested: a Discord
// Scheduled Event with 600 people in its channel and 500 who clicked
// "Interested" (300 of them came). The post after it and /event both fit
// Discord's limits (6,000 characters over the embeds, 1,024 per field, 25
// fields), listing the first names with "…and N more", and attach the full
// list as CSV: every attendee with their class, every interested member who
// did not come. On the original design /event built an embed over the
// 6,000-character limit, Discord refused it, and the user got "Something
// went wrong".
func TestFaultNativeEventWith600AttendeesAnd500Interested(t *testing.T) {
	w, h := nativeWorld(t, at(15, 59, 50))
	const (
		came         = 600
		interested   = 500
		interestCame = 300 // the first 300 interested came; the other 200 did not
	)
	joined := at(15, 59, 50).AddDate(0, -1, 0)
	var people []snowflake.ID
	for i := range came + interested - interestCame {
		people = append(people, w.Sim.AddMember(w.Guild, discordsim.MemberSpec{
			Username: fmt.Sprintf("member%04d", i), GlobalName: fmt.Sprintf("Участник №%04d 🎮", i), JoinedAt: joined}))
	}
	spec := discordsim.ScheduledEventSpec{Name: "Большой рейд", ChannelID: w.Chill, Start: at(16, 0, 0), End: at(16, 30, 0),
		Status: discord.ScheduledEventStatusScheduled}
	ev := w.Sim.CreateScheduledEvent(w.Guild, spec)
	for i, id := range people {
		if i < came {
			w.Sim.SetVoice(w.Guild, id, w.Chill, discordsim.VoiceFlags{})
		}
		if i >= came-interestCame {
			w.Sim.AddInterested(w.Guild, ev, id)
		}
	}
	h.Start()
	setStatus := func(s discord.ScheduledEventStatus) {
		spec.Status = s
		w.Sim.UpdateScheduledEvent(w.Guild, ev, spec)
		waitEventStatus(t, h, w.Guild, ev, s, spec.Start)
	}
	h.RunUntil(at(16, 31, 0), map[time.Time]func(){
		at(16, 0, 0):  func() { setStatus(discord.ScheduledEventStatusActive) },
		at(16, 30, 0): func() { setStatus(discord.ScheduledEventStatusCompleted) },
	})

	check := func(what string, embeds []discord.Embed, files []discordsim.File) {
		t.Helper()
		checkDiscordLimits(t, what, embeds)
		if got := fieldValue(&discordsim.Response{Embeds: embeds}, "Participants"); got != "600" {
			t.Errorf("%s: participants %q, want 600", what, got)
		}
		listed := 0
		for _, f := range embeds[0].Fields {
			if strings.Contains(f.Value, "Участник №") {
				listed++
				if !strings.Contains(f.Value, "more") {
					t.Errorf("%s: the list %q is cut without saying how many are left out: %q", what, f.Name, f.Value[max(0, len(f.Value)-80):])
				}
			}
		}
		if listed == 0 {
			t.Errorf("%s: no list of names at all", what)
		}
		rows := eventCSV(t, what, files)
		cameYes, cameNo, missed := 0, 0, 0
		for i, id := range people {
			r, ok := rows[id.String()]
			switch {
			case !ok:
				t.Fatalf("%s: %s (%d) is not in the CSV", what, fmt.Sprintf("member%04d", i), id)
			case i < came && r["interested"] == "yes" && r["class"] != "":
				cameYes++
			case i < came && r["interested"] == "no" && r["class"] != "":
				cameNo++
			case i >= came && r["interested"] == "yes" && r["class"] == "":
				missed++
			default:
				t.Fatalf("%s: member%04d has the row %v", what, i, r)
			}
		}
		if cameYes != interestCame || cameNo != came-interestCame || missed != interested-interestCame || len(rows) != len(people) {
			t.Errorf("%s: the CSV has %d rows: %d interested who came, %d came anyway, %d interested who did not; want %d, %d, %d",
				what, len(rows), cameYes, cameNo, missed, interestCame, came-interestCame, interested-interestCame)
		}
	}
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		msgs := w.Sim.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("channel %d got %d posts, want 1", ch, len(msgs))
		}
		check(fmt.Sprintf("the post in %d", ch), msgs[0].Embeds, msgs[0].Files)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: w.Members["zoe"], Command: "event", Locale: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed || len(r.Embeds) == 0 || strings.Contains(r.Content, "Something went wrong") {
		t.Fatalf("/event answered %q with %d embeds (failed %v)", r.Content, len(r.Embeds), r.Failed)
	}
	check("/event", r.Embeds, r.Files)
	// Who was interested came from Discord's pages of 100, each asked for once.
	if n := w.Sim.CountRequests("GET", "/guilds/{g}/scheduled-events/{e}/users", nil); n != interested/100+1 {
		t.Errorf("%d requests for the interested users' pages, want %d", n, interested/100+1)
	}
}
