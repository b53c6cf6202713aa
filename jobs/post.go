// Package jobs is rollcall's durable work: each automatic post (an event's
// report, a weekly report) is a River job in PostgreSQL, one per report and
// channel, inserted when the report falls due and worked by any rollcall
// process, retried with backoff when Discord or the database fail for a
// while, given up at once (with one clear log line) when the channel cannot
// take it.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/riverqueue/river"

	"rollcall/bot"
	"rollcall/clock"
	"rollcall/compose"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// PostArgs is one automatic post: a report in one channel. Unique by the
// report and the channel, so a post that fell due twice (a restart, a
// second process, the catch-up) is one job.
type PostArgs struct {
	Report     string    `json:"report" river:"unique"` // bot.KindEvent, bot.KindWeekly or bot.KindCorrection
	GuildID    uint64    `json:"guild_id,string" river:"unique"`
	Occurrence int64     `json:"occurrence,omitempty" river:"unique"`
	Correction int64     `json:"correction,omitempty" river:"unique"`
	From       time.Time `json:"from,omitzero" river:"unique"`
	To         time.Time `json:"to,omitzero"`
	ChannelID  uint64    `json:"channel_id,string" river:"unique"`
	Due        time.Time `json:"due"`
}

// Kind is River's name for the job type.
func (PostArgs) Kind() string { return "rollcall_post" }

// InsertOpts make posts unique and give them their own queue.
func (PostArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queuePosts, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (a PostArgs) post() store.Post {
	ref := strconv.FormatInt(a.Occurrence, 10)
	switch a.Report {
	case bot.KindWeekly:
		ref = fmt.Sprintf("%d:%s", a.GuildID, a.From.Format("2006-01-02T15:04"))
	case bot.KindCorrection:
		ref = strconv.FormatInt(a.Correction, 10)
	}
	return store.Post{Kind: a.Report, Ref: ref, ChannelID: a.ChannelID, GuildID: a.GuildID}
}

// marker is the post's line in its footer, by which it is found again.
func (a PostArgs) marker() string {
	switch a.Report {
	case bot.KindWeekly:
		return compose.Marker(a.Report, a.From.Format("20060102"))
	case bot.KindCorrection:
		return compose.Marker(a.Report, strconv.FormatInt(a.Correction, 10))
	}
	return compose.Marker(a.Report, strconv.FormatInt(a.Occurrence, 10))
}

// nonce is the post's idempotency key for Discord: with enforce_nonce, a
// retry within Discord's short nonce window returns the message already
// made instead of posting twice. Past the window the ledger and the marker
// take over.
func (a PostArgs) nonce() string {
	p := a.post()
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", p.Kind, p.Ref, p.ChannelID)
	return fmt.Sprintf("rc%x", h.Sum64())
}

// Discord is what a post needs of the bot: its REST client once connected,
// whether the gateway is ready (the language of "auto" guilds comes from
// it), and a guild's language.
type Discord interface {
	Client() RESTClient
	Ready() bool
	Lang(g *settings.Guild) view.Lang
	BotID() snowflake.ID
}

// RESTClient is the part of disgo's REST client posts use.
type RESTClient interface {
	CreateMessage(channelID snowflake.ID, messageCreate discord.MessageCreate, opts ...rest.RequestOpt) (*discord.Message, error)
	GetMessages(channelID snowflake.ID, around snowflake.ID, before snowflake.ID, after snowflake.ID, limit int, opts ...rest.RequestOpt) ([]discord.Message, error)
}

// Counts are what the post workers did with one kind of report: posted,
// skipped (empty_report = skip), found in the channel after an attempt
// whose answer was lost, attempts that failed and will be retried, and
// posts given up.
type Counts struct {
	Posted, Skipped, Found, Retried, Failed atomic.Int64
}

// Stats count what the post workers did, by kind of report, for the
// metrics endpoint.
type Stats struct {
	Event, Weekly, Correction Counts
	other                     Counts // a kind this version does not know (a newer process's job)
}

// Of is the counts of a kind of report (bot.KindEvent, KindWeekly, KindCorrection).
func (s *Stats) Of(kind string) *Counts {
	switch kind {
	case bot.KindEvent:
		return &s.Event
	case bot.KindWeekly:
		return &s.Weekly
	case bot.KindCorrection:
		return &s.Correction
	}
	return &s.other
}

// PostWorker sends posts.
type PostWorker struct {
	river.WorkerDefaults[PostArgs]
	Store    *store.Store
	Reports  *compose.Reports
	Settings *settings.Registry
	Discord  Discord
	Clock    clock.Clock
	Log      *slog.Logger
	Stats    *Stats
	// Backoff is the first retry's delay, doubling up to MaxBackoff.
	Backoff, MaxBackoff time.Duration

	// built keeps, per job, the message an attempt built when Discord then
	// failed to take it, for the retries of the next minute (see build).
	built sync.Map // job id -> builtMessage
}

// builtMessage is a post built by an earlier attempt of its job.
type builtMessage struct {
	msg compose.Message
	at  time.Time // the clock's time it was built at
}

// reuseBuilt is how long a built post may be sent again instead of built
// anew: retries soon after a failed send reuse it; a later one rebuilds it,
// so that what it says (how late it is) stays true.
const reuseBuilt = time.Minute

// Timeout bounds one attempt: drawing, and every call to Discord and the
// database inside it (each with its own deadline too).
func (w *PostWorker) Timeout(*river.Job[PostArgs]) time.Duration { return postTimeout }

// NextRetry backs off exponentially with a cap: one failing channel retries
// on its own schedule while others post.
func (w *PostWorker) NextRetry(job *river.Job[PostArgs]) time.Time {
	return time.Now().Add(backoff(w.Backoff, w.MaxBackoff, job.Attempt))
}

func backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base << min(max(attempt-1, 0), 20)
	if d <= 0 || d > limit {
		d = limit
	}
	return d
}

