package discordsim

import (
	"encoding/json"
	"strings"
	"testing"
)

// Discord refuses a message whose embeds break its limits with 400 and
// code 50035, naming the field; the bot must see that here as it would
// there, or a report too long for Discord passes every test.
func TestSimEmbedLimits(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	x := func(n int) string { return strings.Repeat("я", n) } // counted in characters, not bytes
	field := func(name, value string) map[string]any { return map[string]any{"name": name, "value": value} }
	fields := func(n int) []any {
		var out []any
		for range n {
			out = append(out, field("n", "v"))
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		embeds []map[string]any
		want   string // "" = accepted; else a piece of the error body
	}{
		{"at every limit", []map[string]any{{"title": x(256), "description": x(4096), "footer": map[string]any{"text": x(1000)},
			"fields": []any{field(x(256), x(200))}}}, ""},
		{"title", []map[string]any{{"title": x(257)}}, `"title"`},
		{"description", []map[string]any{{"description": x(4097)}}, `"description"`},
		{"footer", []map[string]any{{"footer": map[string]any{"text": x(2049)}}}, `"footer"`},
		{"author", []map[string]any{{"author": map[string]any{"name": x(257)}}}, `"author"`},
		{"25 fields", []map[string]any{{"fields": fields(25)}}, ""},
		{"26 fields", []map[string]any{{"fields": fields(26)}}, `"fields"`},
		{"field name", []map[string]any{{"fields": []any{field(x(257), "v")}}}, `"name"`},
		{"field value", []map[string]any{{"fields": []any{field("n", x(1025))}}}, `"value"`},
		{"empty field value", []map[string]any{{"fields": []any{field("n", "")}}}, `"value"`},
		{"6,000 in all, across embeds", []map[string]any{{"description": x(3000)}, {"description": x(3000)}}, ""},
		{"6,001 in all, across embeds", []map[string]any{{"description": x(3000)}, {"description": x(2000), "fields": []any{field("n", x(1000))}}}, "MAX_EMBED_SIZE_EXCEEDED"},
		{"11 embeds", func() []map[string]any {
			var es []map[string]any
			for range 11 {
				es = append(es, map[string]any{"description": "d"})
			}
			return es
		}(), "10 or fewer"},
	} {
		body, _ := json.Marshal(map[string]any{"embeds": tc.embeds})
		status, resp := rawRequest(t, s, "POST", "/channels/"+w.text.String()+"/messages", string(body))
		switch {
		case tc.want == "" && status != 200:
			t.Errorf("%s: %d %s, want it accepted", tc.name, status, resp)
		case tc.want != "" && (status != 400 || !strings.Contains(resp, `"code":50035`) || !strings.Contains(resp, `"embeds"`) || !strings.Contains(resp, tc.want)):
			t.Errorf("%s: %d %s, want 400 50035 under embeds naming %s", tc.name, status, resp, tc.want)
		}
	}
}
