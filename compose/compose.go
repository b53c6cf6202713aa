// Package compose is rollcall's one report pipeline: load (one read-only
// snapshot of the database) -> judge (package report) -> present (package
// view) -> draw, or fall back to a text table (package render) -> a Message.
// The automatic posts and the slash commands both build their reports here,
// so a change to "the event report" is made in one place and every report
// respects Discord's message limits the same way.
package compose

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/render"
	"rollcall/store"
	"rollcall/view"
)

// Renderer draws charts; *render.Renderer implements it. A nil Renderer
// means every report carries a text table instead of a chart.
type Renderer interface {
	Timeline(ctx context.Context, c render.TimelineChart) ([]byte, error)
	Bars(ctx context.Context, c render.BarChart) ([]byte, error)
}

// Reports builds every report rollcall shows.
type Reports struct {
	Store    *store.Store
	Renderer Renderer
	Log      *slog.Logger
	// RenderTimeout bounds one chart; default 30 s.
	RenderTimeout time.Duration
}

// Message is a built report: what a post or a command reply sends.
type Message struct {
	Content string
	Embeds  []discord.Embed
	Files   []File
	// Components are buttons (a confirmation).
	Components []discord.LayoutComponent
	// Skip: nothing to send (an empty event with empty_report = "skip").
	Skip bool
	// ReplyTo makes a channel post a reply to that message (0: none).
	ReplyTo snowflake.ID
}

// File is an attachment.
type File struct {
	Name string
	Data []byte
}

// noMentions is every message's allowed_mentions: names and report text
// come from members, and none of it may ping anyone.
func noMentions() *discord.AllowedMentions {
	return &discord.AllowedMentions{Parse: []discord.AllowedMentionType{}}
}

// Create is the message as a new channel post or follow-up. File readers are
// consumed by a send, so call it once per send.
func (m Message) Create() discord.MessageCreate {
	mc := discord.MessageCreate{Content: m.Content, Embeds: m.Embeds, Components: m.Components, AllowedMentions: noMentions()}
	if m.ReplyTo != 0 {
		mc.MessageReference = &discord.MessageReference{MessageID: &m.ReplyTo}
	}
	for _, f := range m.Files {
		mc.Files = append(mc.Files, discord.NewFile(f.Name, "", bytes.NewReader(f.Data)))
	}
	return mc
}

// Update is the message as an edit of a deferred command reply; it replaces
// everything the placeholder had.
func (m Message) Update() discord.MessageUpdate {
	content := m.Content
	embeds := m.Embeds
	if embeds == nil {
		embeds = []discord.Embed{}
	}
	components := m.Components
	if components == nil {
		components = []discord.LayoutComponent{}
	}
	u := discord.MessageUpdate{Content: &content, Embeds: &embeds, Components: &components, AllowedMentions: noMentions()}
	for _, f := range m.Files {
		u.Files = append(u.Files, discord.NewFile(f.Name, "", bytes.NewReader(f.Data)))
	}
	return u
}

// Text is a message that is only words (errors, confirmations).
func Text(s string) Message { return Message{Content: s} }

func (r *Reports) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

// chart draws with the renderer under a deadline and puts the PNG in the
// message's first embed; if it cannot, the same data goes in as a text
// table (in the description when it fits, else attached), so a report is
// never lost to a chart.
func (r *Reports) chart(ctx context.Context, m *Message, l view.Lang, name string, draw func(context.Context, Renderer) ([]byte, error), text func() string) {
	err := render.ErrUnavailable
	var png []byte
	if r.Renderer != nil {
		timeout := r.RenderTimeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		png, err = draw(rctx, r.Renderer)
		cancel()
	}
	e := &m.Embeds[0]
	if err == nil {
		m.Files = append(m.Files, File{Name: name + ".png", Data: png})
		e.Image = &discord.EmbedResource{URL: "attachment://" + name + ".png"}
		return
	}
	r.log().Error("draw a chart: using a text table instead", slog.String("chart", name), slog.Any("error", err))
	table := text()
	if block := "```\n" + table + "\n```"; len(e.Description)+len(block)+1 <= view.MaxDescription {
		if e.Description != "" {
			e.Description += "\n"
		}
		e.Description += block
		return
	}
	m.Files = append(m.Files, File{Name: name + ".txt", Data: []byte(table)})
	addFooter(e, l.T("chart_failed"))
}

// addFooter appends a note to an embed's footer.
func addFooter(e *discord.Embed, note string) {
	if note == "" {
		return
	}
	if e.Footer == nil {
		e.Footer = &discord.EmbedFooter{}
	}
	if e.Footer.Text != "" {
		e.Footer.Text += " "
	}
	e.Footer.Text += note
}

// Marker is the line an automatic post's footer ends with, so that after a
// lost answer the post can be found among the channel's messages instead of
// being sent twice: "rollcall #e123" for an event, "rollcall #w…" for a week.
func Marker(kind, ref string) string { return fmt.Sprintf("rollcall #%s%s", kind[:1], ref) }

// HasMarker reports whether a message (as Discord returns it) carries marker.
func HasMarker(m discord.Message, marker string) bool {
	for _, e := range m.Embeds {
		if e.Footer != nil && strings.HasSuffix(e.Footer.Text, marker) {
			return true
		}
	}
	return strings.HasSuffix(m.Content, marker)
}
