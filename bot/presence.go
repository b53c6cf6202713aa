package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	disgobot "github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/gateway"

	"rollcall/settings"
)

// presenceText shows the running events and how many are in voice, or the
// next event.
func presenceText(gs []*settings.Guild, present map[uint64]int, now time.Time) string {
	var running []string
	var next time.Time
	nextName := ""
	for _, g := range gs {
		for j := range g.Schedules {
			s := &g.Schedules[j]
			for _, o := range s.Parsed.Occurrences(now, now.Add(7*24*time.Hour)) {
				if o.Contains(now) {
					running = append(running, fmt.Sprintf("%s %s · %d in voice", o.Schedule, o.Start.Format("15:04"), present[g.ID]))
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
	return text
}

// presence sends the bot's presence from a goroutine of its own: the
// update is a gateway write, which must not hold up a tick. Only the latest
// text is sent, and only when it changed: Discord limits presence updates
// per connection.
type presence struct {
	log    *slog.Logger
	latest chan string
	sent   string
}

func (p *presence) set(text string) {
	select {
	case <-p.latest:
	default:
	}
	p.latest <- text
}

func (p *presence) run(ctx context.Context, client *disgobot.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case text := <-p.latest:
			if text == p.sent {
				continue
			}
			// Every connection this process has: the gateway, or each shard.
			var gws []gateway.Gateway
			if client.Gateway != nil {
				gws = append(gws, client.Gateway)
			} else if client.ShardManager != nil {
				for sh := range client.ShardManager.Shards() {
					gws = append(gws, sh)
				}
			}
			ok := len(gws) > 0
			for _, g := range gws {
				if g.Status() != gateway.StatusReady {
					ok = false
					continue
				}
				// As disgo's SetPresence does, for one connection.
				pu := gateway.MessageDataPresenceUpdate{}
				if cur := g.Presence(); cur != nil {
					pu = *cur
				}
				gateway.WithCustomActivity(text)(&pu)
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := g.Send(sctx, gateway.OpcodePresenceUpdate, pu)
				cancel()
				if err != nil {
					p.log.Warn("set presence", slog.Any("error", err))
					ok = false
				}
			}
			if ok {
				p.sent = text
			}
		}
	}
}
