package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/cache"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/riverqueue/river"

	"rollcall/clock"
	"rollcall/roles"
	"rollcall/settings"
	"rollcall/store"
)

// RolesArgs is one evaluation of a guild's role rules, after an event's
// report or once a day: unique by guild and time, so the event's end seen
// by two processes is one evaluation.
type RolesArgs struct {
	GuildID uint64    `json:"guild_id,string" river:"unique"`
	At      time.Time `json:"at" river:"unique"`
}

// Kind is River's name for the job type.
func (RolesArgs) Kind() string { return "rollcall_roles" }

// InsertOpts make an evaluation unique and give it its own queue, one at a
// time per process: role changes of a big server should not hold up posts.
func (RolesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueRoles, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

const queueRoles = "roles"

// unheldFor is how long an evaluation waits for a process that holds its
// guild before it is dropped (the bot was removed; the next day's comes).
const unheldFor = time.Hour

// RoleDiscord is what applying role rules needs of the bot: the gateway's
// cache of members and roles, and the REST calls that change a member's
// roles.
type RoleDiscord interface {
	Ready() bool
	// Holds: this process has the guild's members (sharded, its shard).
	Holds(guild uint64) bool
	Caches() cache.Caches
	MemberRoles() MemberRoleREST
}

// MemberRoleREST is the part of disgo's REST client that gives and takes roles.
type MemberRoleREST interface {
	AddMemberRole(guildID, userID, roleID snowflake.ID, opts ...rest.RequestOpt) error
	RemoveMemberRole(guildID, userID, roleID snowflake.ID, opts ...rest.RequestOpt) error
}

// RoleStats count what role rules did, for metrics: roles given and
// taken, changes Discord refused or failed, and members who left before
// their change.
type RoleStats struct {
	Given, Taken, Failed, Left atomic.Int64
}

// RolesWorker evaluates and applies a guild's role rules.
type RolesWorker struct {
	river.WorkerDefaults[RolesArgs]
	Store    *store.Store
	Settings *settings.Registry
	Discord  RoleDiscord
	Clock    clock.Clock
	Log      *slog.Logger
	Stats    *RoleStats
}

// Timeout: a big server's first evaluation may change many members, each
// one request (Discord rate-limits them).
func (w *RolesWorker) Timeout(*river.Job[RolesArgs]) time.Duration { return 30 * time.Minute }

// Work applies the plan: only members whose state changes get a request,
// each with its reason in the audit log. A rule that cannot be applied
// (missing Manage Roles, its role deleted or above the bot's) is skipped
// with one log line when it starts failing, and the others go on; a member
// who left is skipped; anything else (Discord failing) fails the job after
// every other change was tried, and River retries it.
func (w *RolesWorker) Work(ctx context.Context, job *river.Job[RolesArgs]) error {
	a := job.Args
	log := w.Log.With(slog.Uint64("guild_id", a.GuildID), slog.Int64("job_id", job.ID))
	g, ok := w.Settings.Get(a.GuildID)
	if !ok {
		return nil // not served any more
	}
	keep := make([]uint64, len(g.RoleRules))
	for i, r := range g.RoleRules {
		keep[i] = r.Role
	}
	if err := w.Store.ForgetRoleGrants(ctx, g.ID, keep); err != nil {
		return err
	}
	if len(g.RoleRules) == 0 {
		return nil
	}
	if !w.Discord.Ready() {
		return river.JobSnooze(5 * time.Second)
	}
	if !w.Discord.Holds(g.ID) {
		// The guild's members are in the process that holds its shard:
		// leave the job to it (any process may fetch it next).
		if time.Since(job.CreatedAt) > unheldFor {
			log.Warn("role evaluation dropped: no process has held the guild for an hour")
			return nil
		}
		return river.JobSnooze(2 * time.Second)
	}
	now := w.Clock.Now()
	plan, err := roles.Make(ctx, w.Store, g, w.Discord.Caches(), now)
	if err != nil {
		return err
	}
	api := w.Discord.MemberRoles()
	gid := snowflake.ID(g.ID)
	var retry error
	var given, taken int
	for _, rp := range plan.Rules {
		state := rp.State
		if state == roles.StateOK {
			for _, c := range append(append([]roles.Change{}, rp.Gains...), rp.Losses...) {
				call := api.RemoveMemberRole
				if c.Add {
					call = api.AddMemberRole
				}
				cctx, cancel := context.WithTimeout(ctx, discordTimeout)
				err := call(gid, snowflake.ID(c.UserID), snowflake.ID(rp.Rule.Role), rest.WithCtx(cctx), rest.WithReason(roles.Reason(c, rp.Rule)))
				cancel()
				var rerr *rest.Error
				switch {
				case err == nil:
					if err := w.Store.SetRoleGrant(ctx, g.ID, rp.Rule.Role, c.UserID, c.Add, now); err != nil {
						return err
					}
					if c.Add {
						given++
						w.Stats.Given.Add(1)
					} else {
						taken++
						w.Stats.Taken.Add(1)
					}
					continue
				case errors.As(err, &rerr) && rerr.Code == rest.JSONErrorCodeUnknownMember:
					w.Stats.Left.Add(1)
					continue // left meanwhile
				case errors.As(err, &rerr) && rerr.Code == rest.JSONErrorCodeUnknownRole:
					state = roles.StateRoleDeleted
				case errors.As(err, &rerr) && (rerr.Code == rest.JSONErrorCodeLackPermissionsToPerformAction || rerr.Code == rest.JSONErrorCodeMissingAccess):
					// Discord's one answer for both: Manage Roles gone, or
					// the role moved above the bot's since the cache said.
					state = roles.StateForbidden
				default:
					w.Stats.Failed.Add(1)
					retry = fmt.Errorf("change role %d of member %d: %w", rp.Rule.Role, c.UserID, err)
					continue
				}
				w.Stats.Failed.Add(1)
				break
			}
			for _, uid := range rp.StaleGrants {
				if err := w.Store.SetRoleGrant(ctx, g.ID, rp.Rule.Role, uid, false, now); err != nil {
					return err
				}
			}
		}
		changed, err := w.Store.SetRuleState(ctx, g.ID, rp.Rule.Role, state, now)
		if err != nil {
			return err
		}
		switch {
		case changed && state != roles.StateOK:
			log.Warn("role rule paused: rollcall cannot change this role; fix it in Discord and the rule resumes at the next evaluation",
				slog.Uint64("role_id", rp.Rule.Role), slog.String("role", rp.Name), slog.String("reason", state))
		case changed:
			log.Info("role rule applies again", slog.Uint64("role_id", rp.Rule.Role), slog.String("role", rp.Name))
		}
	}
	if given+taken > 0 {
		log.Info("role rules applied", slog.Int("given", given), slog.Int("taken", taken))
	}
	return retry
}
