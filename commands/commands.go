// Package commands is rollcall's slash commands: /event, /week, /member and
// /absent. Each file holds one command's definition and handler; this one
// lists them, registers them with Discord and routes interactions to them.
//
// Every invocation is read and checked on the gateway goroutine (options,
// guild, permissions: no I/O), answered at once with an ephemeral message if
// that fails, else deferred at once; the database, the chart and the edit of
// the original response then happen on a goroutine of its own, which
// recovers from panics and always ends in a reply the user can read.
package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"rollcall/attendance"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/bot"
	"rollcall/clock"
	"rollcall/compose"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// Deps are what the commands are built from.
type Deps struct {
	// Settings are the guilds served and their settings.
	Settings *settings.Registry
	// Scope is where commands are registered: "auto", "guild" or "global".
	Scope string
	Store *store.Store
	// Reports builds every answer that shows attendance.
	Reports *compose.Reports
	Clock   clock.Clock
	Logger  *slog.Logger
	// MaxConcurrent bounds the replies being built at once (each may draw a
	// chart in the one browser); default 2. Others wait their turn, told so.
	MaxConcurrent int
	// MemberChanged applies a member's pause, resume or deletion in this
	// process at once (paused nil: deleted); others learn it from the
	// database's notification.
	MemberChanged func(guild, user uint64, paused *bool)
	// PrivacyURL is where the operator publishes the privacy policy; /privacy
	// show links it.
	PrivacyURL string
	// Refresh reloads a guild's stored settings into Settings: a /rollcall
	// that finds the guild not set up looks again before refusing, since
	// another process may have set it up a moment ago.
	Refresh func(ctx context.Context, guild uint64) error
	// Observer, when set, is told of every command this process answered.
	Observer Observer
}

// Observer is told of each slash command answered, for the metrics
// endpoint: how long until Discord had the first answer (the deferral, or
// the whole answer when it was immediate) and until the final one, both in
// real time from when the interaction reached the router. It is called on
// the gateway goroutine or a reply's: quick, and safe for concurrent use.
type Observer interface {
	Command(name string, ack, reply time.Duration)
}

// Timeouts. Discord drops an interaction not acknowledged within 3 s; after
// the deferral its token lives 15 minutes, far more than a reply needs.
const (
	jobTimeout  = 2 * time.Minute
	autoTimeout = 2 * time.Second // autocomplete has no deferral: answer inside Discord's 3 s
	// busyAfter is how long a reply waits for a turn before the user is
	// told that it is queued.
	busyAfter = time.Second
)

// Commands is the slash commands of one rollcall process.
type Commands struct {
	scope   string // "guild" or "global"
	reg     *settings.Registry
	store   *store.Store
	reports *compose.Reports
	clock   clock.Clock
	member  func(guild, user uint64, paused *bool)
	privacy string     // the privacy policy's URL
	poster  bot.Poster // queues announcements of corrections; SetPoster
	observe Observer   // may be nil
	refresh func(ctx context.Context, guild uint64) error
	slots   chan struct{} // replies being built; a semaphore
	waiting atomic.Int64  // replies waiting for a slot

	regMu      sync.Mutex
	registered string // the scope commands are registered in now
	log        *slog.Logger
	mux        *handler.Mux
	jobs       atomic.Int64 // replies being prepared, for Drain
}

// New builds the commands and their router.
func New(d Deps) *Commands {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.MaxConcurrent <= 0 {
		d.MaxConcurrent = 2
	}
	if d.MemberChanged == nil {
		d.MemberChanged = func(uint64, uint64, *bool) {}
	}
	c := &Commands{scope: d.Scope, reg: d.Settings, store: d.Store, reports: d.Reports, member: d.MemberChanged, privacy: d.PrivacyURL, refresh: d.Refresh, observe: d.Observer,
		clock: d.Clock, log: d.Logger.With(slog.String("component", "commands")), slots: make(chan struct{}, d.MaxConcurrent)}
	c.mux = handler.New()
	c.mux.Use(c.recoverRouting)
	c.mux.SlashCommand("/event", c.handle("event", c.prepareEvent))
	c.mux.Autocomplete("/event", c.autocomplete(c.eventChoices))
	c.mux.SlashCommand("/week", c.handle("week", c.prepareWeek))
	c.mux.SlashCommand("/member", c.handle("member", c.prepareMember))
	c.mux.Autocomplete("/member", c.autocomplete(c.eventChoices))
	c.mux.SlashCommand("/absent", c.handle("absent", c.prepareAbsent))
	c.routeRollcall()
	c.routePrivacy()
	c.mux.NotFound(c.notFound)
	c.mux.Error(func(e *handler.InteractionEvent, err error) {
		c.log.Error("interaction handler failed", slog.Uint64("interaction_id", uint64(e.ID())), slog.Any("error", err))
	})
	return c
}

