package classify

import "strings"

// asciiLower lower-cases ASCII letters only, so byte positions in the
// result are those of s.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// has429 reports whether lower holds 429 as an HTTP status: a 429 token
// (statusToken) that the text itself marks as a status, by a word before it
// ("HTTP 429", "HTTP/1.1 429", "status 429", "status code: 429", "Error
// code: 429", "error 429", "HttpError 429", "status=429", a "status" or
// "code" field) or after it ("429 Too Many Requests", "429 Client Error").
// A bare number is not a status: "Processed 429 videos" is a count.
func has429(lower string) bool {
	for i := 0; ; {
		j := strings.Index(lower[i:], "429")
		if j < 0 {
			return false
		}
		a := i + j
		b := a + 3
		if statusToken(lower, a, b) && (statusBefore(lower[:a]) || statusAfter(lower[b:])) {
			return true
		}
		i = a + 1
	}
}

// statusWordsBefore end the text before a 429 that names it a status
// (lower-case, separators trimmed).
var statusWordsBefore = []string{"http", "http/1.0", "http/1.1", "http/2", "http/2.0", "http/3", "status", "status code",
	"status_code", "statuscode", "code", "error", "httperror", "http error", "response"}

// statusWordsAfter start the text after a 429 that names it a status.
var statusWordsAfter = []string{"too many requests", "client error", "(too many requests)"}

// statusSep are the characters between a status word and its number.
const statusSep = " \t:=\"'`[(<{"

func statusBefore(before string) bool {
	before = strings.TrimRight(before, statusSep)
	for _, w := range statusWordsBefore {
		if strings.HasSuffix(before, w) {
			k := len(before) - len(w)
			if k == 0 || !isAlnum(before[k-1]) && before[k-1] != '_' {
				return true
			}
		}
	}
	return false
}

func statusAfter(after string) bool {
	after = strings.TrimLeft(after, " \t:-")
	for _, w := range statusWordsAfter {
		if strings.HasPrefix(after, w) {
			return true
		}
	}
	return false
}

func statusToken(s string, a, b int) bool {
	if a > 0 {
		c := s[a-1]
		if isAlnum(c) || c == '_' || c == '/' || c == '#' || c == '$' {
			return false
		}
		if (c == '.' || c == ',' || c == '-') && a > 1 && isAlnum(s[a-2]) {
			return false
		}
	}
	if b < len(s) {
		c := s[b]
		if isAlnum(c) || c == '_' || c == '%' || c == '/' {
			return false
		}
		if (c == '.' || c == ',' || c == '-') && b+1 < len(s) && isAlnum(s[b+1]) {
			return false
		}
	}
	return true
}

// rateSuffixes may follow a rate-limit stem ("rate limited", "rate-limits",
// "RateLimitError").
var rateSuffixes = []string{"ations", "ation", "error", "ing", "ed", "s", ""}

// quotaKeywords are the seed's keywords with their spelling variants. A
// match starts at a word start and ends before a non-letter.
var quotaKeywords = [...]struct {
	stem     string
	suffixes []string // nil means none
}{
	{"quota", []string{"s", ""}},
	{"rate limit", rateSuffixes},
	{"rate-limit", rateSuffixes},
	{"ratelimit", rateSuffixes},
	{"rate_limit", rateSuffixes},
	{"limit exceeded", nil},
	{"limits exceeded", nil},
	{"too many requests", nil},
}

// notAPILimit are words that, before "limit exceeded", name a limit that
// is not an API quota ("memory limit exceeded").
var notAPILimit = map[string]bool{
	"memory": true, "time": true, "size": true, "length": true, "recursion": true,
	"depth": true, "stack": true, "payload": true, "redirect": true, "context": true,
}

// findQuotaKeyword returns the earliest quota keyword of lower as written
// (lower-cased), or "".
func findQuotaKeyword(lower string) string {
	best, end := -1, 0
	for _, kw := range quotaKeywords {
		for i := 0; ; {
			j := strings.Index(lower[i:], kw.stem)
			if j < 0 {
				break
			}
			a := i + j
			i = a + 1
			if best >= 0 && a >= best {
				break
			}
			if a > 0 && isAlnum(lower[a-1]) {
				continue
			}
			b := a + len(kw.stem)
			e := suffixEnd(lower, b, kw.suffixes)
			if e < 0 || excluded(lower, kw.stem, a, e) {
				continue
			}
			best, end = a, e
			break
		}
	}
	if best < 0 {
		return ""
	}
	return lower[best:end]
}

// suffixEnd returns where a keyword ending at b ends once one of suffixes
// is taken, if a non-letter (or the end) follows; -1 otherwise.
func suffixEnd(s string, b int, suffixes []string) int {
	if suffixes == nil {
		suffixes = []string{""}
	}
	for _, suf := range suffixes {
		e := b + len(suf)
		if strings.HasPrefix(s[b:], suf) && (e == len(s) || !isLetter(s[e])) {
			return e
		}
	}
	return -1
}

