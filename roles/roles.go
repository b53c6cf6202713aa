// Package roles decides who should hold the roles a guild's role rules give
// (settings.RoleRule): from everyone's attendance (a report.Ledger, judged
// as every report judges it) and the roles members hold now (disgo's cache),
// a Plan of the members who gain a role and those who lose it, and for each
// rule whether rollcall may apply it at all (Manage Roles, the role's place
// below the bot's). The post-event and daily job applies a plan; /rollcall
// roles preview shows one. Paused members are never given or denied a role.
package roles

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"rollcall/report"
	"rollcall/settings"
	"rollcall/store"
)

// Why a rule cannot be applied now; "" when it can.
const (
	StateOK            = ""
	StateNoManageRoles = "missing Manage Roles"
	StateRoleDeleted   = "the role was deleted"
	StateRoleManaged   = "the role is managed by an integration"
	StateRoleTooHigh   = "the role is not below the bot's highest role"
	StateNotReady      = "the server's members are not loaded yet"
	StateForbidden     = "Discord refused: Manage Roles is missing or the role is not below the bot's highest role"
)

// Change is one member gaining or losing one rule's role.
type Change struct {
	Role   uint64
	UserID uint64
	Name   string
	Add    bool
	// Why says what the member did, for the audit log and the preview.
	Why Why
}

// Why is a member's figures for one rule.
type Why struct {
	Attended, Of  int // of the last events
	Minutes       int
	Streak        int
	LastAttended  time.Time
	NeverAttended bool
}

// RulePlan is what one rule would do now.
type RulePlan struct {
	Rule  settings.RoleRule
	Name  string // the role's name, as Discord has it
	State string // StateOK or why the rule is paused
	// Holders counts the members holding the role now.
	Holders        int
	Gains, Losses  []Change
	StaleGrants    []uint64 // members rollcall gave the role who no longer hold it
	ManagedByHands int      // holders rollcall did not give it to (kept unless ManageExisting)
}

// Plan is every rule's plan for one guild at one time.
type Plan struct {
	GuildID uint64
	At      time.Time
	Rules   []RulePlan
}

// Changes counts the plan's gains and losses.
func (p *Plan) Changes() int {
	n := 0
	for _, r := range p.Rules {
		n += len(r.Gains) + len(r.Losses)
	}
	return n
}

