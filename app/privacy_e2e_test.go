package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/snowflake/v2"
	"github.com/jackc/pgx/v5"

	"rollcall/app/apptest"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/store"
)

// privacy runs /privacy <sub> as user.
func privacy(t *testing.T, w *apptest.World, user snowflake.ID, sub string) *discordsim.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: user, Command: "privacy", Subcommand: sub, Locale: "en-US"})
	if err != nil {
		t.Fatalf("/privacy %s: %v", sub, err)
	}
	if r.Failed || !r.Ephemeral {
		t.Fatalf("/privacy %s: failed %v, private %v", sub, r.Failed, r.Ephemeral)
	}
	return r
}

// twoMembersOneEvent records alexey (muted for ten minutes) and zoe in the
// 16:00 event.
func twoMembersOneEvent(t *testing.T) (*apptest.World, *apptest.Harness) {
	t.Helper()
	w, h := oneEvent(t, at(15, 59, 50))
	w.Sim.SetVoice(w.Guild, w.Members["zoe"], w.BZS, discordsim.VoiceFlags{})
	h.Start()
	h.RunUntil(at(16, 30, 0), map[time.Time]func(){
		at(16, 10, 0): func() { h.SetVoice(w.Members["alexey"], w.BZS, discordsim.VoiceFlags{SelfMute: true}) },
		at(16, 20, 0): func() { h.SetVoice(w.Members["alexey"], w.BZS, discordsim.VoiceFlags{}) },
	})
	return w, h
}

// The export holds exactly what the database holds about the member, and
// nothing about anyone else.
func TestE2EPrivacyExportEqualsTheDatabase(t *testing.T) {
	w, h := twoMembersOneEvent(t)
	alexey := w.Members["alexey"]
	r := privacy(t, w, alexey, "export")
	if len(r.Files) != 2 {
		t.Fatalf("export files: %+v", r.Files)
	}
	var x struct {
		UserID string `json:"user_id"`
		Member struct {
			Username string `json:"username"`
		} `json:"member"`
		Attendance []struct {
			OccurrenceID int64 `json:"occurrence_id"`
			Present      []int `json:"present_minutes"`
			SelfMuted    []int `json:"self_muted_minutes"`
		} `json:"attendance"`
	}
	if err := json.Unmarshal(r.Files[0].Data, &x); err != nil {
		t.Fatalf("%v\n%s", err, r.Files[0].Data)
	}
	st := h.Store()
	d, err := st.MemberData(context.Background(), uint64(w.Guild), uint64(alexey))
	if err != nil {
		t.Fatal(err)
	}
	if x.UserID != alexey.String() || len(x.Attendance) != len(d.Attendance) || len(d.Attendance) != 1 {
		t.Fatalf("export %+v, database %+v", x, d)
	}
	for i, a := range d.Attendance {
		e := x.Attendance[i]
		var present, muted []int
		for m := range 64 {
			if a.Seen.Masks.Present.Has(m) {
				present = append(present, m)
			}
			if a.Seen.Masks.SelfMute.Has(m) {
				muted = append(muted, m)
			}
		}
		if e.OccurrenceID != a.Occurrence.ID || !slices.Equal(e.Present, present) || !slices.Equal(e.SelfMuted, muted) {
			t.Errorf("event %d: export %v/%v, database %v/%v", i, e.Present, e.SelfMuted, present, muted)
		}
	}
	if len(x.Attendance[0].SelfMuted) != 10 || len(x.Attendance[0].Present) != 31 {
		t.Errorf("minutes exported: %d present, %d muted; want 31 and 10", len(x.Attendance[0].Present), len(x.Attendance[0].SelfMuted))
	}
	for _, f := range r.Files {
		if s := string(f.Data); strings.Contains(s, w.Members["zoe"].String()) || strings.Contains(s, "Zoë") {
			t.Errorf("%s holds another member's data", f.Name)
		}
	}
	if csv := string(r.Files[1].Data); !strings.Contains(csv, "0-30") || !strings.Contains(csv, "10-19") {
		t.Errorf("CSV minutes:\n%s", csv)
	}
	// Someone never recorded is told so, and what is kept of them anyway.
	if r := privacy(t, w, w.Members["late_lena"], "show"); len(r.Embeds) != 1 || !strings.Contains(r.Embeds[0].Description, "Nothing about your attendance is stored here") {
		t.Errorf("show for a member never recorded: %+v", r.Embeds)
	}
	// Someone rollcall knows nothing of at all.
	stranger := w.Sim.AddMember(w.Guild, discordsim.MemberSpec{Username: "newcomer"})
	if _, err := h.Store().DeleteMember(context.Background(), uint64(w.Guild), uint64(stranger), false); err != nil {
		t.Fatal(err)
	}
	if r := privacy(t, w, stranger, "show"); !strings.Contains(r.Content, "Nothing is stored about you here") {
		t.Errorf("show for a stranger: %q %+v", r.Content, r.Embeds)
	}
}

