package discordsim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:0" (a random free port).
	Addr string
	// Logger receives the simulator's own diagnostics; default discards.
	Logger *slog.Logger
	// Now stamps payloads (joined_at defaults, message timestamps, snowflake
	// timestamps) and ages interaction tokens; default time.Now.
	// The 3 s acknowledgement deadline is measured on the wall clock,
	// because the bot under test runs on real time too.
	Now func() time.Time
	// CheckRequest, if set, is called for every REST request (after the body
	// is read). A non-nil error is recorded (ConformanceErrors) and the request
	// answered 400 without being handled.
	CheckRequest func(r *http.Request, body []byte) error
	// CheckResponse, if set, is called in the background with every answer
	// a REST route gave (not with injected faults, unknown routes or
	// CheckRequest rejections). A non-nil error is recorded
	// (ResponseConformanceErrors); the answer itself is not changed.
	CheckResponse func(r *http.Request, status int, header http.Header, body []byte) error

	// HeartbeatInterval is sent in HELLO; default 41.25 s as Discord does.
	HeartbeatInterval time.Duration
	// Shards is the recommended shard count answered by GET /gateway/bot; default 1.
	Shards int
	// MaxConcurrency is session_start_limit.max_concurrency; default 1 as for
	// most real bots (disgo's shard manager then waits 5 s between IDENTIFYs
	// of shards in one bucket). The gateway enforces it: a second IDENTIFY
	// with the same shard_id % MaxConcurrency within 5 s gets op 9.
	MaxConcurrency int
	// SessionStartLimit is session_start_limit.total, the IDENTIFYs allowed
	// in 24 h (on Options.Now); default 1000 as for most bots. One more and
	// the simulator does what Discord does: it ends every session and
	// resets the token (see Token).
	SessionStartLimit int
	// BotPermissions are the permissions of the bot's managed role in every
	// guild; default DefaultBotPermissions.
	BotPermissions discord.Permissions
	// BotName is the bot user's username; default "rollcall".
	BotName string
}

// DefaultBotPermissions is what the bot's managed role grants unless
// Options.BotPermissions says otherwise: what an attendance bot asks for in
// its invite link.
const DefaultBotPermissions = discord.PermissionViewChannel | discord.PermissionSendMessages |
	discord.PermissionEmbedLinks | discord.PermissionAttachFiles | discord.PermissionReadMessageHistory |
	discord.PermissionConnect | discord.PermissionUseApplicationCommands

// appFlags are the application's flags: GATEWAY_PRESENCE_LIMITED |
// GATEWAY_GUILD_MEMBERS_LIMITED | APPLICATION_COMMAND_BADGE, what a small bot
// with both privileged intents toggled on in the portal has.
const appFlags = 1<<13 | 1<<15 | 1<<23

// defaultEveryonePermissions approximates what Discord gives @everyone in a
// new guild.
const defaultEveryonePermissions = discord.PermissionCreateInstantInvite | discord.PermissionAddReactions |
	discord.PermissionStream | discord.PermissionViewChannel | discord.PermissionSendMessages |
	discord.PermissionEmbedLinks | discord.PermissionAttachFiles | discord.PermissionReadMessageHistory |
	discord.PermissionMentionEveryone | discord.PermissionUseExternalEmojis | discord.PermissionConnect |
	discord.PermissionSpeak | discord.PermissionUseVAD | discord.PermissionChangeNickname |
	discord.PermissionUseApplicationCommands | discord.PermissionRequestToSpeak |
	discord.PermissionCreatePublicThreads | discord.PermissionCreatePrivateThreads |
	discord.PermissionSendMessagesInThreads | discord.PermissionUseExternalStickers |
	discord.PermissionUseEmbeddedActivities | discord.PermissionUseSoundboard |
	discord.PermissionSendVoiceMessages | discord.PermissionSendPolls

// Server is a simulated Discord: a gateway and the REST routes a bot uses,
// with a scriptable world (guilds, channels, roles, members, voice) and a
// transcript of everything the bot did. All methods are safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	ln       net.Listener
	srv      *http.Server
	base     string // http://127.0.0.1:PORT
	appID    snowflake.ID
	botID    snowflake.ID
	token    string
	upgrader websocket.Upgrader
	wg       sync.WaitGroup
	checks   sync.WaitGroup // CheckResponse calls in flight

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change

	idLastMS    int64
	idSeq       int64
	guildLastMS int64

	users      map[snowflake.ID]*user
	guilds     map[snowflake.ID]*guild
	guildOrder []snowflake.ID

	conns      map[*conn]struct{}
	sessions   map[string]*session
	identifies int
	resumes    int

	identifyLog   []IdentifyRecord
	lastIdentify  map[int]time.Time // rate-limit key -> last accepted IDENTIFY (wall clock)
	sessionStarts int               // in the current daily window
	startsSince   time.Time         // Options.Now of the window's first session start

	commands map[snowflake.ID][]*command // 0 = global

	messages     map[snowflake.ID][]*message // by channel, oldest first
	messageIndex map[snowflake.ID]*message   // by id
	interactions map[snowflake.ID]*interaction
	byToken      map[string]*interaction

	requests     []RequestRecord
	frames       []FrameRecord
	unknown      []string
	conformance  []string
	badResponses []string
	failed       []string
	rateLimits   bool
	routeLimits  map[string]routeLimit
	buckets      map[string]*bucket
	failRules    []*failRule
	holds        []*Hold
	routeCache   []*route
	dms          map[snowflake.ID]snowflake.ID // user -> DM channel
	shards       int
	closed       bool
	closedSignal chan struct{}
}