// excluded rejects keyword uses that are not API quotas: "disk quota
// exceeded" (EDQUOT), Google's "quota project" (a credentials setting) and
// "memory limit exceeded"-like limits.
func excluded(s, stem string, a, e int) bool {
	switch stem {
	case "quota":
		if strings.HasSuffix(s[:a], "disk ") {
			return true
		}
		rest := s[e:]
		return strings.HasPrefix(rest, " project") || strings.HasPrefix(rest, "_project") || strings.HasPrefix(rest, "-project")
	case "limit exceeded", "limits exceeded":
		w := strings.TrimRight(s[:a], " ")
		k := len(w)
		for k > 0 && isLetter(w[k-1]) {
			k--
		}
		return notAPILimit[w[k:]]
	}
	return false
}

// windowNeedles name the window of a provider-named rate limit.
var windowNeedles = [...]struct{ needle, window string }{
	{"per min", "minute"}, {"(tpm)", "minute"}, {"(rpm)", "minute"}, {"perminute", "minute"},
	{"per hour", "hour"}, {"(ash)", "hour"}, {"perhour", "hour"},
	{"per day", "day"}, {"(tpd)", "day"}, {"(rpd)", "day"}, {"(asd)", "day"}, {"perday", "day"},
	{"per month", "month"}, {"permonth", "month"},
}

// window returns the window named earliest in lower: minute, hour, day,
// month, or "".
func window(lower string) string {
	best, w := -1, ""
	for _, n := range windowNeedles {
		if i := strings.Index(lower, n.needle); i >= 0 && (best < 0 || i < best) {
			best, w = i, n.window
		}
	}
	return w
}

// attribute names the API the evidence is about: by the body's shape (a
// youtube.* error domain), else by keywords, else by shape again: an
// OpenAI-compatible body mentioning groq or llama goes to the API whose
// name or keywords contain "groq"; a Google-shaped error to the one
// containing "youtube", else "google".
func (s *scan) attribute(apis []APIInfo) string {
	if s.empty {
		return ""
	}
	if s.body.youtube {
		if a := apiFor(apis, "youtube"); a != "" {
			return a
		}
	}
	if a := keywordAPI(s.lower, apis); a != "" {
		return a
	}
	if s.body.openai && (wordIndex(s.lower, "groq") >= 0 || wordIndex(s.lower, "llama") >= 0) {
		if a := apiFor(apis, "groq"); a != "" {
			return a
		}
	}
	if s.body.google || s.toks.has(tokUpload) || googleText(s.text) {
		if a := apiFor(apis, "youtube"); a != "" {
			return a
		}
		return apiFor(apis, "google")
	}
	return ""
}

// googleReasons are Google's reasons as its clients print them
// (case-sensitive: "RateLimitExceeded" alone is any SDK's class name).
var googleReasons = [...]string{"googleapi: ", "quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded"}

// googleText reports whether text looks like a Google API error printed by
// a client library (Go's googleapi, Python's HttpError).
func googleText(text string) bool {
	for _, r := range googleReasons {
		if strings.Contains(text, r) {
			return true
		}
	}
	return false
}

// apiFor returns the first API whose name or a keyword contains word.
func apiFor(apis []APIInfo, word string) string {
	for _, a := range apis {
		if a.Name == "" {
			continue
		}
		if strings.Contains(asciiLower(a.Name), word) {
			return a.Name
		}
		for _, k := range a.Keywords {
			if strings.Contains(asciiLower(k), word) {
				return a.Name
			}
		}
	}
	return ""
}

// keywordAPI returns the API with the earliest keyword (or name) in lower,
// matched as a word: not preceded by a letter or digit, and not followed by
// a letter (by a letter or digit when the keyword ends in a digit). So
// "llama-3.3-70b" and "llama3" match "llama"; "llamas" and "ollama" do not.
// On a tie (same position) the longer keyword, then the earlier API, wins.
func keywordAPI(lower string, apis []APIInfo) string {
	best, bestLen, name := -1, 0, ""
	for _, a := range apis {
		if a.Name == "" {
			continue
		}
		for k := -1; k < len(a.Keywords); k++ {
			term := a.Name
			if k >= 0 {
				term = a.Keywords[k]
			}
			term = asciiLower(strings.TrimSpace(term))
			if term == "" {
				continue
			}
			if i := wordIndex(lower, term); i >= 0 && (best < 0 || i < best || i == best && len(term) > bestLen) {
				best, bestLen, name = i, len(term), a.Name
			}
		}
	}
	return name
}

// wordIndex returns the first index of term in s as a word, or -1.
func wordIndex(s, term string) int {
	first, last := term[0], term[len(term)-1]
	for i := 0; i+len(term) <= len(s); {
		j := strings.Index(s[i:], term)
		if j < 0 {
			return -1
		}
		a := i + j
		b := a + len(term)
		i = a + 1
		if isAlnum(first) && a > 0 && isAlnum(s[a-1]) {
			continue
		}
		if b < len(s) && (isLetter(last) && isLetter(s[b]) || isDigit(last) && isAlnum(s[b])) {
			continue
		}
		return a
	}
	return -1
}
