package conformance_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/disgoorg/disgo/discord"
	disgojson "github.com/disgoorg/json/v2"
	"github.com/disgoorg/omit"

	"rollcall/discordsim/conformance"
)

const skipMsg = "DISCORD_OPENAPI_SPEC not set: requests are not checked against Discord's OpenAPI spec " +
	"(run with DISCORD_OPENAPI_SPEC=/path/to/shared/discord-api/openapi.json; .ci/run sets it to ../shared/discord-api/openapi.json)"

// checker returns the process-wide Checker, or skips t when no spec is configured.
func checker(t testing.TB) *conformance.Checker {
	t.Helper()
	c, err := conformance.FromEnv()
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	if c == nil {
		t.Skip(skipMsg)
	}
	return c
}

// disgoRequest builds the request disgo's REST client would send for payload,
// as the simulator receives it: payload goes through ToBody when it has one
// (which turns files into multipart) and then disgo's JSON marshaller.
func disgoRequest(t testing.TB, method, path string, payload any) (*http.Request, []byte) {
	t.Helper()
	if p, ok := payload.(discord.Payload); ok {
		var err error
		if payload, err = p.ToBody(); err != nil {
			t.Fatalf("ToBody: %v", err)
		}
	}
	var body []byte
	contentType := "application/json"
	switch v := payload.(type) {
	case nil:
		contentType = ""
	case *discord.MultipartBuffer:
		contentType = v.ContentType
		body = v.Buffer.Bytes()
	case []byte:
		body = v
	default:
		var err error
		if body, err = disgojson.Marshal(v); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	}
	return rawRequest(method, path, contentType, body), body
}

