package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/store"
)

const roleRoute = "/guilds/{guild}/members/{user}/roles/{role}"

// roleRequests are the requests that gave or took a member's role.
func roleRequests(s *discordsim.Server) []discordsim.RequestRecord {
	var out []discordsim.RequestRecord
	for _, r := range s.Requests() {
		if r.Route == roleRoute {
			out = append(out, r)
		}
	}
	return out
}

// describe writes role requests as "PUT user role: reason".
func describe(rs []discordsim.RequestRecord) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s %s %d: %s\n", r.Method, r.Params["user"], r.Params["role"], r.Status, r.AuditLogReason)
	}
	return b.String()
}

// A member gains Regular after their third of four events and loses it when
// they miss two; a member who never comes is never touched; every change is
// one request with its reason in the audit log, and nobody whose state
// does not change gets one.
func TestE2ERoleRegularGainedAndLost(t *testing.T) {
	clk := clock.NewFake(at(15, 59, 50))
	w := apptest.NewWorld(t, clk)
	regular := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Regular", Position: 1})
	w.Sim.SetBotPermissions(w.Guild, discordsim.DefaultBotPermissions|discord.PermissionManageRoles)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00", "16:12", "16:24", "16:36", "16:48"`, "10m")+fmt.Sprintf(`
  [[guilds.role_rules]]
  role = "%d"
  attended_at_least = 3
  of_last = 4
  schedule = "БЗС"
`, regular))
	alexey, zoe := w.Members["alexey"], w.Members["zoe"]
	w.Sim.SetVoice(w.Guild, alexey, w.BZS, discordsim.VoiceFlags{})
	w.Sim.SetVoice(w.Guild, zoe, w.BZS, discordsim.VoiceFlags{})
	h.Start()
	has := func(user snowflake.ID) bool { return slices.Contains(w.Sim.MemberRoles(w.Guild, user), regular) }

	h.RunUntil(at(16, 22, 10), nil) // two events over
	if has(alexey) || has(zoe) || len(roleRequests(w.Sim)) != 0 {
		t.Fatalf("after two events: alexey %v, zoe %v, requests\n%s", has(alexey), has(zoe), describe(roleRequests(w.Sim)))
	}
	h.RunUntil(at(16, 34, 10), nil)
	if !has(alexey) || !has(zoe) {
		t.Fatalf("after the third event: alexey %v, zoe %v; want both Regular\n%s", has(alexey), has(zoe), describe(roleRequests(w.Sim)))
	}
	// Alexey misses the last two events.
	h.RunUntil(at(16, 58, 10), map[time.Time]func(){
		at(16, 35, 0): func() { h.SetVoice(alexey, 0, discordsim.VoiceFlags{}) },
	})
	if has(alexey) || !has(zoe) {
		t.Fatalf("after missing two: alexey %v (want not), zoe %v (want Regular)", has(alexey), has(zoe))
	}
	got := roleRequests(w.Sim)
	want := []struct {
		method string
		user   snowflake.ID
		reason string
	}{
		{"PUT", zoe, "rollcall: attended 3 of the last 3 БЗС events (needs 3 of 4)"},
		{"PUT", alexey, "rollcall: attended 3 of the last 3 БЗС events (needs 3 of 4)"},
		{"DELETE", alexey, "rollcall: no longer qualifies: attended 2 of the last 4 БЗС events (needs 3 of 4)"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d role requests, want %d (only members whose state changes):\n%s", len(got), len(want), describe(got))
	}
	for i, wnt := range want {
		if g := got[i]; g.Method != wnt.method || g.Params["user"] != wnt.user.String() || g.AuditLogReason != wnt.reason || g.Status != 204 {
			t.Errorf("request %d: %s %s %d %q; want %s %s %q", i, g.Method, g.Params["user"], g.Status, g.AuditLogReason, wnt.method, wnt.user, wnt.reason)
		}
	}
	if n := len(w.Sim.AuditLog(w.Guild)); n != 3 {
		t.Errorf("%d audit log entries, want 3", n)
	}
	// Alexey's streak: three in a row, then two missed.
	r := invoke(t, w, alexey, "member", "", o("period", "7d"))
	if s := fields(r.Embeds[0])["Streaks (last 12 months)"]; s != "БЗС: 0 in a row, best 3" {
		t.Errorf("alexey's streaks %q", s)
	}
	r = invoke(t, w, zoe, "member", "", o("period", "7d"))
	if s := fields(r.Embeds[0])["Streaks (last 12 months)"]; s != "БЗС: 5 in a row, best 5" {
		t.Errorf("zoe's streaks %q", s)
	}
}

// Dormant: nobody who came in the last 30 days, somebody who did not, after
// 30 days on the fake clock, by the daily evaluation (no event needed).
func TestE2ERoleDormantAfterThirtyDays(t *testing.T) {
	utc := func(m time.Month, d, hh, mm int) time.Time { return time.Date(2026, m, d, hh, mm, 0, 0, time.UTC) }
	clk := clock.NewFake(utc(11, 27, 9, 0))
	w := apptest.NewWorld(t, clk) // everyone joined a month ago
	dormant := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Dormant", Position: 1})
	w.Sim.SetBotPermissions(w.Guild, discordsim.DefaultBotPermissions|discord.PermissionManageRoles)
	h := apptest.New(t, w, clk, w.ConfigText(`"16:00"`, "60m")+fmt.Sprintf(`
  [[guilds.role_rules]]
  role = "%d"
  inactive_for = "30d"
`, dormant))
	// History: an event before anyone joined (rollcall has recorded for
	// longer than 30 days), Alexey's last one on 25 Nov, Zoë's on 10 Dec.
	st := h.Store()
	ctx := context.Background()
	record := func(start time.Time, who ...string) {
		id, err := st.EnsureOccurrence(ctx, uint64(w.Guild), "БЗС", start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ss []store.Sample
		for _, name := range who {
			ss = append(ss, store.Sample{OccurrenceID: id, UserID: uint64(w.Members[name]), Present: 1<<60 - 1})
		}
		if err := st.Record(ctx, ss, []store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
			t.Fatal(err)
		}
	}
	record(utc(10, 20, 13, 0))
	record(utc(11, 25, 13, 0), "alexey", "zoe")
	record(utc(12, 10, 13, 0), "zoe")
	alexey, zoe, andy := w.Members["alexey"], w.Members["zoe"], w.Members["afk_andy"]
	has := func(user snowflake.ID) bool { return slices.Contains(w.Sim.MemberRoles(w.Guild, user), dormant) }

	// 27 Nov: the members who never came are dormant; the others not.
	h.Start()
	h.Settle()
	if !has(andy) || has(alexey) || has(zoe) {
		t.Fatalf("27 Nov: andy %v (want dormant), alexey %v, zoe %v", has(andy), has(alexey), has(zoe))
	}
	first := len(roleRequests(w.Sim))
	h.Stop()

	// 25 Dec, noon: Alexey's last event was 29 days and 23 hours ago.
	h.Clock.Set(utc(12, 25, 12, 0))
	h.Start()
	h.Settle()
	if has(alexey) {
		t.Fatal("25 Dec: alexey dormant before 30 days")
	}
	h.Stop()
	if n := len(roleRequests(w.Sim)); n != first {
		t.Fatalf("25 Dec: %d more role requests, want none (nobody's state changed):\n%s", n-first, describe(roleRequests(w.Sim)[first:]))
	}

	// The day after, the daily evaluation makes him dormant.
	h.Clock.Set(utc(12, 25, 23, 59))
	h.Start()
	h.RunUntil(utc(12, 26, 0, 1), nil)
	if !has(alexey) || has(zoe) {
		t.Fatalf("26 Dec: alexey %v (want dormant), zoe %v (came 10 Dec)", has(alexey), has(zoe))
	}
	if rs := roleRequests(w.Sim)[first:]; len(rs) != 1 || rs[0].Params["user"] != alexey.String() ||
		rs[0].AuditLogReason != "rollcall: no event attended in 30 days" {
		t.Errorf("26 Dec requests:\n%s", describe(rs))
	}
}

// Managed from Discord: rules are added with the bot lacking Manage Roles
// (paused, said once, nothing sent); preview says who would gain and lose;
// then Manage Roles is given, one rule's role is deleted, another's moved
// above the bot's role, a 429 storm hits and a member leaves mid-way: the
// next evaluation does exactly what the preview said for the rules it can
// apply, and every other member's roles are right.
func TestE2ERolePreviewAndFaults(t *testing.T) {
	w, h := discordOnly(t, at(15, 50, 0))
	regular := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Regular", Position: 1})
	veteran := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Veteran", Position: 1})
	doomed := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Doomed", Position: 1})
	managed := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Booster", Position: 1, Managed: true})
	above := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Admins"}) // on top, above the bot's
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	if r := rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00, 16:40"), o("duration", "30m"), o("voice_channel", w.BZS)); !strings.Contains(text(r), "БЗС") {
		t.Fatalf("schedule add: %q", text(r))
	}

	// Roles rollcall could never give are refused when the rule is made.
	for _, tc := range []struct {
		role snowflake.ID
		want string
	}{{managed, "managed by an integration"}, {above, "not below the bot's highest role"}, {w.Guild, "@everyone"}} {
		if r := rc(t, w, owner, "roles add", o("role", tc.role), o("attended_at_least", 1)); !strings.Contains(text(r), tc.want) {
			t.Errorf("roles add %d: %q, want %q", tc.role, text(r), tc.want)
		}
	}
	if r := rc(t, w, owner, "roles add", o("role", regular)); !strings.Contains(text(r), "no condition") {
		t.Errorf("a rule without a condition: %q", text(r))
	}
	if r := rc(t, w, owner, "roles add", o("role", regular), o("of_last", 4)); !strings.Contains(text(r), "of_last needs attended_at_least") {
		t.Errorf("of_last alone: %q", text(r))
	}
	if r := rc(t, w, owner, "roles add", o("role", regular), o("inactive_for", "30d"), o("streak", 3)); !strings.Contains(text(r), "cannot be combined") {
		t.Errorf("inactive with streak: %q", text(r))
	}
	if r := rc(t, w, owner, "roles add", o("role", regular), o("attended_at_least", 1), o("schedule", "nope")); !strings.Contains(text(r), `"nope" is not a schedule`) {
		t.Errorf("unknown schedule: %q", text(r))
	}
	for _, add := range []struct {
		role snowflake.ID
		opts []discordsim.Option
	}{
		{regular, []discordsim.Option{o("attended_at_least", 1), o("of_last", 1)}},
		{veteran, []discordsim.Option{o("minutes_at_least", 20), o("minutes_in_last", "1d")}},
		{doomed, []discordsim.Option{o("attended_at_least", 1)}},
	} {
		r := rc(t, w, owner, "roles add", append([]discordsim.Option{o("role", add.role)}, add.opts...)...)
		if !strings.Contains(text(r), "Rule stored") || !strings.Contains(text(r), "lacks Manage Roles") {
			t.Fatalf("roles add %d: %q", add.role, text(r))
		}
	}
	alexey, zoe, masha := w.Members["alexey"], w.Members["zoe"], w.Members["muted_masha"]
	w.Sim.SetVoice(w.Guild, alexey, w.BZS, discordsim.VoiceFlags{})
	w.Sim.SetVoice(w.Guild, zoe, w.BZS, discordsim.VoiceFlags{})
	h.RunUntil(at(16, 30, 10), map[time.Time]func(){
		at(16, 0, 0): func() { h.SetVoice(masha, w.BZS, discordsim.VoiceFlags{}) },
		at(16, 5, 0): func() { h.SetVoice(masha, 0, discordsim.VoiceFlags{}) },
	})
	if rs := roleRequests(w.Sim); len(rs) != 0 {
		t.Fatalf("role requests without Manage Roles:\n%s", describe(rs))
	}
	list := text(rc(t, w, owner, "roles list"))
	if strings.Count(list, "paused: missing Manage Roles") != 3 {
		t.Errorf("roles list:\n%s", list)
	}
	if n := strings.Count(h.Logs.Text(), "role rule paused"); n != 3 {
		t.Errorf("%d 'role rule paused' lines, want one per rule", n)
	}

	// What the preview says now, rule by rule.
	p := rc(t, w, owner, "roles preview")
	pf := fields(p.Embeds[0])
	wantPreview := map[string]string{
		"Regular · gain (3)": "Zoë ⚔️, Алексей 🎮, Маша 🎧", "Regular · lose (0)": "—",
		"Veteran · gain (2)": "Zoë ⚔️, Алексей 🎮", "Veteran · lose (0)": "—",
		"Doomed · gain (3)": "Zoë ⚔️, Алексей 🎮, Маша 🎧", "Doomed · lose (0)": "—",
	}
	for k, v := range wantPreview {
		if pf[k] != v {
			t.Errorf("preview %q = %q, want %q (all: %v)", k, pf[k], v, pf)
		}
	}

	// Fix Manage Roles; break two rules; make Discord refuse and lose a member.
	w.Sim.SetBotPermissions(w.Guild, discordsim.DefaultBotPermissions|discord.PermissionManageRoles)
	w.Sim.DeleteRole(w.Guild, doomed)
	w.Sim.SetRolePosition(w.Guild, veteran, w.Sim.RolePosition(w.Guild, w.Sim.BotRole(w.Guild))+1)
	hold := w.Sim.HoldNext("PUT", roleRoute, discordsim.HoldBefore)
	defer hold.Release()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if hold.Wait(ctx) != nil {
			return
		}
		// Zoë's request is held: Masha leaves, and the next requests meet
		// a storm of 429s.
		w.Sim.RemoveMember(w.Guild, masha)
		w.Sim.FailNext("PUT", roleRoute, 3, 429, 50*time.Millisecond)
		hold.Release()
	}()
	// The second event, Masha there for five minutes again, ends: evaluated
	// again.
	h.RunUntil(at(17, 10, 10), map[time.Time]func(){
		at(16, 40, 0): func() { h.SetVoice(masha, w.BZS, discordsim.VoiceFlags{}) },
		at(16, 45, 0): func() { h.SetVoice(masha, 0, discordsim.VoiceFlags{}) },
	})

	for _, c := range []struct {
		user snowflake.ID
		role snowflake.ID
		want bool
	}{{zoe, regular, true}, {alexey, regular, true}, {zoe, veteran, false}, {alexey, veteran, false}} {
		if got := slices.Contains(w.Sim.MemberRoles(w.Guild, c.user), c.role); got != c.want {
			t.Errorf("member %d role %d: %v, want %v", c.user, c.role, got, c.want)
		}
	}
	var ok, tooMany, unknown int
	for _, r := range roleRequests(w.Sim) {
		switch {
		case r.Status == 204 && r.Params["role"] == regular.String():
			ok++
		case r.Status == 429:
			tooMany++
		case r.Status == 404 && r.Params["user"] == masha.String():
			unknown++
		default:
			t.Errorf("unexpected role request %s %s %s %d", r.Method, r.Params["user"], r.Params["role"], r.Status)
		}
	}
	if ok != 2 || tooMany != 3 || unknown < 1 {
		t.Errorf("requests: %d given, %d 429, %d unknown member; want 2, 3, ≥1:\n%s", ok, tooMany, unknown, describe(roleRequests(w.Sim)))
	}
	list = text(rc(t, w, owner, "roles list"))
	for _, want := range []string{"paused: the role was deleted", "paused: the role is not below the bot's highest role", "applies"} {
		if !strings.Contains(list, want) {
			t.Errorf("roles list lacks %q:\n%s", want, list)
		}
	}
	// A rule removed: members keep the role.
	if r := rc(t, w, owner, "roles remove", o("role", regular)); !strings.Contains(text(r), "Members keep the role") {
		t.Errorf("roles remove: %q", text(r))
	}
	h.Settle()
	if !slices.Contains(w.Sim.MemberRoles(w.Guild, zoe), regular) {
		t.Error("removing the rule took the role")
	}
}

// Streaks: an excused event neither counts nor breaks a run; /member shows
// the current and best run; the weekly report lists the longest current
// streaks.
func TestE2EStreakExcusedEventsAndTheWeeklyReport(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 22, 23, 59, 50, 0, msk))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, weeklyConfig(w))
	st, ctx := h.Store(), context.Background()
	alexey, zoe := w.Members["alexey"], w.Members["zoe"]
	// Six events, Mon 16 to Sat 21 Nov at 16:00. Alexey comes to all but the
	// fourth, from which he is excused; Zoë to all but the fifth.
	var fourth int64
	for d := range 6 {
		start := time.Date(2026, 11, 16+d, 16, 0, 0, 0, msk)
		id, err := st.EnsureOccurrence(ctx, uint64(w.Guild), "БЗС", start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var ss []store.Sample
		if d != 3 {
			ss = append(ss, store.Sample{OccurrenceID: id, UserID: uint64(alexey), Present: 1<<60 - 1})
		} else {
			fourth = id
		}
		if d != 4 {
			ss = append(ss, store.Sample{OccurrenceID: id, UserID: uint64(zoe), Present: 1<<60 - 1})
		}
		if err := st.Record(ctx, ss, []store.Coverage{{OccurrenceID: id, Sampled: 1<<60 - 1}}); err != nil {
			t.Fatal(err)
		}
	}
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	streak := func(user snowflake.ID) string {
		return fields(invoke(t, w, user, "member", "", o("period", "30d")).Embeds[0])["Streaks (last 12 months)"]
	}
	if s := streak(alexey); s != "БЗС: 2 in a row, best 3" {
		t.Errorf("alexey before the excuse: %q", s)
	}
	// The file manages this guild: excuses are made from Discord all the same.
	if r := rc(t, w, owner, "excuse add", o("member", alexey), o("reason", "work trip"), o("event", fmt.Sprint(fourth))); !strings.Contains(text(r), "stored") {
		t.Fatalf("excuse: %q", text(r))
	}
	if s := streak(alexey); s != "БЗС: 5 in a row, best 5" {
		t.Errorf("alexey excused from the fourth: %q, want 5 in a row", s)
	}
	if s := streak(zoe); s != "БЗС: 1 in a row, best 4" {
		t.Errorf("zoe: %q", s)
	}
	h.RunUntil(time.Date(2026, 11, 23, 0, 1, 0, 0, msk), nil)
	weekly := weeklyMessages(w, w.Reports)
	if len(weekly) != 1 {
		t.Fatalf("%d weekly reports", len(weekly))
	}
	if got := fields(weekly[0].Embeds[0])["Longest streaks now"]; got != "1. Алексей 🎮 — 5 in a row (БЗС)" {
		t.Errorf("weekly streaks %q (Zoë's one in a row is not a streak)", got)
	}
}

// A rule that would change more than 500 members at once asks first; the
// button applies it, one request per member.
func TestE2ERoleConfirmsAMassChange(t *testing.T) {
	w, h := discordOnly(t, at(12, 0, 0))
	dormant := w.Sim.CreateRole(w.Guild, discordsim.RoleSpec{Name: "Dormant", Position: 1})
	w.Sim.SetBotPermissions(w.Guild, discordsim.DefaultBotPermissions|discord.PermissionManageRoles)
	long := at(12, 0, 0).AddDate(0, -3, 0)
	var everyone []snowflake.ID
	for i := range 520 {
		everyone = append(everyone, w.Sim.AddMember(w.Guild, discordsim.MemberSpec{Username: fmt.Sprintf("quiet%03d", i), JoinedAt: long}))
	}
	for _, id := range w.Members {
		everyone = append(everyone, id)
	}
	// An event two months ago nobody came to: rollcall has recorded long enough.
	start := at(16, 0, 0).AddDate(0, -2, 0)
	if _, err := h.Store().EnsureOccurrence(context.Background(), uint64(w.Guild), "БЗС", start, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.Start()
	owner := w.Sim.GuildOwner(w.Guild)
	rc(t, w, owner, "setup", o("timezone", "Europe/Moscow"), o("report_channel", w.Reports))
	rc(t, w, owner, "schedule add", o("name", "БЗС"), o("times", "16:00"), o("voice_channel", w.BZS))
	r := rc(t, w, owner, "roles add", o("role", dormant), o("inactive_for", "30d"))
	if !strings.Contains(r.Content, "would change the roles of") || r.Message == nil || len(r.Message.Buttons) != 2 {
		t.Fatalf("roles add of a mass change: %q %+v", r.Content, r.Message)
	}
	h.Settle()
	if n := len(roleRequests(w.Sim)); n != 0 {
		t.Fatalf("%d role requests before the confirmation", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.Sim.Click(ctx, discordsim.ClickSpec{GuildID: w.Guild, UserID: owner, MessageID: r.Message.ID, CustomID: r.Message.Buttons[0].CustomID}); err != nil {
		t.Fatal(err)
	}
	// The answer comes after the deferred update: wait for the edit.
	if _, err := w.Sim.WaitMessage(ctx, r.Message.ID, func(m discordsim.Message) bool { return strings.Contains(m.Content, "Rule stored") }); err != nil {
		t.Fatalf("the confirmation did not store the rule: %v", err)
	}
	h.Settle()
	rs := roleRequests(w.Sim)
	holders := 0
	for _, m := range everyone {
		if slices.Contains(w.Sim.MemberRoles(w.Guild, m), dormant) {
			holders++
		}
	}
	// Everyone but the bots: the 520 quiet ones and the six people of the world.
	if len(rs) != 526 || holders != 526 {
		t.Errorf("%d requests, %d holders; want 526 each", len(rs), holders)
	}
}
