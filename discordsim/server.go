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
	"sort"
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

	// HeartbeatInterval is sent in HELLO; default 41.25 s as Discord does.
	HeartbeatInterval time.Duration
	// Shards is the recommended shard count answered by GET /gateway/bot; default 1.
	Shards int
	// MaxConcurrency is session_start_limit.max_concurrency; default 1 as for
	// most real bots (disgo's shard manager then waits 5 s between IDENTIFYs
	// of shards in one bucket).
	MaxConcurrency int
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

	commands map[snowflake.ID][]*command // 0 = global

	messages     map[snowflake.ID][]*message // by channel
	interactions map[snowflake.ID]*interaction
	byToken      map[string]*interaction

	requests     []RequestRecord
	frames       []FrameRecord
	unknown      []string
	conformance  []string
	failed       []string
	rateLimits   bool
	routeLimits  map[string]routeLimit
	buckets      map[string]*bucket
	failRules    []*failRule
	routeCache   []*route
	dms          map[snowflake.ID]snowflake.ID // user -> DM channel
	shards       int
	closed       bool
	closedSignal chan struct{}
}

type user struct {
	id         snowflake.ID
	username   string
	globalName string
	bot        bool
	locale     string
}

type guild struct {
	id          snowflake.ID
	name        string
	ownerID     snowflake.ID
	locale      string
	afkChannel  snowflake.ID
	createdAt   time.Time
	channels    []*channel
	roles       []*role
	members     map[snowflake.ID]*member
	memberOrder []snowflake.ID
	voice       map[snowflake.ID]*voiceState
	events      []*scheduledEvent
	botRoleID   snowflake.ID
}

type channel struct {
	id       snowflake.ID
	guildID  snowflake.ID
	name     string
	typ      discord.ChannelType
	position int
}

type role struct {
	id       snowflake.ID
	name     string
	perms    discord.Permissions
	position int
	managed  bool
	botID    snowflake.ID // tags.bot_id for the bot's managed role
}

type member struct {
	userID   snowflake.ID
	nick     string
	roles    []snowflake.ID
	joinedAt time.Time
}

type voiceState struct {
	userID    snowflake.ID
	channelID snowflake.ID
	sessionID string
	flags     VoiceFlags
}

// MemberSpec describes a guild member to add or update. Zero fields take
// defaults: Username "user<id>", JoinedAt Options.Now(), Locale "en-US".
type MemberSpec struct {
	Username, GlobalName, Nick string
	Bot                        bool
	Roles                      []snowflake.ID
	JoinedAt                   time.Time
	Locale                     string
}

