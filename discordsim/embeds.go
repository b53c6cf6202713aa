package discordsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/disgoorg/snowflake/v2"
)

// attachmentURL is where the simulator serves an attachment: the "url" (and
// "proxy_url", Discord's media proxy, which the simulator does not separate)
// of the attachment and of embed images that refer to it.
func (s *Server) attachmentURL(channelID snowflake.ID, a attachment) string {
	return fmt.Sprintf("%s/attachments/%s/%s/%s", s.base, channelID, a.id, safeName.ReplaceAllString(a.file.Name, "_"))
}

// normalizeEmbedsLocked rewrites m's embeds the way Discord stores and echoes
// a bot's embeds:
//   - "type" is "rich" (the only type a bot can send; Discord ignores any other);
//   - each field has "inline", false unless set;
//   - a timestamp is written in Discord's form (+00:00, microseconds);
//   - an image or thumbnail "attachment://name" is resolved to the uploaded
//     attachment of that name: its URL, proxy_url, width and height (decoded
//     from the file), content_type and flags, as Discord answers once it has
//     the file. A reference to no attachment is left as sent.
func (s *Server) normalizeEmbedsLocked(m *message) {
	for i, raw := range m.embeds {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // keep colors and other numbers exact
		var e map[string]any
		if dec.Decode(&e) != nil || e == nil {
			continue
		}
		e["type"] = "rich"
		if fields, ok := e["fields"].([]any); ok {
			for _, f := range fields {
				if fo, ok := f.(map[string]any); ok {
					if _, set := fo["inline"]; !set {
						fo["inline"] = false
					}
				}
			}
		}
		if ts, ok := e["timestamp"].(string); ok {
			if t, err := time.Parse(time.RFC3339, ts); err == nil {
				e["timestamp"] = timestamp(t)
			}
		}
		for _, key := range []string{"image", "thumbnail"} {
			img, ok := e[key].(map[string]any)
			if !ok {
				continue
			}
			url, _ := img["url"].(string)
			name, ok := strings.CutPrefix(url, "attachment://")
			if !ok {
				continue
			}
			for _, a := range m.attachments {
				if a.file.Name != name && safeName.ReplaceAllString(a.file.Name, "_") != name {
					continue
				}
				u := s.attachmentURL(m.channelID, a)
				img["url"], img["proxy_url"] = u, u
				img["content_type"] = a.file.ContentType
				img["flags"] = 0
				if a.width > 0 {
					img["width"], img["height"] = a.width, a.height
				}
				break
			}
		}
		if data, err := json.Marshal(e); err == nil {
			m.embeds[i] = data
		}
	}
}