// New starts a Server listening on opts.Addr. Close it when done.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.Shards <= 0 {
		opts.Shards = 1
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = 1
	}
	if opts.SessionStartLimit <= 0 {
		opts.SessionStartLimit = 1000
	}
	if opts.BotPermissions == 0 {
		opts.BotPermissions = DefaultBotPermissions
	}
	if opts.BotName == "" {
		opts.BotName = "rollcall"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	s := &Server{
		opts:         opts,
		log:          opts.Logger,
		ln:           ln,
		base:         "http://" + ln.Addr().String(),
		changed:      make(chan struct{}),
		users:        map[snowflake.ID]*user{},
		guilds:       map[snowflake.ID]*guild{},
		conns:        map[*conn]struct{}{},
		sessions:     map[string]*session{},
		commands:     map[snowflake.ID][]*command{},
		messages:     map[snowflake.ID][]*message{},
		interactions: map[snowflake.ID]*interaction{},
		byToken:      map[string]*interaction{},
		routeLimits:  map[string]routeLimit{},
		buckets:      map[string]*bucket{},
		shards:       opts.Shards,
		closedSignal: make(chan struct{}),
		lastIdentify: map[int]time.Time{},
		upgrader: websocket.Upgrader{
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	s.appID = s.newIDLocked()
	// A bot user shares its id with its application, as for every bot
	// created in the developer portal since 2019.
	s.botID = s.appID
	s.users[s.botID] = &user{id: s.botID, username: opts.BotName, bot: true, locale: "en-US"}
	s.token = base64.RawStdEncoding.EncodeToString([]byte(s.appID.String())) + "." +
		randomToken(4) + "." + randomToken(20)

	mux := http.NewServeMux()
	mux.HandleFunc("/gateway", s.serveGateway)
	mux.HandleFunc("/gateway/resume", s.serveGateway)
	mux.HandleFunc("/", s.serveREST)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("discordsim serve", slog.Any("err", err))
		}
	}()
	return s, nil
}

// Close stops the server and drops every gateway connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closedSignal)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	// After Shutdown no handler runs, so no check can start any more.
	s.checks.Wait()
	if err != nil {
		return fmt.Errorf("shutdown http server: %w", err)
	}
	return nil
}

// APIURL is the REST base, e.g. "http://127.0.0.1:PORT/api/v10" (no trailing slash).
func (s *Server) APIURL() string { return s.base + "/api/v10" }

// GatewayURL is the websocket URL without query, e.g. "ws://127.0.0.1:PORT/gateway".
func (s *Server) GatewayURL() string { return "ws" + s.base[len("http"):] + "/gateway" }

// resumeURL is what READY offers as resume_gateway_url: a different path, so
// a transcript shows whether the client honoured it.
func (s *Server) resumeURL() string { return "ws" + s.base[len("http"):] + "/gateway/resume" }

// Token is a valid bot token; its first segment is base64 of AppID, which
// disgo requires. It changes only when the daily session starts run out
// (see Options.SessionStartLimit), as Discord resets the token then.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// AppID is the application id.
func (s *Server) AppID() snowflake.ID { return s.appID }

// BotUserID is the bot user's id (equal to AppID, as for modern bots).
func (s *Server) BotUserID() snowflake.ID { return s.botID }

// ClientOpts points a disgo client's REST and gateway at the simulator. Add
// intents with bot.WithGatewayConfigOpts(gateway.WithIntents(...)); the
// options compose.
func (s *Server) ClientOpts() []bot.ConfigOpt {
	return []bot.ConfigOpt{
		bot.WithRestClientConfigOpts(rest.WithURL(s.APIURL())),
		bot.WithGatewayConfigOpts(gateway.WithURL(s.GatewayURL())),
	}
}

// SetRecommendedShards changes the shard count GET /gateway/bot answers.
func (s *Server) SetRecommendedShards(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 1 {
		n = 1
	}
	s.shards = n
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newIDLocked returns a fresh snowflake whose timestamp part comes from
// Options.Now. Ids are strictly increasing, as Discord's are.
func (s *Server) newIDLocked() snowflake.ID {
	ms := s.opts.Now().UnixMilli() - snowflake.Epoch
	if ms < s.idLastMS {
		ms = s.idLastMS
	}
	if ms == s.idLastMS {
		s.idSeq++
		if s.idSeq >= 1<<12 {
			ms++
			s.idSeq = 0
		}
	} else {
		s.idSeq = 0
	}
	s.idLastMS = ms
	return snowflake.ID(ms<<22 | 2<<17 | s.idSeq)
}

// newGuildIDLocked gives every guild its own millisecond so that
// (id >> 22) % shards spreads consecutive guilds over shards, as real guilds
// created at different times are. Worker bits differ from newIDLocked's so
// the two sequences never collide.
func (s *Server) newGuildIDLocked() snowflake.ID {
	ms := s.opts.Now().UnixMilli() - snowflake.Epoch
	if ms <= s.guildLastMS {
		ms = s.guildLastMS + 1
	}
	s.guildLastMS = ms
	return snowflake.ID(ms<<22 | 1<<17)
}

// notifyLocked wakes every waiter; call with s.mu held after a change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (evaluated with s.mu held) is true or ctx ends.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
