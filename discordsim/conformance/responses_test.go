package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"

	"rollcall/discordsim"
	"rollcall/discordsim/conformance"
)

// simClient sends raw REST requests to a simulator, as a bot would, and
// fails the test on transport errors.
type simClient struct {
	t   *testing.T
	sim *discordsim.Server
}

// do sends a request and returns the status and body. body is JSON unless
// it is nil.
func (c simClient) do(method, path string, body any, header ...string) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = strings.NewReader(string(data))
	}
	rq, err := http.NewRequest(method, c.sim.APIURL()+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if !strings.HasPrefix(path, "/interactions/") && !strings.HasPrefix(path, "/webhooks/") {
		rq.Header.Set("Authorization", "Bot "+c.sim.Token())
	}
	if body != nil {
		rq.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		rq.Header.Set(header[i], header[i+1])
	}
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rs.Body.Close()
	data, _ := io.ReadAll(rs.Body)
	return rs.StatusCode, data
}

// want sends a request and fails the test unless it is answered status.
func (c simClient) want(status int, method, path string, body any, header ...string) []byte {
	c.t.Helper()
	got, data := c.do(method, path, body, header...)
	if got != status {
		c.t.Errorf("%s %s = %d %s, want %d", method, path, got, data, status)
	}
	return data
}

