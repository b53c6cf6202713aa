package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/disgoorg/snowflake/v2"

	"rollcall/app"
	"rollcall/clock"
	"rollcall/discordsim"
	"rollcall/store"
)

// Interactions is figure 5: slash commands through the whole app (gateway,
// router, store, browser, REST) against the simulator.
type Interactions struct {
	Measured bool     `json:"measured"`
	Note     string   `json:"note,omitempty"`
	Commands []string `json:"commands,omitempty"`
	// Sequential runs one command at a time; Concurrent keeps InFlight
	// in flight.
	Sequential *InteractionRun `json:"sequential,omitempty"`
	Concurrent *InteractionRun `json:"concurrent,omitempty"`
	// AckP99 and ReplyP95 are the worse of the two runs.
	AckP99   float64 `json:"ack_p99_ms"`
	ReplyP95 float64 `json:"reply_p95_ms"`
}

// InteractionRun is one batch of commands.
type InteractionRun struct {
	InFlight int  `json:"in_flight"`
	Count    int  `json:"count"`
	Ack      Dist `json:"ack"`   // INTERACTION_CREATE sent → callback (deferral) received
	Reply    Dist `json:"reply"` // INTERACTION_CREATE sent → final response with its image received
	Failed   int  `json:"failed"`
	// FirstError says why the first failed command failed.
	FirstError string `json:"first_error,omitempty"`
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// notMerged is figure 5's state while the commands are not on main.
const notMerged = "not measured yet: commands not merged (app.New registers no slash commands)"

// imageCommands are the commands that answer with a chart, and the ones
// this figure runs, alternating.
var imageCommands = []string{"event", "week"}

func runInteractions(ctx context.Context, cfg Config, res *Results) error {
	res.Interactions = &Interactions{Note: notMerged}
	db, err := createDB(ctx, cfg.AdminURL, "interactions")
	if err != nil {
		return err
	}
	defer db.drop()
	now := eventStart.Add(3 * time.Hour) // an hour after the simulated event ended
	clk := clock.NewFake(now)
	w, err := newWorld(60, clk.Now)
	if err != nil {
		return err
	}
	defer w.close()
	conf, err := parseConfig(configText(w.guild, w.reports), w.sim.Token(), db.URL)
	if err != nil {
		return err
	}
	schema, err := schemaSQL()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, conf, app.Deps{Schema: schema, Clock: clk, Logger: botLog(cfg), ClientOpts: w.sim.ClientOpts()})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := seedEvent(ctx, a.Store, w); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !a.Bot.Ready() || clk.Waiters() < 1 {
		select {
		case err := <-done:
			return fmt.Errorf("app stopped while starting: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("app did not become ready within 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	registered := map[string]bool{}
	for _, raw := range w.sim.Commands(w.guild) {
		var c struct{ Name string }
		if json.Unmarshal(raw, &c) == nil {
			registered[c.Name] = true
		}
	}
	for _, raw := range w.sim.Commands(0) {
		var c struct{ Name string }
		if json.Unmarshal(raw, &c) == nil {
			registered[c.Name] = true
		}
	}
	var cmds []string
	for _, c := range imageCommands {
		if registered[c] {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) == 0 {
		cfg.Log.Warn("figure 5 skipped: " + notMerged)
		return nil
	}
	in := &Interactions{Measured: true, Commands: cmds}
	user := w.sim.GuildOwner(w.guild)
	// Warm up: statements prepared, the browser's JIT warm for each chart.
	// A command that fails here would fail a hundred times, 10 s each.
	if warm, err := invokeBatch(ctx, w, user, cmds, 2*len(cmds), 1); err != nil {
		return err
	} else if warm.Failed > 0 {
		return fmt.Errorf("commands %v registered but failing: %s", cmds, warm.FirstError)
	}
	if in.Sequential, err = invokeBatch(ctx, w, user, cmds, cfg.Interactions, 1); err != nil {
		return err
	}
	if in.Concurrent, err = invokeBatch(ctx, w, user, cmds, cfg.Interactions, cfg.InFlight); err != nil {
		return err
	}
	in.AckP99 = max(in.Sequential.Ack.P99, in.Concurrent.Ack.P99)
	in.ReplyP95 = max(in.Sequential.Reply.P95, in.Concurrent.Reply.P95)
	if in.Sequential.Failed+in.Concurrent.Failed > 0 {
		in.Note = fmt.Sprintf("%d commands failed or came back without an image", in.Sequential.Failed+in.Concurrent.Failed)
	}
	res.Interactions = in
	cfg.Log.Info("interactions", slog.Float64("ack_p99_ms", in.AckP99), slog.Float64("reply_p95_ms", in.ReplyP95))
	return nil
}

// seedEvent stores the event that ended an hour before the commands run:
// 20 of the world's members for stretches of it.
func seedEvent(ctx context.Context, st *store.Store, w *world) error {
	id, err := st.EnsureOccurrence(ctx, uint64(w.guild), "БЗС", eventStart, eventStart.Add(2*time.Hour))
	if err != nil {
		return err
	}
	var samples []store.Sample
	for i, m := range w.members[:20] {
		for chunk := range 2 {
			mask := uint64(1)<<60 - 1
			mask &^= uint64(1)<<(i*2%40) - 1
			samples = append(samples, store.Sample{OccurrenceID: id, UserID: uint64(m), Chunk: chunk, Present: mask})
		}
	}
	return st.Record(ctx, samples, []store.Coverage{{OccurrenceID: id, Chunk: 0, Sampled: ^uint64(0)}, {OccurrenceID: id, Chunk: 1, Sampled: 1<<56 - 1}})
}

// invokeBatch runs n commands, inFlight at a time, and times each from the
// INTERACTION_CREATE frame the simulator sent to the bot's callback
// (deferral) and to the final response.
func invokeBatch(ctx context.Context, w *world, user snowflake.ID, cmds []string, n, inFlight int) (*InteractionRun, error) {
	run := &InteractionRun{InFlight: inFlight, Count: n}
	type result struct {
		start, end time.Time
		ok         bool
		why        string
	}
	results := make([]result, n)
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)
	framesBefore := len(w.sim.Frames())
	requestsBefore := len(w.sim.Requests())
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
				start := time.Now()
				resp, err := w.sim.Invoke(ictx, discordsim.Invocation{GuildID: w.guild, UserID: user, Command: cmds[i%len(cmds)]})
				cancel()
				r := result{start: start, end: time.Now()}
				switch {
				case err != nil:
					r.why = err.Error()
				case resp.Failed:
					r.why = "not acknowledged within 3 s"
				case len(resp.Files) == 0:
					r.why = "no image in the reply: " + firstLine(resp.Content)
				default:
					r.ok = true
				}
				results[i] = r
			}
		}()
	}
	wg.Wait()
	// Pair each INTERACTION_CREATE with its callback by interaction id.
	sent := map[string]time.Time{}
	for _, f := range w.sim.Frames()[framesBefore:] {
		if f.Out && f.Event == "INTERACTION_CREATE" {
			// The frame is the whole payload, {"op":0,"t":...,"d":{...}}.
			var d struct {
				D struct{ ID string }
			}
			if json.Unmarshal([]byte(f.Data), &d) == nil {
				sent[d.D.ID] = f.Time
			}
		}
	}
	var acks, replies []time.Duration
	for _, r := range w.sim.Requests()[requestsBefore:] {
		if r.Method != "POST" || !strings.HasSuffix(r.Route, "/callback") {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(r.Path, "/"), "/") // interactions/{id}/{token}/callback
		if len(parts) >= 2 {
			if t, ok := sent[parts[1]]; ok {
				acks = append(acks, r.Time.Sub(t))
			}
		}
	}
	for _, r := range results {
		if !r.ok {
			run.Failed++
			if run.FirstError == "" {
				run.FirstError = r.why
			}
			continue
		}
		replies = append(replies, r.end.Sub(r.start))
	}
	run.Ack, run.Reply = distOf(acks), distOf(replies)
	if len(acks) < n {
		return run, fmt.Errorf("only %d of %d interactions were acknowledged (first failure: %s)", len(acks), n, run.FirstError)
	}
	return run, nil
}