// Work sends one post exactly once: the ledger says whether it went out;
// after an attempt whose outcome is unknown (a lost answer, a timeout, a
// process killed between Discord making the message and the ledger marking
// it), the channel's messages are searched for the post's marker before
// sending again.
func (w *PostWorker) Work(ctx context.Context, job *river.Job[PostArgs]) error {
	a := job.Args
	log := w.Log.With(slog.String("report", a.Report), slog.Uint64("guild_id", a.GuildID), slog.Uint64("channel_id", a.ChannelID),
		slog.Int64("job_id", job.ID), slog.Int("attempt", job.Attempt))
	stats := w.Stats.Of(a.Report)
	g, ok := w.Settings.Get(a.GuildID)
	if !ok {
		log.Warn("post given up: rollcall no longer serves this server")
		stats.Failed.Add(1)
		return river.JobCancel(errors.New("guild no longer served"))
	}
	if !w.waitReady(ctx) {
		return river.JobSnooze(5 * time.Second) // not an attempt: the bot is still connecting
	}
	post := a.post()
	state, err := w.Store.PostState(ctx, post)
	if err != nil {
		return err
	}
	if state.Posted {
		w.built.Delete(job.ID)
		return nil
	}
	now := w.Clock.Now()
	if !state.AttemptedAt.IsZero() {
		found, err := w.find(ctx, a, state.AttemptedAt)
		switch {
		case err == nil && found != 0:
			log.Info("post found in the channel after an attempt whose answer was lost: not sending it again", slog.Uint64("message_id", uint64(found)))
			stats.Found.Add(1)
			w.built.Delete(job.ID)
			return w.Store.MarkPosted(ctx, post, uint64(found), now)
		case err != nil && permanent(err) == "":
			return fmt.Errorf("look for the post in the channel: %w", err)
		case err != nil:
			// Without Read Message History there is no way to look; the
			// nonce still guards a retry within Discord's window.
			log.Warn("cannot look for an earlier attempt's message in the channel; sending again", slog.Any("error", err))
		}
	}
	msg, err := w.buildOnce(ctx, g, job, now)
	if err != nil {
		return err
	}
	if msg.Skip {
		stats.Skipped.Add(1)
		log.Info("post skipped: nobody attended (empty_report = skip)")
		return w.Store.MarkPosted(ctx, post, 0, now)
	}
	if err := w.Store.MarkAttempted(ctx, post, now); err != nil {
		return err
	}
	mc := msg.Create()
	mc.Nonce, mc.EnforceNonce = a.nonce(), true
	sctx, cancel := context.WithTimeout(ctx, discordTimeout)
	m, err := w.Discord.Client().CreateMessage(snowflake.ID(a.ChannelID), mc, rest.WithCtx(sctx))
	cancel()
	if err != nil && mc.MessageReference != nil && replyRefused(err) {
		// The message replied to is gone (deleted): post on its own.
		log.Info("the report replied to is gone; posting the follow-up on its own", slog.Any("error", err))
		mc = msg.Create()
		mc.MessageReference = nil
		mc.Nonce, mc.EnforceNonce = a.nonce(), true
		sctx, cancel := context.WithTimeout(ctx, discordTimeout)
		m, err = w.Discord.Client().CreateMessage(snowflake.ID(a.ChannelID), mc, rest.WithCtx(sctx))
		cancel()
	}
	if err != nil {
		if why := permanent(err); why != "" {
			w.built.Delete(job.ID)
			stats.Failed.Add(1)
			log.Error("post given up: the channel cannot take it; fix the channel or the bot's permissions, later reports will be tried again",
				slog.String("reason", why), slog.Any("error", err))
			return river.JobCancel(err)
		}
		return fmt.Errorf("send to channel %d: %w", a.ChannelID, err)
	}
	w.built.Delete(job.ID)
	stats.Posted.Add(1)
	log.Info("report posted", slog.Uint64("message_id", uint64(m.ID)), slog.Duration("late", now.Sub(a.Due)))
	// If this write fails the job is retried; it finds the message by its
	// marker and marks it then.
	return w.Store.MarkPosted(ctx, post, uint64(m.ID), now)
}

