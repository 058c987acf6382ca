package runner

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds of the captured output of one run.
const (
	TailBytes = 64 << 10 // bytes of output kept: the last 64 KiB
	TailLines = 50       // lines of output kept: the last 50
)

// Tail is an io.Writer that keeps only the end of what is written to it: the
// last TailBytes bytes, of which Lines returns at most the last TailLines
// lines. It counts what it drops. Tail is safe for concurrent use, and
// copies everything to Tee when Tee is set.
type Tail struct {
	mu      sync.Mutex
	buf     []byte // the kept bytes, at most TailBytes after each Write
	total   int64  // every byte ever written
	tee     io.Writer
	teeFail bool
}

// NewTail returns a Tail that also copies its input to tee (nil for none).
func NewTail(tee io.Writer) *Tail { return &Tail{tee: tee} }

// Write keeps the end of p. It never fails: a failing tee stops being
// written to, and the capture goes on.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	if t.tee != nil && !t.teeFail {
		if _, err := t.tee.Write(p); err != nil {
			t.teeFail = true
		}
	}
	if len(p) >= TailBytes {
		t.buf = append(t.buf[:0], p[len(p)-TailBytes:]...)
		return len(p), nil
	}
	if len(t.buf)+len(p) > 2*TailBytes { // compact: keep the last TailBytes-len(p) bytes
		keep := t.buf[len(t.buf)-(TailBytes-len(p)):]
		t.buf = append(t.buf[:0], keep...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

// window returns the kept bytes: the last TailBytes bytes written.
func (t *Tail) window() []byte {
	if len(t.buf) > TailBytes {
		return t.buf[len(t.buf)-TailBytes:]
	}
	return t.buf
}

// Total returns how many bytes were written.
func (t *Tail) Total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// Lines returns the last TailLines lines of the kept bytes, without line
// ends, as valid UTF-8, and how many bytes of output come before them (the
// bytes they leave out). When bytes were dropped, the partial line at the
// start of the kept bytes is dropped too, unless it is all there is. A final
// empty line (output that ends in a newline) is not a line.
func (t *Tail) Lines() (lines []string, dropped int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.window()
	off := t.total - int64(len(w)) // output offset of w[0]
	if off > 0 {
		if i := bytes.IndexByte(w, '\n'); i >= 0 && i < len(w)-1 {
			w, off = w[i+1:], off+int64(i+1)
		}
	}
	body := bytes.TrimSuffix(w, []byte("\n"))
	if len(body) == 0 {
		return []string{}, off
	}
	start := len(body)
	for n := 0; n < TailLines; n++ {
		i := bytes.LastIndexByte(body[:start], '\n')
		if i < 0 {
			start = 0
			break
		}
		if n == TailLines-1 {
			start = i + 1
			break
		}
		start = i
	}
	lines = make([]string, 0, TailLines)
	for _, l := range strings.Split(string(body[start:]), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if !utf8.ValidString(l) {
			l = strings.ToValidUTF8(l, "\uFFFD")
		}
		lines = append(lines, l)
	}
	return lines, off + int64(start)
}
