package discordsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
)

// ---- REST: interaction callback and webhooks ----

func (s *Server) recordFailureLocked(format string, args ...any) {
	s.failed = append(s.failed, fmt.Sprintf(format, args...))
	s.notifyLocked()
}

// handleCallback serves POST /interactions/{interaction}/{token}/callback.
func (s *Server) handleCallback(rc *reqCtx) {
	id, _ := snowflake.Parse(rc.param("interaction"))
	var body struct {
		Type *int            `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	files, herr := decodeBody(rc.r, rc.body, &body)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.interactions[id]
	if it == nil || it.token != rc.param("token") {
		writeJSON(rc.w, http.StatusNotFound, apiError(10062, "Unknown interaction"))
		return
	}
	if it.acked {
		// Two sessions of one bot (two processes in a rolling deploy) both
		// get the interaction, as on Discord, and race to answer it: the
		// loser's 40060 is expected then, not a bug of the bot.
		if it.sessions <= 1 {
			s.recordFailureLocked("interaction %s (%s): second initial response", it.id, it.label())
		}
		writeJSON(rc.w, http.StatusBadRequest, apiError(40060, "Interaction has already been acknowledged."))
		return
	}
	if time.Since(it.created) > ackDeadline {
		if !it.failed {
			it.failed = true
			s.recordFailureLocked("interaction %s (%s): not acknowledged within %s", it.id, it.label(), ackDeadline)
		}
		writeJSON(rc.w, http.StatusNotFound, apiError(10062, "Unknown interaction"))
		return
	}
	if body.Type == nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"type": fieldError("BASE_TYPE_REQUIRED", "This field is required")}))
		return
	}
	typ := *body.Type
	// The callback types Discord accepts per interaction type: commands
	// answer with a message, a deferral or a modal; components may also
	// update their message (6 deferred, 7 at once); autocomplete only
	// returns choices.
	allowed := map[int][]int{2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}}
	ok := false
	for _, t := range allowed[it.typ] {
		ok = ok || t == typ
	}
	if !ok {
		writeJSON(rc.w, http.StatusBadRequest, formError(obj{"type": fieldError("BASE_TYPE_CHOICES",
			fmt.Sprintf("Value must be one of %v.", allowed[it.typ]))}))
		return
	}
	var p msgPayload
	if len(body.Data) > 0 && string(body.Data) != "null" {
		if err := json.Unmarshal(body.Data, &p); err != nil {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": fieldError("MODEL_TYPE_CONVERT", "Could not interpret the value as the expected type.")}))
			return
		}
	}
	// A modal's data is not a message: its components are its fields.
	if typ != 9 {
		if errs := validateMessage(&p); errs != nil {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": errs}))
			return
		}
	}
	switch typ {
	case 4, 5:
		m := &message{id: s.newIDLocked(), channelID: it.channelID, guildID: it.guildID, authorID: s.botID,
			timestamp: s.opts.Now(), inter: it, replyTo: it.clicked}
		if typ == 5 {
			// The "is thinking..." placeholder; only flags (ephemeral) count.
			m.flags = int64(discord.MessageFlagLoading)
			if p.Flags != nil {
				m.flags |= *p.Flags & int64(discord.MessageFlagEphemeral)
			}
			it.deferred = true
		} else {
			s.applyPayloadLocked(m, &p, files)
			if m.empty() {
				writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
				return
			}
			it.final = true
		}
		it.original = m
		s.storeMessageLocked(m)
	case 6:
		// Deferred update: nothing changes until the bot edits @original,
		// which is the clicked message.
		it.original = it.clicked
		it.deferred = true
		it.final = true
	case 7:
		m := it.clicked
		before := *m
		s.applyPayloadLocked(m, &p, files)
		if m.empty() {
			*m = before
			writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
			return
		}
		now := s.opts.Now()
		m.edited = &now
		it.original = m
		it.final = true
		s.dispatchMessageLocked("MESSAGE_UPDATE", m)
	case 8:
		choices, err := decodeChoices(p.Choices, it.focusedTyp)
		if err != nil {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": obj{"choices": fieldError("BASE_TYPE_BAD_LENGTH", err.Error())}}))
			return
		}
		it.choices = choices
		it.final = true
	case 9:
		if p.CustomID == "" || p.Title == "" {
			writeJSON(rc.w, http.StatusBadRequest, formError(obj{"data": fieldError("BASE_TYPE_REQUIRED", "custom_id and title are required")}))
			return
		}
		it.final = true
	}
	it.acked = true
	it.respType = typ
	if it.timer != nil {
		it.timer.Stop()
	}
	s.notifyLocked()
	if rc.r.URL.Query().Get("with_response") == "true" {
		writeJSON(rc.w, http.StatusOK, s.callbackResponseLocked(it, typ))
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

// callbackResponseLocked is the answer to a callback with with_response=true.
// Discord returns a resource only for the callback types that create or
// update a message (4 and 7; 12 launches an activity): a deferral has no
// message yet to return, only the response_message_* fields about it.
func (s *Server) callbackResponseLocked(it *interaction, typ int) obj {
	inter := obj{"id": it.id.String(), "type": it.typ, "channel_id": it.channelID.String()}
	if it.guildID != 0 {
		inter["guild_id"] = it.guildID.String()
	}
	if m := it.original; m != nil && (typ == 4 || typ == 5) {
		inter["response_message_id"] = m.id.String()
		inter["response_message_loading"] = typ == 5
		inter["response_message_ephemeral"] = m.flags&int64(discord.MessageFlagEphemeral) != 0
	}
	res := obj{"interaction": inter}
	if (typ == 4 || typ == 7) && it.original != nil {
		res["resource"] = obj{"type": typ, "message": s.messageJSONLocked(it.original)}
	}
	return res
}

func decodeChoices(raw json.RawMessage, focusedTyp int) ([]discord.AutocompleteChoice, error) {
	var cs []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &cs); err != nil {
			return nil, fmt.Errorf("choices must be an array: %w", err)
		}
	}
	if len(cs) > 25 {
		return nil, errors.New("Must be 25 or fewer in length.")
	}
	out := []discord.AutocompleteChoice{}
	for _, c := range cs {
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 100 {
			return nil, errors.New("choice name must be between 1 and 100 in length")
		}
		switch focusedTyp {
		case 4:
			var v int
			if err := json.Unmarshal(c.Value, &v); err != nil {
				return nil, fmt.Errorf("choice %q: value must be an integer", c.Name)
			}
			out = append(out, discord.AutocompleteChoiceInt{Name: c.Name, Value: v})
		case 10:
			var v float64
			if err := json.Unmarshal(c.Value, &v); err != nil {
				return nil, fmt.Errorf("choice %q: value must be a number", c.Name)
			}
			out = append(out, discord.AutocompleteChoiceFloat{Name: c.Name, Value: v})
		default:
			var v string
			if err := json.Unmarshal(c.Value, &v); err != nil || utf8.RuneCountInString(v) > 100 {
				return nil, fmt.Errorf("choice %q: value must be a string of at most 100 characters", c.Name)
			}
			out = append(out, discord.AutocompleteChoiceString{Name: c.Name, Value: v})
		}
	}
	return out, nil
}

// webhookInteractionLocked resolves /webhooks/{app}/{token} for an
// interaction, writing Discord's error when it cannot be used.
func (s *Server) webhookInteractionLocked(rc *reqCtx) *interaction {
	app, _ := snowflake.Parse(rc.param("app"))
	it := s.byToken[rc.param("token")]
	if app != s.appID || it == nil {
		writeJSON(rc.w, http.StatusNotFound, apiError(10015, "Unknown Webhook"))
		return nil
	}
	if s.opts.Now().Sub(it.createdSim) > tokenLifetime {
		s.recordFailureLocked("interaction %s (/%s): token used after %s (%s %s)", it.id, it.command, tokenLifetime, rc.r.Method, rc.route.pattern)
		writeJSON(rc.w, http.StatusUnauthorized, apiError(50027, "Invalid Webhook Token"))
		return nil
	}
	if !it.acked {
		writeJSON(rc.w, http.StatusNotFound, apiError(10015, "Unknown Webhook"))
		return nil
	}
	return it
}

// originalLocked finds the interaction of a webhook route whose original
// response exists; nil means a 404 was written.
func (s *Server) originalLocked(rc *reqCtx) *interaction {
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return nil
	}
	if it.original == nil || it.original.deleted {
		writeJSON(rc.w, http.StatusNotFound, apiError(10008, "Unknown Message"))
		return nil
	}
	return it
}

func (s *Server) handleGetOriginal(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.originalLocked(rc)
	if it == nil {
		return
	}
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(it.original))
}

func (s *Server) handleDeleteOriginal(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.originalLocked(rc)
	if it == nil {
		return
	}
	s.deleteMessageLocked(it.original)
	it.final = true
	s.notifyLocked()
	rc.w.WriteHeader(http.StatusNoContent)
}

// editLocked applies an edit body to m; false means an error was written.
func (s *Server) editLocked(rc *reqCtx, m *message) bool {
	var p msgPayload
	files, herr := decodeBody(rc.r, rc.body, &p)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return false
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return false
	}
	before := *m
	loading := m.flags&int64(discord.MessageFlagLoading) != 0
	s.applyPayloadLocked(m, &p, files)
	if m.empty() {
		*m = before
		writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
		return false
	}
	if loading {
		// The first edit after a deferral is the response itself, not an edit.
		m.flags &^= int64(discord.MessageFlagLoading)
	} else {
		now := s.opts.Now()
		m.edited = &now
	}
	s.dispatchMessageLocked("MESSAGE_UPDATE", m)
	return true
}

func (s *Server) handleEditOriginal(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.originalLocked(rc)
	if it == nil {
		return
	}
	if !s.editLocked(rc, it.original) {
		return
	}
	it.final = true
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(it.original))
}

// handleFollowup serves POST /webhooks/{app}/{token}. After a deferral the
// first follow-up replaces the "thinking" placeholder, as on Discord.
func (s *Server) handleFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	if o := it.original; o != nil && !o.deleted && o.flags&int64(discord.MessageFlagLoading) != 0 {
		if !s.editLocked(rc, o) {
			return
		}
		it.final = true
		s.notifyLocked()
		writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(o))
		return
	}
	var p msgPayload
	files, herr := decodeBody(rc.r, rc.body, &p)
	if herr != nil {
		writeJSON(rc.w, herr.status, herr.body)
		return
	}
	if errs := validateMessage(&p); errs != nil {
		writeJSON(rc.w, http.StatusBadRequest, formError(errs))
		return
	}
	m := &message{id: s.newIDLocked(), channelID: it.channelID, guildID: it.guildID, authorID: s.botID,
		timestamp: s.opts.Now(), inter: it, replyTo: it.clicked}
	s.applyPayloadLocked(m, &p, files)
	if m.empty() {
		writeJSON(rc.w, http.StatusBadRequest, apiError(50006, "Cannot send an empty message"))
		return
	}
	it.followups = append(it.followups, m)
	s.storeMessageLocked(m)
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
}

func (s *Server) followupLocked(rc *reqCtx, it *interaction) *message {
	id, _ := snowflake.Parse(rc.param("message"))
	for _, m := range append([]*message{it.original}, it.followups...) {
		if m != nil && m.id == id && !m.deleted {
			return m
		}
	}
	writeJSON(rc.w, http.StatusNotFound, apiError(10008, "Unknown Message"))
	return nil
}

func (s *Server) handleGetFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	if m := s.followupLocked(rc, it); m != nil {
		writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
	}
}

// handleDeleteFollowup serves DELETE /webhooks/{app}/{token}/messages/{message}.
func (s *Server) handleDeleteFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	if m := s.followupLocked(rc, it); m != nil {
		s.deleteMessageLocked(m)
		s.notifyLocked()
		rc.w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleEditFollowup(rc *reqCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.webhookInteractionLocked(rc)
	if it == nil {
		return
	}
	m := s.followupLocked(rc, it)
	if m == nil || !s.editLocked(rc, m) {
		return
	}
	s.notifyLocked()
	writeJSON(rc.w, http.StatusOK, s.messageJSONLocked(m))
}
