package discordsim

import (
	"slices"
	"sort"

	"github.com/disgoorg/snowflake/v2"
)

// Transcripts across channels, for checks that every message or every
// credential the bot handled passes a rule.

// BotMessages returns every message the bot made, in guild channels and
// DMs, oldest first: channel posts, interaction responses (ephemeral ones
// and "thinking" placeholders included) and follow-ups, deleted ones too
// (Deleted set). Each has its Writes, e.g. to check that every create and
// edit set allowed_mentions.
func (s *Server) BotMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messageIndex {
		if m.authorID != s.botID {
			continue
		}
		pm := s.publicMessageLocked(m)
		pm.Deleted = m.deleted
		out = append(out, pm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// InteractionTokens returns the token of every interaction the simulator
// has sent (commands, autocomplete, button clicks), in the order sent: each
// is a credential for 15 minutes, so a test can check that none reached a
// log.
func (s *Server) InteractionTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]snowflake.ID, 0, len(s.interactions))
	for id := range s.interactions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.interactions[id].token)
	}
	return out
}
