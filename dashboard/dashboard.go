// Package dashboard is quotad's web dashboard: one page of plain HTML, CSS
// and JavaScript, embedded in the binary (it works offline), that shows every
// quota and channel and steers them through the JSON API under /api/v1.
//
// The package gives the server three handlers to mount beside the API:
//
//   - New serves the page at / and its files under /assets/, with a strict
//     Content-Security-Policy, X-Frame-Options: DENY and Referrer-Policy:
//     no-referrer;
//   - EventStream serves GET /api/v1/events/stream: every committed event
//     as a server-sent event (event: quotad, data: the quotad.EventStatus
//     JSON, id: the event id), plus ": ping" comments, so the page updates
//     itself without polling;
//   - UsageHandler serves GET /api/v1/usage: usage history for the charts.
//
// Cross-origin mutations are refused by the API server around all of them.
//
// The page reads with fetch and, for mutations, sends the token a person
// entered once (kept in sessionStorage) as "Authorization: Bearer". Reads
// follow the API's rules (the handlers are mounted with server.HandleRead),
// so the page asks for the token when the API answers 401.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// Paths the dashboard's handlers expect to be mounted at.
const (
	AssetsPrefix = "/assets/"              // New: the page's files
	StreamPath   = "/api/v1/events/stream" // EventStream
	UsagePath    = "/api/v1/usage"         // UsageHandler
)

// Defaults of Options.
const (
	DefaultPingInterval = 15 * time.Second
	DefaultMaxStreams   = 64
	DefaultPollInterval = 500 * time.Millisecond
	// writeTimeout bounds each write to an event stream: a client that does
	// not read for this long is dropped.
	writeTimeout = 10 * time.Second
)

// Options configure the dashboard's handlers. Zero values take the defaults.
// The stream and usage handlers check no token themselves: mount them with
// server.HandleRead, so that they answer exactly as the API's reads do.
type Options struct {
	// Done, when closed, ends every open event stream: pass the daemon's
	// shutdown (ctx.Done()), or http.Server.Shutdown waits for streams that
	// never end by themselves.
	Done <-chan struct{}
	// PingInterval is how often an idle stream sends a ": ping" comment
	// (keeping proxies from closing it); default DefaultPingInterval.
	PingInterval time.Duration
	// PollInterval is how often the event streams read the log for events
	// committed by other processes (the CLI, another daemon on a shared
	// store); the engine's own arrive at once. Default DefaultPollInterval.
	PollInterval time.Duration
	// MaxStreams caps concurrent event streams; a new stream beyond it
	// replaces the one open longest (whose client reconnects), so clients
	// that hold streams without reading cannot lock others out. Default
	// DefaultMaxStreams.
	MaxStreams int
	// Logger receives failures; default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every file of the dashboard: nothing
// but the dashboard's own files and API, no inline script or style
// attributes, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	name  string
	ctype string
	etag  string
	body  []byte
}

// New returns the handler of the dashboard's page and files: GET / serves
// the page, GET /assets/NAME its files (see AssetsPrefix). Anything else is
// 404. It needs no token: the page holds no data but the name of the
// engine's time zone (which the page shows beside the browser's); it reads
// everything else from the API. It uses none of opts today; they are the
// same Options as the other handlers' so that one value configures all.
func New(e Source, opts Options) http.Handler {
	zone := ""
	if e != nil && e.Location() != nil {
		zone = e.Location().String()
	}
	files := map[string]*asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = http.DetectContentType(b)
		}
		if strings.HasSuffix(p, "LICENSE") || strings.HasSuffix(p, "README") {
			ctype = "text/plain; charset=utf-8"
		}
		name := strings.TrimPrefix(p, "static/")
		if name == "index.html" {
			b = bytes.Replace(b, []byte(`<body data-zone="">`), []byte(`<body data-zone="`+html.EscapeString(zone)+`">`), 1)
		}
		sum := sha256.Sum256(b)
		files[name] = &asset{name: name, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, body: b}
		return nil
	})
	if err != nil { // the files are embedded: this cannot fail at run time
		panic("dashboard: reading embedded files: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var a *asset
		switch p := r.URL.Path; {
		case p == "/" || p == "/index.html":
			a = files["index.html"]
		case strings.HasPrefix(p, AssetsPrefix):
			name := strings.TrimPrefix(p, AssetsPrefix)
			if name != "index.html" && !strings.Contains(name, "..") {
				a = files[name]
			}
		}
		if a == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("ETag", a.etag)
		// Revalidate every time: a new binary serves new files at the same
		// names, and a 304 costs little.
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	})
}

// securityHeaders sets the headers that keep the dashboard from being
// framed, leaking its address, or running anything it did not ship.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}
