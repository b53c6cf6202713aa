// Package healthtest reads rollcall's HTTP endpoints the way a supervisor
// and Prometheus do, for tests: over HTTP, parsing the text format with
// Prometheus's own parser.
package healthtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"rollcall/health"
)

var client = &http.Client{Timeout: 10 * time.Second}

// Get fetches base+path and returns the status and body.
func Get(t testing.TB, base, path string) (int, string) {
	t.Helper()
	resp, err := client.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// Ready fetches /readyz.
func Ready(t testing.TB, base string) (int, health.Report) {
	t.Helper()
	code, body := Get(t, base, "/readyz")
	var rep health.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("/readyz (%d) is not its JSON report: %v\n%s", code, err, body)
	}
	return code, rep
}

// Metrics is one scrape of /metrics.
type Metrics map[string]*dto.MetricFamily

// Scrape fetches and parses /metrics.
func Scrape(t testing.TB, base string) Metrics {
	t.Helper()
	code, body := Get(t, base, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d:\n%s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not in the Prometheus text format: %v", err)
	}
	return fams
}

// Value is a counter's or gauge's value, or a histogram's count, of the
// series with exactly these label pairs ("kind", "event", ...); it fails t
// when there is no such series.
func (m Metrics) Value(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	v, ok := m.Lookup(name, labels...)
	if !ok {
		t.Fatalf("no series %s%v in /metrics (families: %v)", name, labels, m.names())
	}
	return v
}

// Lookup is Value without failing.
func (m Metrics) Lookup(name string, labels ...string) (float64, bool) {
	fam, ok := m[name]
	if !ok {
		return 0, false
	}
	for _, s := range fam.GetMetric() {
		if !hasLabels(s, labels) {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount()), true
		case s.Untyped != nil:
			return s.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func hasLabels(s *dto.Metric, pairs []string) bool {
	if len(pairs)%2 != 0 || len(s.GetLabel()) != len(pairs)/2 {
		return false
	}
	for i := 0; i < len(pairs); i += 2 {
		if !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] }) {
			return false
		}
	}
	return true
}

func (m Metrics) names() []string {
	out := make([]string, 0, len(m))
	for n := range m {
		if strings.HasPrefix(n, "rollcall_") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// WaitFor scrapes until cond holds, for values set just after the event a
// test waited for (a reply's metrics are counted after Discord has it).
// It fails t after a minute.
func WaitFor(t testing.TB, base string, what string, cond func(Metrics) bool) Metrics {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		m := Scrape(t, base)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Check returns the named check of a report.
func Check(rep health.Report, name string) (health.Result, error) {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c, nil
		}
	}
	return health.Result{}, fmt.Errorf("no check %q in %+v", name, rep)
}
