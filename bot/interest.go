package bot

import (
	"context"
	"log/slog"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
)

// nativeGuild reports whether the guild records Discord Scheduled Events.
func (b *Bot) nativeGuild(gid snowflake.ID) bool {
	g, ok := b.reg.Get(uint64(gid))
	return ok && g.NativeEvents
}

func (b *Bot) onScheduledEventCreate(e *events.GuildScheduledEventCreate) {
	ev := e.GuildScheduled
	if !b.nativeGuild(ev.GuildID) {
		return
	}
	if ev.EntityType == discord.ScheduledEventEntityTypeExternal || ev.ChannelID == nil {
		b.log.Info("ignoring a scheduled event in an external location", slog.String("event", ev.Name), slog.Uint64("event_id", uint64(ev.ID)))
		return
	}
	go b.loadInterested(e.Client(), ev.GuildID, ev.ID)
}

func (b *Bot) onScheduledEventUserAdd(e *events.GuildScheduledEventUserAdd) {
	if b.nativeGuild(e.GuildID) {
		b.work.interested(interestOp{guild: uint64(e.GuildID), event: uint64(e.GuildScheduledEventID), user: uint64(e.UserID), add: true})
	}
}

func (b *Bot) onScheduledEventUserRemove(e *events.GuildScheduledEventUserRemove) {
	if b.nativeGuild(e.GuildID) {
		b.work.interested(interestOp{guild: uint64(e.GuildID), event: uint64(e.GuildScheduledEventID), user: uint64(e.UserID)})
	}
}

// loadNative fetches who is interested in each of a guild's scheduled
// events when the guild arrives (the gateway only sends changes after).
func (b *Bot) loadNative(client *disgobot.Client, gid snowflake.ID) {
	if !b.nativeGuild(gid) {
		return
	}
	for e := range client.Caches.GuildScheduledEvents(gid) {
		if e.ChannelID != nil {
			b.loadInterested(client, gid, e.ID)
		}
	}
}

// interestedPage is the most users Discord returns per page of
// GET .../scheduled-events/{id}/users.
const interestedPage = 100

// loadInterested pages through GET .../scheduled-events/{id}/users.
func (b *Bot) loadInterested(client *disgobot.Client, gid, eventID snowflake.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var users []uint64
	var after snowflake.ID
	for {
		// disgo v0.19.6's GetGuildScheduledEventUsers builds its query
		// (limit, after) and then compiles the endpoint without it, so every
		// call returned the first page again: with 100 interested or more
		// the loop never ended (thousands of requests a minute, the guild
		// not ready until the timeout, nobody stored). The endpoint is
		// compiled here with the query.
		q := discord.QueryValues{"limit": interestedPage}
		if after != 0 {
			q["after"] = after
		}
		var page []discord.GuildScheduledEventUser
		err := client.Rest.Do(rest.GetGuildScheduledEventUsers.Compile(q, gid, eventID), nil, &page, rest.WithCtx(ctx))
		if err != nil {
			b.log.Error("fetch interested users", slog.Uint64("event_id", uint64(eventID)), slog.Any("error", err))
			return
		}
		last := after
		for _, u := range page {
			users = append(users, uint64(u.User.ID))
			after = max(after, u.User.ID)
		}
		if len(page) < interestedPage || after == last {
			break // the last page, or one that did not move on (never ask for it again)
		}
	}
	if err := b.store.SetInterested(ctx, uint64(gid), uint64(eventID), users); err != nil {
		b.log.Error("store interested users", slog.Any("error", err))
	}
}
