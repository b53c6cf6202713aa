package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"

	"rollcall/attendance"
	"rollcall/compose"
	"rollcall/report"
	"rollcall/sheet"
	"rollcall/store"
	"rollcall/view"
)

// /privacy is every member's own: what rollcall keeps about them here, all
// of it as files, pause and resume being recorded, and deleting it. Every
// reply is private.

func privacyCommand() discord.SlashCommandCreate {
	c := slashCommand("privacy",
		sub("pv-show"), sub("pv-export"), sub("pv-pause"), sub("pv-resume"), sub("pv-delete"))
	// Subcommand names are the keys without their prefix.
	for i, o := range c.Options {
		s := o.(discord.ApplicationCommandOptionSubCommand)
		s.Name = strings.TrimPrefix(s.Name, "pv-")
		c.Options[i] = s
	}
	return c
}

func (c *Commands) routePrivacy() {
	c.mux.SlashCommand("/privacy/show", c.command("privacy show", false, c.preparePrivacyShow))
	c.mux.SlashCommand("/privacy/export", c.command("privacy export", false, c.preparePrivacyExport))
	c.mux.SlashCommand("/privacy/pause", c.command("privacy pause", true, c.preparePause(true)))
	c.mux.SlashCommand("/privacy/resume", c.command("privacy resume", true, c.preparePause(false)))
	c.mux.SlashCommand("/privacy/delete", c.command("privacy delete", false, c.preparePrivacyDelete))
	c.mux.ButtonComponent("/pv/delete", c.confirmPrivacyDelete)
	c.mux.ButtonComponent("/pv/cancel", c.cancelButton)
}

// memberData loads what is stored about the asker.
func (c *Commands) memberData(ctx context.Context, r *request) (store.MemberData, error) {
	var d store.MemberData
	err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
		d, err = q.MemberData(ctx, r.gid, uint64(r.user))
		return err
	})
	return d, err
}

func nothingStored(d store.MemberData) bool {
	return !d.Known && len(d.Attendance) == 0 && len(d.Interested) == 0 && len(d.Changes) == 0 && len(d.Corrections) == 0 && len(d.Excuses) == 0
}

func (c *Commands) preparePrivacyShow(r *request) (prepared, error) {
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		l := r.lang
		d, err := c.memberData(ctx, r)
		if err != nil {
			return compose.Message{}, err
		}
		if nothingStored(d) {
			return compose.Text(l.T("pv_nothing") + c.policyLine(l)), nil
		}
		m := d.Member
		minutes, first := 0, time.Time{}
		for _, a := range d.Attendance {
			minutes += a.Seen.Masks.Present.Count()
			if first.IsZero() || a.Occurrence.Start.Before(first) {
				first = a.Occurrence.Start
			}
		}
		f := func(name, value string) discord.EmbedField {
			return discord.EmbedField{Name: l.T(name), Value: value, Inline: ptr(true)}
		}
		dash := l.T("nobody_list")
		date := func(t time.Time) string {
			if t.IsZero() {
				return dash
			}
			return fmt.Sprintf("<t:%d:D>", t.Unix())
		}
		var roles []string
		for _, id := range m.Roles {
			roles = append(roles, fmt.Sprintf("<@&%d>", id))
		}
		state := l.T("pv_recorded")
		if r.guild != nil && report.Paused(r.guild, m) {
			state = l.T("pv_paused_state")
		}
		retention := l.T("pv_keep_all")
		if r.guild != nil && r.guild.Retention > 0 {
			retention = l.T("pv_keep_days", int(r.guild.Retention/(24*time.Hour)))
		}
		e := discord.Embed{Title: l.T("pv_show_title"), Color: view.ColorMember, Fields: []discord.EmbedField{
			f("pv_names", view.Escape(nonEmpty(m.DisplayName, dash))+" · "+view.Escape(nonEmpty(m.Username, dash))),
			f("pv_joined", date(m.JoinedAt)), f("pv_left", date(m.LeftAt)),
			f("pv_roles", nonEmpty(strings.Join(roles, " "), dash)),
			f("pv_events", fmt.Sprintf("%d", len(d.Attendance))), f("pv_minutes", fmt.Sprintf("%d", minutes)),
			f("pv_since", date(first)), f("pv_interested", fmt.Sprintf("%d", len(d.Interested))),
			f("pv_changes", fmt.Sprintf("%d", len(d.Changes))),
			f("pv_state", state), f("pv_retention", retention),
		}}
		e.Description = l.T("pv_show_how") + c.policyLine(l)
		if len(d.Attendance) == 0 && len(d.Interested) == 0 && len(d.Changes) == 0 {
			e.Description = l.T("pv_nothing_recorded") + "\n" + e.Description
		}
		return compose.Message{Embeds: []discord.Embed{e}}, nil
	}}, nil
}

