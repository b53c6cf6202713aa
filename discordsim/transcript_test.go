package discordsim

import (
	"encoding/json"
	"testing"

	"github.com/disgoorg/snowflake/v2"
)

func TestSimBotMessagesListsEveryWriteOfTheBot(t *testing.T) {
	t.Parallel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	var ids []snowflake.ID
	for _, body := range []string{`{"content":"kept","allowed_mentions":{"parse":[]}}`, `{"content":"deleted later"}`} {
		status, resp := rawRequest(t, s, "POST", "/channels/"+w.text.String()+"/messages", body)
		var m struct{ ID snowflake.ID }
		if status != 200 || json.Unmarshal([]byte(resp), &m) != nil {
			t.Fatalf("post = %d %s", status, resp)
		}
		ids = append(ids, m.ID)
	}
	s.PostMessage(w.text, w.alice, "a user's message is not the bot's")
	if status, resp := rawRequest(t, s, "DELETE", "/channels/"+w.text.String()+"/messages/"+ids[1].String(), ""); status != 204 {
		t.Fatalf("delete = %d %s", status, resp)
	}
	got := s.BotMessages()
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] || got[0].Deleted || !got[1].Deleted {
		t.Fatalf("bot messages %+v", got)
	}
	if am := got[0].Writes[0].AllowedMentions; am == nil || am.Parse == nil || len(am.Parse) != 0 {
		t.Errorf("first write's allowed_mentions %+v", am)
	}
	if got[1].Writes[0].AllowedMentions != nil {
		t.Errorf("a message sent without allowed_mentions records %+v", got[1].Writes[0].AllowedMentions)
	}
	if len(s.InteractionTokens()) != 0 {
		t.Errorf("tokens before any interaction: %v", s.InteractionTokens())
	}
}
