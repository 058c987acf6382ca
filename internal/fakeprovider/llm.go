package fakeprovider

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ModelLimits are one model's rate limits: requests per minute and per
// day, tokens per minute and per day (0: no such limit).
type ModelLimits struct {
	RPM, RPD, TPM, TPD int64
}

// GroqModels are Groq's published free-tier limits.
var GroqModels = map[string]ModelLimits{
	"llama-3.3-70b-versatile": {RPM: 30, RPD: 1000, TPM: 12000, TPD: 100000},
	"llama-3.1-8b-instant":    {RPM: 30, RPD: 14400, TPM: 6000, TPD: 500000},
}

// OpenAIModels are OpenAI's tier-1 limits of two models.
var OpenAIModels = map[string]ModelLimits{
	"gpt-4o-mini": {RPM: 500, RPD: 10000, TPM: 200000},
	"gpt-4o":      {RPM: 500, TPM: 30000},
}

// Groq returns the fake Groq: POST /openai/v1/chat/completions (JSON and
// SSE streams, usage and x_groq.usage), GET /openai/v1/models, per-model
// limits, x-ratelimit-* headers describing the model called (requests per
// DAY, tokens per MINUTE, as Groq's do), and Groq's 429 bodies.
func (f *Fake) Groq() http.Handler { return &llm{f: f, name: "groq", base: "/openai/v1"} }

// OpenAI returns the fake OpenAI: the same API at /v1, its headers
// describing requests and tokens per MINUTE, its 429 texts, and usage in a
// stream only with stream_options.include_usage.
func (f *Fake) OpenAI() http.Handler { return &llm{f: f, name: "openai", base: "/v1"} }

type llm struct {
	f          *Fake
	name, base string
}

