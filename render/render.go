// Package render draws attendance charts as PNG images.
//
// It takes plain data (TimelineChart, BarChart) and returns PNG bytes; it knows nothing of
// Discord or the database. Chart options are built with go-echarts and drawn by ECharts in one
// long-lived headless Chromium, which loads ECharts once per tab from the renderer's own
// 127.0.0.1 listener (never a CDN) and then only receives option JSON: per rendering.md this is
// the fastest robust approach (about 55 ms warm for a 20-member timeline, against 140 ms for a
// navigation per chart and 500 ms for a tab per chart).
//
// TimelineText and BarsText draw the same data as monospace text, for when the browser fails:
// a report is never lost.
package render

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"
)

// assetsFS holds render/assets. echarts.min.js in it is installed by `make assets`, not committed;
// a committed README keeps this embed valid on a fresh clone.
//
//go:embed assets
var assetsFS embed.FS

const echartsAsset = "assets/echarts.min.js"

var (
	// ErrUnavailable means a chart could not be rendered: no browser, the browser crashed, or
	// ECharts failed. Callers fall back to TimelineText / BarsText.
	ErrUnavailable = errors.New("render: chart rendering unavailable")
	// ErrTimeout means a render exceeded Options.Timeout (or the caller's deadline). The browser
	// has been killed; the next render relaunches it. errors.Is(ErrTimeout, ErrUnavailable) holds.
	ErrTimeout = fmt.Errorf("%w: timed out", ErrUnavailable)
	// ErrClosed is returned by renders after Close.
	ErrClosed = fmt.Errorf("%w: renderer closed", ErrUnavailable)
	// ErrNoECharts is returned by New when no echarts.min.js is available.
	ErrNoECharts = errors.New("render: echarts.min.js is missing: run `make assets` before building " +
		"(npm ci --prefix render/web && cp render/web/node_modules/echarts/dist/echarts.min.js render/assets/), " +
		"or pass --echarts / Options.EChartsPath with the path of a local echarts.min.js")
	// ErrNoChromium is returned by New when no Chromium binary is found.
	ErrNoChromium = errors.New("render: no Chromium found: install it (apt-get install chromium fonts-noto-color-emoji), " +
		"or set CHROMIUM_PATH / Options.ChromiumPath")
)

// Options configures a Renderer. The zero value is usable.
type Options struct {
	// ChromiumPath is the browser binary. Default: $CHROMIUM_PATH, then /usr/lib/chromium/chromium
	// (Debian's /usr/bin/chromium is a shell wrapper), /usr/bin/chromium, then chromium and
	// google-chrome in PATH.
	ChromiumPath string
	// EChartsPath optionally overrides the embedded echarts.min.js with a local file.
	EChartsPath string
	// Tabs is the pool size, default 1. Each tab costs about 0.4 GB; renders queue for a free tab.
	Tabs int
	// Timeout bounds one render, default 10 s. On timeout or crash the browser is killed and
	// relaunched for the next render.
	Timeout time.Duration
	// Logger defaults to slog.Default() with component=render. A logger given here is used as
	// is: the caller names the component (app adds component=render), and adding it again
	// printed it twice on every line.
	Logger *slog.Logger
}

// launchTimeout bounds starting the browser and loading ECharts into every tab; the first launch
// measured 0.8 s on a 2-core machine, so this only trips on a broken install.
const launchTimeout = 30 * time.Second

// Renderer draws charts in a pool of tabs of one headless Chromium. It is safe for concurrent use.
type Renderer struct {
	opts    Options
	log     *slog.Logger
	echarts []byte

	ln      net.Listener
	srv     *http.Server
	pageURL string

	// state is a one-slot semaphore guarding b and closed; a channel rather than a mutex so a
	// caller waiting for a launch can give up when its context ends.
	state  chan struct{}
	b      *browser
	closed bool

	launches int // number of browser launches, for tests and logs
}

