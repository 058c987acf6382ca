package server

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/clock"
	"github.com/quotad/quotad/engine"
)

// scrapeTimeout bounds the store read behind one scrape.
const scrapeTimeout = 10 * time.Second

// metrics is the server's private Prometheus registry: quota and channel
// gauges read from the store at scrape time, the engine's counters mirrored
// at scrape time, Go and process metrics, and request durations.
type metrics struct {
	handler  http.Handler
	duration *prometheus.HistogramVec
}

func newMetrics(svc quotad.Service, counters func() engine.Counters, clk clock.Clock, log *slog.Logger, extra ...prometheus.Collector) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "quotad_http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by route pattern, method and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "code"})}
	reg.MustRegister(m.duration, newStateCollector(svc, counters, clk, log),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(extra...)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLog{log}, ErrorHandling: promhttp.ContinueOnError})
	return m
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

// instrument records the duration of every request to h under route.
//
// The histogram of a route's usual answer (its method, 200) is looked up
// once; others are looked up by label values per request.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	var usual sync.Map // method → prometheus.Observer of code 200
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		var obs prometheus.Observer
		if code == http.StatusOK {
			if o, ok := usual.Load(r.Method); ok {
				obs = o.(prometheus.Observer)
			} else if isMethod(r.Method) {
				obs = m.duration.WithLabelValues(route, r.Method, "200")
				usual.Store(r.Method, obs)
			}
		}
		if obs == nil {
			obs = m.duration.WithLabelValues(route, r.Method, strconv.Itoa(code))
		}
		obs.Observe(time.Since(start).Seconds())
	})
}

// isMethod reports whether m is a standard method (a route's cache holds
// no more than these).
func isMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// stateCollector reads engine state and counters at scrape time.
type stateCollector struct {
	svc      quotad.Service
	counters func() engine.Counters
	clock    clock.Clock
	log      *slog.Logger

	up, limit, used, remaining, reserved, exhausted, toReset, available, paused, active, drift *prometheus.Desc

	spends, units, refused, reservations, classified, resets, exhaustions *prometheus.Desc
	resumes, pauses, transactions, operations, failures                   *prometheus.Desc
}

func newStateCollector(svc quotad.Service, counters func() engine.Counters, clk clock.Clock, log *slog.Logger) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("quotad_"+name, help, labels, nil)
	}
	win := []string{"api", "window"}
	return &stateCollector{
		svc: svc, counters: counters, clock: clk, log: log,
		up:           d("store_up", "1 when this scrape could read quota state from the store and the last write to it succeeded, else 0.", nil...),
		limit:        d("window_limit", "Units a quota window allows per period.", win...),
		used:         d("window_used", "Units spent in a quota window since its last reset.", win...),
		remaining:    d("window_remaining", "Units left in a quota window before its limit (ignoring reservations).", win...),
		reserved:     d("window_reserved", "Units held by outstanding reservations in a quota window.", win...),
		exhausted:    d("window_exhausted", "1 when a quota window is exhausted, else 0.", win...),
		toReset:      d("window_seconds_to_reset", "Seconds until a quota window's next reset (0 when due).", win...),
		drift:        d("window_drift", "The provider's count of a window's used units minus quotad's, at the last response that stated it.", win...),
		available:    d("api_available", "1 when no window of the API is exhausted, else 0.", "api"),
		paused:       d("channel_paused", "1 for each reason a channel is paused.", "channel", "reason"),
		active:       d("channel_active", "1 when a channel has no pause reason, else 0.", "channel"),
		spends:       d("spends_total", "Spends and commits accepted.", "api"),
		units:        d("spent_units_total", "Units in accepted spends and commits.", "api"),
		refused:      d("refused_total", "Spends and reservations refused because the API was exhausted.", "api"),
		reservations: d("reservations_total", "Reservations granted.", "api"),
		classified:   d("classified_errors_total", "Reported errors by attributed API (empty when unattributed) and kind.", "api", "kind"),
		resets:       d("resets_total", "Window resets (timer, provider retry time, or a person).", "api"),
		exhaustions:  d("exhaustions_total", "Transitions of an API to exhausted.", "api"),
		resumes:      d("resumes_total", "Channels resumed, automatically or by a person.", nil...),
		pauses:       d("pauses_total", "Pauses added to channels.", nil...),
		transactions: d("store_transactions_total", "Group-commit store transactions committed.", nil...),
		operations:   d("store_operations_total", "Operations committed in those transactions.", nil...),
		failures:     d("store_failures_total", "Store transactions that failed.", nil...),
	}
}

