-- rollcall's schema. Applied at start-up by store.Migrate: each block below a
-- "-- migrate: N" line runs once, in order, in its own transaction, and is
-- recorded in schema_migrations. Never edit a block that has shipped; add a
-- new one.

-- migrate: 1

-- Members as last seen on the gateway. Kept after they leave (left_at) so
-- history keeps its names and "expected" can respect join and leave dates.
CREATE TABLE members (
    guild_id     bigint      NOT NULL,
    user_id      bigint      NOT NULL,
    username     text        NOT NULL DEFAULT '',
    display_name text        NOT NULL DEFAULT '',
    bot          boolean     NOT NULL DEFAULT false,
    roles        bigint[]    NOT NULL DEFAULT '{}',
    joined_at    timestamptz,
    left_at      timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guild_id, user_id)
);

-- One row per event occurrence: all attendance hangs off it.
CREATE TABLE occurrences (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id   bigint      NOT NULL,
    schedule   text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (guild_id, schedule, starts_at),
    CHECK (ends_at > starts_at)
);
CREATE INDEX occurrences_guild_time ON occurrences (guild_id, starts_at);

-- Minutes a member was seen, as bit masks of 64 minutes (chunk 0 holds
-- minutes 0-63 of the occurrence). A one-hour event is one row per member.
-- Voice states are kept as separate masks so an attendance rule about them
-- can change later and recompute history; they are NULL when empty (most
-- rows), which costs nothing but a bit in the row's null bitmap. Columns are
-- ordered widest first so the row has no alignment padding.
CREATE TABLE attendance (
    occurrence_id bigint   NOT NULL REFERENCES occurrences (id) ON DELETE CASCADE,
    guild_id      bigint   NOT NULL,
    user_id       bigint   NOT NULL,
    present       bigint   NOT NULL,
    self_mute     bigint,
    self_deaf     bigint,
    server_mute   bigint,
    server_deaf   bigint,
    chunk         smallint NOT NULL CHECK (chunk BETWEEN 0 AND 22),
    PRIMARY KEY (occurrence_id, user_id, chunk)
);

-- Minutes of an occurrence in which the bot was sampling at all, so a report
-- can say which minutes were not recorded (the bot was down).
CREATE TABLE coverage (
    occurrence_id bigint   NOT NULL REFERENCES occurrences (id) ON DELETE CASCADE,
    chunk         smallint NOT NULL CHECK (chunk BETWEEN 0 AND 22),
    sampled       bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (occurrence_id, chunk)
);

-- Automatic posts. The primary key makes a post unique per report and
-- channel across restarts and processes: a process claims a row before
-- posting and marks it posted after.
CREATE TABLE posts (
    kind       text        NOT NULL,  -- 'event' or 'weekly'
    ref        text        NOT NULL,  -- occurrence id, or guild and week
    channel_id bigint      NOT NULL,
    guild_id   bigint      NOT NULL,
    claimed_by text        NOT NULL,
    claimed_at timestamptz NOT NULL,
    posted_at  timestamptz,
    message_id bigint,
    PRIMARY KEY (kind, ref, channel_id)
);

-- migrate: 2

-- Discord's own Scheduled Events become occurrences too: native_event_id
-- is the event's id, and the schedule column holds its title. A native
-- event is unique by its id (its start may move before it begins); a
-- configured schedule's occurrence stays unique by schedule and start.
ALTER TABLE occurrences ADD COLUMN native_event_id bigint;
ALTER TABLE occurrences DROP CONSTRAINT occurrences_guild_id_schedule_starts_at_key;
CREATE UNIQUE INDEX occurrences_scheduled ON occurrences (guild_id, schedule, starts_at) WHERE native_event_id IS NULL;
CREATE UNIQUE INDEX occurrences_native ON occurrences (guild_id, native_event_id) WHERE native_event_id IS NOT NULL;

