// Package health is rollcall's optional HTTP listener for a supervisor and
// a monitoring system (config key http_listen):
//
//	/healthz  the process answers: 200 "ok"
//	/readyz   every readiness check with its result, as JSON: 200 when all
//	          pass, 503 naming those that fail
//	/metrics  the Prometheus registry it is given, in the text format
//
// It knows nothing of Discord or the database: the app gives it the checks
// and the registry. Nothing here is authenticated, so the app warns when
// the address is not a loopback one.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one readiness condition.
type Check struct {
	Name string
	// Run says whether the condition holds, and in a few words what it
	// found. It must return within ctx's deadline.
	Run func(ctx context.Context) (ok bool, detail string)
}

// Result is one check's outcome, as /readyz reports it.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is /readyz's body.
type Report struct {
	// Status is "ready" or "not ready".
	Status string `json:"status"`
	// Failing names the checks that fail, in order; empty when ready.
	Failing []string `json:"failing"`
	Checks  []Result `json:"checks"`
}

// checkTimeout bounds all of /readyz's checks together: a supervisor's
// probe must get an answer even when the database hangs.
const checkTimeout = 3 * time.Second

// Server is the listener. Make it with Listen, stop it with Close.
type Server struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
	// done is closed when Serve has returned.
	done chan struct{}
}

// Listen opens addr (so that a port in use fails the start, not a
// goroutine) and serves the endpoints until Close.
func Listen(addr string, reg *prometheus.Registry, checks []Check, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http_listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		rep := Run(ctx, checks)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Status != "ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slogPrinter{log}, Registry: reg,
	})))
	s := &Server{ln: ln, log: log, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http listener stopped", slog.Any("error", err))
		}
	}()
	return s, nil
}

// Addr is the address listened on, with the port the system chose for :0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening and waits for the requests being answered, until
// ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}

// Run runs every check in order, each with what is left of ctx.
func Run(ctx context.Context, checks []Check) Report {
	rep := Report{Status: "ready", Failing: []string{}, Checks: make([]Result, 0, len(checks))}
	for _, c := range checks {
		ok, detail := c.Run(ctx)
		if !ok && ctx.Err() != nil && detail == "" {
			detail = "no answer within " + checkTimeout.String()
		}
		rep.Checks = append(rep.Checks, Result{Name: c.Name, OK: ok, Detail: detail})
		if !ok {
			rep.Status = "not ready"
			rep.Failing = append(rep.Failing, c.Name)
		}
	}
	return rep
}

// IsLoopback reports whether addr (host:port) listens only on this
// machine: a loopback IP or "localhost". An empty host is every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// slogPrinter is promhttp's error log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("metrics: " + fmt.Sprint(v...))
}
