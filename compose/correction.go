package compose

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/discordtext"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// Correction is the follow-up a moderator asked for (announce: true) under
// an event's report in one channel: what was corrected, for whom and why.
// It replies to the report's message there when the ledger knows it. A
// correction undone before its follow-up went out is not announced.
func (r *Reports) Correction(ctx context.Context, g *settings.Guild, l view.Lang, id int64, channelID uint64, marker string) (Message, error) {
	var c store.Correction
	var occ store.Occurrence
	var who store.Member
	var report store.PostState
	err := r.Store.Snapshot(ctx, func(q *store.Queries) (err error) {
		if c, err = q.GetCorrection(ctx, g.ID, id); err != nil {
			return err
		}
		if occ, err = q.GetOccurrence(ctx, c.OccurrenceID); err != nil {
			return err
		}
		if who, err = q.Member(ctx, g.ID, c.UserID); errors.Is(err, store.ErrNotFound) {
			who, err = store.Member{GuildID: g.ID, UserID: c.UserID}, nil
		}
		if err != nil {
			return err
		}
		report, err = q.PostState(ctx, store.Post{Kind: "event", Ref: strconv.FormatInt(occ.ID, 10), ChannelID: channelID, GuildID: g.ID})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Message{Skip: true}, nil // the event (and its corrections) were deleted
	}
	if err != nil {
		return Message{}, err
	}
	if !c.UndoneAt.IsZero() {
		return Message{Skip: true}, nil
	}
	e := discord.Embed{Title: l.T("an_title", view.Escape(l.OccurrenceLabel(occ, g.Location))), Color: view.ColorEvent,
		Description: l.T("an_body", CorrectionSpan(c, occ, g.Location), view.Escape(who.Name()), view.Escape(c.Reason)),
		Footer:      &discord.EmbedFooter{Text: l.T("an_footer", discordtext.Plain(c.AuthorName)) + " · " + marker}}
	view.Fit(&e)
	m := Message{Embeds: []discord.Embed{e}}
	if report.Posted && report.MessageID != 0 {
		m.ReplyTo = snowflake.ID(report.MessageID)
	}
	return m, nil
}

// CorrectionSpan writes a correction as its sign and local clock times:
// "+16:10–16:40" (minutes added) or "−16:10–16:40" (removed).
func CorrectionSpan(c store.Correction, occ store.Occurrence, loc *time.Location) string {
	sign := "−"
	if c.Add {
		sign = "+"
	}
	start := occ.Start.In(loc)
	return sign + start.Add(time.Duration(c.From)*time.Minute).Format("15:04") + "–" + start.Add(time.Duration(c.To)*time.Minute).Format("15:04")
}