func (c *Commands) policyLine(l view.Lang) string {
	if c.privacy == "" {
		return "\n" + l.T("pv_policy_ask")
	}
	return "\n" + l.T("pv_policy", c.privacy)
}

func nonEmpty(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}

// exported is the JSON a member gets: everything stored, as stored, with
// the masks turned into minute numbers (0 is the event's first minute).
type exported struct {
	GuildID     string            `json:"guild_id"`
	UserID      string            `json:"user_id"`
	ExportedAt  time.Time         `json:"exported_at"`
	Member      *exportedMember   `json:"member"`
	Attendance  []exportedEvent   `json:"attendance"`
	Interested  []string          `json:"interested_in_events"`
	Changes     []exportedChange  `json:"settings_changes_made"`
	Corrections []exportedFix     `json:"corrections"`
	Excuses     []exportedExcuse  `json:"excuses"`
	Description map[string]string `json:"about"`
}

// exportedFix is a moderator's correction of the member's record.
type exportedFix struct {
	ID           int64      `json:"id"`
	OccurrenceID int64      `json:"occurrence_id"`
	FromMinute   int        `json:"from_minute"`
	ToMinute     int        `json:"to_minute"`
	Added        bool       `json:"added"`
	Reason       string     `json:"reason"`
	By           string     `json:"by"`
	At           time.Time  `json:"at"`
	UndoneAt     *time.Time `json:"undone_at"`
}

// exportedExcuse is an excuse of the member: from one event, or from the
// events starting in [from, to).
type exportedExcuse struct {
	ID           int64      `json:"id"`
	OccurrenceID int64      `json:"occurrence_id,omitempty"`
	From         *time.Time `json:"from,omitempty"`
	To           *time.Time `json:"to,omitempty"`
	Reason       string     `json:"reason"`
	By           string     `json:"by"`
	At           time.Time  `json:"at"`
	WithdrawnAt  *time.Time `json:"withdrawn_at"`
}

func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

type exportedMember struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Bot         bool     `json:"bot"`
	Roles       []string `json:"roles"`
	JoinedAt    *string  `json:"joined_at"`
	LeftAt      *string  `json:"left_at"`
	Paused      *bool    `json:"paused"`
}

