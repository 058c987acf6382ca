package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"

	"github.com/quotad/quotad/engine"
)

// IdempotencyHeader is the request header that makes a mutation safe to
// retry: the same key within quotad.IdempotencyTTL (24 h) returns the first
// answer (status and body) and changes nothing; the same key with another
// request (method, path or body) is refused with 422.
const IdempotencyHeader = "Idempotency-Key"

// ReplayedHeader is set ("true") on an answer replayed for a repeated
// Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// maxIdempotencyKey bounds the length of an Idempotency-Key.
const maxIdempotencyKey = 255

// idempotentRoutes are the mutations that honour IdempotencyHeader.
var idempotentRoutes = map[string]bool{
	"/api/v1/apis/{api}/spend":          true,
	"/api/v1/apis/{api}/reserve":        true,
	"/api/v1/reservations/{id}/commit":  true,
	"/api/v1/reservations/{id}/release": true,
	"/api/v1/errors":                    true,
}

// validIdempotencyKey reports whether key is 1 to 255 visible ASCII
// characters.
func validIdempotencyKey(key string) bool {
	if key == "" || len(key) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// answer is a rendered response.
type answer struct {
	status int
	body   []byte
}

// serveIdempotent runs a mutation that carries an Idempotency-Key: the
// engine stores the answer under the key in the operation's transaction (or
// finds the first one), and the caller gets exactly that answer.
func (s *Server) serveIdempotent(rt route, w http.ResponseWriter, r *http.Request, key string) {
	if !validIdempotencyKey(key) {
		s.writeError(w, r, invalidf("%s must be 1 to %d visible ASCII characters", IdempotencyHeader, maxIdempotencyKey))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		s.writeError(w, r, bodyError(err))
		return
	}
	sum := sha256.New()
	io.WriteString(sum, r.Method+" "+r.URL.Path+"\n")
	sum.Write(body)
	var (
		mu       sync.Mutex
		rendered *answer
	)
	ctx := engine.WithIdempotency(r.Context(), engine.Idempotency{
		Key:         key,
		Fingerprint: hex.EncodeToString(sum.Sum(nil)),
		Render: func(v any, err error) (int, []byte, bool) {
			a := s.render(v, err)
			mu.Lock()
			rendered = &a
			mu.Unlock()
			return a.status, a.body, a.status < 500
		},
	})
	r2 := r.WithContext(ctx)
	r2.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{header: http.Header{}}
	herr := rt.h(rec, r2)
	var rp *engine.Replayed
	if errors.As(herr, &rp) {
		w.Header().Set(ReplayedHeader, "true")
		s.writeAnswer(w, answer{rp.Status, rp.Body})
		return
	}
	mu.Lock()
	a := rendered
	mu.Unlock()
	if a != nil && a.status < 500 {
		if herr == nil {
			s.writeAnswer(w, *a)
			return
		}
		if status, _ := s.describe(herr); status < 500 { // the operation's own answer, committed with its key
			s.writeAnswer(w, *a)
			return
		}
	}
	// The operation never ran or its transaction failed: nothing was
	// stored under the key, and a retry runs it.
	if herr != nil {
		s.writeError(w, r, herr)
		return
	}
	rec.copyTo(w)
}

// render is the answer a mutation's outcome gets: 200 with the result as
// JSON, 204 for none, or the error's status and body.
func (s *Server) render(v any, err error) answer {
	if err != nil {
		status, body := s.describe(err)
		return answer{status, encodeJSON(body)}
	}
	if v == nil {
		return answer{http.StatusNoContent, nil}
	}
	return answer{http.StatusOK, encodeJSON(v)}
}

func encodeJSON(v any) []byte {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.Bytes()
}

// writeAnswer writes a rendered answer with the headers its status needs.
func (s *Server) writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	if a.status == http.StatusTooManyRequests {
		var eb ErrorBody
		if json.Unmarshal(a.body, &eb) == nil && eb.Error.Until != nil {
			secs := math.Ceil(eb.Error.Until.Sub(s.now()).Seconds())
			h.Set("Retry-After", strconv.FormatInt(int64(max(1, min(secs, math.MaxInt32))), 10))
		}
	}
	if a.status == http.StatusNoContent {
		w.WriteHeader(a.status)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// recorder keeps what a handler wrote, so that serveIdempotent can answer
// with the stored answer instead.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}
