package discordsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/handler"
	"github.com/disgoorg/disgo/rest"
)

// restCode is the Discord error code of a disgo REST error, or -1.
func restCode(err error) int {
	var re *rest.Error
	if errors.As(err, &re) {
		return int(re.Code)
	}
	return -1
}

// rawRequest sends a request with the bot token and returns status and body.
func rawRequest(t *testing.T, s *Server, method, path, body string) (int, string) {
	t.Helper()
	return rawRequestToken(t, s, s.Token(), method, path, body)
}

// rawRequestToken is rawRequest with a given token.
func rawRequestToken(t *testing.T, s *Server, token, method, path, body string) (int, string) {
	t.Helper()
	rq, err := http.NewRequest(method, s.APIURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rq.Header.Set("Authorization", "Bot "+token)
	if body != "" {
		rq.Header.Set("Content-Type", "application/json")
	}
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Body.Close()
	data, _ := io.ReadAll(rs.Body)
	return rs.StatusCode, string(data)
}

func TestSimCreateOneCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	mux := handler.New()
	mux.Command("/report", func(e *handler.CommandEvent) error {
		return e.CreateMessage(discord.MessageCreate{Content: "ok"})
	})
	readyOpt, ready := guildsReady()
	client := newClient(t, s, readyOpt, intents(gateway.IntentGuilds), bot.WithEventListeners(mux))
	openAndWait(t, ctx, client, ready)

	global, err := client.Rest.CreateGlobalCommand(client.ApplicationID, reportCommand)
	if err != nil {
		t.Fatal(err)
	}
	again, err := client.Rest.CreateGlobalCommand(client.ApplicationID, discord.SlashCommandCreate{Name: "report", Description: "Changed"})
	if err != nil || again.ID() != global.ID() {
		t.Fatalf("re-creating a command of the same name = %v, %v; Discord overwrites it, keeping the id %s", again, err, global.ID())
	}
	if _, err := client.Rest.CreateGuildCommand(client.ApplicationID, w.guild, reportCommand); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Commands(0)); n != 1 {
		t.Errorf("global commands = %d, want 1", n)
	}
	resp, err := s.Invoke(ctx, Invocation{GuildID: w.guild, UserID: w.alice, Command: "report", Options: []Option{{Name: "who", Value: w.bob}}})
	if err != nil || resp.Content != "ok" {
		t.Errorf("invoke a created command = %+v, %v", resp, err)
	}

	var statuses []int
	for _, r := range s.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Route, "/commands") {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[201 200 201]" {
		t.Errorf("statuses = %v, want 201 for a new command, 200 for an overwrite", statuses)
	}
}