// A paused member in voice for a whole event is not recorded at all and
// appears in no report, list or CSV; moderators see a count.
func TestE2EPrivacyPausedMemberIsNotRecorded(t *testing.T) {
	w, h := oneEvent(t, at(15, 50, 0))
	alexey := w.Members["alexey"]
	h.Start()
	if r := privacy(t, w, alexey, "pause"); !strings.Contains(r.Content, "paused") {
		t.Fatalf("pause: %q", r.Content)
	}
	w.Sim.SetVoice(w.Guild, w.Members["zoe"], w.BZS, discordsim.VoiceFlags{})
	h.RunUntil(at(17, 0, 5), nil)
	var rows int
	if err := h.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM attendance_seen WHERE user_id = $1`, int64(alexey)).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Fatalf("%d attendance rows of a paused member", rows)
	}
	post := exactlyOneReportMessage(t, w)
	if strings.Contains(fmt.Sprint(post), "Алексей") {
		t.Errorf("the report mentions the paused member: %+v", post)
	}
	owner := w.Sim.GuildOwner(w.Guild)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	abs, err := w.Sim.Invoke(ctx, discordsim.Invocation{GuildID: w.Guild, UserID: owner, Command: "absent", Locale: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	all := fmt.Sprint(abs.Embeds, abs.Content)
	for _, e := range abs.Embeds {
		if e.Footer != nil {
			all += e.Footer.Text
		}
	}
	for _, f := range abs.Files {
		all += string(f.Data)
	}
	if strings.Contains(all, "Алексей") || strings.Contains(all, alexey.String()) || !strings.Contains(all, "paused recording") {
		t.Errorf("/absent with a paused member: %s", all)
	}
	// Resumed, they are recorded again.
	privacy(t, w, alexey, "resume")
	h.SetVoice(alexey, w.BZS, discordsim.VoiceFlags{})
	h.WaitParked()
	h.Clock.Set(time.Date(2026, 11, 28, 15, 59, 50, 0, msk))
	h.RunUntil(time.Date(2026, 11, 28, 16, 5, 0, 0, msk), nil)
	if got := minutesIn(t, h, w, "alexey", time.Date(2026, 11, 28, 16, 0, 0, 0, msk)); got != 6 {
		t.Errorf("after resume: %d minutes, want 6", got)
	}
}

func exactlyOneReportMessage(t *testing.T, w *apptest.World) discordsim.Message {
	t.Helper()
	ps := posts(w, w.Reports)
	if len(ps) != 1 {
		t.Fatalf("%d reports, want 1", len(ps))
	}
	return ps[0]
}

// After /privacy delete, no table of the database holds the member's id:
// every table and column is searched (from the catalog, so a table added
// later cannot be forgotten). Deleting during a running event stops
// recording at once.
func TestE2EPrivacyDeleteLeavesNoTrace(t *testing.T) {
	w, h := twoMembersOneEvent(t)
	alexey := w.Members["alexey"]
	r := privacy(t, w, alexey, "delete")
	if r.Message == nil || len(r.Message.Buttons) != 2 || !strings.Contains(r.Content, "cannot be restored") {
		t.Fatalf("no confirmation: %+v", r)
	}
	if n := idsIn(t, h.Store(), alexey); len(n) == 0 {
		t.Fatal("deleted before the confirmation")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.Sim.Click(ctx, discordsim.ClickSpec{GuildID: w.Guild, UserID: alexey, MessageID: r.Message.ID, CustomID: r.Message.Buttons[0].CustomID}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Sim.WaitMessage(ctx, r.Message.ID, func(m discordsim.Message) bool { return strings.HasPrefix(m.Content, "Done:") }); err != nil {
		t.Fatal(err)
	}
	// Still in voice: the rest of the event records nothing of them.
	h.RunUntil(at(17, 0, 5), nil)
	if found := idsIn(t, h.Store(), alexey); len(found) != 0 {
		t.Fatalf("after delete the id is still in %v", found)
	}
	if found := idsIn(t, h.Store(), w.Members["zoe"]); len(found) == 0 {
		t.Fatal("the other member's data went too")
	}
	// Idempotent.
	if _, err := h.Store().DeleteMember(context.Background(), uint64(w.Guild), uint64(alexey), false); err != nil {
		t.Fatal(err)
	}
}

// idsIn lists the table.column places that hold id, as a number or inside
// text or JSON.
func idsIn(t *testing.T, st *store.Store, id snowflake.ID) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Pool().Query(ctx, `
		SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		return c, r.Scan(&c.table, &c.column, &c.typ)
	})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, c := range cols {
		var q string
		ident := pgx.Identifier{c.table, c.column}.Sanitize()
		switch c.typ {
		case "bigint", "numeric":
			q = `SELECT count(*) FROM ` + pgx.Identifier{c.table}.Sanitize() + ` WHERE ` + ident + ` = $1::bigint`
		case "ARRAY":
			q = `SELECT count(*) FROM ` + pgx.Identifier{c.table}.Sanitize() + ` WHERE ` + ident + `::text LIKE '%' || $1::text || '%'`
		case "text", "jsonb", "json", "character varying":
			q = `SELECT count(*) FROM ` + pgx.Identifier{c.table}.Sanitize() + ` WHERE ` + ident + `::text LIKE '%' || $1::text || '%'`
		default:
			continue
		}
		var n int
		if err := st.Pool().QueryRow(ctx, q, fmt.Sprint(uint64(id))).Scan(&n); err != nil {
			t.Fatalf("%s: %v", ident, err)
		}
		if n > 0 {
			found = append(found, fmt.Sprintf("%s.%s (%d)", c.table, c.column, n))
		}
	}
	return found
}