// readyWait bounds how long an attempt waits for the gateway before the job
// is put back (a snooze, not counted as an attempt).
const readyWait = 30 * time.Second

// waitReady waits until the bot is connected and its guilds have arrived.
// A post pending at start (rescued from a dead process, or caught up) is
// picked up before the gateway is ready; waiting here sends it as soon as
// the bot can, where a snooze would leave it up to 5 s (plus River's fetch
// interval) behind, more than one poll interval.
func (w *PostWorker) waitReady(ctx context.Context) bool {
	if w.Discord.Ready() {
		return true
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	limit := time.NewTimer(readyWait)
	defer limit.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-limit.C:
			return false
		case <-tick.C:
			if w.Discord.Ready() {
				return true
			}
		}
	}
}

// buildOnce builds the post, or reuses what an attempt of the same job
// built within reuseBuilt: a send that failed for Discord's reasons (5xx,
// timeouts) is retried without loading and drawing the report again, which
// on a small machine would take CPU from the ticks' writes on every retry
// (bench figure 7: a tick's p99 2.4 times slower while 20 posts failed and
// redrew at each attempt).
func (w *PostWorker) buildOnce(ctx context.Context, g *settings.Guild, job *river.Job[PostArgs], now time.Time) (compose.Message, error) {
	fresh := func(bm builtMessage) bool { return now.Sub(bm.at) < reuseBuilt && !now.Before(bm.at) }
	if b, ok := w.built.Load(job.ID); ok && fresh(b.(builtMessage)) {
		return b.(builtMessage).msg, nil
	}
	// Forget what is too old to send, this job's and any job's that ended
	// in a way that did not clear it (its last attempt failed).
	w.built.Range(func(k, v any) bool {
		if !fresh(v.(builtMessage)) {
			w.built.Delete(k)
		}
		return true
	})
	msg, err := w.build(ctx, g, job.Args, now)
	if err == nil && !msg.Skip {
		w.built.Store(job.ID, builtMessage{msg: msg, at: now})
	}
	return msg, err
}

