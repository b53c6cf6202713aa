package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/disgoorg/disgo/discord"

	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// /rollcall is how moderators set rollcall up and change it from Discord:
// setup, schedules, guild keys, the change log and an export of the
// settings as config.toml takes them. Its subcommands live in
// rollcall_*.go by area; this file holds the definition and what they share.

// Channel types an option offers.
var (
	voiceTypes = []discord.ChannelType{discord.ChannelTypeGuildVoice, discord.ChannelTypeGuildStageVoice}
	textTypes  = []discord.ChannelType{discord.ChannelTypeGuildText, discord.ChannelTypeGuildNews}
)

// rcName and rcDesc are a /rollcall part's English name (its key) and the
// localizations from the keys "rc_<key>" and "rc_<key>_desc".
func rcLoc(key string) (map[discord.Locale]string, string, map[discord.Locale]string) {
	return ru("rc_" + key), view.EN.T("rc_" + key + "_desc"), ru("rc_" + key + "_desc")
}

func sub(key string, opts ...discord.ApplicationCommandOption) discord.ApplicationCommandOptionSubCommand {
	n, d, dl := rcLoc(key)
	return discord.ApplicationCommandOptionSubCommand{Name: key, NameLocalizations: n, Description: d, DescriptionLocalizations: dl, Options: opts}
}

func group(key string, subs ...discord.ApplicationCommandOptionSubCommand) discord.ApplicationCommandOptionSubCommandGroup {
	n, d, dl := rcLoc(key)
	return discord.ApplicationCommandOptionSubCommandGroup{Name: key, NameLocalizations: n, Description: d, DescriptionLocalizations: dl, Options: subs}
}

// Option constructors; names and descriptions from "rco_<name>" keys.
func rcoLoc(name string) (map[discord.Locale]string, string, map[discord.Locale]string) {
	return ru("rco_" + name), view.EN.T("rco_" + name + "_desc"), ru("rco_" + name + "_desc")
}

func optStr(name string, required, autocomplete bool, choices ...string) discord.ApplicationCommandOptionString {
	n, d, dl := rcoLoc(name)
	o := discord.ApplicationCommandOptionString{Name: name, NameLocalizations: n, Description: d, DescriptionLocalizations: dl,
		Required: required, Autocomplete: autocomplete}
	for _, v := range choices {
		o.Choices = append(o.Choices, discord.ApplicationCommandOptionChoiceString{Name: view.EN.T("rcc_" + v), NameLocalizations: ru("rcc_" + v), Value: v})
	}
	if len(choices) == 0 && !autocomplete {
		o.MaxLength = ptr(400)
	}
	return o
}

func optChannel(name string, required bool, types []discord.ChannelType) discord.ApplicationCommandOptionChannel {
	n, d, dl := rcoLoc(name)
	return discord.ApplicationCommandOptionChannel{Name: name, NameLocalizations: n, Description: d, DescriptionLocalizations: dl,
		Required: required, ChannelTypes: types}
}

func optRole(name string, required bool) discord.ApplicationCommandOptionRole {
	n, d, dl := rcoLoc(name)
	return discord.ApplicationCommandOptionRole{Name: name, NameLocalizations: n, Description: d, DescriptionLocalizations: dl, Required: required}
}

func optBool(name string, required bool) discord.ApplicationCommandOptionBool {
	n, d, dl := rcoLoc(name)
	return discord.ApplicationCommandOptionBool{Name: name, NameLocalizations: n, Description: d, DescriptionLocalizations: dl, Required: required}
}

func optInt(name string, required bool, lo, hi int) discord.ApplicationCommandOptionInt {
	n, d, dl := rcoLoc(name)
	return discord.ApplicationCommandOptionInt{Name: name, NameLocalizations: n, Description: d, DescriptionLocalizations: dl,
		Required: required, MinValue: &lo, MaxValue: &hi}
}