-- Who marked a native event "Interested", kept current from the gateway.
CREATE TABLE interested (
    guild_id bigint NOT NULL,
    event_id bigint NOT NULL,
    user_id  bigint NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- migrate: 3

-- Posts are durable jobs now (River, see store.MigrateRiver); this table
-- stays their ledger: one row per report and channel, written before the
-- message is sent (attempted_at) and after Discord made it (posted_at,
-- message_id). A job that finds its post attempted but not marked looks for
-- the message in the channel before sending again, so a post goes out once
-- even when Discord's answer or the process is lost in between.
ALTER TABLE posts ADD COLUMN attempted_at timestamptz;
UPDATE posts SET attempted_at = claimed_at;
ALTER TABLE posts DROP COLUMN claimed_by, DROP COLUMN claimed_at;

-- Running rollcall processes, each with a heartbeat. River names the
-- process working a job (attempted_by); a job left running by a process that
-- is gone is made available again at once instead of after River's rescue
-- delay.
CREATE TABLE processes (
    id         text        PRIMARY KEY,
    host       text        NOT NULL,
    pid        integer     NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);

-- migrate: 4

-- Settings of the guilds managed from Discord (/rollcall): the same
-- document as a [[guilds]] table of config.toml, as JSON. version counts
-- changes, so that two moderators editing at once cannot overwrite each
-- other silently; every change also NOTIFYs rollcall_settings, so every
-- running process applies it at its next tick.
CREATE TABLE guild_settings (
    guild_id   bigint      PRIMARY KEY,
    spec       jsonb       NOT NULL,
    version    integer     NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by bigint      NOT NULL
);

-- Every change a moderator made, with who, when, and the value before and
-- after: what /rollcall log shows. Nothing is overwritten without a trace.
CREATE TABLE settings_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id    bigint      NOT NULL,
    at          timestamptz NOT NULL,
    author_id   bigint      NOT NULL,
    author_name text        NOT NULL,
    action      text        NOT NULL,
    key         text        NOT NULL,
    old_value   text,
    new_value   text
);
CREATE INDEX settings_log_guild ON settings_log (guild_id, id DESC);

-- The guilds the bot is in, as far as rollcall needs to know: when it
-- joined and left (data of a departed guild is deleted after a grace
-- period), and whether it has said hello in the system channel.
CREATE TABLE guilds (
    guild_id    bigint      PRIMARY KEY,
    joined_at   timestamptz NOT NULL,
    departed_at timestamptz,
    welcomed_at timestamptz
);

-- migrate: 5

-- A member's own choice about being recorded (/privacy pause and resume):
-- true paused, false recorded, NULL the guild's default (paused_by_default).
-- While paused nothing about the member's voice presence is written, and
-- reports leave them out.
ALTER TABLE members ADD COLUMN paused boolean;

-- migrate: 6

-- Moderators' corrections of what the bot recorded: minutes [from_minute,
-- to_minute) of one member in one event added or removed, with a reason.
-- Recorded masks are never changed: corrections are applied when reading,
-- in the order they were made, like the rules, so one can be undone and
-- history recomputes.
CREATE TABLE corrections (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurrence_id bigint      NOT NULL REFERENCES occurrences (id) ON DELETE CASCADE,
    guild_id      bigint      NOT NULL,
    user_id       bigint      NOT NULL,
    from_minute   smallint    NOT NULL,
    to_minute     smallint    NOT NULL,
    add           boolean     NOT NULL,
    reason        text        NOT NULL,
    author_id     bigint      NOT NULL,
    author_name   text        NOT NULL,
    created_at    timestamptz NOT NULL,
    undone_at     timestamptz,
    undone_by     bigint,
    CHECK (from_minute >= 0 AND to_minute > from_minute)
);
CREATE INDEX corrections_occurrence ON corrections (occurrence_id) WHERE undone_at IS NULL;
CREATE INDEX corrections_member ON corrections (guild_id, user_id);

-- Excused absences: a member is not expected at one event, or at every
-- event starting in [starts_at, ends_at) (a leave of absence).
CREATE TABLE excuses (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id      bigint      NOT NULL,
    user_id       bigint      NOT NULL,
    occurrence_id bigint      REFERENCES occurrences (id) ON DELETE CASCADE,
    starts_at     timestamptz,
    ends_at       timestamptz,
    reason        text        NOT NULL,
    author_id     bigint      NOT NULL,
    author_name   text        NOT NULL,
    created_at    timestamptz NOT NULL,
    undone_at     timestamptz,
    undone_by     bigint,
    CHECK ((occurrence_id IS NOT NULL) <> (starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at))
);
CREATE INDEX excuses_guild ON excuses (guild_id, user_id) WHERE undone_at IS NULL;

-- migrate: 7

-- Roles rollcall gave by a role rule, so a rule takes away only what it
-- gave (unless the rule manages existing holders too).
CREATE TABLE role_grants (
    guild_id   bigint      NOT NULL,
    role_id    bigint      NOT NULL,
    user_id    bigint      NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (guild_id, role_id, user_id)
);

