package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/provider"
)

// This file decides which windows a call is charged to and refused by: its
// model (read from the request body, else the response's), the bucket its
// cost rule names, and its credential scope. The provider's rules read a
// view of the API made of exactly those windows, under their plain names;
// the engine gets their keys.

// maxModelPeek is how much of a JSON request body is read for its model.
const maxModelPeek = 256 << 10

// readModel returns the "model" of a JSON request body of a per-model API,
// leaving the body intact for the upstream.
func readModel(r *http.Request) string {
	if r.Body == nil || r.Body == http.NoBody || r.Method != http.MethodPost {
		return ""
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		return ""
	}
	rest := r.Body
	buf, err := io.ReadAll(io.LimitReader(rest, maxModelPeek))
	switch {
	case err != nil: // the upstream call fails the same way
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}), rest}
	case len(buf) < maxModelPeek: // all of it
		r.Body = readCloser{bytes.NewReader(buf), rest}
	default:
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), rest), rest}
	}
	return provider.ModelOfBody(buf)
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

// errReader ends a body with the error its first read got.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// view is the part of an API one call is charged to.
type view struct {
	api   quotad.API // the selected windows, under their plain names
	keys  []string   // the window keys, parallel to api.Windows
	learn []quotad.Window
}

// callTarget returns the call's target: its model, or the bucket its cost rule
// charges, and its scope.
func (c *call) callTarget() quotad.Target {
	tg := quotad.Target{API: c.api, Model: c.model, Scope: c.scope}
	if tg.Model == "" {
		if r, ok := c.prof.Cost(c.method, c.path); ok && c.prof.IsBucket(r.Window) {
			tg.Model = r.Window
		}
	}
	return tg
}

// viewOf returns the windows of full a call to tg is charged to. A scope
// the API has no windows for yet gets fresh copies of the default scope's
// (the engine adds them when it meters the call).
func viewOf(full quotad.API, tg quotad.Target) view {
	if !full.HasScope(tg.Scope) {
		full.Windows = append(append([]quotad.Window(nil), full.Windows...), full.ScopeWindows(tg.Scope)...)
	}
	v := view{api: full}
	v.api.Windows = nil
	for _, i := range full.Selected(tg) {
		v.api.Windows = append(v.api.Windows, full.Windows[i])
		v.keys = append(v.keys, full.Windows[i].Key())
	}
	return v
}

// key returns the key of the view's window with the given plain name, or
// "" when the view has none.
func (v view) key(name string) string {
	for i, w := range v.api.Windows {
		if w.Name == name {
			return v.keys[i]
		}
	}
	return ""
}

// learnFrom adds to the view the windows of an unknown model of a per-model
// profile that the response's rate-limit headers state a limit for.
func (v *view) learnFrom(prof *provider.Profile, tg quotad.Target, h http.Header, status int, now time.Time) {
	if !prof.PerModel || tg.Model == "" || len(h) == 0 {
		return
	}
	tmpl := quotad.API{Name: tg.API}
	for _, w := range prof.Windows {
		if v.key(w.Name) == "" {
			tmpl.Windows = append(tmpl.Windows, quotad.Window{Name: w.Name, Limit: w.Limit})
		}
	}
	for _, o := range prof.Observations(h, status, tmpl, now) {
		w, ok := prof.LearnedWindow(tg.Model, o.Window, o.Limit)
		if !ok {
			continue
		}
		w.Scope = tg.Scope
		v.learn = append(v.learn, w)
		v.api.Windows = append(v.api.Windows, w)
		v.keys = append(v.keys, w.Key())
	}
}

// keyed turns what the provider's rules said of the view's windows into
// what the engine takes: charges and observations by window key; figures
// of windows the view lacks are dropped.
func (v view) keyed(m *engine.Metered) {
	if len(m.Charges) > 0 {
		charges := make(map[string]int64, len(m.Charges))
		for name, u := range m.Charges {
			if k := v.key(name); k != "" {
				charges[k] = u
			}
		}
		m.Charges = charges
	}
	obs := m.Observations[:0:0]
	for _, o := range m.Observations {
		if k := v.key(o.Window); k != "" {
			o.Window = k
			obs = append(obs, o)
		}
	}
	m.Observations = obs
	m.Learn = v.learn
}
