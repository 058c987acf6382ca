package provider

import (
	"bytes"
	"encoding/json"
)

// usageFields are the token counts of an OpenAI-compatible usage object
// (chat completions, embeddings, the Responses API, Groq's x_groq.usage).
type usageFields struct {
	TotalTokens      *int64 `json:"total_tokens"`
	PromptTokens     *int64 `json:"prompt_tokens"`
	CompletionTokens *int64 `json:"completion_tokens"`
	InputTokens      *int64 `json:"input_tokens"`
	OutputTokens     *int64 `json:"output_tokens"`
}

// total returns the call's tokens: total_tokens, else prompt + completion,
// else input + output.
func (u *usageFields) total() (int64, bool) {
	if u == nil {
		return 0, false
	}
	pos := func(p *int64) int64 {
		if p == nil || *p < 0 || *p > maxTokens {
			return -1
		}
		return *p
	}
	if t := pos(u.TotalTokens); t >= 0 {
		return t, true
	}
	for _, pair := range [][2]*int64{{u.PromptTokens, u.CompletionTokens}, {u.InputTokens, u.OutputTokens}} {
		a, b := pos(pair[0]), pos(pair[1])
		if a >= 0 || b >= 0 {
			return max(a, 0) + max(b, 0), true
		}
	}
	return 0, false
}

// usageDoc is where usage figures appear in a response body or a stream
// chunk: usage (OpenAI, Groq non-streamed, include_usage's final chunk),
// x_groq.usage (Groq's final chunk), response.usage (Responses API events).
type usageDoc struct {
	Usage    *usageFields `json:"usage"`
	XGroq    *usageHolder `json:"x_groq"`
	Response *usageHolder `json:"response"`
}

type usageHolder struct {
	Usage *usageFields `json:"usage"`
}

// maxTokens bounds a believable token count of one call.
const maxTokens = 1 << 40

// split returns the call's input and output tokens (prompt and
// completion), 0 for what the figures leave out.
func (u *usageFields) split() (in, out int64) {
	pos := func(p *int64) int64 {
		if p == nil || *p < 0 || *p > maxTokens {
			return 0
		}
		return *p
	}
	in, out = pos(u.PromptTokens), pos(u.CompletionTokens)
	if in == 0 && out == 0 {
		in, out = pos(u.InputTokens), pos(u.OutputTokens)
	}
	return in, out
}

// Tokens are a call's usage figures: its total, and its input and output
// tokens when the figures split them (the price of each differs).
type Tokens struct {
	Total, Input, Output int64
}

// TokensFromJSON returns the tokens a JSON response body reports in its
// usage figures, and whether it reports any.
func TokensFromJSON(body []byte) (int64, bool) {
	t, ok := UsageFromJSON(body)
	return t.Total, ok
}

// UsageFromJSON returns the usage figures of a JSON response body, and
// whether it reports any.
func UsageFromJSON(body []byte) (Tokens, bool) {
	if !bytes.Contains(body, []byte(`_tokens"`)) {
		return Tokens{}, false
	}
	var d usageDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return Tokens{}, false
	}
	for _, u := range []*usageFields{d.Usage, holderUsage(d.XGroq), holderUsage(d.Response)} {
		if n, ok := u.total(); ok && n <= maxTokens {
			in, out := u.split()
			return Tokens{Total: n, Input: in, Output: out}, true
		}
	}
	return Tokens{}, false
}

func holderUsage(h *usageHolder) *usageFields {
	if h == nil {
		return nil
	}
	return h.Usage
}

// maxSSELine bounds the line an SSE scanner keeps; longer lines are
// skipped (a usage chunk is small).
const maxSSELine = 1 << 20

// SSEUsage reads usage figures from a text/event-stream as it passes: each
// "data:" line is a JSON chunk; the last chunk that reports usage wins, and
// "data: [DONE]" ends the stream. Write it the stream's bytes in any
// pieces; it never fails and keeps at most one line.
type SSEUsage struct {
	line   []byte
	skip   bool // the current line is too long: drop it
	tokens Tokens
	ok     bool
	done   bool
}

// Write feeds stream bytes.
func (s *SSEUsage) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.add(p)
			break
		}
		s.add(p[:i])
		s.endLine()
		p = p[i+1:]
	}
	return n, nil
}

// Close handles a last line without a newline.
func (s *SSEUsage) Close() error {
	if len(s.line) > 0 || s.skip {
		s.endLine()
	}
	return nil
}

func (s *SSEUsage) add(b []byte) {
	if s.skip {
		return
	}
	if len(s.line)+len(b) > maxSSELine {
		s.line, s.skip = s.line[:0], true
		return
	}
	s.line = append(s.line, b...)
}

func (s *SSEUsage) endLine() {
	line := bytes.TrimRight(s.line, "\r")
	if !s.skip {
		s.handle(line)
	}
	s.line, s.skip = s.line[:0], false
}

func (s *SSEUsage) handle(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return
	}
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("[DONE]")) {
		s.done = true
		return
	}
	if t, ok := UsageFromJSON(data); ok {
		s.tokens, s.ok = t, true
	}
}

// Tokens returns the tokens of the last chunk that reported usage, and
// whether one did.
func (s *SSEUsage) Tokens() (int64, bool) { return s.tokens.Total, s.ok }

// Usage returns the usage figures of the last chunk that reported them.
func (s *SSEUsage) Usage() (Tokens, bool) { return s.tokens, s.ok }

// Done reports whether the stream's "data: [DONE]" line was seen.
func (s *SSEUsage) Done() bool { return s.done }
