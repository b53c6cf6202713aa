package attendance

// Class is how a member's attendance of one occurrence is judged.
type Class string

// The classes, from best to worst.
const (
	Attended  Class = "attended"   // came in time and stayed to the end
	Late      Class = "late"       // first counted minute after the grace period
	LeftEarly Class = "left_early" // last counted minute before the end margin
	Partial   Class = "partial"    // both late and left early
	NoShow    Class = "no_show"    // fewer counted minutes than the minimum
)

// Masks are the stored voice-state masks of one member in one occurrence.
type Masks struct {
	Present, SelfMute, SelfDeaf, ServerMute, ServerDeaf Mask
	// Added and Removed are the minutes moderators' corrections changed,
	// already applied to Present: a chart draws them apart.
	Added, Removed Mask
}

// Correct applies one correction to what was recorded: minutes [from, to)
// added to or removed from the member's presence. Applied in the order the
// corrections were made, a later one wins over an earlier one on the same
// minutes. A removed minute is not counted whatever voice state it had.
func (m *Masks) Correct(from, to int, add bool) {
	var span Mask
	for i := max(from, 0); i < to; i++ {
		span.Set(i)
	}
	if add {
		m.Present = m.Present.Or(span)
		m.Added = m.Added.Or(span)
		m.Removed = m.Removed.AndNot(span)
		// Added minutes count as present and unmuted: the moderator says the
		// member was there.
		m.SelfMute, m.SelfDeaf = m.SelfMute.AndNot(span), m.SelfDeaf.AndNot(span)
		m.ServerMute, m.ServerDeaf = m.ServerMute.AndNot(span), m.ServerDeaf.AndNot(span)
		return
	}
	m.Present = m.Present.AndNot(span)
	m.Removed = m.Removed.Or(span)
	m.Added = m.Added.AndNot(span)
}

// Rules say which minutes count and how a member is classed. They are
// applied when reading, never when recording, so changing a rule recomputes
// all history.
type Rules struct {
	// MinMinutes is the fewest counted minutes that make a member attend.
	MinMinutes int
	// Whether minutes spent self-muted, self-deafened or server-deafened count.
	CountSelfMuted, CountSelfDeafened, CountServerDeafened bool
	// LateAfter: a member whose first counted minute is at or after this
	// minute of the event is late. 0 disables.
	LateAfter int
	// LeftEarlyBefore: a member whose last counted minute ends more than this
	// many minutes before the event's end left early. 0 disables.
	LeftEarlyBefore int
}

// DefaultRules count every minute present, with five minutes of grace at
// both ends.
func DefaultRules() Rules {
	return Rules{MinMinutes: 1, CountSelfMuted: true, CountSelfDeafened: true, CountServerDeafened: true, LateAfter: 5, LeftEarlyBefore: 5}
}

// Counted returns the minutes that count under r.
func (r Rules) Counted(m Masks) Mask {
	c := m.Present
	if !r.CountSelfMuted {
		c = c.AndNot(m.SelfMute)
	}
	if !r.CountSelfDeafened {
		c = c.AndNot(m.SelfDeaf)
	}
	if !r.CountServerDeafened {
		c = c.AndNot(m.ServerDeaf)
	}
	return c
}

// Classify judges one member in an occurrence of the given length and
// returns the class and the counted minutes.
func (r Rules) Classify(m Masks, minutes int) (Class, int) {
	c := r.Counted(m)
	n := c.Count()
	if n == 0 || n < r.MinMinutes {
		return NoShow, n
	}
	late := r.LateAfter > 0 && c.First() >= r.LateAfter
	early := r.LeftEarlyBefore > 0 && c.Last() < minutes-r.LeftEarlyBefore
	switch {
	case late && early:
		return Partial, n
	case late:
		return Late, n
	case early:
		return LeftEarly, n
	}
	return Attended, n
}

// Attends reports whether the class counts as having attended.
func (c Class) Attends() bool { return c != NoShow }