func (w *PostWorker) build(ctx context.Context, g *settings.Guild, a PostArgs, now time.Time) (compose.Message, error) {
	l := w.Discord.Lang(g)
	switch a.Report {
	case bot.KindWeekly:
		return w.Reports.Week(ctx, g, l, a.From.In(g.Location), a.To.In(g.Location), compose.WeekOptions{Now: now, Post: true, Marker: a.marker()})
	case bot.KindCorrection:
		return w.Reports.Correction(ctx, g, l, a.Correction, a.ChannelID, a.marker())
	}
	return w.Reports.Event(ctx, g, l, a.Occurrence, compose.EventOptions{Now: now, Post: true, Marker: a.marker()})
}

// findPages bounds how far back a busy channel is searched (100 messages a page).
const findPages = 10

// find looks among the channel's messages since an attempt for the bot's
// own message with the post's marker.
func (w *PostWorker) find(ctx context.Context, a PostArgs, since time.Time) (snowflake.ID, error) {
	marker := a.marker()
	after := snowflake.New(since.Add(-time.Minute))
	for range findPages {
		fctx, cancel := context.WithTimeout(ctx, discordTimeout)
		page, err := w.Discord.Client().GetMessages(snowflake.ID(a.ChannelID), 0, 0, after, 100, rest.WithCtx(fctx))
		cancel()
		if err != nil {
			return 0, err
		}
		for _, m := range page {
			if m.Author.ID == w.Discord.BotID() && compose.HasMarker(m, marker) {
				return m.ID, nil
			}
			after = max(after, m.ID)
		}
		if len(page) < 100 {
			return 0, nil
		}
	}
	return 0, nil
}

// replyRefused reports whether Discord refused a message because the
// message it replies to does not exist (any more).
func replyRefused(err error) bool {
	var rerr *rest.Error
	return errors.As(err, &rerr) && rerr.Code == rest.JSONErrorCodeInvalidFormBody && strings.Contains(string(rerr.Errors), "REPLIES_UNKNOWN_MESSAGE")
}

// permanent says why an error will not get better by retrying ("" when it
// may): the channel is gone, the bot may not see or post there, or Discord
// refused the message itself. Rate limits, server errors, timeouts and
// network errors are worth retrying.
func permanent(err error) string {
	var rerr *rest.Error
	if errors.As(err, &rerr) {
		switch rerr.Code {
		case rest.JSONErrorCodeUnknownChannel:
			return "unknown channel (deleted?)"
		case rest.JSONErrorCodeUnknownGuild:
			return "unknown server (the bot was removed?)"
		case rest.JSONErrorCodeMissingAccess:
			return "missing access: the bot cannot see the channel"
		case rest.JSONErrorCodeLackPermissionsToPerformAction:
			return "missing permissions: the bot needs Send Messages, Embed Links and Attach Files there"
		case rest.JSONErrorCodeInvalidFormBody:
			return "Discord refused the message (invalid form body)"
		}
		if rerr.Response != nil {
			switch s := rerr.Response.StatusCode; {
			case s == http.StatusTooManyRequests || s >= 500:
				return ""
			case s == http.StatusNotFound || s == http.StatusForbidden || s == http.StatusBadRequest:
				return fmt.Sprintf("Discord answered %d", s)
			}
		}
	}
	return ""
}

// Timeouts.
const (
	postTimeout    = 2 * time.Minute
	discordTimeout = 30 * time.Second
	maxAttempts    = 30
	queuePosts     = "posts"
)

// FromBot is the Discord a post needs, from the running bot.
func FromBot(b *bot.Bot) Discord { return botDiscord{b} }

// RolesFromBot is the Discord role rules need, from the running bot.
func RolesFromBot(b *bot.Bot) RoleDiscord { return botDiscord{b} }

type botDiscord struct{ b *bot.Bot }

func (d botDiscord) Client() RESTClient               { return d.b.Client().Rest }
func (d botDiscord) Ready() bool                      { return d.b.Client() != nil && d.b.Ready() }
func (d botDiscord) Lang(g *settings.Guild) view.Lang { return d.b.Lang(g) }
func (d botDiscord) BotID() snowflake.ID              { return d.b.Client().ID() }
func (d botDiscord) Caches() cache.Caches             { return d.b.Client().Caches }
func (d botDiscord) MemberRoles() MemberRoleREST      { return d.b.Client().Rest }
func (d botDiscord) Holds(guild uint64) bool          { return d.b.Holds(guild) }
