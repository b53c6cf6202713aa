package discordsim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// ScheduledEventSpec describes a native guild scheduled event. ChannelID 0
// makes an external event at Location (Discord requires an end time for
// those; a zero End becomes Start + 1 h). Status defaults to Scheduled and
// CreatorID to the guild owner.
type ScheduledEventSpec struct {
	Name, Description string
	ChannelID         snowflake.ID
	Location          string
	Start, End        time.Time
	Status            discord.ScheduledEventStatus
	CreatorID         snowflake.ID
}

type scheduledEvent struct {
	id         snowflake.ID
	spec       ScheduledEventSpec
	interested []snowflake.ID // sorted ascending
}

func (s *Server) scheduledEventJSONLocked(g *guild, e *scheduledEvent, withCount bool) obj {
	sp := e.spec
	var ch, meta, end any
	entity := 3
	if sp.ChannelID != 0 {
		ch = sp.ChannelID.String()
		entity = 2
		if c := g.channel(sp.ChannelID); c != nil && c.typ == discord.ChannelTypeGuildStageVoice {
			entity = 1
		}
	} else {
		meta = obj{"location": sp.Location}
	}
	if !sp.End.IsZero() {
		end = timestamp(sp.End)
	}
	o := obj{
		"id":                   e.id.String(),
		"guild_id":             g.id.String(),
		"channel_id":           ch,
		"creator_id":           sp.CreatorID.String(),
		"name":                 sp.Name,
		"description":          nullable(sp.Description),
		"scheduled_start_time": timestamp(sp.Start),
		"scheduled_end_time":   end,
		"privacy_level":        2,
		"status":               int(sp.Status),
		"entity_type":          entity,
		"entity_id":            nil,
		"entity_metadata":      meta,
		"image":                nil,
		"recurrence_rule":      nil,
		// Exceptions belong to recurring events, which the simulator has not.
		"guild_scheduled_event_exceptions": []any{},
	}
	if u := s.users[sp.CreatorID]; u != nil {
		o["creator"] = userJSON(u)
	}
	if withCount {
		o["user_count"] = len(e.interested)
	}
	return o
}

func (g *guild) event(id snowflake.ID) *scheduledEvent {
	for _, e := range g.events {
		if e.id == id {
			return e
		}
	}
	return nil
}

func (s *Server) normalizeEventLocked(g *guild, sp *ScheduledEventSpec) {
	if sp.Status == 0 {
		sp.Status = discord.ScheduledEventStatusScheduled
	}
	if sp.CreatorID == 0 {
		sp.CreatorID = g.ownerID
	}
	if sp.Start.IsZero() {
		sp.Start = s.opts.Now().Add(time.Hour)
	}
	if sp.ChannelID == 0 && sp.End.IsZero() {
		sp.End = sp.Start.Add(time.Hour)
	}
	if sp.ChannelID != 0 && g.channel(sp.ChannelID) == nil {
		panic(fmt.Sprintf("discordsim: unknown channel %s for scheduled event", sp.ChannelID))
	}
}

// CreateScheduledEvent creates a native scheduled event and dispatches
// GUILD_SCHEDULED_EVENT_CREATE (intent GUILD_SCHEDULED_EVENTS).
func (s *Server) CreateScheduledEvent(guildID snowflake.ID, spec ScheduledEventSpec) snowflake.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	s.normalizeEventLocked(g, &spec)
	e := &scheduledEvent{id: s.newIDLocked(), spec: spec}
	g.events = append(g.events, e)
	s.dispatchGuildLocked(g.id, gateway.IntentGuildScheduledEvents, "GUILD_SCHEDULED_EVENT_CREATE", func(*session) any {
		return s.scheduledEventJSONLocked(g, e, false)
	})
	s.notifyLocked()
	return e.id
}

// UpdateScheduledEvent replaces an event's fields and dispatches GUILD_SCHEDULED_EVENT_UPDATE.
func (s *Server) UpdateScheduledEvent(guildID, eventID snowflake.ID, spec ScheduledEventSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	e := g.event(eventID)
	if e == nil {
		panic(fmt.Sprintf("discordsim: unknown scheduled event %s", eventID))
	}
	s.normalizeEventLocked(g, &spec)
	e.spec = spec
	s.dispatchGuildLocked(g.id, gateway.IntentGuildScheduledEvents, "GUILD_SCHEDULED_EVENT_UPDATE", func(*session) any {
		return s.scheduledEventJSONLocked(g, e, false)
	})
	s.notifyLocked()
}

// DeleteScheduledEvent deletes an event and dispatches GUILD_SCHEDULED_EVENT_DELETE.
func (s *Server) DeleteScheduledEvent(guildID, eventID snowflake.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	for i, e := range g.events {
		if e.id == eventID {
			g.events = append(g.events[:i], g.events[i+1:]...)
			s.dispatchGuildLocked(g.id, gateway.IntentGuildScheduledEvents, "GUILD_SCHEDULED_EVENT_DELETE", func(*session) any {
				return s.scheduledEventJSONLocked(g, e, false)
			})
			s.notifyLocked()
			return
		}
	}
}