// New starts the asset server and the browser and loads ECharts into every tab, so the first
// render is already warm.
func New(ctx context.Context, opts Options) (*Renderer, error) {
	if opts.Tabs <= 0 {
		opts.Tabs = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default().With(slog.String("component", "render"))
	}
	js, err := loadECharts(opts.EChartsPath)
	if err != nil {
		return nil, err
	}
	path, err := findChromium(opts.ChromiumPath)
	if err != nil {
		return nil, err
	}
	opts.ChromiumPath = path

	r := &Renderer{opts: opts, log: log, echarts: js,
		state: make(chan struct{}, 1)}
	removeStaleProfilesLogged(log)
	if err := r.serve(); err != nil {
		return nil, err
	}
	if _, err := r.browser(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// loadECharts returns the ECharts bundle: the file at path when given, else the embedded one.
func loadECharts(path string) ([]byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("render: read echarts %s: %w", path, err)
		}
		if len(b) < 1024 {
			return nil, fmt.Errorf("render: %s is not echarts.min.js (%d bytes)", path, len(b))
		}
		return b, nil
	}
	b, err := fs.ReadFile(assetsFS, echartsAsset)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoECharts
	}
	if err != nil {
		return nil, fmt.Errorf("render: read embedded echarts: %w", err)
	}
	return b, nil
}

// findChromium resolves the browser binary; see Options.ChromiumPath.
func findChromium(explicit string) (string, error) {
	if explicit != "" {
		p, err := exec.LookPath(explicit)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrNoChromium, explicit, err)
		}
		return p, nil
	}
	return FindChromium()
}

// FindChromium returns the default browser binary (see Options.ChromiumPath) or ErrNoChromium.
// A CHROMIUM_PATH that names no executable is an error, not a reason to search on: whoever
// set it meant that browser, and a silent fallback would hide the typo until charts differ.
func FindChromium() (string, error) {
	if env := os.Getenv("CHROMIUM_PATH"); env != "" {
		p, err := exec.LookPath(env)
		if err != nil {
			return "", fmt.Errorf("%w: CHROMIUM_PATH=%s: %w", ErrNoChromium, env, err)
		}
		return p, nil
	}
	candidates := []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium", "google-chrome"}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// serve starts the 127.0.0.1 listener that gives the tabs their page and ECharts.
func (r *Renderer) serve() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("render: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, pageHTML)
	})
	mux.HandleFunc("GET /echarts.min.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=31536000, immutable")
		_, _ = w.Write(r.echarts)
	})
	r.ln = ln
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	r.pageURL = "http://" + ln.Addr().String() + "/"
	go func() { _ = r.srv.Serve(ln) }()
	return nil
}

// lock takes the state semaphore, or gives up when ctx ends.
func (r *Renderer) lock(ctx context.Context) error {
	select {
	case r.state <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for the browser: %w", ErrTimeout, ctx.Err())
	}
}

func (r *Renderer) unlock() { <-r.state }

// browser returns the running browser, launching one if there is none or the last one died.
func (r *Renderer) browser(ctx context.Context) (*browser, error) {
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if r.b != nil && r.b.alive() {
		return r.b, nil
	}
	if r.b != nil {
		r.log.Warn("browser died; relaunching", slog.Int("pid", r.b.pid))
		r.b.stop()
		r.b = nil
	}
	start := time.Now()
	b, err := launch(ctx, r.opts, r.pageURL)
	if err != nil {
		return nil, err
	}
	r.launches++
	r.b = b
	r.log.Info("browser started", slog.Int("pid", b.pid), slog.Int("tabs", r.opts.Tabs),
		slog.Duration("took", time.Since(start)))
	return b, nil
}

// discard stops b if it is still the current browser. The next render launches a new one.
func (r *Renderer) discard(b *browser, reason string) {
	r.log.Warn("killing browser", slog.Int("pid", b.pid), slog.String("reason", reason))
	r.state <- struct{}{}
	if r.b == b {
		r.b = nil
	}
	r.unlock()
	b.stop()
}

// Close stops the browser and the listener and removes the browser's temporary directories.
func (r *Renderer) Close() error {
	r.state <- struct{}{}
	if r.closed {
		r.unlock()
		return nil
	}
	r.closed = true
	b := r.b
	r.b = nil
	r.unlock()
	if b != nil {
		b.stop()
	}
	return r.srv.Close()
}

