package discordsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// Reading and validating the message bodies of create and edit routes.

// msgPayload is the message body Discord accepts on create and edit routes.
type msgPayload struct {
	Content     *string           `json:"content"`
	Embeds      []json.RawMessage `json:"embeds"`
	Components  []json.RawMessage `json:"components"`
	StickerIDs  []json.RawMessage `json:"sticker_ids"`
	Poll        json.RawMessage   `json:"poll"`
	Flags       *int64            `json:"flags"`
	TTS         bool              `json:"tts"`
	Attachments *[]struct {
		ID          json.RawMessage `json:"id"`
		Filename    string          `json:"filename"`
		Description string          `json:"description"`
	} `json:"attachments"`
	AllowedMentions json.RawMessage `json:"allowed_mentions"`
	// Nonce is a string or an integer on Discord; EnforceNonce makes it an
	// idempotency key for a few minutes.
	Nonce        json.RawMessage `json:"nonce"`
	EnforceNonce bool            `json:"enforce_nonce"`
	// MessageReference makes the message a reply (create only).
	MessageReference *struct {
		MessageID       snowflake.ID  `json:"message_id"`
		ChannelID       *snowflake.ID `json:"channel_id"`
		GuildID         *snowflake.ID `json:"guild_id"`
		FailIfNotExists *bool         `json:"fail_if_not_exists"`
	} `json:"message_reference"`
	// Interaction callback fields.
	Choices  json.RawMessage `json:"choices"`
	CustomID string          `json:"custom_id"`
	Title    string          `json:"title"`
}

type upload struct {
	index int
	name  string
	data  []byte
}

// httpError is a ready-made Discord error answer.
type httpError struct {
	status int
	body   obj
}

func (e *httpError) Error() string { return fmt.Sprint(e.body) }

func badJSON() *httpError {
	return &httpError{http.StatusBadRequest, apiError(50109, "The request body contains invalid JSON.")}
}

// decodeBody reads a JSON or multipart (payload_json + files[n]) body into v.
func decodeBody(r *http.Request, body []byte, v any) ([]upload, *httpError) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var payload []byte
	var files []upload
	switch ct {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, badJSON()
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return nil, badJSON()
			}
			name := p.FormName()
			switch {
			case name == "payload_json":
				payload = data
			case strings.HasPrefix(name, "files[") && strings.HasSuffix(name, "]"):
				idx, err := strconv.Atoi(name[len("files[") : len(name)-1])
				if err != nil || p.FileName() == "" {
					return nil, &httpError{http.StatusBadRequest, formError(obj{name: fieldError("BASE_TYPE_REQUIRED", "This field is required")})}
				}
				files = append(files, upload{index: idx, name: p.FileName(), data: data})
			}
		}
		if payload == nil {
			payload = []byte("{}")
		}
	case "application/json":
		payload = body
	default:
		if len(body) == 0 {
			payload = []byte("{}")
		} else {
			return nil, badJSON()
		}
	}
	if err := json.Unmarshal(payload, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, &httpError{http.StatusBadRequest, formError(nestError(te.Field, fieldError("MODEL_TYPE_CONVERT", "Could not interpret the value as the expected type.")))}
		}
		return nil, badJSON()
	}
	return files, nil
}

// nestError turns "a.b" into {"a":{"b": e}} as Discord nests form errors.
func nestError(path string, e obj) obj {
	parts := strings.Split(path, ".")
	out := e
	for i := len(parts) - 1; i >= 0; i-- {
		out = obj{parts[i]: out}
	}
	return out
}

// decodeAllowedMentions reads an allowed_mentions object (validated by
// validateMessage); nil when none was sent.
func decodeAllowedMentions(raw json.RawMessage) *discord.AllowedMentions {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var am discord.AllowedMentions
	if json.Unmarshal(raw, &am) != nil {
		return nil
	}
	return &am
}

