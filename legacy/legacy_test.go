package legacy

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/attendance"
	"rollcall/store"
	"rollcall/store/storetest"
)

const testGuild = 111111111111111111

// srcRow is a row of the original table as text; "" is NULL.
type srcRow struct{ id, player, score, date, hour string }

// paperRows are the rows shown in the paper describing the original bot
// (fig. 7), then duplicates, repeated minutes and broken rows as years of
// poor de-duplication left them.
var paperRows = []srcRow{
	{"2445", "369427180834521100", "{0,1,2,3,4,5,6,7}", "2021-12-04", "16"},
	{"2444", "552061405910532116", "{15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33}", "2021-11-30", "16"},
	{"2443", "201783737631899648", "{24,25,26,27,28,29,30,31}", "2021-11-28", "16"},
	{"2442", "518825460986019855", "{33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51}", "2021-11-28", "16"},
	{"2441", "369427180834521100", "{41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}", "2021-11-28", "16"},
	{"2440", "246659285885386753", "{44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}", "2021-11-27", "16"},
	{"2439", "518825460986019855", "{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22}", "2021-11-27", "16"},
	{"2438", "518825460986019855", "{29}", "2021-11-26", "23"},
	{"2437", "425312253026500628", "{32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50}", "2021-11-26", "16"},
	{"2436", "369427180834521100", "{32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50}", "2021-11-26", "16"},
	{"2435", "552061405910532116", "{0,1,2,3,4,5,6}", "2021-11-25", "21"},
	{"2434", "518064875411341353", "{41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}", "2021-11-25", "16"},
	{"2433", "425312253026500628", "{41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59}", "2021-11-25", "16"},
	{"2432", "201783737631899648", "{0,1,2,3,4,5,6}", "2021-11-25", "16"},
	{"2431", "518825460986019855", "{14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32}", "2021-11-25", "16"},
	// Duplicates: the same member and hour again, overlapping and not.
	{"2446", "518825460986019855", "{20,21,22,23,24,25}", "2021-11-27", "16"},
	{"2447", "201783737631899648", "{24,24,25,40,40,41}", "2021-11-28", "16"},
	{"2448", "552061405910532116", "{0,1,2,3,4,5,6}", "2021-11-25", "21"},
	// Monday 00:00 in Moscow is still Sunday in UTC: it belongs to the
	// second week.
	{"2449", "369427180834521100", "{0,1,2}", "2021-11-29", "0"},
	// Sunday 23:00 runs into Monday but is reported under Sunday.
	{"2450", "246659285885386753", "{50,51,52,53,54,55,56,57,58,59}", "2021-11-28", "23"},
	// Broken rows.
	{"2451", "369427180834521100", "{58,59,60}", "2021-11-30", "16"},
	{"2452", "425312253026500628", "{-1,0}", "2021-11-30", "16"},
	{"2453", "201783737631899648", "", "2021-11-30", "16"},
	{"2454", "201783737631899648", "{}", "2021-11-30", "21"},
	{"2455", "518825460986019855", "{1,2}", "2021-11-30", "24"},
	{"2456", "", "{1,2}", "2021-11-30", "16"},
	{"2457", "518825460986019855", "{1,2}", "", "16"},
}

// skipReasons are the reasons paperRows' broken rows are skipped for, by id.
var skipReasons = map[string]string{
	"2451": "minute 60 outside 0-59",
	"2452": "minute -1 outside 0-59",
	"2453": "score is null",
	"2454": "score is an empty array",
	"2455": "hour 24 outside 0-23",
	"2456": "player_id is null",
	"2457": "data_bzs is null",
}

const testConfig = `
database_url = %q

[[guilds]]
id = "111111111111111111"
timezone = "Europe/Moscow"
report_channels = ["222222222222222222"]

  [[guilds.schedules]]
  name = "БЗС"
  times = ["07:00", "16:00", "21:00", "23:00"]
  duration = "60m"
  voice_channel_names = ["БЗС"]

  [[guilds.schedules]]
  name = "Short"
  times = ["12:00"]
  duration = "30m"
  voice_channel_names = ["short"]
`

// env is a test's rollcall database, its configuration and its environment.
type env struct {
	url     string
	store   *store.Store
	cfgPath string
	getenv  func(string) string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	url := storetest.URL(t)
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx, storetest.Schema(t)); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, testConfig, url), 0o600); err != nil {
		t.Fatal(err)
	}
	// No DISCORD_TOKEN and no DATABASE_URL: the import needs no token, and
	// the database comes from the file.
	return &env{url: url, store: st, cfgPath: cfgPath, getenv: func(string) string { return "" }}
}