// scheduleOptions are what add and edit take besides the name.
func scheduleOptions(timesRequired bool) []discord.ApplicationCommandOption {
	return []discord.ApplicationCommandOption{
		optStr("times", timesRequired, false),
		optStr("days", false, false),
		optStr("duration", false, false),
		optChannel("voice_channel", false, voiceTypes),
		optChannel("voice_channel_2", false, voiceTypes),
		optChannel("voice_channel_3", false, voiceTypes),
		optStr("voice_name", false, false),
		optChannel("report_channel", false, textTypes),
		optChannel("report_channel_2", false, textTypes),
		optInt("min_minutes", false, 1, 1440),
		optBool("count_muted", false),
		optBool("count_deafened", false),
		optBool("count_server_deafened", false),
		optStr("late_after", false, false),
		optStr("left_early_before", false, false),
	}
}

// rollcallCommand is /rollcall.
func rollcallCommand() discord.SlashCommandCreate {
	add := sub("add", append([]discord.ApplicationCommandOption{optStr("name", true, false)}, scheduleOptions(true)...)...)
	edit := sub("edit", append([]discord.ApplicationCommandOption{optStr("schedule", true, true), optStr("new_name", false, false)}, scheduleOptions(false)...)...)
	c := slashCommand("rollcall",
		sub("setup",
			optStr("timezone", true, true),
			optChannel("report_channel", true, textTypes),
			optStr("language", false, false, "en", "ru"),
			optStr("name", false, false),
			optStr("times", false, false),
			optStr("days", false, false),
			optStr("duration", false, false),
			optChannel("voice_channel", false, voiceTypes),
			optStr("voice_name", false, false),
		),
		sub("settings"),
		sub("log", optInt("count", false, 1, 50)),
		sub("export"),
		group("schedule", add, edit,
			sub("remove", optStr("schedule", true, true), optBool("delete_history", false)),
			sub("list"),
			sub("show", optStr("schedule", true, true)),
		),
		group("set",
			sub("timezone", optStr("value", true, true)),
			sub("language", optStr("value", true, false, "en", "ru", "auto")),
			sub("report-channels", optChannel("channel", true, textTypes), optChannel("channel_2", false, textTypes), optChannel("channel_3", false, textTypes)),
			sub("empty-report", optStr("value", true, false, "post", "skip")),
			sub("moderator-roles", optRole("role", false), optRole("role_2", false), optRole("role_3", false)),
			sub("roster-roles", optRole("role", false), optRole("role_2", false), optRole("role_3", false)),
			sub("weekly", optBool("enabled", false), optStr("day", false, false, "mon", "tue", "wed", "thu", "fri", "sat", "sun"),
				optStr("time", false, false), optChannel("channel", false, textTypes), optChannel("channel_2", false, textTypes)),
			sub("native-events", optBool("value", true)),
			sub("privacy", optStr("retention", false, false), optBool("paused_by_default", false), optStr("departed_retention", false, false)),
		),
		correctCommands(),
		excuseCommands(),
		rolesCommands(),
	)
	return moderatorsOnly(c)
}

// fileManaged refuses a change to a guild whose settings are in config.toml.
func fileManaged(r *request) error {
	if r.guild != nil && r.guild.Source == settings.FromFile {
		return inputErr("rc_file_managed")
	}
	return nil
}

// needSetUp refuses a subcommand that needs settings in a guild without them.
func needSetUp(r *request) error {
	if r.guild == nil {
		return inputErr("rc_not_set_up")
	}
	return nil
}

// needChangeable refuses a change in a guild that is not set up, or whose
// settings are managed by config.toml.
func needChangeable(r *request) error {
	if err := needSetUp(r); err != nil {
		return err
	}
	return fileManaged(r)
}

// optionNames maps a settings key (settings.Problem.Field) to the option a
// /rollcall subcommand takes it with, so a problem names what the
// moderator typed.
type optionNames map[string]string

var scheduleKeys = optionNames{
	"voice_channels": "voice_channel", "voice_channel_names": "voice_name", "count_self_muted": "count_muted",
	"count_self_deafened": "count_deafened",
}

// namer writes a settings key as the option's name in l.
func (n optionNames) namer(l view.Lang) func(string) string {
	return func(key string) string {
		if o, ok := n[key]; ok {
			key = o
		}
		return optionLabel(l, key)
	}
}

// optionLabel is an option's name as the moderator sees it.
func optionLabel(l view.Lang, name string) string {
	if l == view.RU {
		if s := view.RU.T("rco_" + name); s != "rco_"+name {
			return s
		}
	}
	return name
}

