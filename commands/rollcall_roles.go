package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/snowflake/v2"
	"github.com/jackc/pgx/v5"

	"rollcall/bot"
	"rollcall/compose"
	"rollcall/roles"
	"rollcall/settings"
	"rollcall/store"
	"rollcall/view"
)

// /rollcall roles list|add|remove|preview: role rules, kept in the guild's
// settings like schedules, applied by the role job (package jobs) after
// each event and once a day; package roles decides who qualifies.

// confirmAbove is how many changes at once a new rule makes before it asks.
const confirmAbove = 500

func rolesCommands() discord.ApplicationCommandOptionSubCommandGroup {
	schedule := optStr("schedule", false, true)
	_, schedule.Description, schedule.DescriptionLocalizations = rcoLoc("rule_schedule")
	return renamed(group("roles",
		sub("roles-list"),
		sub("roles-add", optRole("role", true), optInt("attended_at_least", false, 1, settings.MaxRuleEvents),
			optInt("of_last", false, 1, settings.MaxRuleEvents), schedule, optInt("minutes_at_least", false, 1, 100000),
			optStr("minutes_in_last", false, false), optInt("streak", false, 2, settings.MaxRuleEvents),
			optStr("inactive_for", false, false), optBool("manage_existing", false)),
		sub("roles-remove", optRole("role", true)),
		sub("roles-preview"),
	), "roles-")
}

// ruleKeys name the settings keys of a rule by their options.
var ruleKeys = optionNames{"role_rules": "role", "schedule": "schedule"}

func (c *Commands) routeRoles() {
	c.mux.SlashCommand("/rollcall/roles/list", c.handleAdmin("rollcall roles list", c.prepareRolesList))
	c.mux.SlashCommand("/rollcall/roles/add", c.handleAdmin("rollcall roles add", c.prepareRolesAdd))
	c.mux.SlashCommand("/rollcall/roles/remove", c.handleAdmin("rollcall roles remove", c.prepareRolesRemove))
	c.mux.SlashCommand("/rollcall/roles/preview", c.handleAdmin("rollcall roles preview", c.prepareRolesPreview))
	c.mux.Autocomplete("/rollcall/roles/add", c.autocomplete(c.ruleScheduleChoices))
	c.mux.ButtonComponent("/rc/rule/{version}/{role}/{nums}", c.confirmRule)
}

// readRule reads roles add's options into a rule.
func readRule(r *request) (settings.RoleRuleSpec, error) {
	var rs settings.RoleRuleSpec
	id, err := r.id("role", discord.ApplicationCommandOptionTypeRole)
	if err != nil {
		return rs, err
	}
	rs.Role = settings.Snowflake(id)
	for _, x := range []struct {
		name string
		dst  **int
	}{{"attended_at_least", &rs.AttendedAtLeast}, {"of_last", &rs.OfLast}, {"minutes_at_least", &rs.MinutesAtLeast}, {"streak", &rs.Streak}} {
		n, given, err := r.integer(x.name)
		if err != nil {
			return rs, err
		}
		if given {
			*x.dst = ptr(n)
		}
	}
	for _, x := range []struct {
		name string
		dst  **settings.Days
	}{{"minutes_in_last", &rs.MinutesInLast}, {"inactive_for", &rs.InactiveFor}} {
		s, err := r.str(x.name)
		if err != nil {
			return rs, err
		}
		if *x.dst, err = parseDays(r, x.name, s, false); err != nil {
			return rs, err
		}
	}
	if rs.Schedule, err = r.str("schedule"); err != nil {
		return rs, err
	}
	rs.Schedule = strings.TrimSpace(rs.Schedule)
	me, given, err := r.boolOpt("manage_existing")
	if err != nil {
		return rs, err
	}
	if given {
		rs.ManageExisting = ptr(me)
	}
	return rs, nil
}

// checkRole refuses a role rollcall could never give: @everyone, a managed
// role, or one not below the bot's highest role.
func checkRole(r *request, caches cache.Caches, id snowflake.ID) error {
	role, ok := r.data.Resolved.Roles[id]
	switch {
	case !ok:
		return badOption(r, "role")
	case uint64(id) == r.gid:
		return textError(r.lang.T("rl_everyone"))
	case role.Managed:
		return textError(r.lang.T("rl_managed", view.Escape(role.Name)))
	}
	top, topName := botTop(caches, snowflake.ID(r.gid))
	if role.Position >= top {
		return textError(r.lang.T("rl_too_high", view.Escape(role.Name), view.Escape(topName)))
	}
	return nil
}