// gatewayInteractions connects a plain websocket client (not disgo: this test
// is about the simulator's answers) and returns INTERACTION_CREATE payloads
// as they arrive.
func gatewayInteractions(t *testing.T, sim *discordsim.Server) <-chan map[string]any {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(sim.GatewayURL()+"?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil { // HELLO
		t.Fatal(err)
	}
	identify := map[string]any{"op": 2, "d": map[string]any{"token": sim.Token(), "intents": 1 | 1<<9 | 1<<12,
		"properties": map[string]any{"os": "linux", "browser": "test", "device": "test"}}}
	if err := ws.WriteJSON(identify); err != nil {
		t.Fatal(err)
	}
	out := make(chan map[string]any, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			var f struct {
				T string         `json:"t"`
				D map[string]any `json:"d"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.T == "INTERACTION_CREATE" {
				out <- f.D
			}
		}
	})
	t.Cleanup(func() { _ = ws.Close(); wg.Wait() })
	return out
}

// TestSimulatorResponsesConform drives every REST route of the simulator,
// with successes and the errors a bot meets, and checks every answer against
// the response the spec documents for it: what a bot reads from the
// simulator must be what Discord could have sent.
func TestSimulatorResponsesConform(t *testing.T) {
	c := checker(t)
	sim, err := discordsim.New(discordsim.Options{CheckResponse: c.CheckResponse, HeartbeatInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	g := sim.AddGuild("Raid Night")
	text := sim.AddChannel(g, "general", discord.ChannelTypeGuildText)
	voice := sim.AddChannel(g, "Voice", discord.ChannelTypeGuildVoice)
	sim.AddChannel(g, "Stage", discord.ChannelTypeGuildStageVoice)
	officer := sim.AddRole(g, "Officer", discord.PermissionManageEvents)
	alice := sim.AddMember(g, discordsim.MemberSpec{Username: "alice", Nick: "Ali", Roles: []snowflake.ID{officer}})
	sim.SetVoice(g, alice, voice, discordsim.VoiceFlags{SelfMute: true})
	ev := sim.CreateScheduledEvent(g, discordsim.ScheduledEventSpec{Name: "Raid", ChannelID: voice})
	sim.CreateScheduledEvent(g, discordsim.ScheduledEventSpec{Name: "Picnic", Location: "Park"})
	sim.AddInterested(g, ev, alice)

	api := simClient{t, sim}
	app := sim.AppID().String()
	gid, tid := g.String(), text.String()

	api.want(200, "GET", "/gateway", nil)
	api.want(200, "GET", "/gateway/bot", nil)
	api.want(200, "GET", "/users/@me", nil)
	api.want(200, "GET", "/users/%40me", nil)
	api.want(401, "GET", "/users/@me", nil, "Authorization", "Bot nope")
	api.want(200, "GET", "/applications/@me", nil)

	cmds := []any{map[string]any{"name": "report", "description": "Attendance report", "options": []any{
		map[string]any{"type": 4, "name": "weeks", "description": "Weeks back", "min_value": 1},
	}}}
	api.want(200, "PUT", "/applications/"+app+"/commands", cmds)
	api.want(200, "GET", "/applications/"+app+"/commands", nil)
	api.want(200, "PUT", "/applications/"+app+"/guilds/"+gid+"/commands", cmds)
	api.want(200, "GET", "/applications/"+app+"/guilds/"+gid+"/commands", nil)
	api.want(201, "POST", "/applications/"+app+"/commands", map[string]any{"name": "week", "description": "This week"})
	api.want(200, "POST", "/applications/"+app+"/commands", map[string]any{"name": "week", "description": "The week"})
	api.want(201, "POST", "/applications/"+app+"/guilds/"+gid+"/commands", map[string]any{"type": 2, "name": "Show Presence"})
	api.want(400, "PUT", "/applications/"+app+"/commands", []any{map[string]any{"name": "Bad Name", "description": "x"}})
	api.want(404, "GET", "/applications/"+app+"/guilds/1/commands", nil)

	api.want(200, "GET", "/guilds/"+gid, nil)
	api.want(200, "GET", "/guilds/"+gid+"?with_counts=true", nil)
	api.want(404, "GET", "/guilds/1", nil)
	api.want(200, "GET", "/guilds/"+gid+"/channels", nil)
	api.want(200, "GET", "/guilds/"+gid+"/members?limit=10", nil)
	api.want(400, "GET", "/guilds/"+gid+"/members?limit=0", nil)
	api.want(200, "GET", "/guilds/"+gid+"/members/"+alice.String(), nil)
	api.want(404, "GET", "/guilds/"+gid+"/members/1", nil)
	api.want(200, "GET", "/guilds/"+gid+"/scheduled-events?with_user_count=true", nil)
	api.want(200, "GET", "/guilds/"+gid+"/scheduled-events/"+ev.String()+"?with_user_count=true", nil)
	api.want(404, "GET", "/guilds/"+gid+"/scheduled-events/1", nil)
	api.want(200, "GET", "/guilds/"+gid+"/scheduled-events/"+ev.String()+"/users?with_member=true", nil)
	api.want(200, "GET", "/guilds/"+gid+"/roles", nil)
	sim.SetBotPermissions(g, discordsim.DefaultBotPermissions|discord.PermissionManageRoles)
	regular := sim.CreateRole(g, discordsim.RoleSpec{Name: "Regular", Position: 1}).String()
	roleRoute := "/guilds/" + gid + "/members/" + alice.String() + "/roles/"
	api.want(204, "PUT", roleRoute+regular, nil, "X-Audit-Log-Reason", "rollcall%3A%20attended%203%20of%204")
	api.want(204, "DELETE", roleRoute+regular, nil)
	api.want(403, "PUT", roleRoute+officer.String(), nil)
	api.want(404, "PUT", roleRoute+gid, nil)
	api.want(404, "PUT", "/guilds/"+gid+"/members/1/roles/"+regular, nil)

	api.want(200, "GET", "/channels/"+tid, nil)
	api.want(404, "GET", "/channels/1", nil)
	api.want(200, "POST", "/channels/"+tid+"/messages", map[string]any{"content": "hi", "nonce": "n1",
		"embeds": []any{map[string]any{"title": "Week 9", "fields": []any{map[string]any{"name": "a", "value": "b"}}}}})
	api.want(400, "POST", "/channels/"+tid+"/messages", map[string]any{"content": ""})
	api.want(400, "POST", "/channels/"+tid+"/messages", map[string]any{"content": strings.Repeat("x", 2001)})
	api.want(404, "POST", "/channels/1/messages", map[string]any{"content": "x"})
	var posted struct{ ID string }
	_ = json.Unmarshal(api.want(200, "POST", "/channels/"+tid+"/messages", map[string]any{"content": "vote",
		"allowed_mentions": map[string]any{"parse": []any{}},
		"components": []any{map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 2, "style": 1, "label": "Yes", "custom_id": "yes"},
			map[string]any{"type": 2, "style": 2, "label": "No", "custom_id": "no"},
		}}}}), &posted)
	byAlice := sim.PostMessage(text, alice, "hello <@"+sim.BotUserID().String()+">").String()
	api.want(200, "GET", "/channels/"+tid+"/messages", nil)
	api.want(200, "GET", "/channels/"+tid+"/messages?limit=2&before="+byAlice, nil)
	api.want(200, "GET", "/channels/"+tid+"/messages?around="+posted.ID, nil)
	api.want(400, "GET", "/channels/"+tid+"/messages?limit=500", nil)
	api.want(200, "GET", "/channels/"+tid+"/messages/"+posted.ID, nil)
	api.want(404, "GET", "/channels/"+tid+"/messages/1", nil)
	api.want(200, "PATCH", "/channels/"+tid+"/messages/"+posted.ID, map[string]any{"content": "vote (closes at 20:00)"})
	api.want(403, "PATCH", "/channels/"+tid+"/messages/"+byAlice, map[string]any{"content": "x"})
	api.want(403, "DELETE", "/channels/"+tid+"/messages/"+byAlice, nil)
	var doomed struct{ ID string }
	_ = json.Unmarshal(api.want(200, "POST", "/channels/"+tid+"/messages", map[string]any{"content": "typo"}), &doomed)
	api.want(204, "DELETE", "/channels/"+tid+"/messages/"+doomed.ID, nil)

	// Interactions: a slash command answered each way a bot answers.
	interactions := gatewayInteractions(t, sim)
	if err := sim.WaitSessions(ctx, 1); err != nil {
		t.Fatal(err)
	}
	answer := func(reply func(id, token string)) {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := sim.Invoke(ctx, discordsim.Invocation{GuildID: g, UserID: alice, Command: "report"})
			done <- err
		}()
		var it map[string]any
		select {
		case it = <-interactions:
		case <-ctx.Done():
			t.Fatal("no INTERACTION_CREATE")
		}
		reply(it["id"].(string), it["token"].(string))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	answer(func(id, token string) {
		api.want(200, "POST", "/interactions/"+id+"/"+token+"/callback?with_response=true",
			map[string]any{"type": 4, "data": map[string]any{"content": "Week 9: 3 present"}})
		api.want(400, "POST", "/interactions/"+id+"/"+token+"/callback", map[string]any{"type": 4, "data": map[string]any{"content": "again"}})
		api.want(200, "GET", "/webhooks/"+app+"/"+token+"/messages/@original", nil)
		api.want(200, "GET", "/webhooks/"+app+"/"+token+"/messages/%40original", nil)
		api.want(200, "PATCH", "/webhooks/"+app+"/"+token+"/messages/%40original", map[string]any{"content": "edited"})
		follow := api.want(200, "POST", "/webhooks/"+app+"/"+token, map[string]any{"content": "more", "flags": 64})
		var m struct{ ID string }
		_ = json.Unmarshal(follow, &m)
		api.want(200, "GET", "/webhooks/"+app+"/"+token+"/messages/"+m.ID, nil)
		api.want(200, "PATCH", "/webhooks/"+app+"/"+token+"/messages/"+m.ID, map[string]any{"content": "less"})
		api.want(404, "GET", "/webhooks/"+app+"/"+token+"/messages/1", nil)
		second := api.want(200, "POST", "/webhooks/"+app+"/"+token, map[string]any{"content": "one more"})
		var m2 struct{ ID string }
		_ = json.Unmarshal(second, &m2)
		api.want(204, "DELETE", "/webhooks/"+app+"/"+token+"/messages/"+m2.ID, nil)
		api.want(204, "DELETE", "/webhooks/"+app+"/"+token+"/messages/@original", nil)
		api.want(404, "GET", "/webhooks/"+app+"/"+token+"/messages/@original", nil)
	})
	answer(func(id, token string) {
		api.want(200, "POST", "/interactions/"+id+"/"+token+"/callback?with_response=true", map[string]any{"type": 5})
		api.want(200, "PATCH", "/webhooks/"+app+"/"+token+"/messages/@original", map[string]any{"content": "done"})
	})
	answer(func(id, token string) {
		api.want(204, "POST", "/interactions/"+id+"/"+token+"/callback", map[string]any{"type": 5, "data": map[string]any{"flags": 64}})
		api.want(200, "POST", "/webhooks/"+app+"/"+token, map[string]any{"content": "first follow-up replaces thinking"})
	})
	// Button clicks on the posted message: an update at once, then a
	// deferred update and its edit.
	click := func(customID string, reply func(id, token string)) {
		t.Helper()
		done := make(chan error, 1)
		msgID, _ := snowflake.Parse(posted.ID)
		go func() {
			_, err := sim.Click(ctx, discordsim.ClickSpec{GuildID: g, UserID: alice, MessageID: msgID, CustomID: customID})
			done <- err
		}()
		var it map[string]any
		select {
		case it = <-interactions:
		case <-ctx.Done():
			t.Fatal("no INTERACTION_CREATE for the click")
		}
		reply(it["id"].(string), it["token"].(string))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	click("yes", func(id, token string) {
		api.want(200, "POST", "/interactions/"+id+"/"+token+"/callback?with_response=true",
			map[string]any{"type": 7, "data": map[string]any{"content": "1 yes"}})
	})
	click("no", func(id, token string) {
		api.want(200, "POST", "/interactions/"+id+"/"+token+"/callback?with_response=true", map[string]any{"type": 6})
		api.want(200, "PATCH", "/webhooks/"+app+"/"+token+"/messages/@original", map[string]any{"content": "1 yes, 1 no"})
		api.want(200, "POST", "/webhooks/"+app+"/"+token, map[string]any{"content": "thanks", "flags": 64})
	})
	api.want(404, "POST", "/interactions/1/nope/callback", map[string]any{"type": 4, "data": map[string]any{"content": "x"}})
	api.want(404, "GET", "/webhooks/"+app+"/nope/messages/@original", nil)

	// A guild the bot was removed from.
	sim.RemoveBotFromGuild(g)
	api.want(403, "GET", "/guilds/"+gid, nil)
	api.want(403, "POST", "/channels/"+tid+"/messages", map[string]any{"content": "x"})
	sim.AddBotToGuild(g)

	// Rate limits: the 429 answer.
	sim.SetRateLimits(true)
	sim.SetRouteLimit("GET", "/channels/{id}", 1, time.Minute)
	api.want(200, "GET", "/channels/"+tid, nil)
	api.want(429, "GET", "/channels/"+tid, nil)
	sim.SetRateLimits(false)

	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	for _, e := range sim.ResponseConformanceErrors() {
		t.Errorf("%s", e)
	}
	// Every route must have been exercised with a successful answer, so a
	// route added later without a case here fails this test.
	ok := map[string]bool{}
	for _, r := range sim.Requests() {
		if r.Status < 300 && r.Route != "" {
			ok[r.Method+" "+r.Route] = true
		}
	}
	var missing []string
	for _, r := range sim.Routes() {
		if !ok[r] {
			missing = append(missing, r)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("routes without a successful answer checked here: %s", strings.Join(missing, ", "))
	}
}

// TestCheckResponseRejects checks that CheckResponse catches an answer Discord
// would not give: a message without its required fields, and a status the
// operation does not declare.
func TestCheckResponseRejects(t *testing.T) {
	c := checker(t)
	h := http.Header{"Content-Type": {"application/json"}}
	r := rawRequest(http.MethodGet, "/api/v10/channels/123", "", nil)
	for name, tc := range map[string]struct {
		status int
		body   string
		want   string
	}{
		"missing fields": {200, `{"id": "123"}`, "type"},
		"wrong type":     {200, `{"id": 5, "type": 0}`, "id"},
		"error body":     {404, `{"message": "Unknown Channel"}`, "code"},
	} {
		t.Run(name, func(t *testing.T) {
			err := c.CheckResponse(r, tc.status, h, []byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckResponse(%d %s) = %v, want an error mentioning %q", tc.status, tc.body, err, tc.want)
			}
		})
	}
	for _, body := range []string{
		`{"message": "Unknown Channel", "code": 10003}`,
		`{"code": 50035, "message": "Invalid Form Body", "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}`,
		`{"code": 50035, "message": "Invalid Form Body", "errors": {"options": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}], "3": {"name": {"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}]}}}}}`,
	} {
		if err := c.CheckResponse(r, 400, h, []byte(body)); err != nil {
			t.Errorf("a Discord error body was rejected: %s: %v", body, err)
		}
	}
	var ce *conformance.Error
	err := c.CheckResponse(r, 200, h, []byte(`{}`))
	if !errors.As(err, &ce) || ce.Status != 200 || !strings.HasPrefix(err.Error(), "response 200 to GET /api/v10/channels/123") {
		t.Errorf("error = %v", err)
	}
}