func rawRequest(method, path, contentType string, body []byte) *http.Request {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	// disgo sends the bot token except on the interaction routes, which
	// authenticate by the token in the path (rest.NewNoBotAuthEndpoint).
	if !strings.HasPrefix(path, "/api/v10/interactions/") && !strings.HasPrefix(path, "/api/v10/webhooks/") {
		r.Header.Set("Authorization", "Bot MTIzNDU2Nzg5.fake.token")
	}
	r.Header.Set("User-Agent", "DiscordBot (https://github.com/disgoorg/disgo, 0.19.6)")
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// commands is a realistic command list of the kind rollcall registers, with
// localizations on the command and its options.
func commands(name string) []discord.ApplicationCommandCreate {
	perms := discord.PermissionManageGuild // 32
	return []discord.ApplicationCommandCreate{
		discord.SlashCommandCreate{
			Name:                     name,
			NameLocalizations:        map[discord.Locale]string{discord.LocaleRussian: "присутствие"},
			Description:              "Show who was in voice this week",
			DescriptionLocalizations: map[discord.Locale]string{discord.LocaleRussian: "Кто был в голосовых каналах на этой неделе"},
			DefaultMemberPermissions: omit.NewPtr(perms),
			Contexts:                 []discord.InteractionContextType{discord.InteractionContextTypeGuild},
			Options: []discord.ApplicationCommandOption{
				discord.ApplicationCommandOptionSubCommand{
					Name:                     "week",
					NameLocalizations:        map[discord.Locale]string{discord.LocaleRussian: "неделя"},
					Description:              "One week",
					DescriptionLocalizations: map[discord.Locale]string{discord.LocaleRussian: "Одна неделя"},
					Options: []discord.ApplicationCommandOption{
						discord.ApplicationCommandOptionInt{
							Name:                     "offset",
							NameLocalizations:        map[discord.Locale]string{discord.LocaleRussian: "сдвиг"},
							Description:              "Weeks back",
							DescriptionLocalizations: map[discord.Locale]string{discord.LocaleRussian: "Сколько недель назад"},
							MinValue:                 ptr(0),
							MaxValue:                 ptr(52),
						},
						discord.ApplicationCommandOptionChannel{
							Name:         "channel",
							Description:  "Voice channel",
							ChannelTypes: []discord.ChannelType{discord.ChannelTypeGuildVoice, discord.ChannelTypeGuildStageVoice},
						},
					},
				},
				discord.ApplicationCommandOptionSubCommand{
					Name:        "top_members",
					Description: "Most present members",
					Options: []discord.ApplicationCommandOption{
						discord.ApplicationCommandOptionString{
							Name:        "period",
							Description: "Period",
							Required:    true,
							Choices: []discord.ApplicationCommandOptionChoiceString{
								{Name: "This Week", Value: "week"},
								{Name: "This Month", Value: "month"},
							},
						},
						discord.ApplicationCommandOptionBool{Name: "public", Description: "Show to everyone"},
					},
				},
			},
		},
		// User commands may have capitals and spaces.
		discord.UserCommandCreate{Name: "Show Presence"},
	}
}

func TestConformance(t *testing.T) {
	c := checker(t)

	tests := []struct {
		name    string
		method  string
		path    string
		payload any    // run through disgo's ToBody and JSON marshaller
		wantErr string // substring of the error; "" means the request must conform
	}{
		{
			name:   "message json",
			method: http.MethodPost, path: "/api/v10/channels/123/messages",
			payload: discord.MessageCreate{
				Content: "Weekly presence",
				Embeds: []discord.Embed{{
					Title:       "Week 12",
					Description: "3 members",
					Color:       0x5865F2,
					Fields:      []discord.EmbedField{{Name: "alice", Value: "5h", Inline: ptr(true)}},
				}},
			},
		},
		{
			name:   "message content is a number",
			method: http.MethodPost, path: "/api/v10/channels/123/messages",
			payload: []byte(`{"content": 5}`), wantErr: "content",
		},
		{
			name:   "message embeds is a string",
			method: http.MethodPost, path: "/api/v10/channels/123/messages",
			payload: []byte(`{"embeds": "x"}`), wantErr: "embeds",
		},
		{
			name:   "message multipart",
			method: http.MethodPost, path: "/api/v10/channels/123/messages",
			payload: discord.MessageCreate{
				Content: "chart",
				Files:   []*discord.File{discord.NewFile("chart.png", "", strings.NewReader("\x89PNG fake"))},
			},
		},
		{
			// disgo sends attachments[].id as the file index when a file has a description.
			name:   "message multipart with file description",
			method: http.MethodPost, path: "/api/v10/channels/123/messages",
			payload: discord.MessageCreate{
				Content: "chart",
				Files:   []*discord.File{discord.NewFile("chart.png", "Presence chart", strings.NewReader("\x89PNG fake"))},
			},
		},
		{
			name:   "interaction callback deferred ephemeral",
			method: http.MethodPost, path: "/api/v10/interactions/111/aW50ZXJhY3Rpb24tdG9rZW4/callback",
			payload: discord.InteractionResponse{
				Type: discord.InteractionResponseTypeDeferredCreateMessage,
				Data: discord.MessageCreate{Flags: discord.MessageFlagEphemeral},
			},
		},
		{
			name:   "interaction callback unknown type",
			method: http.MethodPost, path: "/api/v10/interactions/111/aW50ZXJhY3Rpb24tdG9rZW4/callback",
			payload: []byte(`{"type": 99}`), wantErr: "callback",
		},
		{
			name:   "edit original response",
			method: http.MethodPatch, path: "/api/v10/webhooks/222/aW50ZXJhY3Rpb24tdG9rZW4/messages/@original",
			payload: discord.MessageUpdate{
				Content: ptr("Done"),
				Embeds:  &[]discord.Embed{{Title: "Week 12", Image: &discord.EmbedResource{URL: "attachment://chart.png"}}},
			},
		},
		{
			name:   "edit original response with file",
			method: http.MethodPatch, path: "/api/v10/webhooks/222/aW50ZXJhY3Rpb24tdG9rZW4/messages/@original",
			payload: discord.MessageUpdate{
				Content: ptr("Done"),
				Files:   []*discord.File{discord.NewFile("chart.png", "Presence chart", strings.NewReader("\x89PNG fake"))},
			},
		},
		{
			name:   "followup message",
			method: http.MethodPost, path: "/api/v10/webhooks/222/aW50ZXJhY3Rpb24tdG9rZW4",
			payload: discord.WebhookMessageCreate{Content: "more", Flags: discord.MessageFlagEphemeral},
		},
		{
			name:   "bulk overwrite guild commands",
			method: http.MethodPut, path: "/api/v10/applications/222/guilds/333/commands",
			payload: commands("presence"),
		},
		{
			name:   "bulk overwrite global commands",
			method: http.MethodPut, path: "/api/v10/applications/222/commands",
			payload: commands("presence"),
		},
		{
			name:   "command name with capitals and a space",
			method: http.MethodPut, path: "/api/v10/applications/222/guilds/333/commands",
			payload: commands("Bad Name"), wantErr: "pattern",
		},
		{
			name:   "option name with capitals",
			method: http.MethodPost, path: "/api/v10/applications/222/commands",
			payload: discord.SlashCommandCreate{
				Name: "presence", Description: "d",
				Options: []discord.ApplicationCommandOption{discord.ApplicationCommandOptionBool{Name: "Public", Description: "d"}},
			},
			wantErr: "pattern",
		},
		{
			name:   "localized command name with a space",
			method: http.MethodPost, path: "/api/v10/applications/222/commands",
			payload: discord.SlashCommandCreate{
				Name: "presence", Description: "d",
				NameLocalizations: map[discord.Locale]string{discord.LocaleRussian: "при сутствие"},
			},
			wantErr: "pattern",
		},
		{
			name:   "hindi and thai command names",
			method: http.MethodPost, path: "/api/v10/applications/222/commands",
			payload: discord.SlashCommandCreate{
				Name: "presence", Description: "d",
				NameLocalizations: map[discord.Locale]string{discord.LocaleHindi: "उपस्थिति", discord.LocaleThai: "การเข้าร่วม"},
			},
		},
		{
			name:   "default_member_permissions not digits",
			method: http.MethodPost, path: "/api/v10/applications/222/commands",
			payload: []byte(`{"name": "presence", "description": "d", "default_member_permissions": "manage"}`),
			wantErr: "default_member_permissions",
		},
		{
			// Some libraries percent-encode "@"; Discord routes both spellings alike.
			name:   "current user with encoded @",
			method: http.MethodGet, path: "/api/v10/users/%40me",
		},
		{
			name:   "edit original response with encoded @",
			method: http.MethodPatch, path: "/api/v10/webhooks/222/aW50ZXJhY3Rpb24tdG9rZW4/messages/%40original",
			payload: discord.MessageUpdate{Content: ptr("Done")},
		},
		{
			name:   "get gateway",
			method: http.MethodGet, path: "/api/v10/gateway/bot",
		},
		{
			name:   "unknown route",
			method: http.MethodPost, path: "/api/v10/no/such/route",
			payload: []byte(`{}`), wantErr: "/api/v10/no/such/route",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := disgoRequest(t, tt.method, tt.path, tt.payload)
			err := c.Check(r, body)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("request does not conform:\n%v\nbody: %s", err, body)
			case tt.wantErr != "" && err == nil:
				t.Errorf("request conforms, want an error mentioning %q; body: %s", tt.wantErr, body)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error does not mention %q:\n%v", tt.wantErr, err)
			default:
				if err != nil {
					t.Logf("rejected as expected:\n%v", err)
				}
			}
		})
	}
}