// validateAllowedMentions applies Discord's rules for allowed_mentions:
// parse holds only "roles", "users" and "everyone"; "users" in parse
// excludes a users list (and "roles" a roles list); at most 100 ids each.
func validateAllowedMentions(raw json.RawMessage) obj {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var am struct {
		Parse       []string          `json:"parse"`
		Users       []json.RawMessage `json:"users"`
		Roles       []json.RawMessage `json:"roles"`
		RepliedUser *bool             `json:"replied_user"`
	}
	if err := json.Unmarshal(raw, &am); err != nil {
		return fieldError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
	}
	errs := obj{}
	for i, v := range am.Parse {
		if v != "roles" && v != "users" && v != "everyone" {
			errs["parse"] = obj{strconv.Itoa(i): fieldError("BASE_TYPE_CHOICES", "Value must be one of {'everyone', 'roles', 'users'}.")}
		}
	}
	for _, kind := range []struct {
		name string
		ids  []json.RawMessage
	}{{"users", am.Users}, {"roles", am.Roles}} {
		if len(kind.ids) > 100 {
			errs[kind.name] = fieldError("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
		}
		if len(kind.ids) > 0 && slices.Contains(am.Parse, kind.name) {
			errs["parse"] = fieldError("MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
				fmt.Sprintf("parse:[\"%s\"] and %s: [ids...] are mutually exclusive.", kind.name, kind.name))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// validateMessage applies Discord's documented message limits.
func validateMessage(p *msgPayload) obj {
	errs := obj{}
	if ae := validateAllowedMentions(p.AllowedMentions); ae != nil {
		errs["allowed_mentions"] = ae
	}
	if p.Components != nil {
		v2 := p.Flags != nil && *p.Flags&int64(discord.MessageFlagIsComponentsV2) != 0
		if ce := validateComponents(p.Components, v2); ce != nil {
			errs["components"] = ce
		}
	}
	if p.Content != nil && utf8.RuneCountInString(*p.Content) > 2000 {
		errs["content"] = fieldError("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
	}
	if len(p.Embeds) > 10 {
		errs["embeds"] = fieldError("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
	}
	total := 0
	for i, raw := range p.Embeds {
		var e struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			Fields      []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"fields"`
			Footer *struct {
				Text string `json:"text"`
			} `json:"footer"`
			Author *struct {
				Name string `json:"name"`
			} `json:"author"`
			Timestamp *string `json:"timestamp"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			errs["embeds"] = obj{strconv.Itoa(i): fieldError("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")}
			continue
		}
		ee := obj{}
		limit := func(key, v string, n int) {
			total += utf8.RuneCountInString(v)
			if utf8.RuneCountInString(v) > n {
				ee[key] = fieldError("BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n))
			}
		}
		limit("title", e.Title, 256)
		limit("description", e.Description, 4096)
		if len(e.Fields) > 25 {
			ee["fields"] = fieldError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		for j, f := range e.Fields {
			fe := obj{}
			total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
			if f.Name == "" || utf8.RuneCountInString(f.Name) > 256 {
				fe["name"] = fieldError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 256 in length.")
			}
			if f.Value == "" || utf8.RuneCountInString(f.Value) > 1024 {
				fe["value"] = fieldError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1024 in length.")
			}
			if len(fe) > 0 {
				if ee["fields"] == nil {
					ee["fields"] = obj{}
				}
				if m, ok := ee["fields"].(obj); ok {
					m[strconv.Itoa(j)] = fe
				}
			}
		}
		if e.Footer != nil {
			limit("footer", e.Footer.Text, 2048)
		}
		if e.Author != nil {
			limit("author", e.Author.Name, 256)
		}
		if e.Timestamp != nil {
			if _, err := time.Parse(time.RFC3339, *e.Timestamp); err != nil {
				ee["timestamp"] = fieldError("DATE_TIME_TYPE_PARSE", "Could not parse "+*e.Timestamp+". Should be ISO8601.")
			}
		}
		if len(ee) > 0 {
			if errs["embeds"] == nil {
				errs["embeds"] = obj{}
			}
			if m, ok := errs["embeds"].(obj); ok {
				m[strconv.Itoa(i)] = ee
			}
		}
	}
	if total > 6000 {
		errs["embeds"] = fieldError("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