// createTable writes rows into an original-style table in the env's database.
func (e *env) createTable(t *testing.T, name string, rows []srcRow) {
	t.Helper()
	ctx := context.Background()
	pool := e.store.Pool()
	if _, err := pool.Exec(ctx, `CREATE TABLE `+pgx.Identifier{name}.Sanitize()+` (
		id integer PRIMARY KEY, player_id bigint, score integer[], data_bzs date, hour integer)`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{name}.Sanitize()+` VALUES
			($1::int, nullif($2, '')::bigint, nullif($3, '')::int[], nullif($4, '')::date, nullif($5, '')::int)`,
			r.id, r.player, r.score, r.date, r.hour); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs the command and returns exit code, stdout and stderr.
func (e *env) run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--config", e.cfgPath}, args...), storetest.Schema(t), e.getenv, &out, &errb)
	return code, out.String(), errb.String()
}

// mustRun runs an import that must complete with exit status want: 0, or
// ExitSkipped when the rows include some it skips.
func (e *env) mustRun(t testing.TB, want int, args ...string) string {
	t.Helper()
	code, out, errs := e.run(t, args...)
	if code != want {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, want, out, errs)
	}
	if want == ExitSkipped && !strings.Contains(errs, fmt.Sprintf("rows skipped (listed above); exit status %d", ExitSkipped)) {
		t.Errorf("stderr does not say why the exit status is %d: %q", want, errs)
	}
	return out
}

// dump is the whole of rollcall's tables, row versions (xmin) included: a
// second import must not even rewrite a row.
func (e *env) dump(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT xmin, * FROM occurrences ORDER BY id`,
		`SELECT xmin, * FROM attendance ORDER BY occurrence_id, user_id, chunk`,
		`SELECT xmin, * FROM coverage ORDER BY occurrence_id, chunk`,
		`SELECT xmin, * FROM members ORDER BY guild_id, user_id`,
		`SELECT last_value, is_called FROM occurrences_id_seq`,
	} {
		b.WriteString(e.query(t, q))
	}
	return b.String()
}

// logical is rollcall's tables without ids, row versions and creation
// times: what two imports into different databases must agree on.
func (e *env) logical(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT guild_id, schedule, starts_at, ends_at FROM occurrences ORDER BY 1, 2, 3`,
		`SELECT o.starts_at, a.user_id, a.chunk, a.present, a.self_mute, a.self_deaf FROM attendance a JOIN occurrences o ON o.id = a.occurrence_id ORDER BY 1, 2, 3`,
		`SELECT o.starts_at, c.chunk, c.sampled FROM coverage c JOIN occurrences o ON o.id = c.occurrence_id ORDER BY 1, 2`,
		`SELECT guild_id, user_id, username, display_name, bot, roles, joined_at, left_at FROM members ORDER BY 1, 2`,
	} {
		b.WriteString(e.query(t, q))
	}
	return b.String()
}

func (e *env) query(t *testing.T, q string) string {
	t.Helper()
	rows, err := e.store.Pool().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String() + "--\n"
}

// eventKey is an original event: its local date and hour.
type eventKey struct {
	date string
	hour int
}

// expected computes, straight from the raw rows and without the importer's
// code, each event's minutes per member and each member's minutes per
// Monday-to-Sunday week (keyed by the Monday's date).
func expected(t *testing.T, rows []srcRow) (events map[eventKey]map[uint64]uint64, weeks map[string]map[uint64]int) {
	t.Helper()
	events = map[eventKey]map[uint64]uint64{}
	for _, r := range rows {
		if _, bad := skipReasons[r.id]; bad {
			continue
		}
		player, _ := strconv.ParseUint(r.player, 10, 64)
		hour, _ := strconv.Atoi(r.hour)
		k := eventKey{r.date, hour}
		if events[k] == nil {
			events[k] = map[uint64]uint64{}
		}
		for _, m := range strings.Split(strings.Trim(r.score, "{}"), ",") {
			n, _ := strconv.Atoi(m)
			events[k][player] |= 1 << n
		}
	}
	weeks = map[string]map[uint64]int{}
	for k, ms := range events {
		d, err := time.Parse(time.DateOnly, k.date)
		if err != nil {
			t.Fatal(err)
		}
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)).Format(time.DateOnly)
		if weeks[monday] == nil {
			weeks[monday] = map[uint64]int{}
		}
		for p, mask := range ms {
			weeks[monday][p] += bits.OnesCount64(mask)
		}
	}
	return events, weeks
}

