package app_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/attendance"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/store"
)

// invoke runs /<command> [sub] as user with options and waits for the reply.
func invoke(t *testing.T, w *apptest.World, user snowflake.ID, command, sub string, opts ...discordsim.Option) *discordsim.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: user, Command: command, Subcommand: sub, Options: opts, Locale: "en-US"})
	if err != nil {
		t.Fatalf("/%s %s: %v", command, sub, err)
	}
	if r.Failed {
		t.Fatalf("/%s %s was not acknowledged", command, sub)
	}
	return r
}

// fields maps an embed's field names to their values.
func fields(e discord.Embed) map[string]string {
	out := map[string]string{}
	for _, f := range e.Fields {
		out[f.Name] = f.Value
	}
	return out
}

// view is what a reply shows, for comparing replies before and after.
func view(r *discordsim.Response) string {
	var b strings.Builder
	for _, e := range r.Embeds {
		fmt.Fprintf(&b, "%s\n%s\n", e.Title, e.Description)
		for _, f := range e.Fields {
			fmt.Fprintf(&b, "%s: %s\n", f.Name, f.Value)
		}
		if e.Footer != nil {
			fmt.Fprintf(&b, "footer: %s\n", e.Footer.Text)
		}
	}
	return b.String() + r.Content
}

// hexRGB parses "#rrggbb".
func hexRGB(s string) color.RGBA {
	v, _ := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

func nearColor(img image.Image, x, y int, c color.RGBA) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a uint32, b uint8) int { return max(int(a>>8)-int(b), int(b)-int(a>>8)) }
	return d(r, c.R) <= 6 && d(g, c.G) <= 6 && d(b, c.B) <= 6
}

// pixels counts the pixels of colour c.
func pixels(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if nearColor(img, x, y, c) {
				n++
			}
		}
	}
	return n
}

// The colours of render's timeline states (render/timeline.go).
var (
	colPresent = hexRGB("#2f6fdb")
	colMuted   = hexRGB("#a7c2f2")
	colDeaf    = hexRGB("#8e7cc3")
	colAdded   = hexRGB("#2f9e44")
	colRemoved = hexRGB("#e03131")
	colUnknown = hexRGB("#ced4da")
	colAbsent  = hexRGB("#eef0f3")
)

// correctedWorld: the 16:00-17:00 event with Alexey present to 16:30
// (muted 16:10-16:20, deafened 16:20-16:25) and Zoë the whole hour, the bot
// down 16:52-16:55; the report posted; a weekly report due on Friday at
// 17:30.
func correctedWorld(t *testing.T) (*apptest.World, *apptest.Harness, store.Occurrence) {
	t.Helper()
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "60m")+`
  [guilds.weekly_report]
  enabled = true
  day = "fri"
  time = "17:30"
`)
	alexey := w.Members["alexey"]
	w.Sim.SetVoice(w.Guild, alexey, w.BZS, discordsim.VoiceFlags{})
	w.Sim.SetVoice(w.Guild, w.Members["zoe"], w.BZS, discordsim.VoiceFlags{})
	h.Start()
	h.RunUntil(at(16, 52, 0), map[time.Time]func(){
		at(16, 10, 0): func() { h.SetVoice(alexey, w.BZS, discordsim.VoiceFlags{SelfMute: true}) },
		at(16, 20, 0): func() { h.SetVoice(alexey, w.BZS, discordsim.VoiceFlags{SelfMute: true, SelfDeaf: true}) },
		at(16, 25, 0): func() { h.SetVoice(alexey, w.BZS, discordsim.VoiceFlags{}) },
		at(16, 30, 0): func() { h.SetVoice(alexey, 0, discordsim.VoiceFlags{}) },
	})
	h.Stop()
	h.Clock.Set(at(16, 55, 0))
	h.Start()
	h.RunUntil(at(17, 0, 10), nil)
	_, _, occ := storedMinutes(t, h.Store(), w.Guild)
	return w, h, occ
}