type exportedEvent struct {
	OccurrenceID  int64     `json:"occurrence_id"`
	Event         string    `json:"event"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	DiscordEvent  string    `json:"discord_scheduled_event_id,omitempty"`
	Present       []int     `json:"present_minutes"`
	SelfMuted     []int     `json:"self_muted_minutes"`
	SelfDeafened  []int     `json:"self_deafened_minutes"`
	ServerMuted   []int     `json:"server_muted_minutes"`
	ServerDeafend []int     `json:"server_deafened_minutes"`
}

type exportedChange struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Key    string    `json:"key"`
	Old    string    `json:"old"`
	New    string    `json:"new"`
}

// minutes lists the minute numbers in a mask.
func minutes(m attendance.Mask) []int {
	out := []int{}
	for i := range len(m) * attendance.ChunkMinutes {
		if m.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

func (c *Commands) preparePrivacyExport(r *request) (prepared, error) {
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		l := r.lang
		d, err := c.memberData(ctx, r)
		if err != nil {
			return compose.Message{}, err
		}
		if nothingStored(d) {
			return compose.Text(l.T("pv_nothing")), nil
		}
		x := exported{GuildID: fmt.Sprint(r.gid), UserID: r.user.String(), ExportedAt: r.now.UTC(), Attendance: []exportedEvent{},
			Interested: []string{}, Changes: []exportedChange{}, Corrections: []exportedFix{}, Excuses: []exportedExcuse{},
			Description: map[string]string{
				"minutes":     "minute numbers count from each event's start (0 is its first minute)",
				"attendance":  "as recorded; corrections are applied when reports are read, never to the record",
				"corrections": "minutes [from_minute, to_minute) of an event a moderator added to or removed from the record",
			}}
		if d.Known {
			m := d.Member
			xm := &exportedMember{Username: m.Username, DisplayName: m.DisplayName, Bot: m.Bot, Roles: []string{}, Paused: m.Paused}
			for _, id := range m.Roles {
				xm.Roles = append(xm.Roles, fmt.Sprint(id))
			}
			if !m.JoinedAt.IsZero() {
				s := m.JoinedAt.UTC().Format(time.RFC3339)
				xm.JoinedAt = &s
			}
			if !m.LeftAt.IsZero() {
				s := m.LeftAt.UTC().Format(time.RFC3339)
				xm.LeftAt = &s
			}
			x.Member = xm
		}
		t := sheet.New("occurrence_id", "event", "start", "end", "present_minutes", "self_muted_minutes", "self_deafened_minutes",
			"server_muted_minutes", "server_deafened_minutes", "present", "self_muted", "self_deafened", "server_muted", "server_deafened")
		for _, a := range d.Attendance {
			o, ms := a.Occurrence, a.Seen.Masks
			e := exportedEvent{OccurrenceID: o.ID, Event: o.Schedule, Start: o.Start.UTC(), End: o.End.UTC(),
				Present: minutes(ms.Present), SelfMuted: minutes(ms.SelfMute), SelfDeafened: minutes(ms.SelfDeaf),
				ServerMuted: minutes(ms.ServerMute), ServerDeafend: minutes(ms.ServerDeaf)}
			if o.Native() {
				e.DiscordEvent = fmt.Sprint(o.NativeEventID)
			}
			x.Attendance = append(x.Attendance, e)
			t.Row(sheet.Int(int(o.ID)), sheet.Text(o.Schedule), sheet.Text(o.Start.UTC().Format(time.RFC3339)), sheet.Text(o.End.UTC().Format(time.RFC3339)),
				sheet.Int(ms.Present.Count()), sheet.Int(ms.SelfMute.Count()), sheet.Int(ms.SelfDeaf.Count()), sheet.Int(ms.ServerMute.Count()), sheet.Int(ms.ServerDeaf.Count()),
				sheet.Text(ranges(ms.Present)), sheet.Text(ranges(ms.SelfMute)), sheet.Text(ranges(ms.SelfDeaf)), sheet.Text(ranges(ms.ServerMute)), sheet.Text(ranges(ms.ServerDeaf)))
		}
		for _, id := range d.Interested {
			x.Interested = append(x.Interested, fmt.Sprint(id))
		}
		for _, ch := range d.Changes {
			x.Changes = append(x.Changes, exportedChange{At: ch.At.UTC(), Action: ch.Action, Key: ch.Key, Old: ch.Old, New: ch.New})
		}
		for _, c := range d.Corrections {
			x.Corrections = append(x.Corrections, exportedFix{ID: c.ID, OccurrenceID: c.OccurrenceID, FromMinute: c.From, ToMinute: c.To,
				Added: c.Add, Reason: c.Reason, By: c.AuthorName, At: c.CreatedAt.UTC(), UndoneAt: utcOrNil(c.UndoneAt)})
		}
		for _, e := range d.Excuses {
			x.Excuses = append(x.Excuses, exportedExcuse{ID: e.ID, OccurrenceID: e.OccurrenceID, From: utcOrNil(e.From), To: utcOrNil(e.To),
				Reason: e.Reason, By: e.AuthorName, At: e.CreatedAt.UTC(), WithdrawnAt: utcOrNil(e.UndoneAt)})
		}
		doc, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return compose.Message{}, err
		}
		m := compose.Text(l.T("pv_export_done"))
		m.Files = []compose.File{
			{Name: fmt.Sprintf("rollcall-%s.json", r.user), Data: doc},
			{Name: fmt.Sprintf("rollcall-%s-events.csv", r.user), Data: []byte(t.String())},
		}
		return m, nil
	}}, nil
}

// ranges writes a mask's minutes as "0-44 50-59".
func ranges(m attendance.Mask) string {
	var parts []string
	ms := minutes(m)
	for i := 0; i < len(ms); {
		j := i
		for j+1 < len(ms) && ms[j+1] == ms[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(ms[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ms[i], ms[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}

// preparePause returns /privacy pause (pause true) or resume.
func (c *Commands) preparePause(pause bool) func(r *request) (prepared, error) {
	return func(r *request) (prepared, error) {
		return prepared{run: func(ctx context.Context) (compose.Message, error) {
			if err := c.store.SetPaused(ctx, r.gid, uint64(r.user), pause); err != nil {
				return compose.Message{}, err
			}
			c.member(r.gid, uint64(r.user), &pause)
			if pause {
				return compose.Text(r.lang.T("pv_paused")), nil
			}
			return compose.Text(r.lang.T("pv_resumed")), nil
		}}, nil
	}
}

func (c *Commands) preparePrivacyDelete(r *request) (prepared, error) {
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		l := r.lang
		counts, err := c.store.DeleteMember(ctx, r.gid, uint64(r.user), true)
		if err != nil {
			return compose.Message{}, err
		}
		if counts.Total() == 0 {
			return compose.Text(l.T("pv_nothing")), nil
		}
		m := compose.Text(l.T("pv_delete_confirm", counts["attendance"], counts["interested"], counts["settings_log"]))
		m.Components = []discord.LayoutComponent{discord.ActionRowComponent{Components: []discord.InteractiveComponent{
			discord.ButtonComponent{Style: discord.ButtonStyleDanger, Label: l.T("pv_delete_yes"), CustomID: "/pv/delete"},
			discord.ButtonComponent{Style: discord.ButtonStyleSecondary, Label: l.T("rc_cancel"), CustomID: "/pv/cancel"},
		}}}
		return m, nil
	}}, nil
}

// confirmPrivacyDelete deletes the clicker's own data: the button is on a
// private reply, and it deletes whoever presses it, never someone else.
func (c *Commands) confirmPrivacyDelete(_ discord.ButtonInteractionData, e *handler.ComponentEvent) error {
	c.jobs.Add(1)
	defer c.jobs.Add(-1)
	l := langOf(e)
	gid := e.GuildID()
	if gid == nil {
		return nil
	}
	if err := e.DeferUpdateMessage(); err != nil {
		return err
	}
	user := e.User().ID
	c.afterClick(e, l, "answer the delete button", func(ctx context.Context) (string, error) {
		counts, err := c.store.DeleteMember(ctx, uint64(*gid), uint64(user), false)
		if err != nil {
			return "", err
		}
		c.member(uint64(*gid), uint64(user), nil)
		return l.T("pv_deleted", counts["attendance"], counts["interested"], fmt.Sprintf("<t:%d:f>", c.clock.Now().Unix())), nil
	})
	return nil
}
