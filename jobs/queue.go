package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"rollcall/bot"
	"rollcall/clock"
	"rollcall/compose"
	"rollcall/settings"
	"rollcall/store"
)

// Heartbeats: every process records that it lives every heartbeatEvery; one
// silent for processLease is taken for dead, and its running jobs are
// made available again (on the same host a dead process is seen at once).
const (
	heartbeatEvery = 10 * time.Second
	processLease   = 30 * time.Second
	// retention keeps finished jobs (and so their uniqueness) longer than
	// the longest catch_up, so a catch-up never re-inserts a post it made.
	retention = 8 * 24 * time.Hour
)

// Options configure the queue.
type Options struct {
	Store    *store.Store
	Reports  *compose.Reports
	Settings *settings.Registry
	Discord  Discord
	// Roles applies role rules; nil leaves role jobs to other processes.
	Roles  RoleDiscord
	Clock  clock.Clock
	Logger *slog.Logger
	// ProcessID names this process to River and in the heartbeats; default
	// host:pid:random.
	ProcessID string
	// Backoff and MaxBackoff shape a failing post's retries; default 5 s
	// doubling up to 5 min.
	Backoff, MaxBackoff time.Duration
	// Workers is how many posts one process sends at once; default 4.
	Workers int
}

// NewProcessID names a process uniquely: host:pid:random (a pid is reused
// after a restart; the random part is not).
func NewProcessID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Queue is the durable job queue of this process: it inserts posts, works
// them, and keeps the heartbeat that lets other processes rescue its jobs
// if it dies.
type Queue struct {
	client *river.Client[pgx.Tx]
	store  *store.Store
	log    *slog.Logger
	proc   store.Process
	Stats  *Stats
	// Roles counts the role changes made by role rules.
	Roles *RoleStats

	stop chan struct{}
	wg   sync.WaitGroup
}

// New builds the queue; nothing runs until Start, but posts can be inserted
// at once.
func New(o Options) (*Queue, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	host, _ := os.Hostname()
	if o.ProcessID == "" {
		o.ProcessID = NewProcessID()
	}
	log := o.Logger.With(slog.String("component", "jobs"))
	q := &Queue{store: o.Store, log: log, proc: store.Process{ID: o.ProcessID, Host: host, PID: os.Getpid()}, Stats: &Stats{}, Roles: &RoleStats{}, stop: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, &PostWorker{Store: o.Store, Reports: o.Reports, Settings: o.Settings, Discord: o.Discord,
		Clock: o.Clock, Log: log, Stats: q.Stats, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff})
	river.AddWorker(workers, &PurgeWorker{Store: o.Store, Settings: o.Settings, Clock: o.Clock, Log: log})
	if o.Roles != nil {
		river.AddWorker(workers, &RolesWorker{Store: o.Store, Settings: o.Settings, Discord: o.Roles, Clock: o.Clock, Log: log, Stats: q.Roles})
	}
	c, err := river.NewClient(riverpgxv5.New(o.Store.Pool()), &river.Config{
		ID:                          o.ProcessID,
		Logger:                      slog.New(atLeast{slog.LevelInfo, o.Logger.Handler()}).With(slog.String("component", "river")),
		Queues:                      map[string]river.QueueConfig{queuePosts: {MaxWorkers: o.Workers}, queueRoles: {MaxWorkers: 1}},
		Workers:                     workers,
		JobTimeout:                  postTimeout,
		RescueStuckJobsAfter:        postTimeout + 3*time.Minute,
		CompletedJobRetentionPeriod: retention,
		CancelledJobRetentionPeriod: retention,
		MaxAttempts:                 maxAttempts,
		ErrorHandler:                &errorHandler{log: log, stats: q.Stats},
		// Shutdown waits this long for posts being sent, then cancels them;
		// a cancelled post is retried by the next process to start.
		SoftStopTimeout: 10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.client = c
	return q, nil
}

// EnqueueTx inserts the due posts as jobs, one per report and channel, in
// tx: they exist if and only if the recorder's write commits.
func (q *Queue) EnqueueTx(ctx context.Context, tx pgx.Tx, due []bot.Due) error {
	var params []river.InsertManyParams
	for _, d := range due {
		switch d.Kind {
		case bot.KindPurge:
			params = append(params, river.InsertManyParams{Args: PurgeArgs{Day: d.At}})
			continue
		case bot.KindRoles:
			params = append(params, river.InsertManyParams{Args: RolesArgs{GuildID: d.GuildID, At: d.At}})
			continue
		}
		for _, ch := range d.Channels {
			params = append(params, river.InsertManyParams{Args: PostArgs{Report: d.Kind, GuildID: d.GuildID,
				Occurrence: d.OccurrenceID, Correction: d.CorrectionID, From: d.From, To: d.To, ChannelID: ch, Due: d.At}})
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue %d posts: %w", len(params), err)
	}
	return nil
}

// Start rescues the jobs of processes that died, then works posts until
// Stop. The heartbeat keeps running meanwhile.
func (q *Queue) Start(ctx context.Context) error {
	q.beat(ctx)
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the job queue: %w", err)
	}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-q.stop:
				return
			case <-t.C:
				q.beat(context.Background())
			}
		}
	}()
	return nil
}