// A correction changes /event, /week, /member and the weekly report alike
// (the same totals everywhere), is announced under the posted report only
// when asked, shows in the charts and the trail; undo restores every
// answer exactly.
func TestE2ECorrectChangesEveryReportAndUndoRestores(t *testing.T) {
	w, h, occ := correctedWorld(t)
	owner, alexey := w.Sim.GuildOwner(w.Guild), w.Members["alexey"]
	ev := strconv.FormatInt(occ.ID, 10)
	answers := func() (event, member, week *discordsim.Response) {
		return invoke(t, w, owner, "event", "", o("event", ev)),
			invoke(t, w, owner, "member", "", o("member", alexey), o("period", "7d")),
			invoke(t, w, owner, "week", "", o("week", "this"))
	}
	e0, m0, w0 := answers()
	for _, r := range []*discordsim.Response{e0, m0, w0} {
		if len(r.Embeds) == 0 {
			t.Fatalf("an answer without an embed: %q", r.Content)
		}
	}
	before := fields(e0.Embeds[0])
	memberBefore, _ := strconv.Atoi(fields(m0.Embeds[0])["Total minutes"])
	if memberBefore == 0 || before["Total minutes"] == "" {
		t.Fatalf("before: event %v, member %v", before, fields(m0.Embeds[0]))
	}
	reports := map[snowflake.ID]snowflake.ID{} // channel -> the event report's message
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		ps := posts(w, ch)
		if len(ps) != 1 {
			t.Fatalf("channel %d: %d posts before the correction", ch, len(ps))
		}
		reports[ch] = ps[0].ID
	}

	// Twenty minutes added, announced.
	r := rc(t, w, owner, "correct add", o("member", alexey), o("event", ev), o("range", "16:40-17:00"), o("reason", "voice outage, he was there"),
		o("announce", true))
	if !strings.Contains(text(r), "Correction #1 stored: +16:40–17:00") || !strings.Contains(text(r), "A follow-up goes under the report") {
		t.Fatalf("correct add: %q", text(r))
	}
	h.Settle()
	for ch, report := range reports {
		ps := posts(w, ch)
		if len(ps) != 2 || ps[1].ReplyTo != report || len(ps[1].Embeds) != 1 ||
			!strings.Contains(ps[1].Embeds[0].Description, "+16:40–17:00 for Алексей 🎮 — voice outage, he was there") ||
			!strings.Contains(ps[1].Embeds[0].Footer.Text, "Corrected by a moderator") {
			t.Fatalf("channel %d after the announced correction: %+v", ch, ps)
		}
		if am := ps[1].AllowedMentions; am == nil || len(am.Parse) != 0 {
			t.Errorf("the follow-up may ping: %+v", am)
		}
	}

	e1, m1, w1 := answers()
	after := fields(e1.Embeds[0])
	wantEvent := func(k string, delta int) {
		b, _ := strconv.Atoi(before[k])
		if a, _ := strconv.Atoi(after[k]); a != b+delta {
			t.Errorf("/event %s: %s before, %s after; want +%d", k, before[k], after[k], delta)
		}
	}
	wantEvent("Total minutes", 20)
	wantEvent("Participants", 0)
	memberAfter, _ := strconv.Atoi(fields(m1.Embeds[0])["Total minutes"])
	if memberAfter != memberBefore+20 {
		t.Errorf("/member minutes %d before, %d after; want +20", memberBefore, memberAfter)
	}
	line := fmt.Sprintf("Алексей 🎮** (alexey) — %d min", memberAfter)
	if !strings.Contains(w1.Embeds[0].Description, line) {
		t.Errorf("/week does not agree with /member (%q):\n%s", line, w1.Embeds[0].Description)
	}
	if f := e1.Embeds[0].Footer; f == nil || !strings.Contains(f.Text, "Corrected by a moderator.") {
		t.Errorf("/event footer after a correction: %+v", f)
	}
	// The chart draws the added minutes in their own colour.
	if len(e1.Files) != 1 || pixels(apptest.DecodePNG(t, e1.Files[0].Data), colAdded) < 100 {
		t.Errorf("/event chart shows no added minutes")
	}
	if len(e0.Files) != 1 || pixels(apptest.DecodePNG(t, e0.Files[0].Data), colAdded) != 0 {
		t.Errorf("/event chart showed added minutes before any correction")
	}

	// The weekly report, due at 17:30, counts it too.
	h.RunUntil(at(17, 30, 10), nil)
	weekly := weeklyMessages(w, w.Reports)
	if len(weekly) != 1 || !strings.Contains(weekly[0].Embeds[0].Description, line) {
		t.Fatalf("weekly report does not agree with /member (%q): %+v", line, weekly)
	}

	// Undo: every answer is as it was.
	r = rc(t, w, owner, "correct undo", o("correction", "1"), o("reason", "wrong member"))
	if !strings.Contains(text(r), "Correction #1 undone") {
		t.Fatalf("undo: %q", text(r))
	}
	e2, m2, w2 := answers()
	for _, c := range []struct {
		name          string
		before, after *discordsim.Response
	}{{"/event", e0, e2}, {"/member", m0, m2}, {"/week", w0, w2}} {
		if view(c.before) != view(c.after) {
			t.Errorf("%s after undo differs from before the correction:\n%s\n---\n%s", c.name, view(c.before), view(c.after))
		}
	}
	if len(e2.Files) != 1 || pixels(apptest.DecodePNG(t, e2.Files[0].Data), colAdded) != 0 {
		t.Errorf("/event chart still shows added minutes after undo")
	}
	// A correction undone cannot be undone twice.
	if r := rc(t, w, owner, "correct undo", o("correction", "1"), o("reason", "again")); !strings.Contains(text(r), "no correction") {
		t.Errorf("second undo: %q", text(r))
	}

	// The trail: who, what, why.
	logText := text(rc(t, w, owner, "log"))
	for _, want := range []string{"correct add", "voice outage, he was there", "correct undo", "undone: wrong member"} {
		if !strings.Contains(logText, want) {
			t.Errorf("log lacks %q:\n%s", want, logText)
		}
	}
	// Recorded masks are never changed.
	present, _, _ := storedMinutes(t, h.Store(), w.Guild)
	for _, m := range present[alexey] {
		if m >= 40 {
			t.Fatalf("a correction reached the recorded masks: %v", present[alexey])
		}
	}
}

