package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/disgoorg/disgo/discord"

	"rollcall/compose"
	"rollcall/discordtext"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// /rollcall set …, settings, log and export.

var guildKeys = optionNames{"timezone": "value", "language": "value", "empty_report": "value", "native_events": "value",
	"report_channels": "channel", "moderator_roles": "role", "roster_roles": "role", "channels": "channel",
	"departed_guild_retention": "departed_retention"}

// prepareSet returns the handler of one /rollcall set subcommand: read its
// options into an edit of the spec, then save.
func (c *Commands) prepareSet(key string) func(r *request) (prepared, error) {
	return func(r *request) (prepared, error) {
		if err := needChangeable(r); err != nil {
			return prepared{}, err
		}
		edit, err := c.readSet(r, key)
		if err != nil {
			return prepared{}, err
		}
		return prepared{run: func(ctx context.Context) (compose.Message, error) {
			_, changes, err := c.save(ctx, r, "set "+key, guildKeys, edit)
			if err != nil {
				return compose.Message{}, err
			}
			return compose.Text(r.lang.T("rc_set_done", changesText(r.lang, changes))), nil
		}}, nil
	}
}

// readSet reads one subcommand's options; the edit it returns applies them.
func (c *Commands) readSet(r *request, key string) (func(*settings.Spec) error, error) {
	switch key {
	case "timezone", "language", "empty-report":
		v, err := r.str("value")
		if err != nil {
			return nil, err
		}
		v = strings.TrimSpace(v)
		return func(s *settings.Spec) error {
			switch key {
			case "timezone":
				s.TimeZone = v
			case "language":
				s.Language = v
			default:
				s.EmptyReport = v
			}
			return nil
		}, nil
	case "native-events":
		v, err := r.flag("value")
		if err != nil {
			return nil, err
		}
		return func(s *settings.Spec) error { s.NativeEvents = &v; return nil }, nil
	case "report-channels":
		chs, err := c.postChannels(r, "channel", "channel_2", "channel_3")
		if err != nil {
			return nil, err
		}
		return func(s *settings.Spec) error { s.ReportChannels = chs; return nil }, nil
	case "moderator-roles", "roster-roles":
		var roles []settings.Snowflake
		for _, o := range []string{"role", "role_2", "role_3"} {
			id, err := r.id(o, discord.ApplicationCommandOptionTypeRole)
			if err != nil {
				return nil, err
			}
			if id != 0 {
				roles = append(roles, settings.Snowflake(id))
			}
		}
		// No role given clears the list: everyone (roster) or only
		// Manage Server (moderators).
		return func(s *settings.Spec) error {
			if key == "moderator-roles" {
				s.ModeratorRoles = roles
			} else {
				s.RosterRoles = roles
			}
			return nil
		}, nil
	case "weekly":
		enabled, hasEnabled, err := r.boolOpt("enabled")
		if err != nil {
			return nil, err
		}
		day, err := r.str("day")
		if err != nil {
			return nil, err
		}
		at, err := r.str("time")
		if err != nil {
			return nil, err
		}
		chs, err := c.postChannels(r, "channel", "channel_2")
		if err != nil {
			return nil, err
		}
		if !hasEnabled && day == "" && at == "" && len(chs) == 0 {
			return nil, inputErr("rc_weekly_nothing")
		}
		return func(s *settings.Spec) error {
			w := &s.WeeklyReport
			if hasEnabled {
				w.Enabled = &enabled
			}
			if day != "" {
				w.Day = day
			}
			if at != "" {
				w.Time = strings.TrimSpace(at)
			}
			if len(chs) > 0 {
				w.Channels = chs
			}
			return nil
		}, nil
	case "privacy":
		ret, err := r.str("retention")
		if err != nil {
			return nil, err
		}
		paused, hasPaused, err := r.boolOpt("paused_by_default")
		if err != nil {
			return nil, err
		}
		dep, err := r.str("departed_retention")
		if err != nil {
			return nil, err
		}
		retention, err := parseDays(r, "retention", ret, true)
		if err != nil {
			return nil, err
		}
		departed, err := parseDays(r, "departed_retention", dep, false)
		if err != nil {
			return nil, err
		}
		if ret == "" && dep == "" && !hasPaused {
			return nil, inputErr("rc_privacy_nothing")
		}
		return func(s *settings.Spec) error {
			if ret != "" {
				s.Retention = retention
			}
			if dep != "" {
				s.DepartedGuildRetention = departed
			}
			if hasPaused {
				s.PausedByDefault = &paused
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown set key %q", key)
}

// parseDays reads "365d" or "52w"; with keep, "keep" (or "forever") means
// no limit (nil).
func parseDays(r *request, option, s string, keep bool) (*settings.Days, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || keep && (s == "keep" || s == "forever" || s == "всё" || s == "навсегда") {
		return nil, nil
	}
	var d settings.Days
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return nil, textError(r.lang.T("rc_bad_days", optionLabel(r.lang, option), settings.Clip(s)))
	}
	return &d, nil
}

// postChannels reads channel options that receive posts, checking each.
func (c *Commands) postChannels(r *request, names ...string) ([]settings.Snowflake, error) {
	var out []settings.Snowflake
	for _, name := range names {
		ch, ok, err := r.channel(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if err := c.canPost(r, name, ch); err != nil {
			return nil, err
		}
		out = append(out, settings.Snowflake(ch.ID))
	}
	return out, nil
}

// prepareSettings shows everything, as the file would say it.
func (c *Commands) prepareSettings(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		g := r.guild
		text, err := settings.TOML(g.Spec)
		if err != nil {
			return compose.Message{}, err
		}
		source := r.lang.T("rc_source_discord", g.Version)
		if g.Source == settings.FromFile {
			source = r.lang.T("rc_source_file")
		}
		m := compose.Message{Embeds: []discord.Embed{{Title: r.lang.T("rc_settings_title"), Color: view.ColorEvent}}}
		block := "```toml\n" + discordtext.Code(text) + "```"
		if len(block)+len(source)+1 <= view.MaxDescription {
			m.Embeds[0].Description = source + "\n" + block
		} else {
			m.Embeds[0].Description = source
			m.Files = append(m.Files, compose.File{Name: "rollcall-settings.toml", Data: []byte(text)})
		}
		return m, nil
	}}, nil
}

// prepareExport attaches the settings as config.toml takes them.
func (c *Commands) prepareExport(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		text, err := settings.TOML(r.guild.Spec)
		if err != nil {
			return compose.Message{}, err
		}
		head := "# rollcall settings of this server, as config.toml takes them: paste the\n" +
			"# [[guilds]] table into config.toml on the host to manage the server from the file.\n"
		m := compose.Text(r.lang.T("rc_export_done"))
		m.Files = []compose.File{{Name: fmt.Sprintf("rollcall-%d.toml", r.guild.ID), Data: []byte(head + text)}}
		return m, nil
	}}, nil
}