// botTop is the bot's highest role in a guild: its position and name.
func botTop(caches cache.Caches, gid snowflake.ID) (int, string) {
	self, ok := caches.SelfMember(gid)
	if !ok {
		return 0, ""
	}
	top, name := 0, ""
	for _, r := range caches.MemberRoles(self) {
		if r.Position > top {
			top, name = r.Position, r.Name
		}
	}
	return top, name
}

// setRule puts rs into a spec, replacing the role's rule if it has one; it
// reports whether it replaced one.
func setRule(spec *settings.Spec, rs settings.RoleRuleSpec) bool {
	for i, x := range spec.RoleRules {
		if x.Role == rs.Role {
			spec.RoleRules[i] = rs
			return true
		}
	}
	spec.RoleRules = append(spec.RoleRules, rs)
	return false
}

func (c *Commands) prepareRolesAdd(r *request) (prepared, error) {
	if err := needChangeable(r); err != nil {
		return prepared{}, err
	}
	rs, err := readRule(r)
	if err != nil {
		return prepared{}, err
	}
	caches := r.e.Client().Caches
	if err := checkRole(r, caches, snowflake.ID(rs.Role)); err != nil {
		return prepared{}, err
	}
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		// What the rule would do now, before storing it: a rule that
		// changes many members at once asks first.
		spec := cloneSpec(r.guild.Spec)
		setRule(&spec, rs)
		g2, ps := settings.Validate(spec, "", settings.FromDiscord)
		if ps != nil {
			return compose.Message{}, &problemsError{ps: ps, names: ruleKeys}
		}
		rp, err := c.planRule(ctx, g2, caches, r, uint64(rs.Role))
		if err != nil {
			return compose.Message{}, err
		}
		if n := len(rp.Gains) + len(rp.Losses); n > confirmAbove {
			m := compose.Text(r.lang.T("rl_confirm", n, len(rp.Gains), len(rp.Losses)))
			m.Components = []discord.LayoutComponent{discord.ActionRowComponent{Components: []discord.InteractiveComponent{
				discord.ButtonComponent{Style: discord.ButtonStyleDanger, Label: r.lang.T("rl_confirm_yes"), CustomID: ruleButtonID(r.guild, rs)},
				discord.ButtonComponent{Style: discord.ButtonStyleSecondary, Label: r.lang.T("rc_cancel"), CustomID: "/rc/cancel"},
			}}}
			return m, nil
		}
		return c.storeRule(ctx, r, rs, rp)
	}}, nil
}

// planRule plans one rule of g as it would apply now.
func (c *Commands) planRule(ctx context.Context, g *settings.Guild, caches cache.Caches, r *request, role uint64) (roles.RulePlan, error) {
	plan, err := roles.Make(ctx, c.store, g, caches, r.now)
	if err != nil {
		return roles.RulePlan{}, err
	}
	for _, rp := range plan.Rules {
		if rp.Rule.Role == role {
			return rp, nil
		}
	}
	return roles.RulePlan{}, fmt.Errorf("no plan for role %d", role)
}

// storeRule saves the rule and queues its first evaluation now.
func (c *Commands) storeRule(ctx context.Context, r *request, rs settings.RoleRuleSpec, rp roles.RulePlan) (compose.Message, error) {
	replaced := false
	g, _, err := c.save(ctx, r, "roles add", ruleKeys, func(spec *settings.Spec) error {
		replaced = setRule(spec, rs)
		return nil
	})
	if errors.Is(err, errNothingChanged) {
		err = nil
		g = r.guild
	}
	if err != nil {
		return compose.Message{}, err
	}
	if err := c.evaluateRoles(ctx, r); err != nil {
		return compose.Message{}, err
	}
	rule := g.RoleRuleFor(uint64(rs.Role))
	key := "rl_added"
	if replaced {
		key = "rl_updated"
	}
	text := r.lang.T(key, fmt.Sprintf("<@&%d>", rs.Role), r.lang.RuleText(*rule), len(rp.Gains), len(rp.Losses))
	if rp.State == roles.StateNoManageRoles {
		text += "\n" + r.lang.T("rl_no_manage")
	}
	return compose.Text(text), nil
}

// evaluateRoles queues an evaluation of the guild's rules now.
func (c *Commands) evaluateRoles(ctx context.Context, r *request) error {
	if c.poster == nil {
		return nil
	}
	return c.store.Tx(ctx, func(_ *store.Queries, tx pgx.Tx) error {
		return c.poster.EnqueueTx(ctx, tx, []bot.Due{bot.RoleEvaluation(r.gid, r.now)})
	})
}