-- Why a rule could not be applied at its last evaluation ("" when it
-- could), so a change of state is logged once and /rollcall roles shows it.
CREATE TABLE role_rule_states (
    guild_id bigint      NOT NULL,
    role_id  bigint      NOT NULL,
    state    text        NOT NULL,
    since    timestamptz NOT NULL,
    PRIMARY KEY (guild_id, role_id)
);

-- migrate: 8

-- Sharding across processes. A process running some of the gateway's
-- shards by lease says it lives here (seen_at), per shard count; the
-- shards are shared out among the live ones, each held by a lease that its
-- holder renews. A process that dies stops renewing, and the others take
-- its shards when the leases run out.
CREATE TABLE shard_members (
    holder      text        PRIMARY KEY,
    shard_count integer     NOT NULL,
    seen_at     timestamptz NOT NULL
);
CREATE TABLE shard_leases (
    shard_count integer     NOT NULL,
    shard_id    integer     NOT NULL,
    holder      text,
    expires_at  timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (shard_count, shard_id)
);
-- The last IDENTIFY of each rate-limit bucket (shard_id % max_concurrency),
-- whichever process sent it: Discord allows one per bucket every 5 s
-- across every connection of the bot.
CREATE TABLE identify_slots (
    bucket integer     PRIMARY KEY,
    at     timestamptz NOT NULL
);
-- A guild's preferred locale, as Discord last sent it: posts in "auto"
-- language made by a process that does not hold the guild's shard.
ALTER TABLE guilds ADD COLUMN locale text;

-- migrate: 9