// problemsError is every problem settings.Validate found, shown with the
// options' names: nothing was changed.
type problemsError struct {
	ps    settings.Problems
	names optionNames
}

func (e *problemsError) Error() string { return e.ps.Error() }

// In lists the problems in l.
func (e *problemsError) In(l view.Lang) string {
	var lines []string
	for _, p := range e.ps {
		field := p.Field
		if o, ok := e.names[field]; ok {
			field = o
		}
		line := "**" + optionLabel(l, field) + "**: " + p.Text(string(l), e.names.namer(l))
		// A list written wrong: say how to write several.
		if h := l.T("rc_hint_" + field); h != "rc_hint_"+field && (p.Code == "time_bad" || p.Code == "day_bad") {
			line += " " + h
		}
		lines = append(lines, line)
	}
	return l.T("rc_problems", strings.Join(lines, "\n"))
}

// textError is a refusal whose words are already made.
type textError string

func (e textError) Error() string       { return string(e) }
func (e textError) In(view.Lang) string { return string(e) }

// errNothingChanged: the settings already say what was asked.
var errNothingChanged = errors.New("nothing changed")

// save applies edit to the guild's stored settings, validates the result
// with the same code as config.toml's, stores it with a line per changed
// key in the log, and puts it in the registry: this process applies it at
// its next tick, the others when the notification reaches them. When
// another change lands in between, the edit is applied again to what is
// stored now (edit itself refuses what it cannot apply to the new state).
func (c *Commands) save(ctx context.Context, r *request, action string, names optionNames, edit func(*settings.Spec) error) (*settings.Guild, []settings.Change, error) {
	if err := fileManaged(r); err != nil {
		return nil, nil, err
	}
	gid := r.gid
	for attempt := 0; ; attempt++ {
		var stored store.StoredSettings
		err := c.store.Snapshot(ctx, func(q *store.Queries) (err error) {
			stored, err = q.GuildSetting(ctx, gid)
			return err
		})
		var spec settings.Spec
		switch {
		case errors.Is(err, store.ErrNotFound):
			spec = settings.Spec{ID: settings.Snowflake(gid)}
		case err != nil:
			return nil, nil, err
		default:
			if spec, err = settings.ParseStored(stored.Spec); err != nil {
				return nil, nil, err
			}
		}
		old := cloneSpec(spec)
		if err := edit(&spec); err != nil {
			return nil, nil, err
		}
		g, ps := settings.Validate(spec, "", settings.FromDiscord)
		if ps != nil {
			return nil, nil, &problemsError{ps: ps, names: names}
		}
		changes := settings.Diff(old, g.Spec)
		if len(changes) == 0 {
			return nil, nil, errNothingChanged
		}
		doc, err := json.Marshal(g.Spec)
		if err != nil {
			return nil, nil, err
		}
		author := r.author
		lines := make([]store.Change, len(changes))
		for i, ch := range changes {
			lines[i] = store.Change{AuthorID: uint64(author.ID), AuthorName: author.EffectiveName(), Action: action, Key: ch.Key, Old: ch.Old, New: ch.New}
		}
		v, err := c.store.SaveGuildSettings(ctx, gid, doc, stored.Version, r.now, lines)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		g.Version = v
		c.reg.Put(g)
		return g, changes, nil
	}
}

// cloneSpec copies a spec deeply (the edit must not change the original).
func cloneSpec(s settings.Spec) settings.Spec {
	b, _ := json.Marshal(s)
	var out settings.Spec
	_ = json.Unmarshal(b, &out)
	return out
}

// changesText lists changes for a reply: "`timezone`: Europe/Moscow → Asia/Tokyo".
func changesText(l view.Lang, changes []settings.Change) string {
	var lines []string
	unset := l.T("rc_unset")
	for _, ch := range changes {
		o, n := ch.Old, ch.New
		if o == "" {
			o = unset
		}
		if n == "" {
			n = unset
		}
		lines = append(lines, fmt.Sprintf("`%s`: %s → %s", ch.Key, view.Escape(o), view.Escape(n)))
	}
	return strings.Join(lines, "\n")
}