// render draws one ECharts option (JSON from go-echarts) at w x h pixels and returns the PNG.
func (r *Renderer) render(ctx context.Context, option []byte, w, h int) ([]byte, error) {
	expr := "rollcallRender(" + string(option) + "," + strconv.Itoa(w) + "," + strconv.Itoa(h) + ")"
	return r.eval(ctx, expr)
}

// eval runs a page expression that resolves to a PNG data URL in a pooled tab, handling the
// browser's death and hangs. It retries once on a fresh browser when the browser died under it
// (not when the render itself timed out: a chart that hangs the page would hang the next one too).
func (r *Renderer) eval(ctx context.Context, expr string) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		b, err := r.browser(ctx)
		if err != nil {
			return nil, err
		}
		var t *tab
		select {
		case t = <-b.tabs:
		case <-b.done:
			lastErr = fmt.Errorf("%w: browser exited", ErrUnavailable)
			continue
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for a free tab: %w", ErrTimeout, ctx.Err())
		}
		rctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		png, err := t.eval(rctx, expr)
		timedOut := rctx.Err() != nil
		cancel()
		var jsErr *chromedp.ExceptionError
		switch {
		case err == nil:
			b.tabs <- t
			return png, nil
		case timedOut:
			// The page may be stuck in a script; closing the tab would not reliably stop it, and a
			// new tab costs about as much as a new browser, so restart the whole browser.
			r.discard(b, "render timed out")
			return nil, fmt.Errorf("%w after %s: %w", ErrTimeout, r.opts.Timeout, err)
		case errors.As(err, &jsErr) && b.alive():
			// ECharts or the page threw: the tab is fine, the chart is not.
			b.tabs <- t
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		default:
			// The connection broke: the browser died or is dying (chromedp notices a lost
			// connection a moment after the call fails). Start over on a fresh browser once.
			lastErr = fmt.Errorf("%w: browser failed: %w", ErrUnavailable, err)
			r.discard(b, "browser failed during render")
		}
	}
	return nil, lastErr
}

// tempDirs are the browser's profile (user-data-dir), XDG_CONFIG_HOME, XDG_CACHE_HOME and TMPDIR,
// so the profile, crash reports and temporary files stay inside one directory, removed when the
// browser stops; lock marks it live until then (see profiles.go).
type tempDirs struct {
	root, profile, config, cache, tmp string
	lock                              *os.File
}

func newTempDirs() (tempDirs, error) {
	root, err := os.MkdirTemp("", profilePrefix)
	if err != nil {
		return tempDirs{}, fmt.Errorf("render: temp dir: %w", err)
	}
	d := tempDirs{root: root, profile: filepath.Join(root, "profile"), config: filepath.Join(root, "config"),
		cache: filepath.Join(root, "cache"), tmp: filepath.Join(root, "tmp")}
	if d.lock, err = lockProfile(root); err != nil {
		_ = os.RemoveAll(root)
		return tempDirs{}, fmt.Errorf("render: lock temp dir: %w", err)
	}
	for _, p := range []string{d.profile, d.config, d.cache, d.tmp} {
		if err := os.Mkdir(p, 0o700); err != nil {
			d.remove()
			return tempDirs{}, fmt.Errorf("render: temp dir: %w", err)
		}
	}
	return d, nil
}

// remove deletes the directories, then lets go of the lock. A helper process of the browser that
// was just killed can still create a file while the tree is removed ("directory not empty"), as
// chromedp found for its own profiles; a few retries cover it.
func (d tempDirs) remove() {
	for i := 0; i < 10; i++ {
		if err := os.RemoveAll(d.root); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.lock != nil {
		_ = d.lock.Close()
	}
}

// KillBrowser kills the browser process as a crash would, without telling
// the renderer: the next render must notice and relaunch. It exists for
// fault tests of the callers.
func (r *Renderer) KillBrowser() error {
	if err := r.lock(context.Background()); err != nil {
		return err
	}
	b := r.b
	r.unlock()
	if b == nil {
		return nil
	}
	if err := b.proc.Kill(); err != nil {
		return err
	}
	_, _ = b.proc.Wait()
	return nil
}
