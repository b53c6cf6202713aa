// Package discordsim is a simulated Discord for tests, demos and
// benchmarks: a v10 JSON gateway (HELLO, IDENTIFY/READY/GUILD_CREATE,
// heartbeats, RESUME with replay, op 7, op 9, forced closes, intents,
// sharding and its identify limits, zlib-/zstd-stream compression) and the
// REST routes a bot uses (commands, channel messages with files, embeds and
// buttons, interaction callbacks and webhooks, members and their roles,
// roles, guilds, scheduled events), with a scripting API to build a world
// (guilds joined and left, channels with permission overwrites, roles in a
// hierarchy, members, voice, users' messages) and drive events (slash
// commands, autocomplete, button clicks), and transcripts to assert on.
//
// Payloads are written from Discord's documented JSON with plain maps, not
// by marshalling disgo's types, so that tests exercise disgo's decoding.
//
// A test starts a guild and a bot against it like this:
//
//	sim, _ := discordsim.New(discordsim.Options{})
//	defer sim.Close()
//	g := sim.AddGuild("Raid Night")
//	voice := sim.AddChannel(g, "General", discord.ChannelTypeGuildVoice)
//	alice := sim.AddMember(g, discordsim.MemberSpec{Username: "alice"})
//	sim.SetVoice(g, alice, voice, discordsim.VoiceFlags{})
//	client, _ := disgo.New(sim.Token(), append(sim.ClientOpts(),
//		bot.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds, gateway.IntentGuildMembers, gateway.IntentGuildVoiceStates)),
//		bot.WithCacheConfigOpts(cache.WithCaches(cache.FlagGuilds, cache.FlagMembers, cache.FlagVoiceStates, cache.FlagChannels, cache.FlagRoles)))...)
//	_ = client.OpenGateway(ctx) // then sim.Invoke(ctx, discordsim.Invocation{...}), sim.Messages(channel), ...
//
// # Behaviour worth knowing
//
//   - Slash commands must be registered (bulk overwrite or POST one) before
//     Invoke, as on Discord. Option types may be omitted when the command
//     defines them. A definition Discord refuses (name pattern and case,
//     localizations, 25 options or choices, 100-character descriptions,
//     nesting, 8000 characters, 100/15/15 commands per scope) answers 50035.
//   - Every message that is not ephemeral is dispatched as MESSAGE_CREATE to
//     sessions with GUILD_MESSAGES: channel posts (with the nonce sent),
//     interaction responses (the deferred "thinking" message too, flags 128)
//     and follow-ups; edits as MESSAGE_UPDATE, deletions as MESSAGE_DELETE.
//     Ephemeral messages are never dispatched nor listed by GET messages.
//     Without MESSAGE_CONTENT, users' messages arrive with empty content.
//   - HoldNext and HoldAll hold REST requests at an exact point, as a slow
//     Discord would: HoldBefore before the request is handled (it has no
//     effect yet), HoldAfter once it is handled (a message exists) with its
//     answer held back. Hold.Wait returns when a request is held; Release
//     lets it go on. A request whose client gives up while held (a timeout,
//     a killed process: the connection closes) is never handled (before) or
//     never answered (after), and its RequestRecord says Abandoned; wait for
//     Hold.Abandoned before Release, or it may be handled after all.
//   - BotMessages lists every message the bot made in any channel (deleted
//     and ephemeral ones too); InteractionTokens every interaction token
//     issued, so a test can check that none reaches a log.
//   - Message.Writes keeps the allowed_mentions of every create and edit.
//     disgo's REST client fills in its own default allowed_mentions (parse
//     users, roles, everyone) when a message sets none, so to prove a bot
//     set it, compare against the value the bot means, not against nil.
//   - Permissions follow Discord's order: guild roles, then the @everyone
//     overwrite, the member's role overwrites together, the member's own;
//     owner and Administrator bypass overwrites; no View Channel means none.
//     POST messages answers 10003 (unknown or deleted channel), 50001 (no
//     View Channel, or a guild the bot left), 50013 (no Send Messages, or no
//     Embed Links / Attach Files for a message with embeds / files).
//     Interaction payloads carry the permissions computed in the channel.
//   - Roles have positions (@everyone 0; AddRole puts a role on top,
//     CreateRole where RoleSpec.Position says). Member role routes enforce
//     the hierarchy: the role must be below the bot's highest, not managed,
//     not @everyone (10011), and the bot needs Manage Roles (50013); each
//     change is in AuditLog with its X-Audit-Log-Reason.
//   - RemoveBotFromGuild sends GUILD_DELETE {unavailable: false}; the guild's
//     routes then answer 50001 and nothing about it is dispatched, until
//     AddBotToGuild sends GUILD_CREATE again.
//   - Click answers a button click like Invoke a command; callback 6 makes
//     @original the clicked message, which the bot's edit then changes.
//   - Two IDENTIFYs with the same shard_id % max_concurrency within 5 s (wall
//     clock) get op 9, as on Discord, across all connections: a bot that
//     re-identifies quickly (a restart, a non-resumable op 9) is refused
//     until 5 s have passed, then accepted on its next try. The daily
//     SessionStartLimit, once spent, ends every session and resets the token.
//   - With Options.CheckResponse (simtest.Start sets it from
//     DISCORD_OPENAPI_SPEC) every answer is validated against the spec's
//     response schemas; ResponseConformanceErrors lists the failures.
//   - GUILD_CREATE carries the member list Discord sends: without the
//     GUILD_PRESENCES intent only the bot and members in voice; with it,
//     everyone up to large_threshold. A bot that needs all members must
//     chunk (op 8, needs GUILD_MEMBERS) or list them over REST.
//   - Disconnect detaches sessions at once: anything dispatched after it
//     returns is "missed" and replayed on RESUME (before RESUMED, in order).
//   - The 3 s acknowledgement rule runs on the wall clock; token expiry
//     (15 min) follows Options.Now, so a test can age a token by moving
//     its clock.
//
// # Traps
//
// Found while building this against disgo v0.19.6 (for the shared field notes):
//
//   - go test -race flags data races inside disgo's own gateway whenever a
//     connection closes (client.Close, a server close, op 7, op 9): the
//     heartbeat goroutine stores its cancel func, and the read loop stores
//     the last sequence number and the heartbeat ACK time, with no lock;
//     the zstd transport frees its decoder on Close while the read loop may
//     be decoding. Recipe that makes bot tests race-clean (see sim_test.go):
//     Options.HeartbeatInterval about 1.5 s (one beat per connection within
//     a test, never two); a disgo logger whose slog handler is enabled at
//     Debug and takes a mutex in Handle; an event listener on bot.Event that
//     takes the same mutex; before Disconnect/RequestReconnect/
//     InvalidateSession call WaitHeartbeat; before client.Close also wait
//     until the client has seen events.HeartbeatAck for every beat, then
//     take the mutex once.
//   - The module proxy has no disgo newer than v0.19.6 (latest is reported
//     as v0.18.15), so the races cannot be fixed by upgrading here.
//   - disgo's gateway defaults to zstd-stream compression
//     (?compress=zstd-stream): a fake gateway that only speaks plain text
//     JSON silently fails every connect. The simulator speaks zstd-stream,
//     zlib-stream, zlib-payload and none.
//   - disgo waits 1 s before every gateway open, the first one included
//     (doReconnect's backoff starts at 1 s), so OpenGateway and each
//     reconnect cost at least a second of test time.
//   - disgo's REST rate limiter treats a 429 without a "Via" header as a
//     Cloudflare ban and applies it globally; real Discord always sends
//     "Via: 1.1 google", and so does the simulator.
//   - disgo truncates X-RateLimit-Reset-After to whole seconds
//     (time.Duration(float) * time.Second), so a bucket resetting in 0.7 s
//     is treated as already reset and the next request earns a 429 (then
//     retried after Retry-After). Real Discord sends fractional values too.
//   - A 429 without X-RateLimit-Bucket is retried by disgo immediately (up
//     to 10 times) without waiting: the bucket is only updated when the
//     bucket header is present.
//   - Without GUILD_PRESENCES, Discord's GUILD_CREATE lists only the bot and
//     members in voice (documented under Request Guild Members); a fake
//     that sends every member hides a bot's missing chunking.
//   - VOICE_STATE_UPDATE's member has no guild_id, and disgo v0.19.6 still
//     caches it under guild 0 (Caches.AddMember(event.Member)); read member
//     names from the event or from GUILD_CREATE/chunks instead.
//   - An interaction's "channel" must decode as a MessageChannel in disgo
//     (text, voice, stage, DM...), and a missing "type" or data.type fails
//     decoding; both are logged and the interaction silently dropped.
//   - Guild ids made in the same millisecond share (id >> 22) % n, i.e. land
//     on the same shard; the simulator gives each guild its own millisecond.
//   - op 9 (invalid session) makes disgo close with 1000 when not
//     resumable, which on Discord also invalidates the session server-side;
//     a resumable op 9 closes with 1012 and resumes.
//   - disgo v0.19.6 races (under -race) when op 9 answers its IDENTIFY, as
//     Discord does to an IDENTIFY within 5 s of the last one of its bucket:
//     open() closes the connection while the new heartbeat goroutine stores
//     its cancel func. A race-checked test that re-identifies must do so 5 s
//     after the previous IDENTIFY (IdentifyAttempts has the times), with a
//     heartbeat interval long enough that no connection beats twice.
//   - disgo's shard manager waits 5 s between IDENTIFYs of one bucket (its
//     limiter reads max_concurrency), but a plain gateway (OpenGateway) has
//     no identify limiter: after a non-resumable op 9 it retries with
//     backoff (1, 2, 4 s) and is refused until the 5 s have passed.
//   - disgo sends allowed_mentions on every message (its default when the
//     message has none), see above.
package discordsim