// checkImported reads the imported history back through the store as the
// bot's commands do and compares it with what the raw rows say.
func (e *env) checkImported(t *testing.T, rows []srcRow) {
	t.Helper()
	ctx := context.Background()
	msk, _ := time.LoadLocation("Europe/Moscow")
	events, weeks := expected(t, rows)

	gotEvents := map[eventKey]map[uint64]uint64{}
	for monday, want := range weeks {
		d, _ := time.ParseInLocation(time.DateOnly, monday, msk)
		wk := attendance.WeekOf(d, msk)
		occs, err := e.store.Occurrences(ctx, testGuild, wk.Start, wk.End)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]int{}
		for _, o := range occs {
			if o.Schedule != "БЗС" || o.End.Sub(o.Start) != time.Hour {
				t.Errorf("occurrence %+v: want schedule БЗС, 60 minutes", o)
			}
			start := o.Start.In(msk)
			if start.Minute() != 0 {
				t.Errorf("occurrence starts at %v, not on the hour", start)
			}
			k := eventKey{start.Format(time.DateOnly), start.Hour()}
			mm, _, err := e.store.OccurrenceMinutes(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			gotEvents[k] = map[uint64]uint64{}
			for _, m := range mm {
				if len(m.Present) != 1 {
					t.Errorf("%v member %d: %d chunks, want 1", k, m.Member.UserID, len(m.Present))
				}
				gotEvents[k][m.Member.UserID] = m.Present[0]
				got[m.Member.UserID] += m.Present.Count()
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("week of %s: minutes per member\n got %v\nwant %v", monday, got, want)
		}
	}
	if fmt.Sprint(gotEvents) != fmt.Sprint(events) {
		t.Errorf("minutes per event\n got %v\nwant %v", gotEvents, events)
	}
}

func TestImportLegacyFromTable(t *testing.T) {
	e := newEnv(t)
	e.createTable(t, "bzs_stats", paperRows)
	args := []string{"--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС"}

	empty := e.dump(t)
	// paperRows has 7 broken rows: the import completes, with exit status 3.
	out := e.mustRun(t, ExitSkipped, append(args, "--dry-run")...)
	if e.dump(t) != empty {
		t.Fatal("--dry-run wrote to the database")
	}
	for _, want := range []string{"Dry run: nothing was written.", "rows read:       27", "imported:      20 (3 merged", "skipped:       7", "10 to create", "7 to add"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}

	out = e.mustRun(t, ExitSkipped, args...)
	for _, want := range []string{"rows read:       27", "imported:      20 (3 merged", "skipped:       7", "events:          10, from Thu 25 Nov 2021 16:00 MSK to Sat 4 Dec 2021 16:00 MSK; 10 created", "members:         7; 7 added", "attendance rows: 17 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var listed []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  id ") {
			listed = append(listed, strings.TrimSpace(l))
		}
	}
	var want []string
	for id, reason := range skipReasons {
		want = append(want, "id "+id+": "+reason)
	}
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("skipped rows\n got %q\nwant %q", listed, want)
	}
	e.checkImported(t, paperRows)

	// Importing again changes nothing, not even a row version.
	before := e.dump(t)
	out = e.mustRun(t, ExitSkipped, args...)
	if after := e.dump(t); after != before {
		t.Errorf("a second import changed the database:\nbefore\n%s\nafter\n%s", before, after)
	}
	if !strings.Contains(out, "; 0 created") || !strings.Contains(out, "attendance rows: 0 added") {
		t.Errorf("second import output:\n%s", out)
	}

	// The same rows as a CSV export, columns in another order, into a fresh
	// database give the same history.
	csvPath := writeCSV(t, paperRows, []string{"player_id", "hour", "id", "data_bzs", "score"}, "")
	e2 := newEnv(t)
	e2.mustRun(t, ExitSkipped, "--csv", csvPath, "--guild", "111111111111111111", "--schedule", "БЗС")
	if a, b := e.logical(t), e2.logical(t); a != b {
		t.Errorf("CSV import differs from table import:\ntable\n%s\ncsv\n%s", a, b)
	}
	e2.checkImported(t, paperRows)
}

