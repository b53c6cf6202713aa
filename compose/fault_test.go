package compose_test

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"rollcall/compose"
	"rollcall/config"
	"rollcall/render"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/store/storetest"
	"rollcall/view"
)

const guildID = 111111111111111111

var testToken = base64.RawStdEncoding.EncodeToString([]byte("123456789012345678")) + ".GhIjKl.test-token-for-compose-tests"

func faultGuild(t testing.TB) *settings.Guild {
	t.Helper()
	cfg, err := config.Parse(fmt.Sprintf(`
[[guilds]]
id = "%d"
timezone = "UTC"
report_channels = ["1"]
  [[guilds.schedules]]
  name = "БЗС"
  times = ["16:00"]
  voice_channel_names = ["БЗС"]
`, guildID), func(k string) string {
		return map[string]string{"DISCORD_TOKEN": testToken, "DATABASE_URL": "postgres://unused@127.0.0.1/unused"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Validated[0]
}

// betweenReads is a pgx tracer that runs do once, right after the first
// statement whose SQL contains after has finished, while the statement
// that follows it has not started: a write that lands between two reads.
type betweenReads struct {
	after string
	armed atomic.Bool
	do    func()
}

type sqlKey struct{}

func (b *betweenReads) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, sqlKey{}, d.SQL)
}

func (b *betweenReads) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if sql, _ := ctx.Value(sqlKey{}).(string); strings.Contains(sql, b.after) && b.armed.CompareAndSwap(true, false) {
		b.do()
	}
}

// weekCSV reads the week's full table: user id -> events attended, events
// expected and minutes.
func weekCSV(t *testing.T, m compose.Message) map[string][3]string {
	t.Helper()
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Name, ".csv") {
			continue
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(f.Data), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, c := range recs[0] {
			col[c] = i
		}
		out := map[string][3]string{}
		for _, r := range recs[1:] {
			out[r[col["user_id"]]] = [3]string{r[col["events_attended"]], r[col["events_expected"]], r[col["minutes"]]}
		}
		return out
	}
	t.Fatal("the week has no CSV")
	return nil
}

