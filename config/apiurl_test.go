package config

import (
	"strings"
	"testing"
)

func TestDiscordAPIURL(t *testing.T) {
	c, err := Parse(valid, okEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.DiscordAPIURL != "https://discord.com/api/v10" {
		t.Errorf("default discord_api_url = %q", c.DiscordAPIURL)
	}
	for _, tc := range []struct {
		value string
		want  string // "" means accepted
	}{
		{"http://127.0.0.1:8123/api/v10", ""},
		{"https://ratelimit-proxy.internal/api/v10", ""},
		{"http://127.0.0.1:8123/api/v10/", "ends with a slash"},
		{"ftp://example.com/api", "not an http(s) URL"},
		{"127.0.0.1:8123/api/v10", "not an http(s) URL"},
		{"/api/v10", "not an http(s) URL"},
		{"http:///api/v10", "not an http(s) URL"},
		{"https://discord.com/api/v10?x=1", "query or fragment"},
		{"https://discord.com/api/v10#x", "query or fragment"},
		{"https://user@discord.com/api/v10", "user or password"},
	} {
		c, err := Parse("discord_api_url = \""+tc.value+"\"\n"+valid, okEnv)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.value, err)
		case tc.want == "" && c.DiscordAPIURL != tc.value:
			t.Errorf("%s: read as %q", tc.value, c.DiscordAPIURL)
		case tc.want != "" && err == nil:
			t.Errorf("%s: accepted", tc.value)
		case tc.want != "" && (!strings.Contains(err.Error(), "line 1: discord_api_url: ") || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %q, want the key, its line and %q", tc.value, err, tc.want)
		}
	}
}