func (l *llm) models() map[string]ModelLimits {
	if l.name == "openai" {
		return l.f.opts.OpenAIModels
	}
	return l.f.opts.GroqModels
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Content any `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int64 `json:"max_tokens"`
	MaxCompletionTokens *int64 `json:"max_completion_tokens"`
}

func (l *llm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	c := Call{Provider: l.name, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	defer func() { c.Status = sw.status; l.f.record(c) }()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == l.base+"/models":
		l.listModels(sw)
	case r.Method == http.MethodPost && r.URL.Path == l.base+"/chat/completions":
		l.chat(sw, r, &c)
	default:
		l.error(sw, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path+". Please check the URL for typos, or see the docs at https://console.groq.com/docs/",
			"invalid_request_error", "unknown_url")
	}
}

func (l *llm) listModels(w http.ResponseWriter) {
	var data []map[string]any
	for id := range l.models() {
		data = append(data, map[string]any{"id": id, "object": "model", "created": 1733447754, "owned_by": "Meta", "active": true})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
}

func (l *llm) error(w http.ResponseWriter, status int, msg, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"message": msg, "type": typ, "code": code}
	if l.name == "openai" {
		e["param"] = nil
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// promptTokens counts a request's prompt tokens the fake's way: 8, plus
// one per 4 bytes of message text.
func promptTokens(req chatRequest) int64 {
	n := int64(8)
	for _, m := range req.Messages {
		switch v := m.Content.(type) {
		case string:
			n += int64(len(v)+3) / 4
		default:
			b, _ := json.Marshal(v)
			n += int64(len(b)+3) / 4
		}
	}
	return n
}

func (l *llm) chat(w http.ResponseWriter, r *http.Request, c *Call) {
	var req chatRequest
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err := json.Unmarshal(body, &req); err != nil {
		l.error(w, http.StatusBadRequest, "'messages' : value must be an array", "invalid_request_error", "")
		return
	}
	c.Model, c.Stream = req.Model, req.Stream
	_, ok := l.models()[req.Model]
	if !ok {
		l.error(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model), "invalid_request_error", "model_not_found")
		return
	}
	prompt := promptTokens(req)
	completion := l.f.opts.CompletionTokens
	for _, m := range []*int64{req.MaxTokens, req.MaxCompletionTokens} {
		if m != nil && *m > 0 && *m < completion {
			completion = *m
		}
	}
	total := prompt + completion
	now := l.f.now()

	f := l.f
	f.mu.Lock()
	rpm, rpd := f.windowLocked(l.name, req.Model, "rpm"), f.windowLocked(l.name, req.Model, "rpd")
	tpm, tpd := f.windowLocked(l.name, req.Model, "tpm"), f.windowLocked(l.name, req.Model, "tpd")
	var refused *window
	var what, abbr string
	var requested int64
	for _, cand := range []struct {
		w          *window
		need       int64
		what, abbr string
	}{{rpm, 1, "requests per minute", "RPM"}, {rpd, 1, "requests per day", "RPD"}, {tpm, total, "tokens per minute", "TPM"}, {tpd, total, "tokens per day", "TPD"}} {
		if cand.w != nil && cand.w.left(now) < cand.need {
			refused, what, abbr, requested = cand.w, cand.what, cand.abbr, cand.need
			break
		}
	}
	if refused == nil {
		for _, x := range []struct {
			w *window
			n int64
		}{{rpm, 1}, {rpd, 1}, {tpm, total}, {tpd, total}} {
			if x.w != nil {
				x.w.roll(now)
				x.w.used += x.n
			}
		}
	}
	l.rateHeaders(w.Header(), rpm, rpd, tpm, now)
	var usedRefused int64
	if refused != nil {
		usedRefused = refused.used
	}
	f.mu.Unlock()

	if refused != nil {
		wait := refused.next(now).Sub(now)
		if strings.HasPrefix(abbr, "T") && refused.limit > 0 {
			// Tokens come back gradually: the time until enough are free.
			wait = min(wait, time.Duration(float64(requested+usedRefused-refused.limit)/float64(refused.limit)*float64(refused.next(now).Sub(refused.start))))
		}
		wait = max(wait, time.Millisecond)
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
		typ := "tokens"
		if strings.HasPrefix(abbr, "R") {
			typ = "requests"
		}
		msg := fmt.Sprintf("Rate limit reached for model `%s` in organization `org_01fakeorg` service tier `on_demand` on %s (%s): Limit %d, Used %d, Requested %d. Please try again in %s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
			req.Model, what, abbr, refused.limit, usedRefused, requested, groqDuration(wait))
		if l.name == "openai" {
			what = strings.Replace(what, "minute", "min", 1)
			msg = fmt.Sprintf("Rate limit reached for %s in organization org-fakeorg on %s (%s): Limit %d, Used %d, Requested %d. Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.",
				req.Model, what, abbr, refused.limit, usedRefused, requested, groqDuration(wait))
		}
		l.error(w, http.StatusTooManyRequests, msg, typ, "rate_limit_exceeded")
		return
	}
	c.Tokens = total
	id := fmt.Sprintf("chatcmpl-%d", now.UnixNano())
	usage := map[string]any{"queue_time": 0.02, "prompt_tokens": prompt, "prompt_time": 0.001, "completion_tokens": completion,
		"completion_time": 0.05, "total_tokens": total, "total_time": 0.051}
	text := "Fast language models matter because they keep pipelines moving."
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		resp := map[string]any{"id": id, "object": "chat.completion", "created": now.Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "logprobs": nil, "finish_reason": "stop"}},
			"usage":   usage, "system_fingerprint": "fp_fake"}
		if l.name == "groq" {
			resp["x_groq"] = map[string]any{"id": "req_fake"}
		}
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	chunk := func(v map[string]any) {
		v["id"], v["object"], v["created"], v["model"] = id, "chat.completion.chunk", now.Unix(), req.Model
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	choice := func(delta map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}
	}
	first := map[string]any{"choices": choice(map[string]any{"role": "assistant", "content": ""}, nil)}
	if l.name == "groq" {
		first["x_groq"] = map[string]any{"id": "req_fake"}
	}
	chunk(first)
	for _, word := range strings.SplitAfter(text, " ") {
		chunk(map[string]any{"choices": choice(map[string]any{"content": word}, nil)})
	}
	last := map[string]any{"choices": choice(map[string]any{}, "stop")}
	if l.name == "groq" {
		last["x_groq"] = map[string]any{"id": "req_fake", "usage": usage}
	}
	chunk(last)
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		chunk(map[string]any{"choices": []any{}, "usage": usage})
	} else if l.name == "openai" {
		c.Tokens = 0 // OpenAI reports no usage in a stream without include_usage
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// rateHeaders writes the x-ratelimit-* headers of the model called: Groq's
// requests figures are per DAY and its tokens per MINUTE; OpenAI's both
// per MINUTE.
func (l *llm) rateHeaders(h http.Header, rpm, rpd, tpm *window, now time.Time) {
	req := rpd
	if l.name == "openai" || req == nil {
		req = rpm
	}
	if req != nil {
		h.Set("x-ratelimit-limit-requests", strconv.FormatInt(req.limit, 10))
		h.Set("x-ratelimit-remaining-requests", strconv.FormatInt(req.left(now), 10))
		h.Set("x-ratelimit-reset-requests", groqDuration(req.next(now).Sub(now)))
	}
	if tpm != nil {
		h.Set("x-ratelimit-limit-tokens", strconv.FormatInt(tpm.limit, 10))
		h.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(tpm.left(now), 10))
		h.Set("x-ratelimit-reset-tokens", groqDuration(tpm.next(now).Sub(now)))
	}
	h.Set("x-request-id", "req_fake")
}

// groqDuration writes a wait the way Groq and OpenAI do: 8m45.312s, 7.66s,
// 12ms.
func groqDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(10 * time.Millisecond)
	default:
		d = d.Round(time.Millisecond)
	}
	return d.String()
}