// TestFaultNoPhantomRowsWhenAnOccurrenceIsInsertedBetweenReads: a period
// report reads members, occurrences and attendance in separate statements.
// Rows written between two of them (an event that starts, its first
// minutes) must not leak into the report: it is read in one repeatable-read
// snapshot (store.Snapshot), so every statement sees the database as of
// the first. On the original design store.History read occurrences and
// attendance in two statements outside a transaction, and the new
// occurrence's rows landed on the period's first event (&out[index[occ]]
// with a missing key): phantom attendees.
func TestFaultNoPhantomRowsWhenAnOccurrenceIsInsertedBetweenReads(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t)
	plain, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Close)
	if err := plain.Migrate(ctx, storetest.Schema(t)); err != nil {
		t.Fatal(err)
	}
	hook := &betweenReads{}
	traced, err := store.Open(ctx, url, store.WithTracer(hook))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(traced.Close)

	g := faultGuild(t)
	from := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) // a Monday
	const alexey, zoe, phantom = 5001, 5002, 5003
	if err := plain.UpsertMembers(ctx, guildID, []store.Member{
		{UserID: alexey, Username: "alexey", DisplayName: "Алексей", JoinedAt: from.AddDate(0, -1, 0)},
		{UserID: zoe, Username: "zoe", DisplayName: "Zoë", JoinedAt: from.AddDate(0, -1, 0)},
	}); err != nil {
		t.Fatal(err)
	}
	minutes := func(n int) uint64 { return 1<<n - 1 }
	for d, who := range []uint64{alexey, zoe, 0} {
		start := from.AddDate(0, 0, d).Add(16 * time.Hour)
		id, err := plain.EnsureOccurrence(ctx, guildID, "БЗС", start, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if who != 0 {
			if err := plain.Record(ctx, []store.Sample{{OccurrenceID: id, UserID: who, Present: minutes(30)}}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// What lands between the reads: a member who joins, an event on the
	// fourth day that starts, the minutes the recorder writes for it.
	insert := func() {
		start := from.AddDate(0, 0, 3).Add(16 * time.Hour)
		if err := plain.UpsertMembers(ctx, guildID, []store.Member{{UserID: phantom, Username: "phantom", JoinedAt: start.Add(-time.Hour)}}); err != nil {
			t.Error(err)
			return
		}
		id, err := plain.EnsureOccurrence(ctx, guildID, "БЗС", start, start.Add(time.Hour))
		if err != nil {
			t.Error(err)
			return
		}
		if err := plain.Record(ctx, []store.Sample{
			{OccurrenceID: id, UserID: phantom, Present: minutes(60)},
			{OccurrenceID: id, UserID: alexey, Present: minutes(45)},
		}, nil); err != nil {
			t.Error(err)
		}
	}
	reports := &compose.Reports{Store: traced, Renderer: pngRenderer{}}
	for _, tc := range []struct {
		name, after string
	}{
		{"between the occurrences and their attendance", "FROM occurrences"},
		{"between the members and the occurrences", "FROM members"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := plain.Pool().Exec(ctx, `DELETE FROM occurrences WHERE guild_id = $1 AND starts_at >= $2`, guildID, from.AddDate(0, 0, 3)); err != nil {
				t.Fatal(err)
			}
			if _, err := plain.Pool().Exec(ctx, `DELETE FROM members WHERE guild_id = $1 AND user_id = $2`, guildID, phantom); err != nil {
				t.Fatal(err)
			}
			hook.after, hook.do = tc.after, insert
			hook.armed.Store(true)
			m, err := reports.Week(ctx, g, view.LangOf("en-US"), from, from.AddDate(0, 0, 7), compose.WeekOptions{Now: from.AddDate(0, 0, 7), CSV: true})
			if err != nil {
				t.Fatal(err)
			}
			if hook.armed.Load() {
				t.Fatalf("the report never ran a statement with %q: the test inserted nothing", tc.after)
			}
			rows := weekCSV(t, m)
			want := map[string][3]string{
				fmt.Sprint(alexey): {"1", "3", "30"}, // events attended, expected, minutes: as of the first read
				fmt.Sprint(zoe):    {"1", "3", "30"},
			}
			for id, w := range want {
				if rows[id] != w {
					t.Errorf("member %s: attended, expected, minutes = %v, want %v", id, rows[id], w)
				}
			}
			if r, ok := rows[fmt.Sprint(phantom)]; ok || len(rows) != len(want) {
				t.Errorf("the report has %d rows (phantom: %v %v), want only the %d members who were there", len(rows), r, ok, len(want))
			}
			// Written, just not part of this report: the next one sees it.
			m, err = reports.Week(ctx, g, view.LangOf("en-US"), from, from.AddDate(0, 0, 7), compose.WeekOptions{Now: from.AddDate(0, 0, 7), CSV: true})
			if err != nil {
				t.Fatal(err)
			}
			next := weekCSV(t, m)
			if next[fmt.Sprint(phantom)] != [3]string{"1", "1", "60"} || next[fmt.Sprint(alexey)] != [3]string{"2", "4", "75"} {
				t.Errorf("the next report: phantom %v, alexey %v, want the fourth event counted now", next[fmt.Sprint(phantom)], next[fmt.Sprint(alexey)])
			}
		})
	}
}

// pngRenderer draws every chart as a tiny PNG: the tests here are about
// what is loaded and judged, not drawn.
type pngRenderer struct{}

var tinyPNG = []byte("\x89PNG\r\n\x1a\n")

func (pngRenderer) Timeline(context.Context, render.TimelineChart) ([]byte, error) {
	return tinyPNG, nil
}
func (pngRenderer) Bars(context.Context, render.BarChart) ([]byte, error) { return tinyPNG, nil }

// heapSampler records the peak of the live heap (Go's heap objects, what
// the GC has not freed yet) while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan uint64, 1)}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-s.stop:
				s.done <- peak
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return s
}

func (s *heapSampler) Stop() uint64 { close(s.stop); return <-s.done }

func heapNow() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// TestFaultAbsentAllTimeMemoryDoesNotGrowWithHistory: /absent period:all
// over years of a guild's history, three at once, keep the heap small:
// report.Build streams the attendance and keeps one event's rows at a time
// (memory is not time, so this asserts on it). The original design held
// every event's rows of the period: over 5 years of 500 members one such
// report grew the heap from 32 to 623 MB, three at once to 2.1 GB.
func TestFaultAbsentAllTimeMemoryDoesNotGrowWithHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds two years of a guild")
	}
	ctx := context.Background()
	st := storetest.New(t)
	from := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	h := storetest.History{GuildID: guildID, Schedule: "БЗС", Members: 500, From: from, Days: 2 * 365, Hours: []int{7, 16}, Attending: 0.3}
	rows, err := storetest.SeedHistory(ctx, st, h)
	if err != nil {
		t.Fatal(err)
	}
	g := faultGuild(t)
	reports := &compose.Reports{Store: st, Renderer: pngRenderer{}}
	absent := func(days int) (compose.Message, error) {
		return reports.Absent(ctx, g, view.LangOf("en-US"), compose.AbsentOptions{From: from, To: from.AddDate(0, 0, days)})
	}
	// Warm up (pools, caches), then measure from a collected heap.
	if _, err := absent(7); err != nil {
		t.Fatal(err)
	}
	base := heapNow()
	sampler := sampleHeap()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	msgs := make([]compose.Message, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msgs[i], errs[i] = absent(h.Days)
		}()
	}
	wg.Wait()
	peak := sampler.Stop()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
	}
	for _, f := range msgs[0].Embeds[0].Fields {
		t.Logf("/absent %s: %s", f.Name, f.Value)
	}
	grew := float64(peak-min(peak, base)) / (1 << 20)
	t.Logf("%d occurrences, %d attendance rows: heap %.1f MB before, peak %.1f MB above it during three concurrent /absent period:all",
		h.Days*len(h.Hours), rows, float64(base)/(1<<20), grew)
	const limit = 64 // MB; the original design needed about 150 MB per report at this size
	if grew > limit {
		t.Errorf("three concurrent /absent over %d attendance rows grew the heap by %.0f MB, more than %d MB: the period is held in memory", rows, grew, limit)
	}
}