-- Attendance as it arrives. A poll tick's new minutes go into one row per
-- occurrence and chunk holding every member's masks as arrays, instead of
-- a new version of every present member's attendance row each minute: the
-- tick writes one row however many are present. The voice-state arrays are
-- NULL when all their masks are empty (most ticks). Compaction (the daily
-- job, and before a member's data is deleted) folds finished rows into
-- attendance; until then readers see both through attendance_seen, where a
-- member may appear more than once per chunk: readers OR the rows, as the
-- masks are OR-ed everywhere.
CREATE TABLE attendance_log (
    occurrence_id bigint   NOT NULL REFERENCES occurrences (id) ON DELETE CASCADE,
    chunk         smallint NOT NULL CHECK (chunk BETWEEN 0 AND 22),
    user_ids      bigint[] NOT NULL,
    present       bigint[] NOT NULL,
    self_mute     bigint[],
    self_deaf     bigint[],
    server_mute   bigint[],
    server_deaf   bigint[]
);
CREATE INDEX attendance_log_occurrence ON attendance_log (occurrence_id);

-- attendance rows are found through their occurrence, which has the guild;
-- the column cost 8 bytes in every row.
ALTER TABLE attendance DROP COLUMN guild_id;

-- Everything recorded, compacted or not: one row per member and chunk of
-- attendance, and per member, chunk and occurrence of the log. The voice
-- states are 0 rather than NULL when empty.
CREATE VIEW attendance_seen AS
SELECT occurrence_id, user_id, chunk, present,
       coalesce(self_mute, 0) AS self_mute, coalesce(self_deaf, 0) AS self_deaf,
       coalesce(server_mute, 0) AS server_mute, coalesce(server_deaf, 0) AS server_deaf
FROM attendance
UNION ALL
SELECT l.occurrence_id, x.user_id, l.chunk, bit_or(x.present),
       coalesce(bit_or(x.self_mute), 0), coalesce(bit_or(x.self_deaf), 0),
       coalesce(bit_or(x.server_mute), 0), coalesce(bit_or(x.server_deaf), 0)
FROM attendance_log l,
     unnest(l.user_ids, l.present, l.self_mute, l.self_deaf, l.server_mute, l.server_deaf)
         AS x(user_id, present, self_mute, self_deaf, server_mute, server_deaf)
GROUP BY l.occurrence_id, x.user_id, l.chunk;

-- migrate: 10

-- attendance rebuilt, for two reasons.
-- Size: a dropped column still counts in every row's null bitmap. With nine
-- columns counting, the bitmap takes 2 bytes, and the row header rounds up
-- from 25 to 32 bytes. With the eight live columns it rounds to 24, so each
-- row is 8 bytes smaller.
-- Reads by member: /member and /absent ask for some members' events, which
-- the primary key (occurrence first) answered with one look-up per event.
-- An index on the member, deduplicated by PostgreSQL, costs about 6 bytes
-- per row, less than the 8 saved.
-- Compaction appends in key order, so the primary key's pages are kept
-- full.
-- Locked first: a process of the previous release still running must not
-- write rows (a compaction, a member's deletion) between the copy and the
-- drop. Its write fails once the table is replaced, and a compaction's log
-- rows stay in the log for the next one.
LOCK TABLE attendance IN ACCESS EXCLUSIVE MODE;
CREATE TABLE attendance_rebuilt (
    occurrence_id bigint   NOT NULL,
    user_id       bigint   NOT NULL,
    present       bigint   NOT NULL,
    self_mute     bigint,
    self_deaf     bigint,
    server_mute   bigint,
    server_deaf   bigint,
    chunk         smallint NOT NULL
);
INSERT INTO attendance_rebuilt
SELECT occurrence_id, user_id, present, self_mute, self_deaf, server_mute, server_deaf, chunk
FROM attendance ORDER BY occurrence_id, user_id, chunk;
DROP VIEW attendance_seen;
DROP TABLE attendance;
ALTER TABLE attendance_rebuilt RENAME TO attendance;
ALTER TABLE attendance
    ADD CONSTRAINT attendance_pkey PRIMARY KEY (occurrence_id, user_id, chunk) WITH (fillfactor = 100),
    ADD CONSTRAINT attendance_occurrence_id_fkey FOREIGN KEY (occurrence_id) REFERENCES occurrences (id) ON DELETE CASCADE,
    ADD CONSTRAINT attendance_chunk_check CHECK (chunk BETWEEN 0 AND 22);
CREATE INDEX attendance_member ON attendance (user_id);
ANALYZE attendance;
CREATE VIEW attendance_seen AS
SELECT occurrence_id, user_id, chunk, present,
       coalesce(self_mute, 0) AS self_mute, coalesce(self_deaf, 0) AS self_deaf,
       coalesce(server_mute, 0) AS server_mute, coalesce(server_deaf, 0) AS server_deaf
FROM attendance
UNION ALL
SELECT l.occurrence_id, x.user_id, l.chunk, bit_or(x.present),
       coalesce(bit_or(x.self_mute), 0), coalesce(bit_or(x.self_deaf), 0),
       coalesce(bit_or(x.server_mute), 0), coalesce(bit_or(x.server_deaf), 0)
FROM attendance_log l,
     unnest(l.user_ids, l.present, l.self_mute, l.self_deaf, l.server_mute, l.server_deaf)
         AS x(user_id, present, self_mute, self_deaf, server_mute, server_deaf)
GROUP BY l.occurrence_id, x.user_id, l.chunk;

-- migrate: 11

-- One member's rows of attendance_seen in a guild's occurrences with ids
-- from from_id to to_id (compacted rows of other guilds' occurrences in
-- that span come too; callers skip them). attendance_seen unnests every
-- log row it reads and only then drops the other members: for one member
-- that was most of /member's time while an event of a big guild waited in
-- the log for the daily compaction. Here each log row of the guild is
-- searched for the member's positions instead. SQL, STABLE and not STRICT,
-- so the planner inlines it. "occurrence_id + 0" keeps the span off the
-- primary key: a plan cached for unknown arguments would otherwise walk the
-- key over the span and look for the member in every row of it (11 ms for
-- a year), where the member's index reads only their rows.
CREATE FUNCTION attendance_seen_of(guild bigint, member bigint, from_id bigint, to_id bigint)
RETURNS TABLE (occurrence_id bigint, user_id bigint, chunk smallint, present bigint,
               self_mute bigint, self_deaf bigint, server_mute bigint, server_deaf bigint)
LANGUAGE sql STABLE AS $$
SELECT a.occurrence_id, a.user_id, a.chunk, a.present,
       coalesce(a.self_mute, 0), coalesce(a.self_deaf, 0), coalesce(a.server_mute, 0), coalesce(a.server_deaf, 0)
FROM attendance a
WHERE a.user_id = member AND a.occurrence_id + 0 BETWEEN from_id AND to_id
UNION ALL
SELECT l.occurrence_id, member, l.chunk, bit_or(l.present[p]),
       coalesce(bit_or(l.self_mute[p]), 0), coalesce(bit_or(l.self_deaf[p]), 0),
       coalesce(bit_or(l.server_mute[p]), 0), coalesce(bit_or(l.server_deaf[p]), 0)
FROM attendance_log l, unnest(array_positions(l.user_ids, member)) AS p
WHERE l.occurrence_id BETWEEN from_id AND to_id
  AND EXISTS (SELECT 1 FROM occurrences o WHERE o.id = l.occurrence_id AND o.guild_id = guild)
GROUP BY l.occurrence_id, l.chunk
$$;