// writeCSV writes rows as psql's \copy ... CSV HEADER does (NULL is an
// empty field, arrays are quoted), with the columns in the given order,
// followed by extra raw text.
func writeCSV(t *testing.T, rows []srcRow, cols []string, extra string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(cols)
	for _, r := range rows {
		byName := map[string]string{"id": r.id, "player_id": r.player, "score": r.score, "data_bzs": r.date, "hour": r.hour}
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = byName[c]
		}
		_ = w.Write(rec)
	}
	w.Flush()
	b.WriteString(extra)
	p := filepath.Join(t.TempDir(), "bzs_stats.csv")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportLegacyCSVSkipsUnparseableLines(t *testing.T) {
	e := newEnv(t)
	rows := []srcRow{
		{"1", "518825460986019855", "{29}", "2021-11-26", "23"},
		{"2", "518825460986019855", "{1,2}", "2021-11-30", "24"},
	}
	// Lines 4-7: a short line, a non-number, a bad date, a broken quote.
	extra := "3,518825460986019855\n4,abc,{1},2021-11-26,16\n5,1,{1},26.11.2021,16\n6,1,\"{1,2,2021-11-26,16\n"
	p := writeCSV(t, rows, []string{"id", "player_id", "score", "data_bzs", "hour"}, extra)
	out := e.mustRun(t, ExitSkipped, "--csv", p, "--guild", "111111111111111111", "--schedule", "БЗС")
	for _, want := range []string{
		"rows read:       6",
		"imported:      1 (0 merged",
		"line 3 (id 2): hour 24 outside 0-23",
		"line 4: unparseable CSV: 2 fields, the header has at least 5",
		"line 5 (id 4): unparseable CSV: player_id \"abc\" is not a whole number",
		"line 6 (id 5): unparseable CSV: data_bzs \"26.11.2021\" is not a date like 2021-11-28",
		"line 7: unparseable CSV: extraneous or missing \" in quoted-field",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Exports made on Windows and with Python's csv module: a byte-order mark,
// every field quoted, CRLF line ends, and (Windows PowerShell without
// -NoTypeInformation) a #TYPE line above the header. Each imports what a
// plain \copy export does, exits 0 when no row is skipped, and names a broken
// line by its line in the file.
func TestImportLegacyCSVFromOtherTools(t *testing.T) {
	good := paperRows[:20] // the broken rows come after these
	var plain, quoted bytes.Buffer
	w := csv.NewWriter(&plain)
	_ = w.Write([]string{"id", "player_id", "score", "data_bzs", "hour"})
	for _, r := range good {
		_ = w.Write([]string{r.id, r.player, r.score, r.date, r.hour})
	}
	w.Flush()
	// csv.Writer quotes only where needed; QUOTE_ALL and Export-Csv quote all.
	q := func(f ...string) string { return `"` + strings.Join(f, `","`) + `"` + "\r\n" }
	quoted.WriteString(q("id", "player_id", "score", "data_bzs", "hour"))
	for _, r := range good {
		quoted.WriteString(q(r.id, r.player, r.score, r.date, r.hour))
	}
	file := func(t *testing.T, content string) string {
		p := filepath.Join(t.TempDir(), "export.csv")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ref := newEnv(t)
	ref.mustRun(t, 0, "--csv", file(t, plain.String()), "--guild", "111111111111111111", "--schedule", "БЗС")
	want := ref.logical(t)

	const bom = "\ufeff"
	tests := []struct {
		name, content string
		code          int
		line          string // a skipped line's report, when one is broken
	}{
		{"Python csv, QUOTE_ALL, utf-8-sig", bom + quoted.String(), 0, ""},
		{"PowerShell Export-Csv -Encoding UTF8", bom + "#TYPE System.Management.Automation.PSCustomObject\r\n" + quoted.String(), 0, ""},
		{"a mark before an unquoted header", bom + plain.String(), 0, ""},
		{"a broken line after a #TYPE line", bom + "#TYPE x\r\n" + quoted.String() + q("9", "1", "{1}", "2021-11-26", "24"), ExitSkipped,
			fmt.Sprintf("line %d (id 9): hour 24 outside 0-23", len(good)+3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			out := e.mustRun(t, tt.code, "--csv", file(t, tt.content), "--guild", "111111111111111111", "--schedule", "БЗС")
			if got := e.logical(t); got != want {
				t.Errorf("imported differently from a plain export:\ngot\n%s\nwant\n%s", got, want)
			}
			if tt.line != "" && !strings.Contains(out, tt.line) {
				t.Errorf("output lacks %q:\n%s", tt.line, out)
			}
		})
	}
}

// The 23:00 event belongs to its date and ends at midnight local time; the
// table's zone is the guild's unless --tz says otherwise.
func TestImportLegacyLateHourMapsToItsDate(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	tests := []struct {
		name      string
		tz        []string
		wantStart time.Time
	}{
		{"guild zone", nil, time.Date(2021, 11, 26, 23, 0, 0, 0, msk)},
		{"--tz UTC", []string{"--tz", "UTC"}, time.Date(2021, 11, 26, 23, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.createTable(t, "bzs_stats", []srcRow{{"2438", "518825460986019855", "{29}", "2021-11-26", "23"}})
			e.mustRun(t, 0, append([]string{"--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС"}, tc.tz...)...)
			occs, err := e.store.Occurrences(context.Background(), testGuild, tc.wantStart.Add(-24*time.Hour), tc.wantStart.Add(24*time.Hour))
			if err != nil || len(occs) != 1 {
				t.Fatalf("occurrences = %+v, %v", occs, err)
			}
			o := occs[0]
			if !o.Start.Equal(tc.wantStart) || !o.End.Equal(tc.wantStart.Add(time.Hour)) {
				t.Fatalf("occurrence %v-%v, want %v-+1h", o.Start, o.End, tc.wantStart)
			}
			loc := tc.wantStart.Location()
			if s, en := o.Start.In(loc), o.End.In(loc); s.Format("2006-01-02 15:04") != "2021-11-26 23:00" || en.Format("2006-01-02 15:04") != "2021-11-27 00:00" {
				t.Fatalf("local span %v - %v", s, en)
			}
			mm, _, err := e.store.OccurrenceMinutes(context.Background(), o.ID)
			if err != nil || len(mm) != 1 || !mm[0].Present.Has(29) || mm[0].Present.Count() != 1 {
				t.Fatalf("minutes = %+v, %v", mm, err)
			}
		})
	}
}

func TestImportLegacyErrors(t *testing.T) {
	e := newEnv(t)
	e.createTable(t, "bzs_stats", paperRows[:1])
	e.createTable(t, "not_legacy_shape", nil)
	if _, err := e.store.Pool().Exec(context.Background(), `ALTER TABLE not_legacy_shape DROP COLUMN score`); err != nil {
		t.Fatal(err)
	}
	empty := storetest.URL(t) // a database rollcall never ran against
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		want     string
	}{
		{"missing table", []string{"--from", e.url, "--table", "nope", "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`table "nope" does not exist in source database`},
		{"missing schema-qualified table", []string{"--from", e.url, "--table", "legacy.bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`table "legacy"."bzs_stats" does not exist`},
		{"table of another shape", []string{"--from", e.url, "--table", "not_legacy_shape", "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`is not the original bot's table`},
		{"bad table identifier", []string{"--from", e.url, "--table", "bzs_stats; DROP TABLE members", "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`--table "bzs_stats; DROP TABLE members" is not a table name`},
		{"quoted identifier", []string{"--from", e.url, "--table", `"bzs_stats"`, "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`is not a table name`},
		{"unconfigured guild", []string{"--from", e.url, "--table", "bzs_stats", "--guild", "999", "--schedule", "БЗС"}, nil, 1,
			`guild 999 is not configured`},
		{"unknown schedule", []string{"--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "Raid"}, nil, 1,
			`guild 111111111111111111 has no schedule "Raid" (its schedules: "БЗС", "Short")`},
		{"schedule shorter than an hour", []string{"--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "Short"}, nil, 1,
			`minutes 0-59 would not fit`},
		{"bad tz", []string{"--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС", "--tz", "Mars/Olympus"}, nil, 1,
			`--tz "Mars/Olympus" is not an IANA time zone`},
		{"bad source url", []string{"--from", "postgres://u:secret@[bad", "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`--from: not a valid PostgreSQL URL`},
		{"missing csv", []string{"--csv", "/nonexistent.csv", "--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 1,
			`open --csv file`},
		{"no source", []string{"--guild", "111111111111111111", "--schedule", "БЗС"}, nil, 2, `--from URL --table NAME, or --csv FILE`},
		{"both sources", []string{"--csv", "x.csv", "--from", e.url, "--table", "t", "--guild", "1", "--schedule", "БЗС"}, nil, 2, `do not combine`},
		{"from without table", []string{"--from", e.url, "--guild", "1", "--schedule", "БЗС"}, nil, 2, `--from needs --table`},
		{"no guild", []string{"--csv", "x.csv", "--schedule", "БЗС"}, nil, 2, `--guild is required`},
		{"bad guild", []string{"--csv", "x.csv", "--guild", "abc", "--schedule", "БЗС"}, nil, 2, `--guild "abc" is not a Discord id`},
		{"no schedule", []string{"--csv", "x.csv", "--guild", "1"}, nil, 2, `--schedule is required`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.getenv = func(k string) string { return tc.env[k] }
			code, out, errs := e.run(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q (stdout: %q)", code, errs, tc.wantCode, tc.want, out)
			}
			if strings.Contains(errs, "secret") {
				t.Errorf("stderr shows a password: %s", errs)
			}
		})
	}
	if got := e.query(t, `SELECT count(*) FROM occurrences`); got != "0\n--\n" {
		t.Errorf("failed imports wrote occurrences: %s", got)
	}
	// A database rollcall never ran against is migrated first, then filled.
	e.getenv = func(k string) string { return map[string]string{"DATABASE_URL": empty}[k] }
	if code, out, errs := e.run(t, "--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС"); code != 0 {
		t.Errorf("import into an empty database: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestParseMinutes(t *testing.T) {
	tests := []struct {
		in     string
		want   uint64
		reason string
	}{
		{"{0,1,2}", 7, ""},
		{"{59}", 1 << 59, ""},
		{"{ 3 , 3,3 }", 8, ""},
		{"{}", 0, "score is an empty array"},
		{"{60}", 0, "minute 60 outside 0-59"},
		{"{-1}", 0, "minute -1 outside 0-59"},
		{"{1,NULL}", 0, "score holds a null minute"},
		{"{{1,2}}", 0, `score "{{1,2}}" is not an array of minutes`},
		{"1,2", 0, `score "1,2" is not an array of minutes`},
		{"{a}", 0, `score "{a}" is not an array of minutes`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, reason := parseMinutes(tc.in)
			if got != tc.want || reason != tc.reason {
				t.Errorf("parseMinutes(%q) = %b, %q; want %b, %q", tc.in, got, reason, tc.want, tc.reason)
			}
		})
	}
}

func TestParseTable(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"bzs_stats", `"bzs_stats"`, true},
		{"BZS_Stats", `"bzs_stats"`, true}, // folded, as the original unquoted SQL was
		{"public.bzs_stats", `"public"."bzs_stats"`, true},
		{"статистика", `"статистика"`, true},
		{"a.b.c", "", false},
		{"bzs stats", "", false},
		{"x;drop", "", false},
		{`"x"`, "", false},
		{"1abc", "", false},
		{"", "", false},
		{strings.Repeat("a", 64), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			id, err := parseTable(tc.in)
			if (err == nil) != tc.ok || (tc.ok && id.Sanitize() != tc.want) {
				t.Errorf("parseTable(%q) = %v, %v; want %s ok=%v", tc.in, id, err, tc.want, tc.ok)
			}
		})
	}
}

// With no database URL anywhere, the import uses the bot's private database
// under --data-dir, as `rollcall run` would.
func TestImportLegacyIntoThePrivateDatabase(t *testing.T) {
	parent, err := os.MkdirTemp("", "rollcall-legacy-private-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil { // as root the server runs as another account
		t.Fatal(err)
	}
	cfgPath := filepath.Join(parent, "config.toml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, testConfig, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	csvPath := writeCSV(t, paperRows[:3], []string{"id", "player_id", "score", "data_bzs", "hour"}, "")
	args := []string{"--config", cfgPath, "--data-dir", filepath.Join(parent, "data"), "--csv", csvPath, "--guild", "111111111111111111", "--schedule", "БЗС"}
	// The second run finds the first one's data in the same private database.
	for i, want := range []string{"attendance rows: 3 added", "attendance rows: 0 added"} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, storetest.Schema(t), func(string) string { return "" }, &out, &errb)
		if code != 0 {
			if strings.Contains(errb.String(), "no PostgreSQL") && os.Getenv("CI") != "true" {
				t.Skip(errb.String())
			}
			t.Fatalf("run %d: exit %d: %s", i+1, code, errb.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("run %d: want %q in %s", i+1, want, out.String())
		}
	}
}