// Two moderators correcting the same minutes: both are kept and applied in
// the order they were made, both are in the trail; a correction without
// announce leaves the posted report alone.
func TestE2ECorrectTwoModeratorsSameMinutes(t *testing.T) {
	w, h, occ := correctedWorld(t)
	mods := w.Sim.AddRole(w.Guild, "Mods", discord.PermissionManageGuild)
	w.Sim.UpdateMember(w.Guild, w.Members["zoe"], discordsim.MemberSpec{Username: "zoe", GlobalName: "Zoë ⚔️", Roles: []snowflake.ID{mods}})
	owner, zoe, alexey := w.Sim.GuildOwner(w.Guild), w.Members["zoe"], w.Members["alexey"]
	ev := strconv.FormatInt(occ.ID, 10)
	minutes := func() int {
		n, _ := strconv.Atoi(fields(invoke(t, w, owner, "member", "", o("member", alexey), o("period", "7d")).Embeds[0])["Total minutes"])
		return n
	}
	recorded := minutes()
	rc(t, w, owner, "correct add", o("member", alexey), o("event", ev), o("range", "16:30-16:50"), o("reason", "was there"))
	r := rc(t, w, zoe, "correct remove", o("member", alexey), o("event", ev), o("range", "16:40-16:50"), o("reason", "left at 16:40"))
	if !strings.Contains(text(r), "not changed") {
		t.Errorf("a correction without announce: %q", text(r))
	}
	// In order: +20, then −10 of those: +10.
	if got := minutes(); got != recorded+10 {
		t.Errorf("minutes %d, want %d (recorded %d, +20 then −10)", got, recorded+10, recorded)
	}
	logText := text(rc(t, w, owner, "log"))
	if !strings.Contains(logText, "correct add") || !strings.Contains(logText, "correct remove") || !strings.Contains(logText, "Zoë") {
		t.Errorf("log:\n%s", logText)
	}
	h.Settle()
	for _, ch := range []snowflake.ID{w.Reports, w.Reports2} {
		if n := len(posts(w, ch)); n != 1 {
			t.Errorf("channel %d has %d posts: a correction without announce posted", ch, n)
		}
	}
	// Undoing the first leaves the second in force on what was recorded.
	rc(t, w, owner, "correct undo", o("correction", "1"), o("reason", "not needed"))
	var removedRecorded int
	present, _, _ := storedMinutes(t, h.Store(), w.Guild)
	for _, m := range present[alexey] {
		if m >= 40 && m < 50 {
			removedRecorded++
		}
	}
	if got := minutes(); got != recorded-removedRecorded {
		t.Errorf("after undoing the first: %d minutes, want %d", got, recorded-removedRecorded)
	}
}

