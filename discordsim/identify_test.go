package discordsim

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/sharding"
	"github.com/gorilla/websocket"
)

// rawIdentify opens a plain websocket connection (not disgo, whose gateway
// races when answered op 9 during IDENTIFY; see doc.go), identifies as shard
// [id, n] and returns the first frame answered: READY's op 0, op 9, or a close.
func rawIdentify(t *testing.T, s *Server, token string, id, n int) (op int, closeCode int) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil { // HELLO
		t.Fatal(err)
	}
	if err := ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": token, "intents": 1, "shard": []int{id, n},
		"properties": map[string]any{"os": "linux", "browser": "test", "device": "test"}}}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); ok {
		return -1, ce.Code
	}
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Op int `json:"op"`
	}
	_ = json.Unmarshal(data, &f)
	return f.Op, 0
}

func TestSimIdentifyConcurrencyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		maxConcurrency int
		shards         [][2]int
		want           []int // answer op per IDENTIFY: 0 READY, 9 invalid session
	}{
		{"one bucket: the second within 5 s is refused", 1, [][2]int{{0, 2}, {1, 2}}, []int{0, 9}},
		{"the same shard again within 5 s", 2, [][2]int{{0, 2}, {0, 2}}, []int{0, 9}},
		{"two buckets identify together", 2, [][2]int{{0, 2}, {1, 2}}, []int{0, 0}},
		{"key is shard_id % max_concurrency", 2, [][2]int{{0, 4}, {2, 4}, {1, 4}}, []int{0, 9, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t, Options{MaxConcurrency: tc.maxConcurrency, Shards: 4})
			for i, sh := range tc.shards {
				if op, code := rawIdentify(t, s, s.Token(), sh[0], sh[1]); op != tc.want[i] {
					t.Errorf("IDENTIFY %d (shard %v) answered op %d (close %d), want op %d", i, sh, op, code, tc.want[i])
				}
			}
			attempts := s.IdentifyAttempts()
			for i, a := range attempts {
				if a.Accepted != (tc.want[i] == 0) || (!a.Accepted && a.Refused != "max_concurrency") || a.Key != a.Shard[0]%tc.maxConcurrency {
					t.Errorf("attempt %d = %+v", i, a)
				}
			}
		})
	}
}

// TestSimShardManagerWithinIdentifyLimits runs disgo's shard manager, whose
// identify rate limiter follows GET /gateway/bot's max_concurrency, and
// checks the gateway saw it keep the 5-second rule.
func TestSimShardManagerWithinIdentifyLimits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// Shard 1 identifies 5 s after shard 0. disgo v0.19.6 races when a
	// connection beats twice (see Traps in doc.go), so the interval leaves
	// room for both shards' first beat before shard 0's second: 10 s puts
	// them at 10 s and 15 s, the second at 20 s.
	s := newSim(t, Options{Shards: 2, MaxConcurrency: 1, HeartbeatInterval: 10 * time.Second})
	for i := range 2 {
		s.AddGuild("g" + string(rune('0'+i)))
	}
	var mu sync.Mutex
	readyShards := map[int]bool{}
	client := newClient(t, s,
		bot.WithEventListenerFunc(func(e *events.Ready) { mu.Lock(); readyShards[e.ShardID()] = true; mu.Unlock() }),
		bot.WithShardManagerConfigOpts(sharding.WithGatewayConfigOpts(gateway.WithIntents(gateway.IntentGuilds))))
	gb, err := client.Rest.GetGatewayBot()
	if err != nil {
		t.Fatal(err)
	}
	if gb.SessionStartLimit.Total != 1000 || gb.SessionStartLimit.Remaining != 1000 || gb.SessionStartLimit.MaxConcurrency != 1 ||
		gb.SessionStartLimit.ResetAfter != 24*60*60*1000 {
		t.Errorf("session_start_limit before any IDENTIFY = %+v", gb.SessionStartLimit)
	}
	if err := client.OpenShardManager(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "both shards ready", func() bool { mu.Lock(); defer mu.Unlock(); return len(readyShards) == 2 })
	attempts := s.IdentifyAttempts()
	if len(attempts) != 2 || !attempts[0].Accepted || !attempts[1].Accepted {
		t.Fatalf("attempts = %+v", attempts)
	}
	if gap := attempts[1].Time.Sub(attempts[0].Time); gap < identifyInterval {
		t.Errorf("two IDENTIFYs of one bucket %s apart", gap)
	}
	gb, err = client.Rest.GetGatewayBot()
	if err != nil {
		t.Fatal(err)
	}
	if gb.SessionStartLimit.Remaining != 998 || gb.SessionStartLimit.ResetAfter > 24*60*60*1000 || gb.SessionStartLimit.ResetAfter < 23*60*60*1000 {
		t.Errorf("session_start_limit after two IDENTIFYs = %+v", gb.SessionStartLimit)
	}
	if err := s.WaitHeartbeat(ctx); err != nil { // see beforeClose
		t.Fatal(err)
	}
}

func TestSimSessionStartLimitResetsToken(t *testing.T) {
	t.Parallel()
	clock := time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	s := newSim(t, Options{Now: now, SessionStartLimit: 2, MaxConcurrency: 16, Shards: 16})
	w := buildWorld(s)
	old := s.Token()
	for i := range 2 {
		if op, _ := rawIdentify(t, s, old, i, 16); op != 0 {
			t.Fatalf("IDENTIFY %d answered op %d", i, op)
		}
	}
	if op, code := rawIdentify(t, s, old, 2, 16); code != 4004 {
		t.Fatalf("IDENTIFY beyond the daily limit answered op %d close %d, want close 4004", op, code)
	}
	if s.Token() == old {
		t.Fatal("the token was not reset")
	}
	if n := s.Sessions(); n != 0 {
		t.Errorf("%d sessions left; Discord terminates them all", n)
	}
	if status, _ := rawRequestToken(t, s, old, "GET", "/channels/"+w.text.String(), ""); status != 401 {
		t.Errorf("REST with the old token = %d, want 401", status)
	}
	if c := s.ConformanceErrors(); len(c) != 1 {
		t.Errorf("conformance errors = %v, want the exhausted limit", c)
	}
	clockMu.Lock()
	clock = clock.Add(24 * time.Hour)
	clockMu.Unlock()
	status, body := rawRequest(t, s, "GET", "/gateway/bot", "")
	var gb discord.GatewayBot
	if status != 200 || json.Unmarshal([]byte(body), &gb) != nil || gb.SessionStartLimit.Remaining != 2 {
		t.Errorf("a day later: %d %s; want the limit reset", status, body)
	}
	if op, _ := rawIdentify(t, s, s.Token(), 3, 16); op != 0 {
		t.Errorf("IDENTIFY with the new token a day later answered op %d", op)
	}
}