// Make plans the guild's rules at now. caches is the bot's view of the
// guild (its members and their roles, its roles, the bot's own member);
// grants are the members rollcall gave each role (store.RoleGrants).
func Make(ctx context.Context, st *store.Store, g *settings.Guild, caches cache.Caches, now time.Time) (*Plan, error) {
	p := &Plan{GuildID: g.ID, At: now}
	if len(g.RoleRules) == 0 {
		return p, nil
	}
	var ledger *report.Ledger
	var grants map[uint64]map[uint64]bool
	err := st.Snapshot(ctx, func(q *store.Queries) (err error) {
		if ledger, err = report.LoadLedger(ctx, q, g, now.Add(-report.LedgerLookback), now, 0); err != nil {
			return err
		}
		grants, err = q.RoleGrants(ctx, g.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	gid := snowflake.ID(g.ID)
	self, inGuild := caches.SelfMember(gid)
	top, canManage := 0, false
	if inGuild {
		perms := caches.MemberPermissions(self)
		canManage = perms.Has(discord.PermissionManageRoles) || perms.Has(discord.PermissionAdministrator)
		for _, r := range caches.MemberRoles(self) {
			top = max(top, r.Position)
		}
	}
	var members []discord.Member
	for m := range caches.Members(gid) {
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b discord.Member) int { return strings.Compare(a.EffectiveName(), b.EffectiveName()) })
	for _, rule := range g.RoleRules {
		rp := RulePlan{Rule: rule}
		role, ok := caches.Role(gid, snowflake.ID(rule.Role))
		switch {
		case !inGuild || len(members) == 0:
			rp.State = StateNotReady
		case !ok:
			rp.State = StateRoleDeleted
		case role.Managed:
			rp.State = StateRoleManaged
		case !canManage:
			rp.State = StateNoManageRoles
		case role.Position >= top:
			rp.State = StateRoleTooHigh
		}
		if ok {
			rp.Name = role.Name
		}
		given := grants[rule.Role]
		for _, m := range members {
			uid := uint64(m.User.ID)
			has := slices.Contains(m.RoleIDs, snowflake.ID(rule.Role))
			if has {
				rp.Holders++
				if !given[uid] {
					rp.ManagedByHands++
				}
			}
			if given[uid] && !has {
				rp.StaleGrants = append(rp.StaleGrants, uid)
			}
			sm, known := ledger.Members[uid]
			if m.User.Bot || known && report.Paused(g, sm) {
				continue // a paused member is never given or denied a role
			}
			if !known {
				sm = store.Member{GuildID: g.ID, UserID: uid}
				if m.JoinedAt != nil {
					sm.JoinedAt = *m.JoinedAt
				}
			}
			q, why := Qualifies(rule, ledger, sm, now)
			c := Change{Role: rule.Role, UserID: uid, Name: m.EffectiveName(), Why: why}
			switch {
			case q && !has:
				c.Add = true
				rp.Gains = append(rp.Gains, c)
			case !q && has && (given[uid] || rule.ManageExisting):
				rp.Losses = append(rp.Losses, c)
			}
		}
		p.Rules = append(p.Rules, rp)
	}
	return p, nil
}

// Qualifies reports whether a member meets every condition of a rule at
// now, with their figures.
func Qualifies(r settings.RoleRule, l *report.Ledger, m store.Member, now time.Time) (bool, Why) {
	var w Why
	ok := true
	if r.Attended > 0 {
		w.Attended, w.Of = l.LastOf(m.UserID, r.Schedule, r.OfLast)
		ok = ok && w.Attended >= r.Attended
	}
	if r.Minutes > 0 {
		w.Minutes = l.MinutesSince(m.UserID, now.Add(-r.MinutesWindow))
		ok = ok && w.Minutes >= r.Minutes
	}
	if r.Streak > 0 {
		w.Streak = l.Streak(m.UserID, r.Schedule).Current
		ok = ok && w.Streak >= r.Streak
	}
	if r.Inactive > 0 {
		since := now.Add(-r.Inactive)
		w.LastAttended = l.LastAttended(m.UserID)
		w.NeverAttended = w.LastAttended.IsZero()
		// Inactive only once rollcall has recorded for the whole span and
		// the member has been there for it: a newcomer, or a server set up
		// last week, is not "dormant".
		recorded := len(l.Events) > 0 && !l.Events[0].Start.After(since)
		member := m.JoinedAt.IsZero() || !m.JoinedAt.After(since)
		ok = ok && recorded && member && w.LastAttended.Before(since)
	}
	return ok, w
}

// Reason is the audit log's reason for a change, in English (Discord's
// audit log shows it as given; at most 512 characters).
func Reason(c Change, r settings.RoleRule) string {
	var parts []string
	sched := ""
	if r.Schedule != "" {
		sched = " " + r.Schedule
	}
	if r.Attended > 0 {
		parts = append(parts, fmt.Sprintf("attended %d of the last %d%s events (needs %d of %d)", c.Why.Attended, c.Why.Of, sched, r.Attended, r.OfLast))
	}
	if r.Minutes > 0 {
		parts = append(parts, fmt.Sprintf("%d minutes in the last %d days (needs %d)", c.Why.Minutes, int(r.MinutesWindow.Hours()/24), r.Minutes))
	}
	if r.Streak > 0 {
		parts = append(parts, fmt.Sprintf("%d%s events in a row (needs %d)", c.Why.Streak, sched, r.Streak))
	}
	if r.Inactive > 0 {
		days := int(r.Inactive.Hours() / 24)
		if c.Add {
			parts = append(parts, fmt.Sprintf("no event attended in %d days", days))
		} else {
			parts = append(parts, fmt.Sprintf("attended an event in the last %d days", days))
		}
	}
	verb := "rollcall: "
	if !c.Add {
		verb = "rollcall: no longer qualifies: "
	}
	s := verb + strings.Join(parts, " and ")
	if r := []rune(s); len(r) > 512 {
		s = string(r[:511]) + "…"
	}
	return s
}