// TestSimCommandRegistrationLimits registers definitions Discord refuses
// (and some it accepts) through the bulk overwrite.
func TestSimCommandRegistrationLimits(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	opt := func(name string) map[string]any {
		return map[string]any{"type": 3, "name": name, "description": "d"}
	}
	opts := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, opt(fmt.Sprintf("o%d", i)))
		}
		return out
	}
	subs := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"type": 1, "name": fmt.Sprintf("s%d", i), "description": "d"})
		}
		return out
	}
	choices := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"name": fmt.Sprintf("c%d", i), "value": fmt.Sprintf("v%d", i)})
		}
		return out
	}
	cmd := func(extra map[string]any) map[string]any {
		c := map[string]any{"name": "presence", "description": "Who was in voice"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	long := strings.Repeat("x", 100)
	tests := []struct {
		name   string
		cmds   []any
		wantOK bool
		want   string // a substring of the error body
	}{
		{"valid", []any{cmd(map[string]any{"options": opts(25)})}, true, ""},
		{"localized names in Cyrillic, Devanagari, Thai", []any{cmd(map[string]any{"name_localizations": map[string]any{"ru": "присутствие", "hi": "उपस्थिति", "th": "การเข้าร่วม"}})}, true, ""},
		{"26 options", []any{cmd(map[string]any{"options": opts(26)})}, false, `"options"`},
		{"26 subcommands", []any{cmd(map[string]any{"options": subs(26)})}, false, `"options"`},
		{"26 options in a subcommand", []any{cmd(map[string]any{"options": []any{map[string]any{"type": 1, "name": "week", "description": "d", "options": opts(26)}}})}, false, `"options"`},
		{"101-character description", []any{cmd(map[string]any{"description": long + "x"})}, false, `"description"`},
		{"101-character option description", []any{cmd(map[string]any{"options": []any{map[string]any{"type": 3, "name": "o", "description": long + "x"}}})}, false, `"description"`},
		{"33-character name", []any{cmd(map[string]any{"name": strings.Repeat("a", 33)})}, false, "APPLICATION_COMMAND_INVALID_NAME"},
		{"capital in a chat-input name", []any{cmd(map[string]any{"name": "Presence"})}, false, "APPLICATION_COMMAND_INVALID_NAME"},
		{"space in a localized name", []any{cmd(map[string]any{"name_localizations": map[string]any{"ru": "при сутствие"}})}, false, `"name_localizations"`},
		{"capital in a localized name", []any{cmd(map[string]any{"name_localizations": map[string]any{"ru": "Присутствие"}})}, false, `"name_localizations"`},
		{"unknown locale", []any{cmd(map[string]any{"name_localizations": map[string]any{"xx": "presence"}})}, false, "LOCALE_INVALID"},
		{"26 choices", []any{cmd(map[string]any{"options": []any{map[string]any{"type": 3, "name": "p", "description": "d", "choices": choices(26)}}})}, false, `"choices"`},
		{"choice name too long", []any{cmd(map[string]any{"options": []any{map[string]any{"type": 3, "name": "p", "description": "d", "choices": []any{map[string]any{"name": long + "x", "value": "v"}}}}})}, false, `"choices"`},
		{"subcommands mixed with options", []any{cmd(map[string]any{"options": append(subs(1), opt("x"))})}, false, "mutually exclusive"},
		{"group inside a group", []any{cmd(map[string]any{"options": []any{map[string]any{"type": 2, "name": "g", "description": "d", "options": []any{map[string]any{"type": 2, "name": "h", "description": "d"}}}}})}, false, `"options"`},
		{"duplicate option names", []any{cmd(map[string]any{"options": []any{opt("a"), opt("a")}})}, false, "unique"},
		{"user command with a space and capitals", []any{map[string]any{"type": 2, "name": "Show Presence"}}, true, ""},
		{"two commands of one name", []any{cmd(nil), cmd(nil)}, false, "APPLICATION_COMMANDS_DUPLICATE_NAME"},
		{"101 chat-input commands", func() []any {
			var out []any
			for i := range 101 {
				out = append(out, map[string]any{"name": fmt.Sprintf("c%d", i), "description": "d"})
			}
			return out
		}(), false, "APPLICATION_COMMANDS_TOO_MANY"},
		{"more than 8000 characters", []any{cmd(map[string]any{"options": func() []any {
			var out []any
			for i := range 25 {
				var cs []any
				for j := range 25 {
					cs = append(cs, map[string]any{"name": fmt.Sprintf("%02d%s", j, long[:10]), "value": fmt.Sprintf("%d-%s", j, long[:20])})
				}
				out = append(out, map[string]any{"type": 3, "name": fmt.Sprintf("o%d", i), "description": long, "choices": cs})
			}
			return out
		}()})}, false, "APPLICATION_COMMAND_TOO_LARGE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(tc.cmds)
			status, resp := rawRequest(t, s, "PUT", "/applications/"+s.AppID().String()+"/commands", string(body))
			if ok := status == http.StatusOK; ok != tc.wantOK || (!ok && !strings.Contains(resp, tc.want)) {
				t.Errorf("status %d %s; want ok=%v mentioning %s", status, resp, tc.wantOK, tc.want)
			}
		})
	}
}
