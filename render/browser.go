package render

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// browser is one Chromium process and its pool of tabs, each with the chart page loaded.
type browser struct {
	allocCancel context.CancelFunc
	cancel      context.CancelFunc
	ctx         context.Context // the first tab's chromedp context; ends when the browser dies
	done        <-chan struct{}
	tabs        chan *tab
	proc        *os.Process
	pid         int
	dirs        tempDirs
	stopOnce    sync.Once
}

// tab is one page of the browser with ECharts loaded.
type tab struct {
	ctx context.Context
}

// launch starts Chromium with the flags from rendering.md, opens opts.Tabs tabs on pageURL and
// warms each up with a render (fonts, including the emoji font, and the JIT).
func launch(ctx context.Context, opts Options, pageURL string) (*browser, error) {
	dirs, err := newTempDirs()
	if err != nil {
		return nil, err
	}
	// DefaultExecAllocatorOptions: --headless, --no-first-run, --disable-background-networking,
	// and more. Added: the rest of rendering.md's list, and the profile inside our own temp dir:
	// left to itself chromedp makes os.TempDir()/chromedp-runner*, which a killed bot leaves
	// behind under a name that is not ours to clean up.
	allocOpts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(opts.ChromiumPath),
		chromedp.UserDataDir(dirs.profile),
		chromedp.DisableGPU,
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		// Wider than any chart: the page lays charts out at their own size regardless, but a
		// narrow window would make the body scroll and is what go-echarts pages trip on.
		chromedp.WindowSize(1600, 1200),
		// Without these Chromium writes crash reports and temp dirs outside its profile.
		chromedp.Env("XDG_CONFIG_HOME="+dirs.config, "XDG_CACHE_HOME="+dirs.cache, "TMPDIR="+dirs.tmp),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root.
		allocOpts = append(allocOpts, chromedp.NoSandbox)
	}
	// The allocator must not inherit ctx: the browser outlives the New or render call that
	// launched it.
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	b := &browser{allocCancel: allocCancel, cancel: bcancel, ctx: bctx, done: bctx.Done(),
		tabs: make(chan *tab, opts.Tabs), dirs: dirs}

	// chromedp ties the browser's lifetime to the context of the first Run, so that Run gets no
	// deadline; the launch timeout is enforced around it instead.
	setup := make(chan error, 1)
	go func() {
		tabs := make([]*tab, 0, opts.Tabs)
		for i := 0; i < opts.Tabs; i++ {
			tctx := bctx
			if i > 0 {
				tctx, _ = chromedp.NewContext(bctx) // closed with the browser
			}
			if err := chromedp.Do(tctx, chromedp.Navigate(pageURL)); err != nil {
				setup <- fmt.Errorf("open tab: %w", err)
				return
			}
			t := &tab{ctx: tctx}
			if _, err := t.eval(tctx, "rollcallWarm()"); err != nil {
				setup <- fmt.Errorf("warm up tab: %w", err)
				return
			}
			tabs = append(tabs, t)
		}
		for _, t := range tabs {
			b.tabs <- t
		}
		setup <- nil
	}()
	lctx, lcancel := context.WithTimeout(ctx, launchTimeout)
	defer lcancel()
	select {
	case err = <-setup:
	case <-lctx.Done():
		err = lctx.Err()
	}
	if err != nil {
		b.stop()
		return nil, fmt.Errorf("%w: start %s: %w", ErrUnavailable, opts.ChromiumPath, err)
	}
	if c := chromedp.FromContext(bctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		b.proc = c.Browser.Process()
		b.pid = b.proc.Pid
	}
	return b, nil
}

// alive reports whether the browser process is still connected.
func (b *browser) alive() bool { return b.ctx.Err() == nil }

// stop kills the browser, waits for chromedp to reap it, and removes the temp dirs with the
// profile. Safe to call more than once and on a dead browser.
func (b *browser) stop() {
	b.stopOnce.Do(func() {
		b.allocCancel() // kills the process and waits for chromedp to reap it
		b.cancel()
		// chromedp kills children that outlive the browser only in a profile it made itself.
		for _, pid := range processesUsing(b.dirs.root) {
			killPID(pid)
		}
		b.dirs.remove()
	})
}

// eval evaluates expr, which must resolve to a PNG data URL, with ctx bounding the wait. The
// action runs against the tab's target directly, so ctx (the caller's, with the render timeout)
// bounds this call only and not the tab's lifetime, as it would on a first chromedp.Run.
func (t *tab) eval(ctx context.Context, expr string) ([]byte, error) {
	c := chromedp.FromContext(t.ctx)
	if c == nil || c.Target == nil {
		return nil, errors.New("tab has no target")
	}
	act := chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise)
	url, err := act(ctx, c.Target)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("evaluate: %w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(url, prefix) {
		return nil, fmt.Errorf("page returned %.40q, not a PNG data URL", url)
	}
	png, err := base64.StdEncoding.DecodeString(url[len(prefix):])
	if err != nil {
		return nil, fmt.Errorf("decode PNG data URL: %w", err)
	}
	return png, nil
}
