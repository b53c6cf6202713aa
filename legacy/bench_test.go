package legacy

import (
	"context"
	"testing"
)

// BenchmarkImportLegacyMillion imports a 1,000,000-row original-style table
// (1,667 one-hour events of 600 members over 417 days, 5% duplicate rows,
// 0.1% broken rows) into an empty rollcall database, source and target on
// the same local server. Run it with
//
//	go test -run '^$' -bench ImportLegacyMillion -benchtime 1x ./legacy/
func BenchmarkImportLegacyMillion(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	pool := e.store.Pool()
	if _, err := pool.Exec(ctx, `
		CREATE TABLE bzs_stats (id integer PRIMARY KEY, player_id bigint, score integer[], data_bzs date, hour integer);
		INSERT INTO bzs_stats
		SELECT i,
		       -- 600 distinct members per event; every 20th row repeats the previous member
		       100000000000000000 + ((CASE WHEN i % 20 = 0 THEN i - 1 ELSE i END) * 7) % 3000,
		       ARRAY(SELECT generate_series(s, s + (i * 17) % (60 - s))),
		       DATE '2019-01-01' + (i / 600) / 4,
		       CASE WHEN i % 1000 = 999 THEN 24 ELSE (ARRAY[7, 16, 21, 23])[(i / 600) % 4 + 1] END
		FROM generate_series(0, 999999) i, LATERAL (SELECT (i * 13) % 50 AS s) m;
		ANALYZE bzs_stats`); err != nil {
		b.Fatal(err)
	}
	args := []string{"--from", e.url, "--table", "bzs_stats", "--guild", "111111111111111111", "--schedule", "БЗС"}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if _, err := pool.Exec(ctx, `TRUNCATE occurrences, attendance, coverage, members RESTART IDENTITY`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		out := e.mustRun(b, ExitSkipped, args...) // 0.1% of the rows are broken
		b.StopTimer()
		b.Log("\n" + out[:min(len(out), 1200)])
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "rows/s")
}
