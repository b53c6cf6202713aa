package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"rollcall/store"
	"rollcall/store/storetest"
)

// Growth is figure 9: how cost grows with the members present and with the
// history kept. One guild's history is seeded in SQL at each length
// (storetest.SeedHistory: cfg.GrowthMembers members, four one-hour events a
// day); in each, the bare store.Record of a tick's new minute at every size
// (the write a poll tick makes) and each command's queries, the all-time
// ones included.
type Growth struct {
	Members   int             `json:"members"`
	Histories []GrowthHistory `json:"histories"`
}

// GrowthHistory is one length of history.
type GrowthHistory struct {
	Days    int            `json:"days"`
	Events  int            `json:"events"`
	Rows    int64          `json:"attendance_rows"`
	Record  []GrowthRecord `json:"record_new_minute"`
	Queries []QueryRow     `json:"queries"`
}

// GrowthRecord is store.Record of one new minute for Present members.
type GrowthRecord struct {
	Present int  `json:"present"`
	Dist    Dist `json:"dist"`
}

func runGrowth(ctx context.Context, cfg Config, res *Results) error {
	res.Growth = &Growth{Members: cfg.GrowthMembers}
	for _, days := range cfg.GrowthDays {
		gh, err := growthAt(ctx, cfg, days)
		if err != nil {
			return err
		}
		res.Growth.Histories = append(res.Growth.Histories, gh)
	}
	return nil
}

func growthAt(ctx context.Context, cfg Config, days int) (GrowthHistory, error) {
	sg, err := seedGuild(ctx, cfg, fmt.Sprintf("growth%d", days), days, cfg.GrowthMembers)
	if err != nil {
		return GrowthHistory{}, err
	}
	defer sg.close()
	gh := GrowthHistory{Days: days, Events: days * len(sg.h.Hours), Rows: sg.rows}
	end := sg.end()

	// Each size records into an occurrence of its own after the history,
	// as a running event would: minute after minute, each new for all.
	for i, n := range cfg.GrowthSizes {
		start := end.Add(time.Duration(i+1) * 24 * time.Hour)
		occ, err := sg.st.EnsureOccurrence(ctx, sg.guild.ID, "БЗС", start, start.Add(time.Hour))
		if err != nil {
			return gh, err
		}
		var took []time.Duration
		for minute := -1; minute < cfg.GrowthMinutes; minute++ { // minute -1 warms up
			m := minute + 1
			bit := uint64(1) << m
			samples := make([]store.Sample, n)
			for j := range samples {
				samples[j] = store.Sample{OccurrenceID: occ, UserID: uint64(storetest.FirstUser + j), Present: bit}
			}
			t0 := time.Now()
			if err := sg.st.Record(ctx, samples, []store.Coverage{{OccurrenceID: occ, Sampled: bit}}); err != nil {
				return gh, err
			}
			if minute >= 0 {
				took = append(took, time.Since(t0))
			}
		}
		gh.Record = append(gh.Record, GrowthRecord{Present: n, Dist: distOf(took)})
		cfg.Log.Info("growth record", slog.Int("days", days), slog.Int("present", n), slog.Float64("p50_ms", distOf(took).P50))
	}
	// The occurrences just recorded are not part of the history read.
	occs, err := sg.st.Occurrences(ctx, sg.guild.ID, end.Add(-48*time.Hour), end)
	if err != nil || len(occs) == 0 {
		return gh, fmt.Errorf("growth: the last events of the history: %d, %v", len(occs), err)
	}
	member := uint64(storetest.FirstUser + cfg.GrowthMembers/2)
	src := &timedSource{}
	qs := commandQueries(ctx, sg.st, sg.guild, occs[len(occs)-1], end, member, src)
	qs = append(qs, allTimeQueries(ctx, sg.st, sg.guild, sg.h.From, end, member, src)...)
	if gh.Queries, err = timeQueries(ctx, cfg, qs, src, cfg.GrowthIters); err != nil {
		return gh, err
	}
	return gh, nil
}