// A member's own timeline of one event: every minute cell of the PNG is
// the state the stored masks, the coverage and the corrections say; the
// rules and the class are spelled out; nobody else may look.
func TestE2ECorrectMemberTimelineMatchesTheStoredMasks(t *testing.T) {
	w, h, occ := correctedWorld(t)
	owner, alexey := w.Sim.GuildOwner(w.Guild), w.Members["alexey"]
	ev := strconv.FormatInt(occ.ID, 10)
	rc(t, w, owner, "correct add", o("member", alexey), o("event", ev), o("range", "16:40-16:45"), o("reason", "lost voice event"))
	rc(t, w, owner, "correct remove", o("member", alexey), o("event", ev), o("range", "16:00-16:03"), o("reason", "came in at 16:03"))

	r := invoke(t, w, alexey, "member", "", o("event", ev))
	if len(r.Embeds) != 1 || len(r.Files) != 1 || r.Files[0].Name != "member-timeline.png" {
		t.Fatalf("/member event: %+v", r)
	}
	f := fields(r.Embeds[0])
	if f["Result"] != "Left early" || !strings.Contains(f["Rules of this event"], "Left early when the last counted minute is more than 5 minutes before the end (before 16:55)") ||
		!strings.Contains(f["Corrected by a moderator"], "+16:40–16:45") || !strings.Contains(f["Corrected by a moderator"], "came in at 16:03") {
		t.Errorf("fields: %v", f)
	}

	// What the chart must show, from the database.
	var rec store.OccurrenceRecord
	var cov attendance.Mask
	err := h.Store().Snapshot(context.Background(), func(q *store.Queries) (err error) {
		if rec, err = q.OccurrenceRecord(context.Background(), occ.ID); err != nil {
			return err
		}
		cov, err = q.CoverageOf(context.Background(), occ.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var masks attendance.Masks
	for _, s := range rec.Seen {
		if s.UserID == uint64(alexey) {
			masks = s.Masks
		}
	}
	want := make([]color.RGBA, 60)
	for m := range want {
		switch {
		case m >= 40 && m < 45:
			want[m] = colAdded
		case m < 3:
			want[m] = colRemoved
		case masks.Present.Has(m) && (masks.SelfDeaf.Has(m) || masks.ServerDeaf.Has(m)):
			want[m] = colDeaf
		case masks.Present.Has(m) && masks.SelfMute.Has(m):
			want[m] = colMuted
		case masks.Present.Has(m):
			want[m] = colPresent
		case !cov.Has(m):
			want[m] = colUnknown
		default:
			want[m] = colAbsent
		}
	}
	seen := map[color.RGBA]bool{}
	for _, c := range want {
		seen[c] = true
	}
	if len(seen) != 7 {
		t.Fatalf("the scenario should show all seven states, shows %d: %v", len(seen), want)
	}

	img := apptest.DecodePNG(t, r.Files[0].Data)
	states := []color.RGBA{colPresent, colMuted, colDeaf, colAdded, colRemoved, colUnknown, colAbsent}
	state := func(x, y int) bool {
		for _, c := range states {
			if nearColor(img, x, y, c) {
				return true
			}
		}
		return false
	}
	// The row is the pixel line with the most state-coloured pixels (the
	// legend's swatches are short); it spans the plot from left to right.
	b := img.Bounds()
	bestY, best := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		n := 0
		for x := b.Min.X; x < b.Max.X; x++ {
			if state(x, y) {
				n++
			}
		}
		if n > best {
			bestY, best = y, n
		}
	}
	// The row is the longest run of state-coloured pixels on that line (a
	// blended pixel or two between runs allowed); the name's emoji left of
	// it has some of the same colours.
	left, right, runStart, last := -1, -1, -1, -10
	for x := b.Min.X; x < b.Max.X; x++ {
		if !state(x, bestY) {
			continue
		}
		if x-last > 4 {
			runStart = x
		}
		last = x
		if x-runStart > right-left {
			left, right = runStart, x
		}
	}
	if right-left < 500 {
		t.Fatalf("row at y=%d spans %d..%d", bestY, left, right)
	}
	width := float64(right - left + 1)
	for m, c := range want {
		x := left + int((float64(m)+0.5)*width/60)
		if !nearColor(img, x, bestY, c) {
			t.Errorf("minute %d (x=%d): pixel %v, want %v", m, x, img.At(x, bestY), c)
		}
	}

	// Members may look at their own only.
	if r := invoke(t, w, w.Members["zoe"], "member", "", o("member", alexey), o("event", ev)); !strings.Contains(text(r), "only") {
		t.Errorf("another member's timeline: %q", text(r))
	}
	if r := invoke(t, w, alexey, "member", "", o("event", ev), o("period", "7d")); !strings.Contains(text(r), "not both") {
		t.Errorf("event and period: %q", text(r))
	}
}

// Every bad input is refused with its own message and stores nothing.
func TestE2ECorrectRefusesBadInput(t *testing.T) {
	w, h, occ := correctedWorld(t)
	owner, alexey := w.Sim.GuildOwner(w.Guild), w.Members["alexey"]
	ev := strconv.FormatInt(occ.ID, 10)
	gone := w.Members["chill_chris"]
	w.Sim.RemoveMember(w.Guild, gone)
	ok := func(extra ...discordsim.Option) []discordsim.Option {
		base := map[string]any{"member": alexey, "event": ev, "range": "16:10-16:20", "reason": "why"}
		for _, e := range extra {
			base[e.Name] = e.Value
		}
		var out []discordsim.Option
		for k, v := range base {
			out = append(out, o(k, v))
		}
		return out
	}
	tests := []struct {
		name, sub string
		opts      []discordsim.Option
		want      string
	}{
		{"range outside the event", "correct add", ok(o("range", "17:10-17:20")), "not inside the event, which ran 16:00–17:00"},
		{"end before start", "correct add", ok(o("range", "16:40-16:20")), "ends (16:20) before it starts (16:40)"},
		{"not a range", "correct add", ok(o("range", "soon")), "not a range of the event"},
		{"a member who left", "correct add", ok(o("member", gone)), "is not a member of this server"},
		{"a bot", "correct remove", ok(o("member", w.Members["musicbot"])), "is a bot"},
		{"an event in the future", "correct add", ok(o("event", "2026-11-28 16:00")), "has not started yet"},
		{"an unknown event", "correct add", ok(o("event", "999999")), "There is no event"},
		{"a typed event that never was", "correct add", ok(o("event", "2026-11-27 12:00")), "There is no event"},
		{"a reason too long", "correct add", ok(o("reason", strings.Repeat("x", 301))), "301 characters long; keep it to 300"},
		{"a blank reason", "correct add", ok(o("reason", "   ")), "Give a reason"},
		{"an unknown correction", "correct undo", []discordsim.Option{o("correction", "42"), o("reason", "x")}, "no correction"},
		{"an excuse over a year", "excuse add", []discordsim.Option{o("member", alexey), o("reason", "sabbatical"), o("from", "2026-12-01"), o("to", "2027-12-31")},
			"396 days long; an excuse covers at most 366"},
		{"an excuse backwards", "excuse add", []discordsim.Option{o("member", alexey), o("reason", "x"), o("from", "2026-12-10"), o("to", "2026-12-01")},
			"is after the last day"},
		{"an excuse with both", "excuse add", []discordsim.Option{o("member", alexey), o("reason", "x"), o("event", ev), o("from", "2026-12-01"), o("to", "2026-12-02")},
			"not both"},
		{"an excuse with neither", "excuse add", []discordsim.Option{o("member", alexey), o("reason", "x")}, "not both"},
		{"an excuse with one day", "excuse add", []discordsim.Option{o("member", alexey), o("reason", "x"), o("from", "2026-12-01")}, "needs both"},
		{"an excuse for no event", "excuse add", []discordsim.Option{o("member", alexey), o("reason", "x"), o("event", "2026-11-28 12:00")},
			"No event of this server is scheduled to start at 2026-11-28 12:00"},
		{"an excuse of a bot", "excuse add", []discordsim.Option{o("member", w.Members["musicbot"]), o("reason", "x"), o("from", "2026-12-01"), o("to", "2026-12-02")},
			"is a bot"},
		{"an excuse too long a reason", "excuse add", []discordsim.Option{o("member", alexey), o("reason", strings.Repeat("я", 301)), o("from", "2026-12-01"), o("to", "2026-12-02")},
			"301 characters long"},
		{"an unknown excuse", "excuse remove", []discordsim.Option{o("excuse", "#7"), o("reason", "x")}, "no excuse"},
		{"a member, not a moderator", "correct add", ok(), "for moderators"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := owner
			if tc.name == "a member, not a moderator" {
				user = alexey
			}
			r := rc(t, w, user, tc.sub, tc.opts...)
			if !strings.Contains(text(r), tc.want) {
				t.Errorf("%s: %q, want %q", tc.name, text(r), tc.want)
			}
		})
	}
	var n int
	if err := h.Store().Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM corrections) + (SELECT count(*) FROM excuses)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d corrections or excuses stored by refused commands", n)
	}
}