// SetPoster gives the commands the job queue that posts announcements (it
// is made after the commands, with the bot).
func (c *Commands) SetPoster(p bot.Poster) { c.poster = p }

// Definitions are the commands as registered with Discord.
func Definitions() []discord.ApplicationCommandCreate {
	return []discord.ApplicationCommandCreate{eventCommand(), weekCommand(), memberCommand(), absentCommand(), rollcallCommand(), privacyCommand()}
}

// Listener routes INTERACTION_CREATE events to the commands; pass it to
// bot.Options.Listeners.
func (c *Commands) Listener() disgobot.EventListener { return c.mux }

// Drain waits up to timeout for the replies still being prepared, so that
// they reach Discord before shutdown closes the client. (A disgo REST call
// made after the client closed blocks forever: its rate limiter keeps its
// lock.) It reports whether every reply was sent.
func (c *Commands) Drain(timeout time.Duration) bool {
	// Network time, not domain time: the real clock even under a fake one.
	deadline := time.Now().Add(timeout)
	for c.jobs.Load() > 0 {
		if time.Now().After(deadline) {
			c.log.Warn("shutting down with replies still being prepared", slog.Int64("replies", c.jobs.Load()))
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Register overwrites the application's commands in bulk: globally, or in
// each guild of the file (shown at once) when scope is "guild". The default
// scope "auto" is global as soon as any guild may be managed from Discord:
// stored settings exist, or the file lists none; until then per guild, and
// the first guild that joins without settings turns it global (GuildJoined).
// The other scope is cleared, so switching never shows a command twice.
func (c *Commands) Register(ctx context.Context, client *disgobot.Client) error {
	scope := c.scope
	if scope == "auto" || scope == "" {
		scope = "guild"
		fileGuilds := 0
		for _, g := range c.reg.All() {
			if g.Source == settings.FromDiscord {
				scope = "global"
			} else {
				fileGuilds++
			}
		}
		if fileGuilds == 0 {
			scope = "global"
		}
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	return c.register(ctx, client, scope)
}

func (c *Commands) register(ctx context.Context, client *disgobot.Client, scope string) error {
	defs := Definitions()
	none := []discord.ApplicationCommandCreate{}
	hint := "check that the bot was invited with the applications.commands scope (OAuth2 URL Generator: bot + applications.commands)"
	if scope == "global" {
		if _, err := client.Rest.SetGlobalCommands(client.ApplicationID, defs, rest.WithCtx(ctx)); err != nil {
			return fmt.Errorf("register slash commands globally: %w; %s", err, hint)
		}
	}
	var file []*settings.Guild
	for _, g := range c.reg.All() {
		if g.Source == settings.FromFile {
			file = append(file, g)
		}
	}
	for _, g := range file {
		id := snowflake.ID(g.ID)
		set := defs
		if scope == "global" {
			set = none
		}
		if _, err := client.Rest.SetGuildCommands(client.ApplicationID, id, set, rest.WithCtx(ctx)); err != nil {
			if scope == "global" {
				c.log.Warn("could not clear the guild's own commands", slog.Uint64("guild_id", uint64(id)), slog.Any("error", err))
				continue
			}
			var rerr *rest.Error
			if errors.As(err, &rerr) && rerr.Code == rest.JSONErrorCodeUnknownGuild {
				return fmt.Errorf("config: %s.id: register slash commands: the bot is not in guild %d: invite the bot to that server first (with the bot and applications.commands scopes)", g.Key, id)
			}
			return fmt.Errorf("register slash commands in guild %d (%s): %w; %s", id, g.Key, err, hint)
		}
	}
	if scope != "global" {
		if _, err := client.Rest.SetGlobalCommands(client.ApplicationID, none, rest.WithCtx(ctx)); err != nil {
			c.log.Warn("could not clear global commands", slog.Any("error", err))
		}
	}
	c.registered = scope
	c.log.Info("slash commands registered", slog.String("scope", scope), slog.Int("commands", len(defs)), slog.Int("file_guilds", len(file)))
	return nil
}

// GuildJoined is told of a guild the bot is in that has no settings: with
// commands registered per guild of the file it could not even run
// /rollcall setup, so registration turns global (unless the operator chose
// "guild" explicitly).
func (c *Commands) GuildJoined(ctx context.Context, client *disgobot.Client, guild uint64) {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	if c.registered != "guild" || c.scope == "guild" {
		return
	}
	if err := c.register(ctx, client, "global"); err != nil {
		c.log.Error("register the commands globally for a guild set up from Discord", slog.Uint64("guild_id", guild), slog.Any("error", err))
	}
}

// recoverRouting keeps a panic while routing (before a command's own
// recovery takes over) from reaching disgo's gateway goroutine.
func (c *Commands) recoverRouting(next handler.Handler) handler.Handler {
	return func(e *handler.InteractionEvent) (err error) {
		defer func() {
			if v := recover(); v != nil {
				c.log.Error("interaction routing panicked", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				err = fmt.Errorf("panic: %v", v)
			}
		}()
		return next(e)
	}
}

// request is one invocation, read on the gateway goroutine.
type request struct {
	e    *handler.CommandEvent
	data discord.SlashCommandInteractionData
	// guild is the guild's settings; nil only for /rollcall in a guild
	// that is not set up yet.
	guild  *settings.Guild
	gid    uint64
	author discord.User
	lang   view.Lang
	user   snowflake.ID
	mod    bool // may see others' data
	now    time.Time
	// name, start and ack are for the Observer: the command, when it
	// reached the router (real time), how long the deferral took.
	name  string
	start time.Time
	ack   time.Duration
}

// loc is the guild's zone.
func (r *request) loc() *time.Location { return r.guild.Location }

// prepared is a checked invocation: whether everyone may see the answer and
// the work that builds it.
type prepared struct {
	public bool
	run    func(ctx context.Context) (compose.Message, error)
}

// langOf is the invoker's language, else the guild's.
func langOf(i discord.Interaction) view.Lang {
	if l := i.Locale(); l != "" {
		return view.LangOf(string(l))
	}
	if gl := i.GuildLocale(); gl != nil {
		return view.LangOf(string(*gl))
	}
	return view.EN
}

// handle wraps a command's prepare step with everything every command does;
// the guild must be set up.
func (c *Commands) handle(name string, prepare func(*request) (prepared, error)) handler.SlashCommandHandler {
	return c.command(name, true, prepare)
}

// handleAdmin is handle for /rollcall: moderators only, and the guild may
// not be set up yet (setup is how it gets set up).
func (c *Commands) handleAdmin(name string, prepare func(*request) (prepared, error)) handler.SlashCommandHandler {
	return c.command(name, false, func(r *request) (prepared, error) {
		if !r.mod {
			return prepared{}, inputErr("rc_not_moderator")
		}
		return prepare(r)
	})
}

func (c *Commands) command(name string, needGuild bool, prepare func(*request) (prepared, error)) handler.SlashCommandHandler {
	return func(data discord.SlashCommandInteractionData, e *handler.CommandEvent) error {
		// Counted from the start: even an immediate answer makes REST calls
		// that must finish before the client closes.
		c.jobs.Add(1)
		defer c.jobs.Add(-1)
		start := time.Now() // latency seen by the user: real time
		l := langOf(e)
		acked := false
		log := c.log.With(slog.String("command", name), slog.Uint64("interaction_id", uint64(e.ID())))
		defer func() {
			// Never let a panic reach disgo's gateway goroutine; the user
			// still gets an answer.
			if v := recover(); v != nil {
				log.Error("command panicked", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				c.sendError(e, l, acked, false, errors.New("panic"), log)
				if !acked {
					c.observed(name, start, time.Since(start))
				}
			}
		}()
		r, err := c.request(e, data, l, needGuild)
		if err == nil {
			var p prepared
			p, err = prepare(r)
			if notSetUp(err) && c.refresh != nil {
				// Set up a moment ago through another process, whose
				// notification has not arrived yet? Look in the database
				// (off this goroutine) before refusing.
				if err := e.DeferCreateMessage(true); err != nil {
					if !answeredElsewhere(err) {
						log.Error("defer the reply", slog.Any("error", err))
					}
					return nil
				}
				acked = true
				r.name, r.start, r.ack = name, start, time.Since(start)
				c.jobs.Add(1)
				go c.retryPrepare(r, data, needGuild, prepare, log)
				return nil
			}
			if err == nil {
				if err := e.DeferCreateMessage(!p.public); err != nil {
					if answeredElsewhere(err) {
						log.Debug("another rollcall process answered this interaction")
						return nil
					}
					log.Error("defer the reply", slog.Any("error", err))
					return nil
				}
				acked = true
				r.name, r.start, r.ack = name, start, time.Since(start)
				c.jobs.Add(1)
				go c.finish(r, p, log)
				return nil
			}
		}
		c.sendError(e, l, false, false, err, log)
		c.observed(name, start, time.Since(start))
		return nil
	}
}

// notSetUp reports whether a command was refused because the guild has no
// settings.
func notSetUp(err error) bool {
	var ie *attendance.InputError
	return errors.As(err, &ie) && ie.Key == "rc_not_set_up"
}

// retryPrepare reloads the guild's stored settings and prepares the
// command again; the reply was deferred already.
func (c *Commands) retryPrepare(r *request, data discord.SlashCommandInteractionData, needGuild bool, prepare func(*request) (prepared, error), log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), autoTimeout)
	if err := c.refresh(ctx, r.gid); err != nil {
		log.Warn("reload the guild's settings", slog.Any("error", err))
	}
	cancel()
	r2, err := c.request(r.e, data, r.lang, needGuild)
	var p prepared
	if err == nil {
		p, err = prepare(r2)
	}
	if err != nil {
		defer c.jobs.Add(-1)
		c.sendError(r.e, r.lang, true, false, err, log)
		c.observed(r.name, r.start, r.ack)
		return
	}
	p.public = false // the deferral was private
	r2.name, r2.start, r2.ack = r.name, r.start, r.ack
	c.finish(r2, p, log)
}

// observed tells the Observer of a command answered: its first answer
// took ack, the final one is sent now.
func (c *Commands) observed(name string, start time.Time, ack time.Duration) {
	if c.observe != nil {
		c.observe.Command(name, ack, time.Since(start))
	}
}

// request reads who asks, where, and in which language.
func (c *Commands) request(e *handler.CommandEvent, data discord.SlashCommandInteractionData, l view.Lang, needGuild bool) (*request, error) {
	gid := e.GuildID()
	m := e.Member()
	if gid == nil || m == nil {
		return nil, inputErr("err_dm")
	}
	g, ok := c.reg.Get(uint64(*gid))
	if !ok && needGuild {
		return nil, inputErr("err_guild")
	}
	if !ok {
		g = nil
	}
	return &request{e: e, data: data, guild: g, gid: uint64(*gid), author: e.User(), lang: l, user: e.User().ID,
		mod: isModerator(g, m), now: c.clock.Now()}, nil
}

// isModerator: Manage Server or Administrator in the interaction's member
// permissions (Discord computes them, owner included), or a configured
// moderator role. Checked at run time because a server can change who may
// use a command whatever default_member_permissions says.
func isModerator(g *settings.Guild, m *discord.ResolvedMember) bool {
	if m.Permissions.Has(discord.PermissionManageGuild) || m.Permissions.Has(discord.PermissionAdministrator) {
		return true
	}
	if g == nil {
		return false
	}
	for _, r := range m.RoleIDs {
		if g.IsModeratorRole(uint64(r)) {
			return true
		}
	}
	return false
}

// finish builds the reply off the gateway goroutine and edits the deferred
// response with it.
func (c *Commands) finish(r *request, p prepared, log *slog.Logger) {
	defer c.jobs.Add(-1)
	defer c.observed(r.name, r.start, r.ack)
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	start := time.Now()
	if !c.acquire(ctx, r, log) {
		c.sendError(r.e, r.lang, true, p.public, ctx.Err(), log)
		return
	}
	defer func() { <-c.slots }()
	msg, err := func() (msg compose.Message, err error) {
		defer func() {
			if v := recover(); v != nil {
				log.Error("command panicked", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				msg, err = compose.Message{}, fmt.Errorf("panic: %v", v)
			}
		}()
		return p.run(ctx)
	}()
	if err != nil {
		c.sendError(r.e, r.lang, true, p.public, err, log)
		return
	}
	_, err = r.e.UpdateInteractionResponse(msg.Update(), rest.WithCtx(ctx))
	if err != nil {
		log.Error("send the reply", slog.Any("error", err))
		c.sendError(r.e, r.lang, true, p.public, err, log)
		return
	}
	log.Debug("command answered", slog.Duration("took", time.Since(start)))
}

// acquire waits for a free slot to build a reply. A reply that has to wait
// longer than busyAfter tells the user it is queued (the deferred "thinking"
// placeholder says nothing about why it takes long). False when ctx ended.
func (c *Commands) acquire(ctx context.Context, r *request, log *slog.Logger) bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	ahead := c.waiting.Add(1)
	defer c.waiting.Add(-1)
	timer := time.NewTimer(busyAfter)
	defer timer.Stop()
	for {
		select {
		case c.slots <- struct{}{}:
			return true
		case <-timer.C:
			note := r.lang.T("busy", ahead)
			if _, err := r.e.UpdateInteractionResponse(discord.MessageUpdate{Content: &note, AllowedMentions: &discord.AllowedMentions{Parse: []discord.AllowedMentionType{}}}, rest.WithCtx(ctx)); err != nil {
				log.Warn("tell the user the reply is queued", slog.Any("error", err))
			}
		case <-ctx.Done():
			return false
		}
	}
}

// sendError tells the user what went wrong, ephemerally: at once when
// nothing was sent yet, by editing an ephemeral deferral, or, after a public
// deferral, by deleting it and following up privately (a message cannot turn
// ephemeral once sent).
func (c *Commands) sendError(e *handler.CommandEvent, l view.Lang, deferred, public bool, err error, log *slog.Logger) {
	msg := c.errorText(l, err, log, e.ID())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	none := &discord.AllowedMentions{Parse: []discord.AllowedMentionType{}}
	var sendErr error
	switch {
	case !deferred:
		sendErr = e.CreateMessage(discord.MessageCreate{Content: msg, Flags: discord.MessageFlagEphemeral, AllowedMentions: none}, rest.WithCtx(ctx))
	case !public:
		_, sendErr = e.UpdateInteractionResponse(discord.MessageUpdate{Content: &msg, Embeds: &[]discord.Embed{}, Attachments: &[]discord.AttachmentUpdate{}, AllowedMentions: none}, rest.WithCtx(ctx))
	default:
		if derr := e.DeleteInteractionResponse(rest.WithCtx(ctx)); derr != nil {
			log.Warn("delete the public placeholder", slog.Any("error", derr))
		}
		_, sendErr = e.CreateFollowupMessage(discord.MessageCreate{Content: msg, Flags: discord.MessageFlagEphemeral, AllowedMentions: none}, rest.WithCtx(ctx))
	}
	switch {
	case answeredElsewhere(sendErr):
		log.Debug("another rollcall process answered this interaction")
	case sendErr != nil:
		log.Error("send the error message", slog.Any("error", sendErr))
	}
}

// errorText is what the user reads about err: their input's problem, an
// outage, or a reference to find the cause in the log.
func (c *Commands) errorText(l view.Lang, err error, log *slog.Logger, ref snowflake.ID) string {
	var ie *attendance.InputError
	var said interface{ In(view.Lang) string }
	switch {
	case errors.Is(err, errNothingChanged):
		return l.T("rc_nothing_changed")
	case errors.As(err, &ie):
		log.Debug("command refused", slog.String("reason", ie.Key))
		return l.Input(ie)
	case errors.As(err, &said):
		msg := said.In(l)
		log.Debug("command refused", slog.String("reason", msg))
		return msg
	case store.IsUnavailable(err):
		log.Warn("command answered while the database is unreachable", slog.Any("error", err))
		return l.T("err_db_down")
	}
	// The interaction id lets the owner find the cause in the log.
	log.Error("command failed", slog.Any("error", err))
	return l.T("err_internal", "ref "+ref.String())
}

// afterClick does a button's work off the gateway goroutine once the click
// was deferred, within a job's deadline (Close waits for it), then puts the
// text work returns, or its error's, in place of the message, buttons
// removed. what names the answer in the log if Discord refuses it.
func (c *Commands) afterClick(e *handler.ComponentEvent, l view.Lang, what string, work func(ctx context.Context) (string, error)) {
	c.jobs.Add(1)
	go func() {
		defer c.jobs.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
		defer cancel()
		text, err := work(ctx)
		if err != nil {
			text = c.errorText(l, err, c.log, e.ID())
		}
		if _, err := e.UpdateInteractionResponse(discord.MessageUpdate{Content: &text, Components: &[]discord.LayoutComponent{},
			AllowedMentions: &discord.AllowedMentions{Parse: []discord.AllowedMentionType{}}}); err != nil {
			c.log.Error(what, "error", err)
		}
	}()
}

// clickRequest is the request of a moderator's click on one of rollcall's
// buttons in guild g (checked a moderator by the button's handler).
func (c *Commands) clickRequest(g *settings.Guild, e *handler.ComponentEvent, l view.Lang) *request {
	return &request{guild: g, gid: g.ID, author: e.User(), lang: l, user: e.User().ID, mod: true, now: c.clock.Now()}
}

// notFound answers interactions of commands this version does not have
// (registered by an older one and still cached by the user's client).
func (c *Commands) notFound(e *handler.InteractionEvent) error {
	c.jobs.Add(1)
	defer c.jobs.Add(-1)
	l := langOf(e)
	switch e.Type() {
	case discord.InteractionTypeApplicationCommand:
		return e.Respond(discord.InteractionResponseTypeCreateMessage, discord.MessageCreate{
			Content: l.T("err_unknown_command"), Flags: discord.MessageFlagEphemeral})
	case discord.InteractionTypeAutocomplete:
		return e.Respond(discord.InteractionResponseTypeAutocompleteResult, discord.AutocompleteResult{Choices: []discord.AutocompleteChoice{}})
	}
	return nil
}

// autocomplete answers an autocomplete interaction from a goroutine, with an
// empty list when anything fails: there is no error message in a pick list.
func (c *Commands) autocomplete(choices func(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error)) handler.AutocompleteHandler {
	return c.autocompleteIn(true, choices)
}

// autocompleteIn is autocomplete; with needGuild false it also answers in
// a guild that is not set up (choices then gets a nil guild).
func (c *Commands) autocompleteIn(needGuild bool, choices func(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error)) handler.AutocompleteHandler {
	return func(e *handler.AutocompleteEvent) error {
		c.jobs.Add(1)
		go func() {
			defer c.jobs.Add(-1)
			log := c.log.With(slog.Uint64("interaction_id", uint64(e.ID())))
			var out []discord.AutocompleteChoice
			func() {
				defer func() {
					if v := recover(); v != nil {
						log.Error("autocomplete panicked", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
					}
				}()
				gid := e.GuildID()
				if gid == nil {
					return
				}
				g, ok := c.reg.Get(uint64(*gid))
				if !ok && needGuild {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), autoTimeout)
				defer cancel()
				var err error
				if out, err = choices(ctx, e, g, langOf(e)); err != nil {
					log.Error("autocomplete", slog.Any("error", err))
				}
			}()
			if out == nil {
				out = []discord.AutocompleteChoice{}
			}
			if err := e.AutocompleteResult(out); err != nil {
				log.Error("answer autocomplete", slog.Any("error", err))
			}
		}()
		return nil
	}
}

// ru is a key's Russian text as a Discord localization map.
func ru(key string) map[discord.Locale]string {
	return map[discord.Locale]string{discord.LocaleRussian: view.RU.T(key)}
}

// slashCommand is a guild-only command named and described in English and
// Russian from the keys "cmd_<name>" and "cmd_<name>_desc".
func slashCommand(name string, opts ...discord.ApplicationCommandOption) discord.SlashCommandCreate {
	return discord.SlashCommandCreate{
		Name: view.EN.T("cmd_" + name), NameLocalizations: ru("cmd_" + name),
		Description: view.EN.T("cmd_" + name + "_desc"), DescriptionLocalizations: ru("cmd_" + name + "_desc"),
		Options:  opts,
		Contexts: []discord.InteractionContextType{discord.InteractionContextTypeGuild},
	}
}

// Option definitions shared by several commands, from the keys "opt_<name>"
// and "opt_<name>_desc".
func stringOption(name string, autocomplete bool, choices ...string) discord.ApplicationCommandOptionString {
	o := discord.ApplicationCommandOptionString{
		Name: view.EN.T("opt_" + name), NameLocalizations: ru("opt_" + name),
		Description: view.EN.T("opt_" + name + "_desc"), DescriptionLocalizations: ru("opt_" + name + "_desc"),
		Autocomplete: autocomplete,
	}
	for _, v := range choices {
		o.Choices = append(o.Choices, discord.ApplicationCommandOptionChoiceString{
			Name: view.EN.T("choice_" + v), NameLocalizations: ru("choice_" + v), Value: v})
	}
	return o
}

func publicOption() discord.ApplicationCommandOptionBool {
	return discord.ApplicationCommandOptionBool{
		Name: view.EN.T("opt_public"), NameLocalizations: ru("opt_public"),
		Description: view.EN.T("opt_public_desc"), DescriptionLocalizations: ru("opt_public_desc"),
	}
}

func periodOption() discord.ApplicationCommandOptionString {
	return stringOption("period", false, "7d", "30d", "90d", "all")
}

// mention is how an answer names a member it could not find.
func mention(id snowflake.ID) string { return "<@" + id.String() + ">" }

func trimmed(s string) string { return strings.TrimSpace(s) }

// InputError is a problem with what a user typed (see attendance.InputError).
type InputError = attendance.InputError

func inputErr(key string, args ...any) error { return &attendance.InputError{Key: key, Args: args} }

// routeRollcall routes /rollcall's subcommands, autocompletes and buttons.
func (c *Commands) routeRollcall() {
	c.mux.SlashCommand("/rollcall/setup", c.handleAdmin("rollcall setup", c.prepareSetup))
	c.mux.Autocomplete("/rollcall/setup", c.autocompleteIn(false, c.zoneChoices))
	c.mux.SlashCommand("/rollcall/settings", c.handleAdmin("rollcall settings", c.prepareSettings))
	c.mux.SlashCommand("/rollcall/log", c.handleAdmin("rollcall log", c.prepareLog))
	c.mux.SlashCommand("/rollcall/export", c.handleAdmin("rollcall export", c.prepareExport))
	c.mux.SlashCommand("/rollcall/schedule/add", c.handleAdmin("rollcall schedule add", c.prepareScheduleAdd))
	c.mux.SlashCommand("/rollcall/schedule/edit", c.handleAdmin("rollcall schedule edit", c.prepareScheduleEdit))
	c.mux.SlashCommand("/rollcall/schedule/remove", c.handleAdmin("rollcall schedule remove", c.prepareScheduleRemove))
	c.mux.SlashCommand("/rollcall/schedule/list", c.handleAdmin("rollcall schedule list", c.prepareScheduleList))
	c.mux.SlashCommand("/rollcall/schedule/show", c.handleAdmin("rollcall schedule show", c.prepareScheduleShow))
	for _, path := range []string{"/rollcall/schedule/edit", "/rollcall/schedule/remove", "/rollcall/schedule/show"} {
		c.mux.Autocomplete(path, c.autocomplete(c.scheduleChoices))
	}
	for _, key := range []string{"timezone", "language", "report-channels", "empty-report", "moderator-roles", "roster-roles", "weekly", "native-events", "privacy"} {
		c.mux.SlashCommand("/rollcall/set/"+key, c.handleAdmin("rollcall set "+key, c.prepareSet(key)))
	}
	c.mux.Autocomplete("/rollcall/set/timezone", c.autocomplete(c.zoneChoices))
	c.mux.ButtonComponent("/rc/delete-schedule/{name}", c.confirmDeleteSchedule)
	c.mux.ButtonComponent("/rc/cancel", c.cancelButton)
	c.routeCorrect()
	c.routeRoles()
}

// answeredElsewhere: Discord sends an interaction to every session of the
// bot, so with two processes running (a rolling deploy) both try to answer
// and the second is told it was acknowledged already. That is not an error.
func answeredElsewhere(err error) bool {
	var rerr *rest.Error
	return errors.As(err, &rerr) && rerr.Code == rest.JSONErrorCodeInteractionAlreadyAcknowledged
}
