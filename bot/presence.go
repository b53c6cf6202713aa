package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// updatePresence shows the running events and how many are in voice, or the
// next event. It only sends when the text changes: Discord limits presence
// updates per connection.
func (b *Bot) updatePresence(ctx context.Context, now time.Time) {
	var running []string
	var next time.Time
	nextName := ""
	for _, g := range b.reg.All() {
		for j := range g.Schedules {
			s := &g.Schedules[j]
			for _, o := range s.Parsed.Occurrences(now, now.Add(7*24*time.Hour)) {
				if o.Contains(now) {
					running = append(running, fmt.Sprintf("%s %s · %d in voice", o.Schedule, o.Start.Format("15:04"), b.poll.running[snowflake.ID(g.ID)]))
					continue
				}
				if o.Start.After(now) && (next.IsZero() || o.Start.Before(next)) {
					next, nextName = o.Start, o.Schedule+" "+o.Start.Format("Mon 15:04")
				}
				break
			}
		}
	}
	text := strings.Join(running, "; ")
	if text == "" && nextName != "" {
		text = "Next: " + nextName
	}
	if text == b.presence || b.client.Gateway == nil || b.client.Gateway.Status() != gateway.StatusReady {
		return
	}
	if err := b.client.SetPresence(ctx, gateway.WithCustomActivity(text)); err != nil {
		b.log.Warn("set presence", slog.Any("error", err))
		return
	}
	b.presence = text
}