// An excused member disappears from /absent and "never attended" for
// exactly the events excused; members see their own excuses; a withdrawn
// excuse counts again. Corrections and excuses are in /privacy export and
// go with /privacy delete.
func TestE2EExcuseLeavesAbsentAndNeverAttended(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, msk))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, weeklyConfig(w))
	truth := seedWeek(t, h.Store(), w)
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	andy, chris, lena := w.Members["afk_andy"], w.Members["chill_chris"], w.Members["late_lena"]
	absent := func() string { return view(invoke(t, w, owner, "absent", "")) }
	week := func() map[string]string {
		return fields(invoke(t, w, owner, "week", "", o("week", "2026-W47")).Embeds[0])
	}
	held := truth.held
	a0 := absent()
	if !strings.Contains(a0, fmt.Sprintf("Andy — %d of %d", held, held)) || !strings.Contains(a0, fmt.Sprintf("chill\\_chris — %d of %d", held, held)) {
		t.Fatalf("/absent before any excuse:\n%s", a0)
	}

	// Andy is excused for the whole week, Chris for its first event.
	r := rc(t, w, owner, "excuse add", o("member", andy), o("reason", "holiday"), o("from", "2026-11-16"), o("to", "2026-11-22"))
	if !strings.Contains(text(r), "Excuse #1 stored") {
		t.Fatalf("excuse add: %q", text(r))
	}
	var first store.Occurrence
	if err := h.Store().Snapshot(context.Background(), func(q *store.Queries) error {
		occs, err := q.Occurrences(context.Background(), uint64(w.Guild), time.Date(2026, 11, 16, 0, 0, 0, 0, msk), time.Date(2026, 11, 17, 0, 0, 0, 0, msk))
		if err == nil {
			first = occs[0]
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rc(t, w, owner, "excuse add", o("member", chris), o("reason", "exam"), o("event", strconv.FormatInt(first.ID, 10)))

	a1 := absent()
	if strings.Contains(a1, "Andy —") {
		t.Errorf("/absent still lists Andy, excused for every event:\n%s", a1)
	}
	if !strings.Contains(a1, fmt.Sprintf("chill\\_chris — %d of %d", held-1, held-1)) {
		t.Errorf("/absent for Chris, excused from one event: want %d of %d:\n%s", held-1, held-1, a1)
	}
	if !strings.Contains(a1, "Excused") || !strings.Contains(a1, "Andy") {
		t.Errorf("/absent does not show who was excused:\n%s", a1)
	}
	wk := week()
	if wk["Never attended (1)"] != "chill\\_chris" || !strings.Contains(wk["Excused (2)"], "Andy") {
		t.Errorf("/week after the excuses: %v", wk)
	}

	// An upcoming event, picked from the autocomplete, for Lena.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	choices, err := w.Sim.Autocomplete(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: owner, Command: "rollcall", Subcommand: "excuse add",
		Options: []discordsim.Option{{Name: "member", Value: lena}, {Name: "reason", Value: "x"}, {Name: "event", Value: "", Focused: true}}})
	if err != nil || len(choices) == 0 {
		t.Fatalf("choices %v, %v", choices, err)
	}
	next := choices[0].(discord.AutocompleteChoiceString)
	if !strings.HasPrefix(next.Name, "БЗС · Fri 27 Nov 2026, 16:00") || !strings.HasPrefix(next.Value, "at:") {
		t.Fatalf("first choice %+v, want today's 16:00 event", next)
	}
	rc(t, w, owner, "excuse add", o("member", lena), o("reason", "dentist"), o("event", next.Value))
	mine := invoke(t, w, lena, "member", "", o("period", "7d"))
	if ex := fields(mine.Embeds[0])["Excuses"]; !strings.Contains(ex, "the event at Fri 27 Nov 2026, 16:00 · dentist") {
		t.Errorf("Lena's /member does not show her excuse: %v", fields(mine.Embeds[0]))
	}
	list := text(rc(t, w, owner, "excuse list"))
	for _, want := range []string{"#1 · Andy", "#2 · chill\\_chris", "#3 · late\\_lena", "dentist"} {
		if !strings.Contains(list, want) {
			t.Errorf("excuse list lacks %q:\n%s", want, list)
		}
	}

	// Withdrawn: Andy is absent again, exactly as before.
	rc(t, w, owner, "excuse remove", o("excuse", "1"), o("reason", "came back early"))
	rc(t, w, owner, "excuse remove", o("excuse", "2"), o("reason", "no exam"))
	if a2 := absent(); a2 != a0 {
		t.Errorf("/absent after withdrawing differs from before the excuses:\n%s\n---\n%s", a0, a2)
	}
	if wk := week(); wk["Never attended (2)"] == "" {
		t.Errorf("/week after withdrawing: %v", wk)
	}

	// Privacy: Lena's export has her excuse; delete removes it.
	x := privacy(t, w, lena, "export")
	if !strings.Contains(string(x.Files[0].Data), `"reason": "dentist"`) {
		t.Errorf("export lacks the excuse:\n%s", x.Files[0].Data)
	}
	if _, err := h.Store().DeleteMember(context.Background(), uint64(w.Guild), uint64(lena), false); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := h.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM excuses WHERE user_id = $1`, int64(lena)).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d excuses left after deleting the member (%v)", n, err)
	}
}
