package bot

import (
	"context"
	"sync"

	"rollcall/settings"
	"rollcall/store"
)

// Privacy is what members chose about being recorded, per guild, in
// memory: the sampler asks it for every member on every tick, so it must
// not touch the database. It is loaded when a guild arrives and updated
// when a member pauses, resumes or deletes their data, in this process or
// (announced on rollcall_privacy) in another. Safe for concurrent use.
type Privacy struct {
	mu      sync.RWMutex
	choices map[uint64]map[uint64]bool // guild -> user -> paused (explicit choices only)
	// forgotten are members whose data was just deleted: not recorded
	// until they leave voice, so the event they are in keeps nothing of
	// them; joining again starts afresh.
	forgotten map[uint64]map[uint64]bool
	// gen grows with every change, so the sampler knows when the members
	// it leaves out may have changed.
	gen uint64
}

// Generation grows whenever Paused may answer differently.
func (p *Privacy) Generation() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.gen
}

// NewPrivacy returns an empty cache: every member follows the guild's default.
func NewPrivacy() *Privacy {
	return &Privacy{choices: map[uint64]map[uint64]bool{}, forgotten: map[uint64]map[uint64]bool{}}
}

// Paused reports whether a member is not to be recorded in g now.
func (p *Privacy) Paused(g *settings.Guild, user uint64) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.forgotten[g.ID][user] {
		return true
	}
	if c, ok := p.choices[g.ID][user]; ok {
		return c
	}
	return g.PausedByDefault
}

// forget marks a member whose data was deleted while they may be in voice.
func (p *Privacy) forget(guild, user uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if p.forgotten[guild] == nil {
		p.forgotten[guild] = map[uint64]bool{}
	}
	p.forgotten[guild][user] = true
}

// leftVoice ends the forgetting of members no longer in voice: inVoice are
// the members in a voice channel of the guild now.
func (p *Privacy) leftVoice(guild uint64, inVoice map[uint64]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for u := range p.forgotten[guild] {
		if !inVoice[u] {
			delete(p.forgotten[guild], u)
			p.gen++
		}
	}
}

// anyForgotten reports whether the guild has members being forgotten.
func (p *Privacy) anyForgotten(guild uint64) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.forgotten[guild]) > 0
}

// Set records a member's explicit choice; nil forgets it (the member's data
// was deleted, or they never chose).
func (p *Privacy) Set(guild, user uint64, paused *bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if paused == nil {
		delete(p.choices[guild], user)
		return
	}
	if p.choices[guild] == nil {
		p.choices[guild] = map[uint64]bool{}
	}
	p.choices[guild][user] = *paused
}

// Load replaces a guild's choices with the stored ones.
func (p *Privacy) Load(ctx context.Context, st *store.Store, guild uint64) error {
	var choices map[uint64]bool
	if err := st.Snapshot(ctx, func(q *store.Queries) (err error) {
		choices, err = q.PausedChoices(ctx, guild)
		return err
	}); err != nil {
		return err
	}
	p.mu.Lock()
	p.choices[guild] = choices
	p.gen++
	p.mu.Unlock()
	return nil
}