// scheduleRef is a schedule as an autocomplete choice's value: its name and
// a hash of what it says, so an edit of a schedule that changed since the
// moderator picked it is refused instead of silently overwriting.
func scheduleRef(s settings.ScheduleSpec) string {
	return s.Name + "@" + scheduleHash(s)
}

func scheduleHash(s settings.ScheduleSpec) string {
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:4])
}

// parseScheduleRef splits an autocomplete value; a typed name has no hash.
func parseScheduleRef(v string) (name, hash string) {
	if i := strings.LastIndex(v, "@"); i > 0 && len(v)-i == 9 {
		if _, err := hex.DecodeString(v[i+1:]); err == nil {
			return v[:i], v[i+1:]
		}
	}
	return strings.TrimSpace(v), ""
}

// findSchedule finds a schedule by name, case-insensitively.
func findSchedule(spec *settings.Spec, name string) int {
	for i, s := range spec.Schedules {
		if strings.EqualFold(strings.TrimSpace(s.Name), strings.TrimSpace(name)) {
			return i
		}
	}
	return -1
}

// channelOption reads a channel option as Discord resolved it.
func (r *request) channel(name string) (discord.ResolvedChannel, bool, error) {
	id, err := r.id(name, discord.ApplicationCommandOptionTypeChannel)
	if err != nil || id == 0 {
		return discord.ResolvedChannel{}, false, err
	}
	ch, ok := r.data.Resolved.Channels[id]
	if !ok {
		return discord.ResolvedChannel{}, false, badOption(r, name)
	}
	return ch, true, nil
}

// integer reads an integer option; ok false when absent.
func (r *request) integer(name string) (int, bool, error) {
	o, ok := r.data.Options[name]
	if !ok {
		return 0, false, nil
	}
	var v int
	if o.Type != discord.ApplicationCommandOptionTypeInt || json.Unmarshal(o.Value, &v) != nil {
		return 0, false, badOption(r, name)
	}
	return v, true, nil
}

// boolOpt reads a boolean option; ok false when absent.
func (r *request) boolOpt(name string) (bool, bool, error) {
	if _, ok := r.data.Options[name]; !ok {
		return false, false, nil
	}
	v, err := r.flag(name)
	return v, true, err
}

// postPermissions are what a report channel needs the bot to have.
var postPermissions = []struct {
	perm discord.Permissions
	key  string
}{
	{discord.PermissionViewChannel, "perm_view"},
	{discord.PermissionSendMessages, "perm_send"},
	{discord.PermissionEmbedLinks, "perm_embed"},
	{discord.PermissionAttachFiles, "perm_attach"},
	{discord.PermissionReadMessageHistory, "perm_history"},
}

// canPost checks that the bot may post reports in a channel: its type, and
// the permissions the bot has there (Discord computes them from the guild's
// roles and the channel's overwrites; so does disgo's cache).
func (c *Commands) canPost(r *request, option string, ch discord.ResolvedChannel) error {
	l := r.lang
	label := optionLabel(l, option)
	if ch.Type != discord.ChannelTypeGuildText && ch.Type != discord.ChannelTypeGuildNews {
		return textError(l.T("rc_not_text", label, "<#"+ch.ID.String()+">"))
	}
	caches := r.e.Client().Caches
	gch, ok := caches.GuildMessageChannel(ch.ID)
	self, okSelf := caches.SelfMember(*r.e.GuildID())
	if !ok || !okSelf {
		return nil // not cached yet: the post itself will say if it cannot go there
	}
	perms := caches.MemberPermissionsInChannel(gch, self)
	var missing []string
	for _, p := range postPermissions {
		if !perms.Has(p.perm) {
			missing = append(missing, l.T(p.key))
		}
	}
	if len(missing) > 0 {
		return textError(l.T("rc_cannot_post", label, "<#"+ch.ID.String()+">", strings.Join(missing, ", ")))
	}
	return nil
}

// isVoiceChannel checks a voice channel option's type.
func isVoiceChannel(r *request, option string, ch discord.ResolvedChannel) error {
	if ch.Type != discord.ChannelTypeGuildVoice && ch.Type != discord.ChannelTypeGuildStageVoice {
		return textError(r.lang.T("rc_not_voice", optionLabel(r.lang, option), "<#"+ch.ID.String()+">"))
	}
	return nil
}
