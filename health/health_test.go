package health_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"rollcall/health"
	"rollcall/health/healthtest"
)

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "rollcall_test_total", Help: "A test counter."})
	reg.MustRegister(c)
	var dbDown atomic.Bool
	checks := []health.Check{
		{Name: "gateway", Run: func(context.Context) (bool, string) { return true, "ready" }},
		{Name: "database", Run: func(context.Context) (bool, string) {
			if dbDown.Load() {
				return false, "unreachable"
			}
			return true, "answered"
		}},
	}
	srv, err := health.Listen("127.0.0.1:0", reg, checks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	base := "http://" + srv.Addr()

	if code, body := healthtest.Get(t, base, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, rep := healthtest.Ready(t, base)
	if code != http.StatusOK || rep.Status != "ready" || len(rep.Failing) != 0 || len(rep.Checks) != 2 {
		t.Errorf("/readyz = %d %+v", code, rep)
	}
	dbDown.Store(true)
	code, rep = healthtest.Ready(t, base)
	if code != http.StatusServiceUnavailable || rep.Status != "not ready" || !slices.Equal(rep.Failing, []string{"database"}) {
		t.Errorf("/readyz with the database down = %d %+v", code, rep)
	}
	if r, _ := healthtest.Check(rep, "database"); r.OK || r.Detail != "unreachable" {
		t.Errorf("database check %+v", r)
	}

	c.Add(3)
	if v := healthtest.Scrape(t, base).Value(t, "rollcall_test_total"); v != 3 {
		t.Errorf("rollcall_test_total = %v", v)
	}
	if code, _ := healthtest.Get(t, base, "/nope"); code != http.StatusNotFound {
		t.Errorf("/nope = %d", code)
	}
	resp, err := http.Post(base+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d", resp.StatusCode)
	}

	// A second listener on the same address fails at once.
	if _, err := health.Listen(srv.Addr(), reg, nil, slog.Default()); err == nil {
		t.Error("listening twice on one address succeeded")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9108": true, "[::1]:9108": true, "localhost:9108": true, "127.1.2.3:9108": true,
		":9108": false, "0.0.0.0:9108": false, "[::]:9108": false, "192.168.1.5:9108": false, "example.org:9108": false,
	} {
		if got := health.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