// VoiceFlags are the mute/deaf bits of a voice state. SelfMute/SelfDeaf are
// set by the user; Mute/Deaf are server-side (by a moderator).
type VoiceFlags struct {
	SelfMute, SelfDeaf, Mute, Deaf bool
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
// disgo requires.
func (s *Server) Token() string { return s.token }

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

func (s *Server) guildLocked(id snowflake.ID) *guild {
	g, ok := s.guilds[id]
	if !ok {
		panic(fmt.Sprintf("discordsim: unknown guild %s", id))
	}
	return g
}

func (g *guild) channel(id snowflake.ID) *channel {
	for _, c := range g.channels {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (g *guild) role(id snowflake.ID) *role {
	for _, r := range g.roles {
		if r.id == id {
			return r
		}
	}
	return nil
}

// findChannelLocked finds a guild channel by id anywhere.
func (s *Server) findChannelLocked(id snowflake.ID) (*guild, *channel) {
	for _, gid := range s.guildOrder {
		g := s.guilds[gid]
		if c := g.channel(id); c != nil {
			return g, c
		}
	}
	return nil, nil
}

// permissionsLocked computes a member's guild-level permissions the way
// Discord does without channel overwrites: owner and Administrator get
// everything, otherwise @everyone OR the member's roles.
func (g *guild) permissions(userID snowflake.ID) discord.Permissions {
	if userID == g.ownerID {
		return discord.PermissionsAll
	}
	m := g.members[userID]
	if m == nil {
		return 0
	}
	p := g.role(g.id).perms
	for _, rid := range m.roles {
		if r := g.role(rid); r != nil {
			p |= r.perms
		}
	}
	if p.Has(discord.PermissionAdministrator) {
		return discord.PermissionsAll
	}
	return p
}

// AddGuild creates a guild with an @everyone role (id = guild id), an owner
// member, the bot as a member with its managed role, and locale "en-US".
// Connected sessions that should see it get a GUILD_CREATE.
func (s *Server) AddGuild(name string) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	g := &guild{
		id:        s.newGuildIDLocked(),
		name:      name,
		locale:    "en-US",
		createdAt: now,
		members:   map[snowflake.ID]*member{},
		voice:     map[snowflake.ID]*voiceState{},
	}
	g.roles = append(g.roles, &role{id: g.id, name: "@everyone", perms: defaultEveryonePermissions})
	g.botRoleID = s.newIDLocked()
	g.roles = append(g.roles, &role{id: g.botRoleID, name: s.opts.BotName, perms: s.opts.BotPermissions,
		position: 1, managed: true, botID: s.botID})
	owner := &user{id: s.newIDLocked(), username: "owner", globalName: "Owner", locale: "en-US"}
	s.users[owner.id] = owner
	g.ownerID = owner.id
	g.addMember(&member{userID: owner.id, joinedAt: now})
	g.addMember(&member{userID: s.botID, roles: []snowflake.ID{g.botRoleID}, joinedAt: now})
	s.guilds[g.id] = g
	s.guildOrder = append(s.guildOrder, g.id)
	s.dispatchGuildCreateLocked(g)
	s.notifyLocked()
	return g.id
}

func (g *guild) addMember(m *member) {
	if _, ok := g.members[m.userID]; !ok {
		g.memberOrder = append(g.memberOrder, m.userID)
	}
	g.members[m.userID] = m
}

// GuildOwner returns the owner's user id of a guild made by AddGuild.
func (s *Server) GuildOwner(guildID snowflake.ID) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.guildLocked(guildID).ownerID
}

// SetGuildLocale sets the guild's preferred_locale (sent as guild_locale in
// interactions) and dispatches GUILD_UPDATE.
func (s *Server) SetGuildLocale(guildID snowflake.ID, locale string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	g.locale = locale
	s.dispatchGuildUpdateLocked(g)
	s.notifyLocked()
}

// AddChannel adds a guild channel (text 0, voice 2, category 4, stage 13,
// ...) and dispatches CHANNEL_CREATE. DM/group types panic: Discord never
// puts them in a guild and disgo crashes on one inside GUILD_CREATE.
func (s *Server) AddChannel(guildID snowflake.ID, name string, typ discord.ChannelType) snowflake.ID {
	switch typ {
	case discord.ChannelTypeGuildText, discord.ChannelTypeGuildVoice, discord.ChannelTypeGuildCategory,
		discord.ChannelTypeGuildNews, discord.ChannelTypeGuildStageVoice, discord.ChannelTypeGuildForum,
		discord.ChannelTypeGuildMedia:
	default:
		panic(fmt.Sprintf("discordsim: channel type %d cannot be a guild channel", typ))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	c := &channel{id: s.newIDLocked(), guildID: guildID, name: name, typ: typ, position: len(g.channels)}
	g.channels = append(g.channels, c)
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "CHANNEL_CREATE", func(*session) any { return channelJSON(c, true) })
	s.notifyLocked()
	return c.id
}

// RenameChannel renames a channel and dispatches CHANNEL_UPDATE.
func (s *Server) RenameChannel(guildID, channelID snowflake.ID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	c := g.channel(channelID)
	if c == nil {
		panic(fmt.Sprintf("discordsim: unknown channel %s in guild %s", channelID, guildID))
	}
	c.name = name
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "CHANNEL_UPDATE", func(*session) any { return channelJSON(c, true) })
	s.notifyLocked()
}

// SetAFKChannel sets the guild's afk_channel_id (0 clears it) and dispatches GUILD_UPDATE.
func (s *Server) SetAFKChannel(guildID, channelID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	g.afkChannel = channelID
	s.dispatchGuildUpdateLocked(g)
	s.notifyLocked()
}

// AddRole adds a role and dispatches GUILD_ROLE_CREATE.
func (s *Server) AddRole(guildID snowflake.ID, name string, perms discord.Permissions) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	r := &role{id: s.newIDLocked(), name: name, perms: perms, position: len(g.roles)}
	g.roles = append(g.roles, r)
	s.dispatchGuildLocked(g.id, gateway.IntentGuilds, "GUILD_ROLE_CREATE", func(*session) any {
		return obj{"guild_id": g.id.String(), "role": roleJSON(r)}
	})
	s.notifyLocked()
	return r.id
}

// AddMember creates a user and adds it to the guild, dispatching
// GUILD_MEMBER_ADD to sessions with the GUILD_MEMBERS intent. It returns the user id.
func (s *Server) AddMember(guildID snowflake.ID, m MemberSpec) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	u := &user{id: s.newIDLocked()}
	s.users[u.id] = u
	s.applyUserSpec(u, m)
	mem := &member{userID: u.id}
	s.applyMemberSpec(mem, m)
	g.addMember(mem)
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_ADD", func(*session) any {
		o := s.memberJSONLocked(g, mem)
		o["guild_id"] = g.id.String()
		return o
	})
	s.notifyLocked()
	return u.id
}

// AddExistingMember adds a user created elsewhere (e.g. in another guild) to
// a guild; spec supplies the member fields (Nick, Roles, JoinedAt).
func (s *Server) AddExistingMember(guildID, userID snowflake.ID, m MemberSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if _, ok := s.users[userID]; !ok {
		panic(fmt.Sprintf("discordsim: unknown user %s", userID))
	}
	mem := &member{userID: userID}
	s.applyMemberSpec(mem, m)
	g.addMember(mem)
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_ADD", func(*session) any {
		o := s.memberJSONLocked(g, mem)
		o["guild_id"] = g.id.String()
		return o
	})
	s.notifyLocked()
}