// ruleButtonID carries a rule waiting for confirmation in the button's
// custom id (at most 100 characters): the settings version it was planned
// against, the role, and the figures; the schedule by its index.
func ruleButtonID(g *settings.Guild, rs settings.RoleRuleSpec) string {
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	d := func(p *settings.Days) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	sched := -1
	for i, s := range g.Spec.Schedules {
		if strings.EqualFold(s.Name, rs.Schedule) {
			sched = i
		}
	}
	me := 0
	if rs.ManageExisting != nil && *rs.ManageExisting {
		me = 1
	}
	return fmt.Sprintf("/rc/rule/%d/%d/%d.%d.%d.%d.%d.%d.%d.%d", g.Version, uint64(rs.Role), n(rs.AttendedAtLeast), n(rs.OfLast),
		n(rs.MinutesAtLeast), d(rs.MinutesInLast), n(rs.Streak), d(rs.InactiveFor), me, sched)
}

// parseRuleButton reads ruleButtonID back against the guild's settings.
func parseRuleButton(g *settings.Guild, role, nums string) (settings.RoleRuleSpec, bool) {
	var rs settings.RoleRuleSpec
	id, err := strconv.ParseUint(role, 10, 64)
	parts := strings.Split(nums, ".")
	if err != nil || len(parts) != 8 {
		return rs, false
	}
	v := make([]int, 8)
	for i, p := range parts {
		if v[i], err = strconv.Atoi(p); err != nil {
			return rs, false
		}
	}
	rs.Role = settings.Snowflake(id)
	num := func(x int) *int {
		if x == 0 {
			return nil
		}
		return ptr(x)
	}
	days := func(x int) *settings.Days {
		if x == 0 {
			return nil
		}
		d := settings.Days(x)
		return &d
	}
	rs.AttendedAtLeast, rs.OfLast, rs.MinutesAtLeast, rs.MinutesInLast = num(v[0]), num(v[1]), num(v[2]), days(v[3])
	rs.Streak, rs.InactiveFor = num(v[4]), days(v[5])
	if v[6] == 1 {
		rs.ManageExisting = ptr(true)
	}
	if v[7] >= 0 {
		if v[7] >= len(g.Spec.Schedules) {
			return rs, false
		}
		rs.Schedule = g.Spec.Schedules[v[7]].Name
	}
	return rs, true
}

// confirmRule is the confirmation of a rule that changes many members.
func (c *Commands) confirmRule(data discord.ButtonInteractionData, e *handler.ComponentEvent) error {
	l := langOf(e)
	gid := e.GuildID()
	if gid == nil || e.Member() == nil {
		return nil
	}
	g, ok := c.reg.Get(uint64(*gid))
	if !ok || !isModerator(g, e.Member()) {
		return e.UpdateMessage(discord.MessageUpdate{Content: ptr(l.T("rc_not_moderator")), Components: &[]discord.LayoutComponent{}})
	}
	rs, ok := parseRuleButton(g, e.Vars["role"], e.Vars["nums"])
	if !ok || e.Vars["version"] != strconv.Itoa(g.Version) {
		return e.UpdateMessage(discord.MessageUpdate{Content: ptr(l.T("rl_expired")), Components: &[]discord.LayoutComponent{}})
	}
	if err := e.DeferUpdateMessage(); err != nil {
		return err
	}
	c.afterClick(e, l, "answer the rule confirmation", func(ctx context.Context) (string, error) {
		r := c.clickRequest(g, e, l)
		spec := cloneSpec(g.Spec)
		setRule(&spec, rs)
		g2, ps := settings.Validate(spec, "", settings.FromDiscord)
		if ps != nil {
			return "", &problemsError{ps: ps, names: ruleKeys}
		}
		rp, err := c.planRule(ctx, g2, e.Client().Caches, r, uint64(rs.Role))
		if err != nil {
			return "", err
		}
		m, err := c.storeRule(ctx, r, rs, rp)
		return m.Content, err
	})
	return nil
}

