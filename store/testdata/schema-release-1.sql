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