// beat records this process's heartbeat and rescues the running jobs of
// processes that are gone.
func (q *Queue) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := q.store.Heartbeat(ctx, q.proc); err != nil {
		q.log.Warn("heartbeat", slog.Any("error", err))
		return
	}
	procs, err := q.store.Processes(ctx, processLease)
	if err != nil {
		q.log.Warn("list processes", slog.Any("error", err))
		return
	}
	live := []string{q.proc.ID}
	for _, p := range procs {
		if p.ID != q.proc.ID && (p.Host != q.proc.Host || alive(p.PID)) {
			live = append(live, p.ID)
		}
	}
	n, err := q.store.RescueJobs(ctx, []string{PostArgs{}.Kind(), PurgeArgs{}.Kind()}, live)
	if err != nil {
		q.log.Warn("rescue jobs", slog.Any("error", err))
		return
	}
	if n > 0 {
		q.log.Info("posts left running by a process that is gone are available again", slog.Int64("jobs", n))
	}
}

// alive reports whether a process of this host runs with that pid.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Stop stops working: posts being sent get SoftStopTimeout to finish. The
// heartbeat is removed so other processes know at once.
func (q *Queue) Stop(ctx context.Context) {
	select {
	case <-q.stop:
		return
	default:
	}
	close(q.stop)
	q.wg.Wait()
	if err := q.client.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		q.log.Warn("stop the job queue", slog.Any("error", err))
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := q.store.ForgetProcess(fctx, q.proc.ID); err != nil {
		q.log.Warn("forget this process's heartbeat", slog.Any("error", err))
	}
}

// Pending counts the posts being sent or due within soon.
func (q *Queue) Pending(ctx context.Context, soon time.Duration) (int, error) {
	return q.store.PendingJobs(ctx, soon)
}

// errorHandler counts and logs a post's failed attempt: River calls it for
// every error a post returns (whatever failed: drawing, the database,
// Discord) and every panic, but not for a post cancelled or snoozed.
type errorHandler struct {
	log   *slog.Logger
	stats *Stats
}

func (h *errorHandler) HandleError(_ context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.failed(job)
	if job.Attempt >= job.MaxAttempts {
		h.log.Error("post given up after its last attempt", slog.Int64("job_id", job.ID), slog.Int("attempts", job.Attempt), slog.Any("error", err))
	}
	return nil
}

func (h *errorHandler) HandlePanic(_ context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	h.failed(job)
	h.log.Error("post panicked", slog.Int64("job_id", job.ID), slog.Any("panic", v), slog.String("stack", trace))
	return nil
}

// failed counts an attempt of a post that failed: retried, or given up
// after the last attempt. Purges are not posts.
func (h *errorHandler) failed(job *rivertype.JobRow) {
	if job.Kind != (PostArgs{}).Kind() {
		return
	}
	var a PostArgs
	_ = json.Unmarshal(job.EncodedArgs, &a)
	c := h.stats.Of(a.Report)
	if job.Attempt >= job.MaxAttempts {
		c.Failed.Add(1)
	} else {
		c.Retried.Add(1)
	}
}

// atLeast drops records below a level: River's debug log narrates every
// fetch and would drown rollcall's own at log_level = "debug".
type atLeast struct {
	min slog.Level
	slog.Handler
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{h.min, h.Handler.WithAttrs(as)}
}
func (h atLeast) WithGroup(n string) slog.Handler { return atLeast{h.min, h.Handler.WithGroup(n)} }