// Retention deletes exactly the events older than the cut-off, once a day.
func TestE2EPrivacyRetentionRemovesOldEvents(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC))
	w := apptest.NewWorld(t, clk)
	h := apptest.New(t, w, clk, strings.Replace(w.ConfigText(`"16:00"`, "60m"), `timezone = "Europe/Moscow"`, "timezone = \"Europe/Moscow\"\nretention = \"30d\"", 1))
	st := h.Store()
	ctx := context.Background()
	var kept, old []int64
	for _, days := range []int{1, 10, 29, 31, 45, 400} {
		start := time.Date(2026, 11, 27, 16, 0, 0, 0, msk).AddDate(0, 0, -days)
		id, err := st.EnsureOccurrence(ctx, uint64(w.Guild), "БЗС", start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Record(ctx, []store.Sample{{OccurrenceID: id, UserID: uint64(w.Members["zoe"]), Present: 7}}, nil); err != nil {
			t.Fatal(err)
		}
		if days < 30 {
			kept = append(kept, id)
		} else {
			old = append(old, id)
		}
	}
	h.Start()
	// The day's purge runs at start and at the next midnight (UTC).
	h.RunUntil(time.Date(2026, 11, 28, 0, 0, 5, 0, time.UTC), nil)
	occs, err := st.Occurrences(ctx, uint64(w.Guild), time.Unix(0, 0), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, o := range occs {
		got = append(got, o.ID)
	}
	slices.Sort(got)
	// The cut-off is 30 days before the purge: the 29-day-old event stays
	// until it is 30 days old.
	if !slices.Equal(got, kept) {
		t.Fatalf("after the purge: %v; want only %v (not %v)", got, kept, old)
	}
}

// A guild the bot leaves is deleted after the grace period, unless it
// comes back in time.
func TestE2EPrivacyDepartedGuild(t *testing.T) {
	for _, comeBack := range []bool{false, true} {
		t.Run(fmt.Sprintf("back in time %v", comeBack), func(t *testing.T) {
			w, h := oneEvent(t, at(15, 59, 50))
			h.Start()
			h.RunUntil(at(16, 5, 0), nil)
			w.Sim.RemoveBotFromGuild(w.Guild)
			h.RunUntil(at(16, 6, 0), nil)
			h.WaitParked()
			h.Clock.Set(time.Date(2026, 12, 10, 12, 0, 0, 0, msk))
			if comeBack {
				w.Sim.AddBotToGuild(w.Guild)
				h.WaitReady()
			}
			h.RunUntil(time.Date(2026, 12, 10, 12, 0, 10, 0, msk), nil)
			h.WaitParked()
			h.Clock.Set(time.Date(2026, 12, 28, 23, 59, 55, 0, time.UTC))
			h.RunUntil(time.Date(2026, 12, 29, 0, 0, 10, 0, time.UTC), nil)
			n := len(idsIn(t, h.Store(), w.Members["alexey"]))
			if comeBack && n == 0 {
				t.Fatal("the guild came back in time, yet its data is gone")
			}
			if !comeBack && n != 0 {
				t.Fatalf("32 days after the bot left, the data is still there (%d places)", n)
			}
		})
	}
}