// prepareLog lists the last changes: who, when, what from what to what.
func (c *Commands) prepareLog(r *request) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	n, given, err := r.integer("count")
	if err != nil {
		return prepared{}, err
	}
	if !given {
		n = 20
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		var changes []store.Change
		if err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
			changes, err = q.SettingsLog(ctx, r.guild.ID, n)
			return err
		}); err != nil {
			return compose.Message{}, err
		}
		l := r.lang
		e := discord.Embed{Title: l.T("rc_log_title"), Color: view.ColorEvent}
		if len(changes) == 0 {
			e.Description = l.T("rc_log_none")
			return compose.Message{Embeds: []discord.Embed{e}}, nil
		}
		unset := l.T("rc_unset")
		var lines []string
		for _, ch := range changes {
			o, nv := ch.Old, ch.New
			if o == "" {
				o = unset
			}
			if nv == "" {
				nv = unset
			}
			line := l.T("rc_log_line", fmt.Sprintf("<t:%d:f>", ch.At.Unix()), view.Escape(ch.AuthorName), ch.Action,
				"`"+discordtext.Code(ch.Key)+"`", view.Escape(clipValue(o)), view.Escape(clipValue(nv)))
			if chars(strings.Join(lines, "\n"))+chars(line) > view.MaxDescription-50 {
				break
			}
			lines = append(lines, line)
		}
		e.Description = strings.Join(lines, "\n")
		return compose.Message{Embeds: []discord.Embed{e}}, nil
	}}, nil
}

// clipValue shortens a value in the log; 160 characters keep a
// correction's reason readable.
func clipValue(s string) string {
	if r := []rune(s); len(r) > 160 {
		return string(r[:159]) + "…"
	}
	return s
}

func chars(s string) int { return len([]rune(s)) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
