package commands

import (
	"context"
	"strings"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"

	"rollcall/compose"
	"rollcall/settings"
	"rollcall/view"
)

// /rollcall setup: a first run for a guild the bot has just joined. Run
// again, it changes the time zone, report channel and language.

var setupKeys = optionNames{"report_channels": "report_channel", "voice_channels": "voice_channel", "voice_channel_names": "voice_name",
	"schedules": "name"}

func (c *Commands) prepareSetup(r *request) (prepared, error) {
	if err := fileManaged(r); err != nil {
		return prepared{}, err
	}
	tz, err := r.str("timezone")
	if err != nil {
		return prepared{}, err
	}
	ch, _, err := r.channel("report_channel")
	if err != nil {
		return prepared{}, err
	}
	if err := c.canPost(r, "report_channel", ch); err != nil {
		return prepared{}, err
	}
	lang, err := r.str("language")
	if err != nil {
		return prepared{}, err
	}
	if lang == "" {
		// The guild's Discord language, chosen explicitly: posts then do
		// not change language if the guild's locale does.
		lang = "en"
		if gl := r.e.GuildLocale(); gl != nil && view.LangOf(string(*gl)) == view.RU {
			lang = "ru"
		}
	}
	name, err := r.str("name")
	if err != nil {
		return prepared{}, err
	}
	var first *settings.ScheduleSpec
	if strings.TrimSpace(name) != "" {
		first = &settings.ScheduleSpec{Name: strings.TrimSpace(name)}
		if err := c.readSchedule(r, first); err != nil {
			return prepared{}, err
		}
	} else {
		for _, o := range []string{"times", "days", "duration", "voice_channel", "voice_name"} {
			if _, given := r.data.Options[o]; given {
				return prepared{}, inputErr("rc_setup_needs_name", optionLabel(r.lang, o), optionLabel(r.lang, "name"))
			}
		}
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		g, _, err := c.save(ctx, r, "setup", setupKeys, func(spec *settings.Spec) error {
			spec.TimeZone = strings.TrimSpace(tz)
			spec.ReportChannels = []settings.Snowflake{settings.Snowflake(ch.ID)}
			spec.Language = lang
			if first != nil {
				if findSchedule(spec, first.Name) >= 0 {
					return inputErr("rc_schedule_exists", settings.Clip(first.Name))
				}
				spec.Schedules = append(spec.Schedules, *first)
			}
			return nil
		})
		if err != nil {
			return compose.Message{}, err
		}
		l := r.lang
		text := l.T("rc_setup_done", g.Location.String(), "<#"+ch.ID.String()+">", l.T("rcc_"+g.Language))
		if len(g.Schedules) == 0 {
			text += "\n" + l.T("rc_setup_next")
		} else {
			for i := range g.Schedules {
				text += "\n**" + view.Escape(g.Schedules[i].Name) + "** — " + scheduleSummary(l, g, &g.Schedules[i])
			}
		}
		return compose.Text(text), nil
	}}, nil
}

// zoneChoices offers IANA zones matching what was typed; with nothing
// typed, the one the guild's locale suggests first.
func (c *Commands) zoneChoices(_ context.Context, e *handler.AutocompleteEvent, _ *settings.Guild, _ view.Lang) ([]discord.AutocompleteChoice, error) {
	typed := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(focusedValue(e)), " ", "_"))
	out := []discord.AutocompleteChoice{}
	seen := map[string]bool{}
	add := func(z string) {
		if !seen[z] && len(out) < 25 {
			seen[z] = true
			out = append(out, discord.AutocompleteChoiceString{Name: z, Value: z})
		}
	}
	if typed == "" {
		if gl := e.GuildLocale(); gl != nil {
			if z := settings.SuggestZone(string(*gl)); z != "" {
				add(z)
			}
		}
		if z := settings.SuggestZone(string(e.Locale())); z != "" {
			add(z)
		}
	}
	for _, z := range settings.Zones {
		if typed == "" || strings.Contains(strings.ToLower(z), typed) {
			add(z)
		}
	}
	return out, nil
}

// focusedValue is the text of the option being typed in an autocomplete.
func focusedValue(e *handler.AutocompleteEvent) string {
	for _, o := range e.Data.Options {
		if o.Focused {
			var v string
			_ = jsonUnmarshal(o.Value, &v)
			return v
		}
	}
	return ""
}
