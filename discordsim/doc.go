// Package discordsim is a simulated Discord for tests, demos and
// benchmarks: a v10 JSON gateway (HELLO, IDENTIFY/READY/GUILD_CREATE,
// heartbeats, RESUME with replay, op 7, op 9, forced closes, intents,
// sharding, zlib-/zstd-stream compression) and the REST routes a bot uses
// (commands, messages with files, interaction callbacks and webhooks,
// members, scheduled events), with a scripting API to build a world and
// drive events, and transcripts to assert on.
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
//   - Slash commands must be registered (bulk overwrite) before Invoke, as
//     on Discord. Option types may be omitted when the command defines them.
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
package discordsim