// TestConformanceMultipartBadPayload checks that the JSON inside payload_json is
// validated, not just treated as a string.
func TestConformanceMultipartBadPayload(t *testing.T) {
	c := checker(t)
	for name, payload := range map[string]string{
		"wrong type":  `{"content": 5}`,
		"not json":    `{"content": `,
		"embeds type": `{"embeds": "x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newMultipart(t, &buf, payload)
			r := rawRequest(http.MethodPost, "/api/v10/channels/123/messages", w, buf.Bytes())
			if err := c.Check(r, buf.Bytes()); err == nil {
				t.Errorf("multipart with payload_json %s conforms, want an error", payload)
			} else {
				t.Logf("rejected as expected:\n%v", err)
			}
		})
	}
}

// newMultipart writes a Discord-style multipart body with payload and one file
// and returns its content type.
func newMultipart(t *testing.T, buf *bytes.Buffer, payload string) string {
	t.Helper()
	mb, err := discord.PayloadWithFiles(json.RawMessage(`{}`), discord.NewFile("a.png", "", strings.NewReader("x")))
	if err != nil {
		t.Fatal(err)
	}
	// Swap the payload: PayloadWithFiles would refuse to marshal invalid JSON.
	boundary := strings.TrimPrefix(mb.ContentType, "multipart/form-data; boundary=")
	body := strings.Replace(mb.Buffer.String(), "\r\n\r\n{}\r\n--"+boundary, "\r\n\r\n"+payload+"\r\n--"+boundary, 1)
	if body == mb.Buffer.String() {
		t.Fatalf("could not find payload_json in %q", body)
	}
	buf.WriteString(body)
	return mb.ContentType
}

// TestConformanceKeepsBody checks that Check neither reads nor replaces r.Body.
func TestConformanceKeepsBody(t *testing.T) {
	c := checker(t)
	r, body := disgoRequest(t, http.MethodPost, "/api/v10/channels/123/messages", discord.MessageCreate{Content: "hi"})
	orig := r.Body
	if err := c.Check(r, body); err != nil {
		t.Fatal(err)
	}
	if r.Body != orig {
		t.Fatal("Check replaced r.Body")
	}
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("r.Body after Check = %q, want %q", got, body)
	}
}

// TestConformanceConcurrent runs checks of several operations in parallel, the
// first ones compiling their schemas; with -race it shows the Checker is safe
// for concurrent use. Few rejections: each costs ~10 ms, ~0.4 s under -race.
func TestConformanceConcurrent(t *testing.T) {
	c := checker(t)
	type req struct {
		method, path string
		payload      func() any // fresh each time: files are readers
	}
	reqs := []req{
		{http.MethodPost, "/api/v10/channels/123/messages", func() any { return discord.MessageCreate{Content: "hi"} }},
		{http.MethodPost, "/api/v10/channels/123/messages", func() any {
			return discord.MessageCreate{Files: []*discord.File{discord.NewFile("a.png", "d", strings.NewReader("x"))}}
		}},
		{http.MethodPut, "/api/v10/applications/222/commands", func() any { return commands("presence") }},
		{http.MethodPatch, "/api/v10/webhooks/222/tok/messages/@original", func() any { return discord.MessageUpdate{Content: ptr("x")} }},
		{http.MethodPost, "/api/v10/webhooks/222/tok", func() any { return discord.WebhookMessageCreate{Content: "x"} }},
		{http.MethodGet, "/api/v10/gateway/bot", func() any { return nil }},
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 12 {
				rq := reqs[(i+j)%len(reqs)]
				payload := rq.payload()
				reject := i == 0 && j < 2
				if reject {
					rq.method, rq.path, payload = http.MethodPost, "/api/v10/channels/123/messages", []byte(`{"content": 5}`)
				}
				r, body := disgoRequest(t, rq.method, rq.path, payload)
				if err := c.Check(r, body); (err != nil) != reject {
					t.Errorf("goroutine %d: %s %s: Check = %v", i, rq.method, rq.path, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestConformanceFromEnvUnset checks the documented (nil, nil) when no spec is configured.
func TestConformanceFromEnvUnset(t *testing.T) {
	t.Setenv(conformance.EnvSpec, "")
	c, err := conformance.FromEnv()
	if c != nil || err != nil {
		t.Fatalf("FromEnv() = %v, %v; want nil, nil", c, err)
	}
}

func TestConformanceLoadMissingFile(t *testing.T) {
	if _, err := conformance.Load("/nonexistent/openapi.json"); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func BenchmarkLoad(b *testing.B) {
	path := os.Getenv(conformance.EnvSpec)
	if path == "" {
		b.Skip(skipMsg)
	}
	for b.Loop() {
		if _, err := conformance.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	c := checker(b)
	cases := map[string]struct {
		path    string
		method  string
		payload any
	}{
		"message_json":      {"/api/v10/channels/123/messages", http.MethodPost, discord.MessageCreate{Content: "hi", Embeds: []discord.Embed{{Title: "t"}}}},
		"message_multipart": {"/api/v10/channels/123/messages", http.MethodPost, discord.MessageCreate{Content: "hi", Files: []*discord.File{discord.NewFile("a.png", "d", strings.NewReader("x"))}}},
		"bulk_commands":     {"/api/v10/applications/222/guilds/333/commands", http.MethodPut, commands("presence")},
		"interaction_defer": {"/api/v10/interactions/111/tok/callback", http.MethodPost, discord.InteractionResponse{Type: discord.InteractionResponseTypeDeferredCreateMessage, Data: discord.MessageCreate{Flags: discord.MessageFlagEphemeral}}},
		"rejected_message":  {"/api/v10/channels/123/messages", http.MethodPost, []byte(`{"content": 5}`)},
		"rejected_commands": {"/api/v10/applications/222/guilds/333/commands", http.MethodPut, commands("Bad Name")},
	}
	for name, cs := range cases {
		b.Run(name, func(b *testing.B) {
			r, body := disgoRequest(b, cs.method, cs.path, cs.payload)
			for b.Loop() {
				_ = c.Check(r, body)
			}
		})
	}
}

// TestConformanceAuthorization checks that routes needing the bot token are
// rejected without an Authorization header.
func TestConformanceAuthorization(t *testing.T) {
	c := checker(t)
	r, body := disgoRequest(t, http.MethodPost, "/api/v10/channels/123/messages", discord.MessageCreate{Content: "hi"})
	r.Header.Del("Authorization")
	err := c.Check(r, body)
	if err == nil || !strings.Contains(err.Error(), "Authorization") {
		t.Fatalf("message without Authorization: Check = %v, want an error about Authorization", err)
	}
}

// TestConformanceRelativeSpecPath checks that a path relative to the module
// root, as .ci/run sets it, works from the package directory go test runs in.
func TestConformanceRelativeSpecPath(t *testing.T) {
	path := os.Getenv(conformance.EnvSpec)
	if path == "" {
		t.Skip(skipMsg)
	}
	root, err := filepath.Abs("../..") // this package is discordsim/conformance
	if err != nil {
		t.Fatal(err)
	}
	abs := path
	if !filepath.IsAbs(path) {
		abs = filepath.Join(root, path) // as .ci/run gives it
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rel); err == nil {
		t.Skipf("%s also exists relative to the package directory", rel)
	}
	t.Setenv(conformance.EnvSpec, rel)
	c, err := conformance.FromEnv()
	if err != nil || c == nil {
		t.Fatalf("FromEnv() with %s=%s = %v, %v", conformance.EnvSpec, rel, c, err)
	}
}