func (s *Server) applyUserSpec(u *user, m MemberSpec) {
	u.username = m.Username
	if u.username == "" {
		u.username = "user" + u.id.String()
	}
	u.globalName = m.GlobalName
	u.bot = m.Bot
	u.locale = m.Locale
	if u.locale == "" {
		u.locale = "en-US"
	}
}

func (s *Server) applyMemberSpec(mem *member, m MemberSpec) {
	mem.nick = m.Nick
	mem.roles = append([]snowflake.ID(nil), m.Roles...)
	mem.joinedAt = m.JoinedAt
	if mem.joinedAt.IsZero() {
		mem.joinedAt = s.opts.Now()
	}
}

// UpdateMember replaces a member's user and member fields (a zero JoinedAt
// keeps the old one) and dispatches GUILD_MEMBER_UPDATE.
func (s *Server) UpdateMember(guildID, userID snowflake.ID, m MemberSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	mem := g.members[userID]
	if mem == nil {
		panic(fmt.Sprintf("discordsim: user %s is not a member of %s", userID, guildID))
	}
	joined := mem.joinedAt
	s.applyUserSpec(s.users[userID], m)
	s.applyMemberSpec(mem, m)
	if m.JoinedAt.IsZero() {
		mem.joinedAt = joined
	}
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_UPDATE", func(*session) any {
		o := s.memberJSONLocked(g, mem)
		o["guild_id"] = g.id.String()
		return o
	})
	s.notifyLocked()
}

// RemoveMember removes a member (and its voice state, as leaving a guild
// disconnects from its voice channels) and dispatches GUILD_MEMBER_REMOVE.
func (s *Server) RemoveMember(guildID, userID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if _, ok := g.members[userID]; !ok {
		return
	}
	if _, inVoice := g.voice[userID]; inVoice {
		s.setVoiceLocked(g, userID, 0, VoiceFlags{})
	}
	delete(g.members, userID)
	for i, id := range g.memberOrder {
		if id == userID {
			g.memberOrder = append(g.memberOrder[:i], g.memberOrder[i+1:]...)
			break
		}
	}
	u := s.users[userID]
	s.dispatchGuildLocked(g.id, gateway.IntentGuildMembers, "GUILD_MEMBER_REMOVE", func(*session) any {
		return obj{"guild_id": g.id.String(), "user": userJSON(u)}
	})
	s.notifyLocked()
}

// SetVoice joins, moves or updates a member's voice state; channelID 0
// leaves voice. It dispatches VOICE_STATE_UPDATE (with member) to sessions
// with the GUILD_VOICE_STATES intent.
func (s *Server) SetVoice(guildID, userID, channelID snowflake.ID, f VoiceFlags) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	if g.members[userID] == nil {
		panic(fmt.Sprintf("discordsim: user %s is not a member of %s", userID, guildID))
	}
	if channelID != 0 {
		c := g.channel(channelID)
		if c == nil || (c.typ != discord.ChannelTypeGuildVoice && c.typ != discord.ChannelTypeGuildStageVoice) {
			panic(fmt.Sprintf("discordsim: %s is not a voice channel of %s", channelID, guildID))
		}
	}
	s.setVoiceLocked(g, userID, channelID, f)
	s.notifyLocked()
}

func (s *Server) setVoiceLocked(g *guild, userID, channelID snowflake.ID, f VoiceFlags) {
	vs := g.voice[userID]
	if channelID == 0 {
		if vs == nil {
			return
		}
		delete(g.voice, userID)
		// A leave is a voice state with channel_id null; session_id stays.
		left := &voiceState{userID: userID, sessionID: vs.sessionID}
		s.dispatchVoiceLocked(g, left)
		return
	}
	if vs == nil {
		vs = &voiceState{userID: userID, sessionID: randomHex(16)}
		g.voice[userID] = vs
	}
	vs.channelID = channelID
	vs.flags = f
	s.dispatchVoiceLocked(g, vs)
}

func (s *Server) dispatchVoiceLocked(g *guild, vs *voiceState) {
	s.dispatchGuildLocked(g.id, gateway.IntentGuildVoiceStates, "VOICE_STATE_UPDATE", func(*session) any {
		o := voiceStateJSON(vs)
		o["guild_id"] = g.id.String()
		if m := g.members[vs.userID]; m != nil {
			// Discord's member here has no guild_id (disgo then caches it
			// under guild 0; see Traps in doc.go).
			o["member"] = s.memberJSONLocked(g, m)
		}
		return o
	})
}

// VoiceMembers lists the users currently in voice in a guild, by channel.
func (s *Server) VoiceMembers(guildID snowflake.ID) map[snowflake.ID][]snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	out := map[snowflake.ID][]snowflake.ID{}
	for uid, vs := range g.voice {
		out[vs.channelID] = append(out[vs.channelID], uid)
	}
	for _, ids := range out {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
