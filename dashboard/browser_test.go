package dashboard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/dashboard"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/server"
)

// chromium returns the path of a Chromium or Chrome binary, or "" when
// none is installed. QUOTAD_CHROMIUM names one explicitly.
func chromium() string {
	if p := os.Getenv("QUOTAD_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// daemon is what `quotad serve` serves, in-process: the API of package
// server with the dashboard mounted on it exactly as cmd/quotad mounts it.
type daemon struct {
	e    *engine.Engine
	st   quotad.Store
	ts   *httptest.Server
	done chan struct{}
	runs chan string // channels whose job "Run now" started
}

// StartJob implements server.JobStarter: the daemon's job runner.
func (d *daemon) StartJob(channel string, force bool) (time.Time, error) {
	d.runs <- channel
	return time.Now(), nil
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	e, st := newEngineStoreAt(t, t.TempDir()+"/q.db")
	d := &daemon{e: e, st: st, done: make(chan struct{}), runs: make(chan string, 10)}
	srv := server.New(e, server.Options{Token: testToken, Logger: quietLogger(), Jobs: d})
	// The mounting lines for cmd/quotad/http.go.
	dopts := dashboard.Options{Done: d.done, Logger: quietLogger()}
	dash := dashboard.New(e, dopts)
	srv.Handle("GET /{$}", dash)
	srv.Handle("GET "+dashboard.AssetsPrefix, dash)
	srv.HandleRead("GET "+dashboard.StreamPath, dashboard.EventStream(e, dopts))
	srv.HandleRead("GET "+dashboard.UsagePath, dashboard.UsageHandler(e, dopts))
	d.ts = httptest.NewServer(srv)
	t.Cleanup(func() {
		close(d.done) // the daemon stops: event streams end
		d.ts.Close()
	})
	return d
}

// post calls the API as a program would, with the token.
func (d *daemon) post(t *testing.T, path, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := new(bytes.Buffer)
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

// browser drives one headless Chromium tab; every step is bounded.
type browser struct {
	t       *testing.T
	ctx     context.Context
	dir     string
	mu      sync.Mutex
	console []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Skip("skipping the browser tests: no Chromium found (apt-get install chromium, or set QUOTAD_CHROMIUM)")
	}
	if testing.Short() {
		t.Skip("skipping the browser tests in -short mode")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, dir: t.ArtifactDir()}
	// The first action starts the browser, bound to ctx: a timeout here
	// would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s [%s] %s (%s:%d)", m.Type, m.Source, m.Text, m.URL, m.Line))
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps within d.
func (b *browser) do(what string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// waitJS waits (bounded) until a JavaScript expression is truthy.
func (b *browser) waitJS(what, expr string, d time.Duration) {
	b.t.Helper()
	b.do(what, d+time.Second, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(25*time.Millisecond)))
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	b.screenshot("failure-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(what)))
	if errors.Is(err, context.DeadlineExceeded) {
		b.t.Fatalf("%s: timed out\nconsole:\n%s", what, b.consoleText())
	}
	b.t.Fatalf("%s: %v\nconsole:\n%s", what, err, b.consoleText())
}

func (b *browser) consoleText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.console, "\n")
}

// screenshot writes the whole page as NAME.png into the artifact directory
// and returns its path.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

// seedHistory writes 40 hours of hourly youtube and groq usage into the
// store, as a daemon that ran for two days would have, with the two timer
// resets of that time in the log, and adds the current period's part to
// the windows' used units: the charts then have something to show.
func seedHistory(t *testing.T, st quotad.Store) {
	t.Helper()
	now := time.Now()
	err := st.Update(context.Background(), func(tx quotad.Tx) error {
		for _, s := range []struct {
			api string
			per map[string]int64
		}{
			{"youtube", map[string]int64{"Shorts": 90, "RankRiot": 60}},
			{"groq", map[string]int64{"RankRiot": 1500}},
		} {
			a, err := tx.API(s.api)
			if err != nil {
				return err
			}
			w := a.Windows[0]
			if w.LastReset.IsZero() {
				return fmt.Errorf("%s has no last reset", s.api)
			}
			var buckets []quotad.UsageBucket
			for h := 40; h >= 1; h-- {
				start := now.Add(-time.Duration(h) * time.Hour).Truncate(time.Hour)
				f := 0.3 + 0.5*(1+math.Sin(float64(h)/3.5))
				for ch, base := range s.per {
					u := int64(float64(base) * f)
					buckets = append(buckets, quotad.UsageBucket{API: s.api, Channel: ch, Start: start, Resolution: quotad.Hour, Units: u, Count: 1 + u/50})
					if !start.Before(w.LastReset) {
						w.Used += u
					}
				}
			}
			if err := tx.AddUsage(buckets...); err != nil {
				return err
			}
			if err := tx.SaveWindow(s.api, w); err != nil {
				return err
			}
			for _, at := range []time.Time{w.LastReset.Add(-24 * time.Hour), w.LastReset} {
				err := tx.AppendEvents(quotad.Event{Time: at, Level: quotad.LevelInfo, Category: quotad.CategoryQuotaReset,
					Message: strings.ToUpper(s.api) + " quota reset", Fields: map[string]string{"api": s.api, "window": w.Name, "trigger": "timer"}})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// commas formats n as the page does in English: 12,345.
func commas(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// remaining returns the units left in an API's first window.
func remaining(t *testing.T, e *engine.Engine, api string) int64 {
	t.Helper()
	a, err := e.API(context.Background(), api)
	if err != nil {
		t.Fatal(err)
	}
	return a.Windows[0].Remaining
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// set sets the value of form fields ("#id", "value" pairs) as a person's
// edit would, firing input and change events.
func (b *browser) set(pairs ...string) {
	b.t.Helper()
	var js strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&js, "{ const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); }\n", pairs[i], pairs[i+1])
	}
	eval[chromedp.Void](b, "set "+strings.Join(pairs, " "), js.String())
}

const step = 10 * time.Second // bound of one step in the browser

// TestDashboardInBrowser runs the dashboard in headless Chromium against an
// in-process daemon and checks what a person sees and does: every API card,
// an exhaustion and a resume arriving live, the token form, the pause and
// resume buttons, sorting and filtering, a chart with data, the event log
// with paging, the confirmed reset-all, a phone-width and a dark layout.
func TestDashboardInBrowser(t *testing.T) {
	d := startDaemon(t)
	b := newBrowser(t)
	ctx := context.Background()

	// Some history for the charts: two days, and spends now.
	seedHistory(t, d.st)
	for _, s := range []struct {
		api, ch string
		n       int64
	}{{"youtube", "Shorts", 1200}, {"youtube", "RankRiot", 800}, {"groq", "RankRiot", 42000}, {"pexels", "Footage", 35}} {
		if _, err := d.e.Spend(ctx, s.api, s.n, s.ch); err != nil {
			t.Fatal(err)
		}
	}

	b.do("load the dashboard", 30*time.Second,
		chromedp.Navigate(d.ts.URL+"/"),
		chromedp.WaitVisible(css(`#cards .card[data-api="youtube"][data-window="daily"]`)),
		chromedp.WaitVisible(css(`#cards .card[data-api="groq"][data-window="daily"]`)),
		chromedp.WaitVisible(css(`#cards .card[data-api="pexels"][data-window="hourly"]`)),
		chromedp.WaitVisible(css(`#cards .card[data-api="pexels"][data-window="monthly"]`)),
		chromedp.WaitVisible(css(`#live[data-state="on"]`)),
	)
	if n := eval[int](b, "count cards", `document.querySelectorAll('#cards .card').length`); n != 4 {
		t.Errorf("%d cards, want one per API window (4)", n)
	}
	left := remaining(t, d.e, "youtube")
	if txt := eval[string](b, "youtube card", `document.querySelector('.card[data-api="youtube"]').innerText`); !strings.Contains(txt, commas(left)) || !strings.Contains(txt, "Available") {
		t.Errorf("youtube card before: %q, want %s left", txt, commas(left))
	}

	// Exhaust youtube through the JSON API: the card changes by itself.
	start := time.Now()
	d.post(t, "/api/v1/apis/youtube/spend", fmt.Sprintf(`{"units": %d, "channel": "Shorts"}`, left))
	b.do("the youtube card shows the exhaustion live", step,
		chromedp.WaitVisible(css(`.card[data-api="youtube"].exhausted[data-exhausted="true"]`)))
	t.Logf("exhaustion shown %s after the spend", time.Since(start).Round(time.Millisecond))
	if txt := eval[string](b, "youtube card", `document.querySelector('.card[data-api="youtube"]').innerText`); !strings.Contains(txt, "Exhausted") || !strings.Contains(txt, "0 of 10,000") {
		t.Errorf("youtube card after: %q", txt)
	}
	// The countdown's form depends on the hour (youtube resets at midnight
	// Pacific): "in 5h 12m" most of the day, "in 48m 40s" in the last hour.
	b.waitJS("the countdown runs", `(() => {
		const t = document.querySelector('.card[data-api="youtube"] time.countdown');
		const ms = new Date(t.getAttribute('datetime')) - Date.now();
		return ms > 0 && ms <= 86400e3 && /^in (\d+h \d+m|\d+m \d+s|\d+s) \(/.test(t.textContent);
	})()`, step)
	overview := b.screenshot("overview")

	// Keyboard: the tabs follow the arrow keys.
	b.do("arrow to the channels tab", step,
		chromedp.Focus(css(`#tab-overview`)),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.WaitVisible(css(`#channels`)),
	)
	if sel := eval[string](b, "focus", `document.activeElement.id + ' ' + document.activeElement.getAttribute('aria-selected')`); sel != "tab-channels true" {
		t.Errorf("after ArrowRight the focus is on %q", sel)
	}

	// Channels: the exhaustion paused Shorts and RankRiot, not Footage.
	b.do("channel rows", step,
		chromedp.WaitVisible(css(`tr[data-channel="Shorts"].paused`)),
		chromedp.WaitVisible(css(`tr[data-channel="RankRiot"].paused`)),
		chromedp.WaitVisible(css(`tr[data-channel="Footage"].active`)),
	)
	if txt := eval[string](b, "Shorts row", `document.querySelector('tr[data-channel="Shorts"]').innerText`); !strings.Contains(txt, "quota:youtube") || !strings.Contains(txt, "in ") {
		t.Errorf("Shorts row: %q (want its pause reason and resume countdown)", txt)
	}

	// A reset in the engine (the monitor's, or another process's) shows live.
	start = time.Now()
	if _, err := d.e.Reset(ctx, "youtube"); err != nil {
		t.Fatal(err)
	}
	b.do("the rows resume live", step,
		chromedp.WaitVisible(css(`tr[data-channel="Shorts"].active`)),
		chromedp.WaitVisible(css(`tr[data-channel="RankRiot"].active`)),
	)
	t.Logf("resume shown %s after the reset", time.Since(start).Round(time.Millisecond))

	// A person pauses Shorts elsewhere; then resumes it here, with the token.
	d.post(t, "/api/v1/channels/Shorts/pause", `{"reason": "re-recording the intro"}`)
	b.do("the manual pause shows", step, chromedp.WaitVisible(css(`tr[data-channel="Shorts"].paused #resume-Shorts`)))
	b.do("enter the token", step,
		chromedp.Click(css(`#token-button`)),
		chromedp.WaitVisible(css(`#token-dialog[open] #token-input`)),
		chromedp.SendKeys(css(`#token-input`), testToken),
		chromedp.Click(css(`#token-save`)),
		chromedp.WaitNotVisible(css(`#token-dialog`)),
	)
	if tok := eval[string](b, "sessionStorage", `sessionStorage.getItem('quotad.token')`); tok != testToken {
		t.Errorf("sessionStorage token %q", tok)
	}
	b.do("resume Shorts with its button", step,
		chromedp.Click(css(`#resume-Shorts`)),
		chromedp.WaitVisible(css(`tr[data-channel="Shorts"].active`)),
	)
	if c, err := d.e.Channel(ctx, "Shorts"); err != nil || !c.Active {
		t.Errorf("Shorts after the resume button: %+v %v", c, err)
	}

	// Pause Footage with its button: the dialog asks for a reason.
	b.do("pause Footage through the dialog", step,
		chromedp.Click(css(`#pause-Footage`)),
		chromedp.WaitVisible(css(`#confirm-dialog[open] #confirm-input`)),
		chromedp.SendKeys(css(`#confirm-input`), "stock footage audit"),
		chromedp.Click(css(`#confirm-ok`)),
		chromedp.WaitNotVisible(css(`#confirm-dialog`)),
		chromedp.WaitVisible(css(`tr[data-channel="Footage"].paused`)),
	)
	if c, err := d.e.Channel(ctx, "Footage"); err != nil || c.Active || len(c.PauseReasons) != 1 || c.PauseReasons[0].Detail != "stock footage audit" {
		t.Errorf("Footage after the pause button: %+v %v", c, err)
	}

	// Sort by priority (high first), then filter.
	b.do("sort by priority", step, chromedp.Click(css(`th[data-key="priority"] button`)))
	if order := eval[string](b, "order", `[...document.querySelectorAll('#channel-table tbody tr')].map(r => r.dataset.channel).join(',')`); order != "RankRiot,Shorts,Footage" {
		t.Errorf("sorted by priority: %s", order)
	}
	b.do("sort by priority, descending", step, chromedp.Click(css(`th[data-key="priority"] button`)))
	if order := eval[string](b, "order", `[...document.querySelectorAll('#channel-table tbody tr')].map(r => r.dataset.channel).join(',')`); order != "Footage,Shorts,RankRiot" {
		t.Errorf("sorted by priority, descending: %s", order)
	}
	b.do("filter", step, chromedp.SendKeys(css(`#channel-filter`), "foot"))
	b.waitJS("the filter keeps Footage only", `[...document.querySelectorAll('#channel-table tbody tr')].map(r => r.dataset.channel).join(',') === 'Footage'`, step)
	b.set("#channel-filter", "")
	b.waitJS("all rows are back", `document.querySelectorAll('#channel-table tbody tr').length === 3`, step)
	b.screenshot("channels")

	// Job details (the daemon adds a "job" object to channels that have one;
	// this engine has no job runner, so the page is given one) and the run
	// button (the API describes POST /api/v1/channels/{name}/run).
	b.waitJS("the run route is found", `window.quotadDashboard.state.runSupported === true`, step)
	eval[chromedp.Void](b, "add a job", `(() => {
		const d = window.quotadDashboard, c = d.state.status.channels.find(c => c.name === 'RankRiot');
		c.job = {schedule: 'every 30m', next_run: new Date(Date.now() + 600e3).toISOString(), last_start: new Date(Date.now() - 1200e3).toISOString(),
			last_end: new Date(Date.now() - 1100e3).toISOString(), last_result: 'ok', last_detail: 'exit 0', runs: 3, running: false};
		d.render();
	})()`)
	b.do("job columns and the run button", step,
		chromedp.WaitVisible(css(`tr[data-channel="RankRiot"] td.job-col time.countdown`)),
		chromedp.WaitVisible(css(`#run-RankRiot`)),
	)
	if n := eval[int](b, "run buttons", `document.querySelectorAll('button.run').length`); n != 1 {
		t.Errorf("%d run buttons, want 1 (only channels with a job)", n)
	}
	// A paused channel's job is held, not "due": the cell says why.
	eval[chromedp.Void](b, "a job on the paused channel", `(() => {
		const d = window.quotadDashboard, c = d.state.status.channels.find(c => c.name === 'Footage');
		c.job = {schedule: 'every 30m', next_run: new Date(Date.now() - 60e3).toISOString(), runs: 0, running: false};
		d.render();
	})()`)
	if txt := eval[string](b, "Footage's next run", `document.querySelector('tr[data-channel="Footage"] td[data-label="Next run"]').innerText`); !strings.Contains(txt, "held: manual") || strings.Contains(txt, "due") {
		t.Errorf("a paused channel's next run reads %q, want it held and why", txt)
	}
	b.do("run now", step, chromedp.Click(css(`#run-RankRiot`)))
	select {
	case ch := <-d.runs:
		if ch != "RankRiot" {
			t.Errorf("Run now started %s", ch)
		}
	case <-time.After(step):
		t.Fatal("Run now did not reach the daemon's job runner")
	}
	b.waitJS("the run's result", `(() => { const li = document.querySelector('#action-log li'); return li && li.classList.contains('ok') && li.innerText.includes('Started a run of RankRiot'); })()`, step)
	eval[chromedp.Void](b, "back to the API's status", `(() => { window.quotadDashboard.state.runSupported = false; return window.quotadDashboard.refresh(); })()`)
	b.do("no job columns", step, chromedp.WaitNotVisible(css(`th.job-col`)), chromedp.WaitNotPresent(css(`#run-RankRiot`)))

	// Usage: the youtube chart has data points.
	b.do("open the usage tab", step,
		chromedp.Click(css(`#tab-usage`)),
		chromedp.WaitVisible(css(`figure.chart[data-api="youtube"] canvas`)),
	)
	b.waitJS("the youtube chart has data", `(() => {
		const c = window.quotadDashboard.charts['youtube/daily'];
		return c && c.data[0].length > 0 && c.data[1].length > 0 && c.data[1].some(v => v > 0);
	})()`, step)
	series := eval[[]string](b, "series", `window.quotadDashboard.charts['youtube/daily'].series.map(s => s.label)`)
	for _, want := range []string{"all channels", "Shorts", "RankRiot", "limit"} {
		if !strings.Contains(strings.Join(series, ","), want) {
			t.Errorf("youtube chart series %v lack %q", series, want)
		}
	}
	if n := eval[int](b, "canvas size", `document.querySelector('figure.chart[data-api="youtube"] canvas').width`); n < 200 {
		t.Errorf("chart canvas %d px wide", n)
	}
	b.set("#usage-channel", "Shorts")
	b.waitJS("the Shorts chart", `(() => {
		const d = window.quotadDashboard, c = d.charts['youtube/daily'];
		return d.state.usage.channel === 'Shorts' && c && c.series[1].label === 'Shorts' && c.data[1].some(v => v > 0) && !d.charts['groq/daily'];
	})()`, step)
	b.set("#usage-channel", "", "#usage-by", "day")
	// By day a daily window is one bar a day, under its limit.
	b.waitJS("the daily chart", `(() => {
		const d = window.quotadDashboard, c = d.charts['youtube'];
		return d.state.usage.by === 'day' && d.state.usage.range === '30d' && c && c.data[1].some(v => v > 0) && c.series.some(s => s.label === 'daily limit');
	})()`, step)
	b.screenshot("usage-day")
	b.set("#usage-by", "hour", "#usage-range", "48h")
	b.waitJS("the hourly chart", `(() => {
		const d = window.quotadDashboard, c = d.charts['youtube/daily'];
		return d.state.usage.by === 'hour' && d.state.usage.range === '48h' && c && c.series[1].label === 'all channels' && c.data[1].some(v => v > 0);
	})()`, step)
	b.set("#usage-mode", "bucket")
	b.waitJS("the bar chart has data", `(() => { const c = window.quotadDashboard.charts['groq']; return c && c.data[1].some(v => v > 0); })()`, step)
	b.set("#usage-mode", "window")
	b.waitJS("the window chart is back", `!!window.quotadDashboard.charts['youtube/daily']`, step)
	b.screenshot("usage")

	// Events: filtered by category, newest first, paged.
	for i := range 30 {
		if _, err := d.e.Pause(ctx, "RankRiot", fmt.Sprintf("page filler %d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.e.Resume(ctx, "RankRiot"); err != nil {
			t.Fatal(err)
		}
	}
	b.do("open the events tab", step,
		chromedp.Click(css(`#tab-events`)),
		chromedp.WaitVisible(css(`#event-table tbody tr`)),
	)
	b.waitJS("a full page", `document.querySelectorAll('#event-table tbody tr').length === 50 && !document.querySelector('#events-older').disabled`, step)
	ids := eval[[]int](b, "ids", `[...document.querySelectorAll('#event-table tbody tr')].map(r => +r.dataset.id)`)
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("events not newest first: %v", ids)
		}
	}
	b.do("older page", step, chromedp.Click(css(`#events-older`)))
	b.waitJS("the older page", fmt.Sprintf(`(() => { const r = document.querySelector('#event-table tbody tr'); return r && +r.dataset.id < %d; })()`, ids[len(ids)-1]), step)
	b.do("back to the newest", step, chromedp.Click(css(`#events-newest`)))
	b.waitJS("the newest page", fmt.Sprintf(`+document.querySelector('#event-table tbody tr').dataset.id >= %d`, ids[0]), step)
	b.set("#event-category", "quota")
	b.waitJS("only quota events", `(() => { const rows = [...document.querySelectorAll('#event-table tbody tr')]; return rows.length > 0 && rows.every(r => r.dataset.category === 'quota'); })()`, step)
	b.set("#event-channel", "Shorts", "#event-level", "WARNING")
	b.waitJS("Shorts' quota warnings", `(() => { const rows = [...document.querySelectorAll('#event-table tbody tr')]; return rows.length > 0 && rows.every(r => r.innerText.includes('Shorts') && r.innerText.includes('WARNING')); })()`, step)

	// A new event appears on the first page by itself.
	b.set("#event-category", "", "#event-channel", "", "#event-level", "")
	d.post(t, "/api/v1/channels/Shorts/pause", `{"reason": "live event check"}`)
	b.waitJS("the new event on top", `document.querySelector('#event-table tbody tr').innerText.includes('live event check')`, step)
	b.screenshot("events")

	// Actions: reset all, confirmed in the dialog.
	if _, err := d.e.Spend(ctx, "groq", remaining(t, d.e, "groq"), "RankRiot"); err != nil {
		t.Fatal(err)
	}
	b.do("reset all through the dialog", step,
		chromedp.Click(css(`#tab-actions`)),
		chromedp.WaitVisible(css(`#action-reset-all`)),
		chromedp.Click(css(`#action-reset-all`)),
		chromedp.WaitVisible(css(`#confirm-dialog[open] #confirm-ok`)),
	)
	if txt := eval[string](b, "dialog", `document.querySelector('#confirm-dialog').innerText`); !strings.Contains(txt, "Reset every API") {
		t.Errorf("dialog: %q", txt)
	}
	b.do("cancel first", step, chromedp.Click(css(`#confirm-cancel`)), chromedp.WaitNotVisible(css(`#confirm-dialog`)))
	if a, _ := d.e.API(ctx, "groq"); a.Available {
		t.Fatal("groq available after a cancelled reset")
	}
	b.do("then confirm", step,
		chromedp.Click(css(`#action-reset-all`)),
		chromedp.WaitVisible(css(`#confirm-dialog[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
	)
	b.waitJS("the reset's result", `(() => { const li = document.querySelector('#action-log li'); return li && li.classList.contains('ok') && li.innerText.includes('Reset groq, pexels, youtube'); })()`, step)
	if a, _ := d.e.API(ctx, "groq"); !a.Available || a.Windows[0].Used != 0 {
		t.Errorf("groq after reset all: %+v", a)
	}
	b.do("the overview shows groq available", step,
		chromedp.Click(css(`#tab-overview`)),
		chromedp.WaitVisible(css(`.card[data-api="groq"][data-exhausted="false"]`)),
	)

	// Phone width: no sideways scrolling, tables as cards.
	b.do("phone viewport", step, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.waitJS("the overview fits a phone", `document.documentElement.scrollWidth <= window.innerWidth`, step)
	b.screenshot("overview-phone")
	b.do("channels on a phone", step, chromedp.Click(css(`#tab-channels`)), chromedp.WaitVisible(css(`tr[data-channel="Shorts"]`)))
	b.waitJS("the channels fit a phone", `document.documentElement.scrollWidth <= window.innerWidth`, step)
	b.screenshot("channels-phone")
	b.do("usage on a phone", step, chromedp.Click(css(`#tab-usage`)), chromedp.WaitVisible(css(`figure.chart canvas`)))
	b.waitJS("the charts fit a phone", `document.documentElement.scrollWidth <= window.innerWidth`, step)

	// Dark mode.
	b.do("dark mode", step,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}),
		chromedp.Click(css(`#tab-overview`)),
	)
	b.waitJS("a dark background", `(() => { const m = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number); return m[0] + m[1] + m[2] < 150; })()`, step)
	b.screenshot("overview-dark")
	draws := eval[int](b, "draws", `window.quotadDashboard.state.draws`)
	b.do("usage in dark mode", step, chromedp.Click(css(`#tab-usage`)), chromedp.WaitVisible(css(`figure.chart[data-api="youtube"] canvas`)))
	b.waitJS("the charts are drawn again", fmt.Sprintf(`window.quotadDashboard.state.draws > %d && !!window.quotadDashboard.charts['youtube/daily']`, draws), step)
	b.screenshot("usage-dark")

	// Nothing went wrong in the page: no exception, no CSP violation, no
	// failed request.
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if strings.HasPrefix(m, "error") || strings.HasPrefix(m, "exception") || strings.Contains(m, "Content Security Policy") {
			t.Errorf("browser console: %s", m)
		}
	}
	t.Logf("overview screenshot: %s (keep it with go test -artifacts -outputdir DIR)", overview)
}