func (c *Commands) prepareRolesRemove(r *request) (prepared, error) {
	if err := needChangeable(r); err != nil {
		return prepared{}, err
	}
	id, err := r.id("role", discord.ApplicationCommandOptionTypeRole)
	if err != nil {
		return prepared{}, err
	}
	mention := fmt.Sprintf("<@&%d>", id)
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		_, _, err := c.save(ctx, r, "roles remove", ruleKeys, func(spec *settings.Spec) error {
			for i, x := range spec.RoleRules {
				if uint64(x.Role) == uint64(id) {
					spec.RoleRules = append(spec.RoleRules[:i], spec.RoleRules[i+1:]...)
					return nil
				}
			}
			return textError(r.lang.T("rl_no_rule", mention))
		})
		if err != nil {
			return compose.Message{}, err
		}
		if err := c.evaluateRoles(ctx, r); err != nil { // forgets the rule's grants
			return compose.Message{}, err
		}
		return compose.Text(r.lang.T("rl_removed", mention)), nil
	}}, nil
}

// ruleState is a rule's state as /rollcall roles shows it.
func ruleState(l view.Lang, state string) string {
	if state == roles.StateOK {
		return l.T("rl_state_ok")
	}
	return l.T("rl_state_paused", state)
}

// rolesAnswer is /rollcall roles list and preview: an embed titled by
// titleKey saying there are no rules, or what fill writes of the guild's
// role plan now.
func (c *Commands) rolesAnswer(r *request, titleKey string, fill func(l view.Lang, plan *roles.Plan, e *discord.Embed)) (prepared, error) {
	if err := needSetUp(r); err != nil {
		return prepared{}, err
	}
	caches := r.e.Client().Caches
	return prepared{run: func(ctx context.Context) (compose.Message, error) {
		l := r.lang
		e := discord.Embed{Title: l.T(titleKey), Color: view.ColorEvent}
		if len(r.guild.RoleRules) == 0 {
			e.Description = l.T("rl_none")
			return compose.Message{Embeds: []discord.Embed{e}}, nil
		}
		plan, err := roles.Make(ctx, c.store, r.guild, caches, r.now)
		if err != nil {
			return compose.Message{}, err
		}
		fill(l, plan, &e)
		view.Fit(&e)
		return compose.Message{Embeds: []discord.Embed{e}}, nil
	}}, nil
}

func (c *Commands) prepareRolesList(r *request) (prepared, error) {
	return c.rolesAnswer(r, "rl_title", func(l view.Lang, plan *roles.Plan, e *discord.Embed) {
		var lines []string
		for _, rp := range plan.Rules {
			given := rp.Holders - rp.ManagedByHands
			lines = append(lines, l.T("rl_line", fmt.Sprintf("<@&%d>", rp.Rule.Role), l.RuleText(rp.Rule), ruleState(l, rp.State))+
				" · "+l.T("rl_holders", rp.Holders, given))
		}
		e.Description = strings.Join(lines, "\n")
	})
}

func (c *Commands) prepareRolesPreview(r *request) (prepared, error) {
	return c.rolesAnswer(r, "rl_preview_title", func(l view.Lang, plan *roles.Plan, e *discord.Embed) {
		var heads []string
		var lists []view.NamedList
		names := func(cs []roles.Change) []store.Member {
			out := []store.Member{}
			for _, c := range cs {
				out = append(out, store.Member{UserID: c.UserID, DisplayName: c.Name})
			}
			return out
		}
		for _, rp := range plan.Rules {
			role := rp.Name
			if role == "" {
				role = strconv.FormatUint(rp.Rule.Role, 10)
			}
			heads = append(heads, l.T("rl_line", "**"+view.Escape(role)+"**", l.RuleText(rp.Rule), ruleState(l, rp.State)))
			lists = append(lists,
				view.NamedList{Title: role + " · " + l.T("rl_gain"), Members: names(rp.Gains)},
				view.NamedList{Title: role + " · " + l.T("rl_lose"), Members: names(rp.Losses)})
		}
		e.Description = strings.Join(heads, "\n")
		e.Fields, _ = l.NameFields(lists, view.MaxEmbedChars-300-view.EmbedChars(*e))
	})
}

// ruleScheduleChoices offers the guild's schedules by name.
func (c *Commands) ruleScheduleChoices(ctx context.Context, e *handler.AutocompleteEvent, g *settings.Guild, l view.Lang) ([]discord.AutocompleteChoice, error) {
	typed := strings.ToLower(focusedValue(e))
	out := []discord.AutocompleteChoice{}
	for _, s := range g.Schedules {
		if typed == "" || strings.Contains(strings.ToLower(s.Name), typed) {
			out = append(out, discord.AutocompleteChoiceString{Name: clipChoice(s.Name), Value: s.Name})
		}
	}
	return out, nil
}
