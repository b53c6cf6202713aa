package settings

import (
	"slices"
	"sync"
)

// Registry is the settings of every guild this process serves, as of now.
// The file's guilds are put in at start; guilds managed from Discord are put
// in when loaded and replaced when a moderator changes them (in any
// process). Readers get immutable *Guild values: a reader that holds one
// keeps a consistent view while the registry moves on. Safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	guilds map[uint64]*Guild
	// changed is closed and replaced on every change, for waiters.
	changed chan struct{}
}

// NewRegistry returns a registry holding gs.
func NewRegistry(gs ...*Guild) *Registry {
	r := &Registry{guilds: map[uint64]*Guild{}, changed: make(chan struct{})}
	for _, g := range gs {
		r.guilds[g.ID] = g
	}
	return r
}

// Get returns the guild's settings, if it has any.
func (r *Registry) Get(id uint64) (*Guild, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	g, ok := r.guilds[id]
	return g, ok
}

// All returns every guild's settings, ordered by id.
func (r *Registry) All() []*Guild {
	r.mu.RLock()
	out := make([]*Guild, 0, len(r.guilds))
	for _, g := range r.guilds {
		out = append(out, g)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Guild) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Put adds or replaces a guild's settings. A Discord-managed guild's older
// version never replaces a newer one (two notifications may arrive out of
// order), and never replaces a file-managed guild.
func (r *Registry) Put(g *Guild) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.guilds[g.ID]; ok && g.Source == FromDiscord {
		if old.Source == FromFile || old.Version > g.Version {
			return
		}
	}
	r.guilds[g.ID] = g
	close(r.changed)
	r.changed = make(chan struct{})
}

// Remove forgets a Discord-managed guild (its settings were deleted).
func (r *Registry) Remove(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if g, ok := r.guilds[id]; ok && g.Source == FromDiscord {
		delete(r.guilds, id)
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

// Changed returns a channel closed at the next change.
func (r *Registry) Changed() <-chan struct{} {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.changed
}
