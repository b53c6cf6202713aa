package discordsim

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// post sends a message as the bot with a raw request, with ctx (so a test
// can give up on it as a killed process would).
func post(ctx context.Context, s *Server, channel, content string) (int, string, error) {
	rq, err := http.NewRequestWithContext(ctx, "POST", s.APIURL()+"/channels/"+channel+"/messages", strings.NewReader(`{"content":"`+content+`"}`))
	if err != nil {
		return 0, "", err
	}
	rq.Header.Set("Authorization", "Bot "+s.Token())
	rq.Header.Set("Content-Type", "application/json")
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		return 0, "", err
	}
	defer rs.Body.Close()
	b, _ := io.ReadAll(rs.Body)
	return rs.StatusCode, string(b), nil
}

// recordAfter waits for the transcript's record number n (0-based): it is
// written when the handler returns, a moment after the client saw its
// answer or gave up.
func recordAfter(t *testing.T, s *Server, n int) RequestRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.waitFor(ctx, func() bool { return len(s.requests) > n }); err != nil {
		t.Fatal(err)
	}
	return s.Requests()[n]
}

func TestSimHoldBeforeAndAfterHandling(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newSim(t, Options{})
	w := buildWorld(s)
	ch := w.text.String()

	t.Run("before: nothing happens until released", func(t *testing.T) {
		h := s.HoldNext("POST", "/channels/{id}/messages", HoldBefore)
		done := make(chan int, 1)
		go func() {
			status, _, _ := post(ctx, s, ch, "held before")
			done <- status
		}()
		if err := h.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Messages(w.text)); n != 0 || h.Waiting() != 1 {
			t.Fatalf("while held: %d messages, %d waiting", n, h.Waiting())
		}
		h.Release()
		if status := <-done; status != 200 || len(s.Messages(w.text)) != 1 {
			t.Fatalf("after release: status %d, %d messages", status, len(s.Messages(w.text)))
		}
		// HoldNext took one request: the next one goes through.
		if status, _, _ := post(ctx, s, ch, "not held"); status != 200 {
			t.Fatalf("next request: %d", status)
		}
	})

	t.Run("before: a client that gives up never has its request handled", func(t *testing.T) {
		before, n := len(s.Messages(w.text)), len(s.Requests())
		h := s.HoldNext("POST", "/channels/{id}/messages", HoldBefore)
		cctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { _, _, err := post(cctx, s, ch, "abandoned"); done <- err }()
		if err := h.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		stop() // the client goes away, as a killed process's connection does
		if err := <-done; err == nil {
			t.Fatal("the cancelled request got an answer")
		}
		rec := recordAfter(t, s, n)
		h.Release()
		if !rec.Abandoned || rec.Status != 0 || h.Abandoned() != 1 || len(s.Messages(w.text)) != before {
			t.Fatalf("record %+v, %d messages (had %d)", rec, len(s.Messages(w.text)), before)
		}
	})

	t.Run("after: the message exists while its answer is held", func(t *testing.T) {
		before, n := len(s.Messages(w.text)), len(s.Requests())
		h := s.HoldNext("POST", "/channels/{id}/messages", HoldAfter)
		cctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { _, _, err := post(cctx, s, ch, "made"); done <- err }()
		if err := h.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if got := s.Messages(w.text); len(got) != before+1 || got[len(got)-1].Content != "made" {
			t.Fatalf("while the answer is held: %d messages", len(got))
		}
		stop()
		if err := <-done; err == nil {
			t.Fatal("the cancelled request got an answer")
		}
		if rec := recordAfter(t, s, n); !rec.Abandoned || rec.Status != 200 || h.Abandoned() != 1 {
			t.Fatalf("record %+v, abandoned %d", rec, h.Abandoned())
		}
		h.Release()
	})

	t.Run("after: released, the client gets Discord's answer", func(t *testing.T) {
		h := s.HoldNext("POST", "/channels/{id}/messages", HoldAfter)
		type answer struct {
			status int
			body   string
		}
		done := make(chan answer, 1)
		go func() { st, b, _ := post(ctx, s, ch, "answered"); done <- answer{st, b} }()
		if err := h.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		h.Release()
		a := <-done
		if a.status != 200 || !strings.Contains(a.body, `"content":"answered"`) {
			t.Fatalf("answer %d %s", a.status, a.body)
		}
	})

	t.Run("all: every request waits until released", func(t *testing.T) {
		h := s.HoldAll("", "", HoldBefore)
		done := make(chan int, 3)
		for range 3 {
			go func() { st, _, _ := post(ctx, s, ch, "one of three"); done <- st }()
		}
		if err := s.waitFor(ctx, func() bool { return h.Waiting() == 3 }); err != nil {
			t.Fatalf("held %d of 3: %v", h.Waiting(), err)
		}
		h.Release()
		for range 3 {
			if st := <-done; st != 200 {
				t.Errorf("status %d", st)
			}
		}
		if status, _, _ := post(ctx, s, ch, "after the hang"); status != 200 || h.Held() != 3 {
			t.Fatalf("after release: %d, held %d", status, h.Held())
		}
	})
}