func (c *stateCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{c.up, c.limit, c.used, c.remaining, c.reserved, c.exhausted, c.toReset, c.available, c.paused, c.active, c.drift,
		c.spends, c.units, c.refused, c.reservations, c.classified, c.resets, c.exhaustions,
		c.resumes, c.pauses, c.transactions, c.operations, c.failures}
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	st, err := c.svc.Status(ctx)
	switch {
	case err != nil:
		c.log.Error("metrics: reading status", "err", err)
		gauge(c.up, 0)
	case writeHealth(c.svc) != nil: // readable, but the last write failed
		gauge(c.up, 0)
	default:
		gauge(c.up, 1)
	}
	now := c.clock.Now()
	apis := make([]string, 0, len(st.APIs))
	for _, a := range st.APIs {
		apis = append(apis, a.Name)
		gauge(c.available, b2f(a.Available), a.Name)
		for _, w := range a.Windows {
			gauge(c.limit, float64(w.Limit), a.Name, w.Key)
			gauge(c.used, float64(w.Used), a.Name, w.Key)
			gauge(c.remaining, float64(w.Remaining), a.Name, w.Key)
			gauge(c.reserved, float64(w.Reserved), a.Name, w.Key)
			gauge(c.exhausted, b2f(w.Exhausted), a.Name, w.Key)
			gauge(c.toReset, secondsUntil(w.NextReset, now), a.Name, w.Key)
		}
	}
	for _, ct := range st.Channels {
		gauge(c.active, b2f(ct.Active), ct.Name)
		for _, p := range ct.PauseReasons {
			gauge(c.paused, 1, ct.Name, p.Reason)
		}
	}
	if dr, ok := c.svc.(interface{ Drifts() []engine.Drift }); ok {
		for _, d := range dr.Drifts() {
			gauge(c.drift, float64(d.Drift), d.API, d.Window)
		}
	}
	if c.counters != nil {
		c.collectCounters(ch, c.counters(), apis)
	}
}

func (c *stateCollector) collectCounters(ch chan<- prometheus.Metric, n engine.Counters, apis []string) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	perAPI := func(d *prometheus.Desc, m map[string]uint64) {
		for _, api := range apis { // configured APIs start at 0
			if _, ok := m[api]; !ok {
				counter(d, 0, api)
			}
		}
		for _, api := range slices.Sorted(maps.Keys(m)) {
			counter(d, m[api], api)
		}
	}
	perAPI(c.spends, n.Spends)
	perAPI(c.units, n.SpendUnits)
	perAPI(c.refused, n.Refused)
	perAPI(c.reservations, n.Reservations)
	perAPI(c.resets, n.Resets)
	perAPI(c.exhaustions, n.Exhaustions)
	for _, key := range slices.Sorted(maps.Keys(n.Classified)) {
		api, kind := key, ""
		if i := strings.LastIndexByte(key, '/'); i >= 0 {
			api, kind = key[:i], key[i+1:]
		}
		if api == "-" {
			api = ""
		}
		counter(c.classified, n.Classified[key], api, kind)
	}
	counter(c.resumes, n.Resumes)
	counter(c.pauses, n.Pauses)
	counter(c.transactions, n.Transactions)
	counter(c.operations, n.Operations)
	counter(c.failures, n.StoreFailures)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func secondsUntil(t *time.Time, now time.Time) float64 {
	if t == nil {
		return 0
	}
	return max(0, t.Sub(now).Seconds())
}

// promLog sends promhttp's errors to slog.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Error("metrics: " + strings.TrimSpace(fmt.Sprintln(v...))) }