// AddInterested marks a member interested in an event and dispatches
// GUILD_SCHEDULED_EVENT_USER_ADD.
func (s *Server) AddInterested(guildID, eventID, userID snowflake.ID) {
	s.setInterested(guildID, eventID, userID, true)
}

// RemoveInterested undoes AddInterested and dispatches GUILD_SCHEDULED_EVENT_USER_REMOVE.
func (s *Server) RemoveInterested(guildID, eventID, userID snowflake.ID) {
	s.setInterested(guildID, eventID, userID, false)
}

func (s *Server) setInterested(guildID, eventID, userID snowflake.ID, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.guildLocked(guildID)
	e := g.event(eventID)
	if e == nil {
		panic(fmt.Sprintf("discordsim: unknown scheduled event %s", eventID))
	}
	i := sort.Search(len(e.interested), func(i int) bool { return e.interested[i] >= userID })
	present := i < len(e.interested) && e.interested[i] == userID
	name := "GUILD_SCHEDULED_EVENT_USER_ADD"
	switch {
	case add && !present:
		e.interested = append(e.interested[:i], append([]snowflake.ID{userID}, e.interested[i:]...)...)
	case !add && present:
		e.interested = append(e.interested[:i], e.interested[i+1:]...)
		name = "GUILD_SCHEDULED_EVENT_USER_REMOVE"
	default:
		return
	}
	s.dispatchGuildLocked(g.id, gateway.IntentGuildScheduledEvents, name, func(*session) any {
		return obj{"guild_scheduled_event_id": e.id.String(), "user_id": userID.String(), "guild_id": g.id.String()}
	})
	s.notifyLocked()
}

// ---- REST ----

func (s *Server) handleListEvents(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.restGuildLocked(rc)
	if g == nil {
		return
	}
	withCount := rc.r.URL.Query().Get("with_user_count") == "true"
	out := []any{}
	for _, e := range g.events {
		out = append(out, s.scheduledEventJSONLocked(g, e, withCount))
	}
	writeJSON(rc.w, http.StatusOK, out)
}

// restEventLocked finds the guild and scheduled event of a REST route; a
// nil event means an error was written.
func (s *Server) restEventLocked(rc *reqCtx) (*guild, *scheduledEvent) {
	g := s.restGuildLocked(rc)
	if g == nil {
		return nil, nil
	}
	id, _ := snowflake.Parse(rc.param("event"))
	e := g.event(id)
	if e == nil {
		writeJSON(rc.w, http.StatusNotFound, apiError(10070, "Unknown Guild Scheduled Event"))
	}
	return g, e
}

func (s *Server) handleGetEvent(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.restEventLocked(rc)
	if e == nil {
		return
	}
	writeJSON(rc.w, http.StatusOK, s.scheduledEventJSONLocked(g, e, rc.r.URL.Query().Get("with_user_count") == "true"))
}

// handleEventUsers serves GET .../scheduled-events/{event}/users with
// limit (1-100, default 100), before/after (user ids) and with_member.
func (s *Server) handleEventUsers(rc *reqCtx) {
	q := rc.r.URL.Query()
	limit, errs := queryInt(q.Get("limit"), 100, 1, 100)
	if errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"limit": errs}))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.restEventLocked(rc)
	if e == nil {
		return
	}
	ids := e.interested
	if b := q.Get("before"); b != "" {
		before, _ := snowflake.Parse(b)
		i := sort.Search(len(ids), func(i int) bool { return ids[i] >= before })
		ids = ids[max(0, i-limit):i]
	} else {
		after, _ := snowflake.Parse(q.Get("after"))
		i := sort.Search(len(ids), func(i int) bool { return ids[i] > after })
		ids = ids[i:min(len(ids), i+limit)]
	}
	withMember := q.Get("with_member") == "true"
	out := []any{}
	for _, uid := range ids {
		// response 1 = INTERESTED: the only answer a member can give to a
		// non-recurring event.
		item := obj{"guild_scheduled_event_id": e.id.String(), "user_id": uid.String(),
			"user": userJSON(s.users[uid]), "response": 1}
		if m := g.members[uid]; withMember && m != nil {
			item["member"] = s.memberJSONLocked(g, m)
		}
		out = append(out, item)
	}
	writeJSON(rc.w, http.StatusOK, out)
}

// queryInt parses an integer query parameter within [lo, hi].
func queryInt(v string, def, lo, hi int) (int, obj) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fieldError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not int.", v))
	}
	if n < lo || n > hi {
		return 0, fieldError("NUMBER_TYPE_MAX", fmt.Sprintf("int value should be between %d and %d.", lo, hi))
	}
	return n, nil
}
