package classify_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/classify"
)

var (
	pst  = time.FixedZone("PST", -8*3600)
	now  = time.Date(2026, 1, 11, 18, 30, 0, 0, pst)
	apis = []classify.APIInfo{
		{Name: "groq", Keywords: []string{"groq", "llama"}},
		{Name: "youtube", Keywords: []string{"youtube", "google"}},
		{Name: "pexels", Keywords: []string{"pexels"}},
		{Name: "pixabay", Keywords: []string{"pixabay"}},
		{Name: "openai", Keywords: []string{"openai", "gpt"}},
	}
)

func in(d time.Duration) time.Time { return now.Add(d) }

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1]) // deliberately not canonicalized
	}
	return h
}

const (
	ytQuotaJSON = `{
  "error": {
    "code": 403,
    "message": "The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e.",
    "errors": [
      {
        "message": "The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e.",
        "domain": "youtube.quota",
        "reason": "quotaExceeded"
      }
    ]
  }
}`
	ytQuotaPython = `<HttpError 403 when requesting https://youtube.googleapis.com/youtube/v3/videos?part=snippet%2Cstatus&alt=json&uploadType=resumable returned "The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.". Details: "[{'message': 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.', 'domain': 'youtube.quota', 'reason': 'quotaExceeded'}]">`
	ytQuotaGo     = `googleapi: Error 403: The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>., quotaExceeded`
	ytDailyJSON   = `{"error":{"errors":[{"domain":"usageLimits","reason":"dailyLimitExceeded","message":"Daily Limit Exceeded. The quota will be reset at midnight Pacific Time (PT). You may monitor your quota usage and adjust limits in the API Console: https://console.developers.google.com/apis/api/youtube.googleapis.com/quotas?project=483920"}],"code":403,"message":"Daily Limit Exceeded. The quota will be reset at midnight Pacific Time (PT). You may monitor your quota usage and adjust limits in the API Console: https://console.developers.google.com/apis/api/youtube.googleapis.com/quotas?project=483920"}}`
	ytRateJSON    = `{"error":{"code":403,"message":"The request cannot be completed due to rate limitations.","errors":[{"message":"The request cannot be completed due to rate limitations.","domain":"usageLimits","reason":"rateLimitExceeded"}]}}`
	ytUserRate    = `{"error":{"code":429,"message":"User rate limit exceeded.","errors":[{"message":"User rate limit exceeded.","domain":"usageLimits","reason":"userRateLimitExceeded"}]}}`
	ytUploadJSON  = `{"error":{"code":400,"message":"The user has exceeded the number of videos they may upload.","errors":[{"message":"The user has exceeded the number of videos they may upload.","domain":"youtube.video","reason":"uploadLimitExceeded"}]}}`
	ytForbidden   = `{"error":{"code":403,"message":"The caller does not have permission","errors":[{"message":"The caller does not have permission","domain":"youtube.header","reason":"forbidden"}]}}`
	ytInsuffPerm  = `{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED"}}`
	geminiJSON    = `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 15, model: gemini-2.0-flash\nPlease retry in 36.295967424s.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36s"}]}}`

	groqTPM   = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01jq` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11546, Requested 1094. Please try again in 3.2s. Visit https://console.groq.com/docs/rate-limits for more information.\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqTPD   = "{\"error\":{\"message\":\"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_01jq` service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 99619, Requested 1192. Please try again in 7m12.3s. Visit https://console.groq.com/docs/rate-limits for more information.\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqRPDPy = "groq.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for model `llama-3.1-8b-instant` in organization `org_01jq` service tier `on_demand` on requests per day (RPD): Limit 14400, Used 14400, Requested 1. Please try again in 1m26.4s. Visit https://console.groq.com/docs/rate-limits for more information.', 'type': 'requests', 'code': 'rate_limit_exceeded'}}"
	groq413   = "{\"error\":{\"message\":\"Request too large for model `llama3-70b-8192` in organization `org_01jq` on tokens per minute (TPM): Limit 6000, Requested 8925, please reduce your message size and try again. Visit https://console.groq.com/docs/rate-limits for more information.\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}"
	groqKey   = `{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}`

	openaiTooLarge = `{"error":{"message":"Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 41234. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	openaiBilling  = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
	openaiRPM      = `{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	azure429       = `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-02-01 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}}`
	anthropic429   = `{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your organization's rate limit of 50,000 input tokens per minute."}}`
)

var groqHeaders = []string{
	"retry-after", "3",
	"x-ratelimit-limit-requests", "1000",
	"x-ratelimit-remaining-requests", "0",
	"x-ratelimit-reset-requests", "2m59.56s",
	"x-ratelimit-reset-tokens", "7.66s",
}

type tcase struct {
	name  string
	ev    classify.Evidence
	quota bool
	kind  classify.Kind
	api   string
	until time.Time
}

var cases = []tcase{
	// YouTube Data API.
	{"yt quotaExceeded json", classify.Evidence{Status: 403, Message: ytQuotaJSON}, true, classify.KindQuota, "youtube", time.Time{}},
	{"yt quotaExceeded json no status", classify.Evidence{Message: ytQuotaJSON}, true, classify.KindQuota, "youtube", time.Time{}},
	{"yt quotaExceeded python HttpError", classify.Evidence{Message: ytQuotaPython}, true, classify.KindQuota, "youtube", time.Time{}},
	{"yt quotaExceeded go googleapi", classify.Evidence{Message: ytQuotaGo}, true, classify.KindQuota, "youtube", time.Time{}},
	{"yt dailyLimitExceeded", classify.Evidence{Status: 403, Message: ytDailyJSON}, true, classify.KindQuota, "youtube", time.Time{}},
	{"yt rateLimitExceeded 403", classify.Evidence{Status: 403, Message: ytRateJSON}, true, classify.KindRateLimit, "youtube", in(60 * time.Second)},
	{"yt userRateLimitExceeded 429 retry-after", classify.Evidence{Status: 429, Message: ytUserRate, Headers: hdr("Retry-After", "30")}, true, classify.KindRateLimit, "youtube", in(30 * time.Second)},
	{"yt uploadLimitExceeded", classify.Evidence{Status: 400, Message: ytUploadJSON}, true, classify.KindChannel, "youtube", in(24 * time.Hour)},
	{"yt upload limit text with time", classify.Evidence{Message: "YouTube upload failed: uploadLimitExceeded: daily upload limit reached, try again in 12 hours"}, true, classify.KindChannel, "youtube", in(12 * time.Hour)},
	{"yt 403 forbidden", classify.Evidence{Status: 403, Message: ytForbidden}, false, classify.KindNone, "youtube", time.Time{}},
	{"yt 403 insufficientPermissions", classify.Evidence{Status: 403, Message: ytInsuffPerm}, false, classify.KindNone, "youtube", time.Time{}},
	{"google quota project is not quota", classify.Evidence{Status: 403, Message: "googleapi: Error 403: Your application is authenticating by using local Application Default Credentials. The youtube.googleapis.com API requires a quota project, which is not set by default., accessNotConfigured"}, false, classify.KindNone, "youtube", time.Time{}},
	{"gemini resource exhausted", classify.Evidence{API: "gemini", Message: geminiJSON}, true, classify.KindRateLimit, "gemini", in(36295967424)},

	// Groq and OpenAI-compatible.
	{"groq TPM retry-after", classify.Evidence{Status: 429, Message: groqTPM, Headers: hdr("retry-after", "3")}, true, classify.KindRateLimit, "groq", in(3200 * time.Millisecond)},
	{"groq TPM full headers", classify.Evidence{Status: 429, Message: groqTPM, Headers: hdr(groqHeaders...)}, true, classify.KindRateLimit, "groq", in(2*time.Minute + 59560*time.Millisecond)},
	{"groq TPM tokens exhausted", classify.Evidence{Status: 429, Message: groqTPM, Headers: hdr("retry-after", "3", "x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "7.66s")}, true, classify.KindRateLimit, "groq", in(7660 * time.Millisecond)},
	{"groq TPD header later", classify.Evidence{Status: 429, Message: groqTPD, Headers: hdr("retry-after", "433", "x-ratelimit-remaining-requests", "13000", "x-ratelimit-reset-requests", "2m59.56s")}, true, classify.KindQuota, "groq", in(433 * time.Second)},
	{"groq TPD text only", classify.Evidence{Status: 429, Message: groqTPD}, true, classify.KindQuota, "groq", in(7*time.Minute + 12300*time.Millisecond)},
	{"groq RPD python repr", classify.Evidence{Message: groqRPDPy}, true, classify.KindQuota, "groq", in(time.Minute + 26400*time.Millisecond)},
	{"groq plain text try again", classify.Evidence{Message: "groq: Rate limit reached for model llama-3.3-70b-versatile on tokens per day (TPD). Please try again in 7m12.3s."}, true, classify.KindQuota, "groq", in(7*time.Minute + 12300*time.Millisecond)},
	{"groq RateLimitError keyword", classify.Evidence{Message: "groq.RateLimitError: Please try again in 7m12.3s"}, true, classify.KindRateLimit, "groq", in(7*time.Minute + 12300*time.Millisecond)},
	{"groq 413 request too large", classify.Evidence{Status: 413, Message: groq413}, false, classify.KindRequest, "groq", time.Time{}},
	{"openai 429 request too large", classify.Evidence{Status: 429, Message: openaiTooLarge}, false, classify.KindRequest, "openai", time.Time{}},
	{"openai insufficient_quota", classify.Evidence{Status: 429, Message: openaiBilling}, true, classify.KindBilling, "openai", time.Time{}},
	{"openai RPM 120ms", classify.Evidence{Status: 429, Message: openaiRPM}, true, classify.KindRateLimit, "openai", in(120 * time.Millisecond)},
	{"openai context length", classify.Evidence{Status: 400, Message: `{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`}, false, classify.KindRequest, "", time.Time{}},
	{"azure code 429 retry after", classify.Evidence{Message: azure429}, true, classify.KindRateLimit, "openai", in(6 * time.Second)},
	{"anthropic rate_limit_error", classify.Evidence{Status: 429, Message: anthropic429, Headers: hdr("Retry-After", "20")}, true, classify.KindRateLimit, "", in(20 * time.Second)},
	{"groq invalid api key 401", classify.Evidence{Status: 401, Message: groqKey}, false, classify.KindNone, "", time.Time{}},

	// Pexels, Pixabay, headers.
	{"pexels 429 plain text", classify.Evidence{API: "pexels", Status: 429, Message: "Rate Limit Exceeded"}, true, classify.KindQuota, "pexels", time.Time{}},
	{"pexels unix reset remaining 0", classify.Evidence{API: "pexels", Status: 429, Message: "Rate Limit Exceeded", Headers: hdr("X-Ratelimit-Limit", "20000", "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "1769904000")}, true, classify.KindQuota, "pexels", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
	{"pexels unix reset ignored when remaining", classify.Evidence{Status: 429, Message: "pexels: Rate Limit Exceeded", Headers: hdr("X-Ratelimit-Remaining", "150", "X-Ratelimit-Reset", "1769904000")}, true, classify.KindQuota, "pexels", time.Time{}},
	{"pexels unix reset soon", classify.Evidence{Status: 429, Message: "pexels 429", Headers: hdr("x-ratelimit-reset", "1768185600")}, true, classify.KindRateLimit, "pexels", in(10 * time.Minute)},
	{"pixabay plain 429 delta reset", classify.Evidence{API: "pixabay", Status: 429, Message: "API rate limit exceeded", Headers: hdr("X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "27")}, true, classify.KindRateLimit, "pixabay", in(27 * time.Second)},
	{"pixabay plain 429 no headers", classify.Evidence{Status: 429, Message: "pixabay: API rate limit exceeded"}, true, classify.KindQuota, "pixabay", time.Time{}},
	{"retry-after http-date past", classify.Evidence{Status: 429, Message: "Too Many Requests", Headers: hdr("Retry-After", "Sun, 11 Jan 2026 02:31:00 GMT")}, true, classify.KindRateLimit, "", now},
	{"retry-after http-date future", classify.Evidence{Status: 429, Message: "Too Many Requests", Headers: hdr("Retry-After", "Mon, 12 Jan 2026 02:35:00 GMT")}, true, classify.KindRateLimit, "", in(5 * time.Minute)},
	{"retry-after absurd date rejected", classify.Evidence{Status: 429, Headers: hdr("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT")}, true, classify.KindQuota, "", time.Time{}},
	{"retry-after 2h is quota", classify.Evidence{Status: 429, Message: "slow down", Headers: hdr("Retry-After", "7200")}, true, classify.KindQuota, "", in(2 * time.Hour)},
	{"ratelimit-reset delta", classify.Evidence{Status: 429, Headers: hdr("RateLimit-Remaining", "0", "RateLimit-Reset", "50")}, true, classify.KindRateLimit, "", in(50 * time.Second)},
	{"github 403 rate limit", classify.Evidence{Status: 403, Message: "API rate limit exceeded for 203.0.113.9.", Headers: hdr("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1768186800")}, true, classify.KindRateLimit, "", in(30 * time.Minute)},
	{"status 429 alone", classify.Evidence{Status: 429}, true, classify.KindQuota, "", time.Time{}},
	{"503 retry-after is not quota", classify.Evidence{Status: 503, Message: "Service Unavailable", Headers: hdr("Retry-After", "120")}, false, classify.KindNone, "", time.Time{}},
	{"headers only", classify.Evidence{Headers: hdr("Retry-After", "5")}, false, classify.KindNone, "", time.Time{}},

	// The seed's keyword messages and 429 tokens.
	{"seed groq quota exhausted", classify.Evidence{Message: "Groq API quota exhausted"}, true, classify.KindQuota, "groq", time.Time{}},
	{"seed google too many requests", classify.Evidence{Message: "google API: too many requests"}, true, classify.KindQuota, "youtube", time.Time{}},
	{"seed pexels limit exceeded", classify.Evidence{Message: "pexels: limit exceeded"}, true, classify.KindQuota, "pexels", time.Time{}},
	{"HTTP 429", classify.Evidence{Message: "groq: HTTP 429"}, true, classify.KindQuota, "groq", time.Time{}},
	{"status 429", classify.Evidence{Message: "youtube upload failed: status 429"}, true, classify.KindQuota, "youtube", time.Time{}},
	{"429 Too Many Requests", classify.Evidence{Message: "429 Too Many Requests"}, true, classify.KindQuota, "", time.Time{}},
	{"bare (429) is not a status", classify.Evidence{Message: "pexels request failed (429)"}, false, classify.KindNone, "pexels", time.Time{}},
	{"Error code: 429 (python openai, groq)", classify.Evidence{Message: "Error code: 429 - {'error': 'slow down'}"}, true, classify.KindQuota, "", time.Time{}},
	{"429 Client Error (requests)", classify.Evidence{Message: "pexels: 429 Client Error: for url: https://api.pexels.com/v1/search"}, true, classify.KindQuota, "pexels", time.Time{}},
	{"HttpError 429 (googleapiclient)", classify.Evidence{Message: `<HttpError 429 when requesting https://youtube.googleapis.com/youtube/v3/search returned "x">`}, true, classify.KindQuota, "youtube", time.Time{}},
	{"status code 429 (axios)", classify.Evidence{Message: "AxiosError: Request failed with status code 429"}, true, classify.KindQuota, "", time.Time{}},
	{"HTTP/1.1 429", classify.Evidence{Message: "HTTP/1.1 429\r\ncontent-length: 0"}, true, classify.KindQuota, "", time.Time{}},
	{"status field 429", classify.Evidence{Message: "upload failed {'status': 429}"}, true, classify.KindQuota, "", time.Time{}},
	{"status=429", classify.Evidence{Message: "upload failed status=429 id=7"}, true, classify.KindQuota, "", time.Time{}},
	{"error 429", classify.Evidence{Message: "google: Error 429 (Too Many Requests)!!1"}, true, classify.KindQuota, "youtube", time.Time{}},
	{"processed 429 videos is a count", classify.Evidence{Message: "render failed after upload step: Processed 429 videos for channel RankRiot, then ffmpeg exited with status 1"}, false, classify.KindNone, "", time.Time{}},
	{"429 items then status 1", classify.Evidence{Message: "uploaded 429 clips; exit status 1"}, false, classify.KindNone, "", time.Time{}},
	{"statuscode word must be whole", classify.Evidence{Message: "mystatus 429"}, false, classify.KindNone, "", time.Time{}},
	{"429 videos too many requests later", classify.Evidence{Message: "fetched 429 videos"}, false, classify.KindNone, "", time.Time{}},
	{"error code: 429", classify.Evidence{Message: "error code: 429"}, true, classify.KindQuota, "", time.Time{}},
	{"keyword with long wait", classify.Evidence{Message: "quota exceeded, try again in 2 hours"}, true, classify.KindQuota, "", in(2 * time.Hour)},
	{"keyword with retry after seconds", classify.Evidence{Message: "rate limited, retry after 30 seconds"}, true, classify.KindRateLimit, "", in(30 * time.Second)},
	{"keyword with bare retry after", classify.Evidence{Message: "rate-limited; retry after 45."}, true, classify.KindRateLimit, "", in(45 * time.Second)},
	{"keyword with retry after timestamp", classify.Evidence{Message: "quota exceeded; retry after 2026-01-12T03:00:00Z."}, true, classify.KindRateLimit, "", in(30 * time.Minute)},
	{"sdk RateLimitExceeded is not google", classify.Evidence{Message: "RateLimitExceeded"}, true, classify.KindRateLimit, "", in(time.Minute)},
	{"path and issue 429", classify.Evidence{Message: "GET https://example.com/items/429 failed, see issue #429: EOF"}, false, classify.KindNone, "", time.Time{}},
	{"bad json falls back to keywords", classify.Evidence{Message: `{"error": quota exceeded`}, true, classify.KindQuota, "", time.Time{}},
	{"video id with 429", classify.Evidence{Message: "youtube: video dQw4290xyzA not found"}, false, classify.KindNone, "youtube", time.Time{}},
	{"video id ending -429", classify.Evidence{Message: "failed to fetch video Ab_cd-e-429: connection reset by peer"}, false, classify.KindNone, "", time.Time{}},
	{"order 14290", classify.Evidence{Message: "order 14290 failed"}, false, classify.KindNone, "", time.Time{}},
	{"4290ms", classify.Evidence{Message: "pexels request took 4290ms then failed"}, false, classify.KindNone, "pexels", time.Time{}},
	{"1,429 and 0.429", classify.Evidence{Message: "processed 1,429 items in 0.429s, then EOF"}, false, classify.KindNone, "", time.Time{}},

	// Plain failures.
	{"connection refused", classify.Evidence{Message: "dial tcp 142.250.72.14:443: connect: connection refused"}, false, classify.KindNone, "", time.Time{}},
	{"500 internal server error", classify.Evidence{Status: 500, Message: "500 Internal Server Error"}, false, classify.KindNone, "", time.Time{}},
	{"invalid api key 401", classify.Evidence{Status: 401, Message: "pexels: invalid api key"}, false, classify.KindNone, "pexels", time.Time{}},
	{"client timeout", classify.Evidence{Message: `Post "https://api.groq.com/openai/v1/chat/completions": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`}, false, classify.KindNone, "groq", time.Time{}},
	{"i/o timeout", classify.Evidence{Message: "read tcp 10.0.0.2:51234->104.18.2.5:443: i/o timeout"}, false, classify.KindNone, "", time.Time{}},
	{"disk quota is not API quota", classify.Evidence{Message: "write /var/lib/quotad/quotad.db: disk quota exceeded"}, false, classify.KindNone, "", time.Time{}},
	{"memory limit exceeded", classify.Evidence{Message: "ffmpeg: memory limit exceeded"}, false, classify.KindNone, "", time.Time{}},
	{"empty", classify.Evidence{}, false, classify.KindNone, "", time.Time{}},
	{"blank message", classify.Evidence{Message: " \n\t"}, false, classify.KindNone, "", time.Time{}},

	// Attribution.
	{"explicit API wins", classify.Evidence{API: "pexels", Message: "groq llama quota exceeded"}, true, classify.KindQuota, "pexels", time.Time{}},
	{"explicit unknown API verbatim", classify.Evidence{API: "Stability-AI", Message: "quota exceeded"}, true, classify.KindQuota, "Stability-AI", time.Time{}},
	{"explicit API on empty evidence", classify.Evidence{API: "groq"}, false, classify.KindNone, "groq", time.Time{}},
	{"tie earliest youtube", classify.Evidence{Message: "youtube upload failed after groq quota exhausted"}, true, classify.KindQuota, "youtube", time.Time{}},
	{"tie earliest llama", classify.Evidence{Message: "Llama on Google Cloud: quota exceeded"}, true, classify.KindQuota, "groq", time.Time{}},
	{"llama model id", classify.Evidence{Message: "model llama-3.3-70b-versatile: too many requests"}, true, classify.KindQuota, "groq", time.Time{}},
	{"llamas and ollama do not match", classify.Evidence{Message: "ollama serving llamas: rate limit"}, true, classify.KindQuota, "", time.Time{}},
	{"googleapis host is not google", classify.Evidence{Message: "generativelanguage.googleapis.com: quota exceeded"}, true, classify.KindQuota, "", time.Time{}},
}

func TestClassify(t *testing.T) {
	if len(cases) < 50 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := classify.Classify(c.ev, apis, now)
			if v.Quota != c.quota || v.Kind != c.kind || v.API != c.api || !v.Until.Equal(c.until) {
				t.Errorf("got  quota=%v kind=%s api=%q until=%s (%s)\nwant quota=%v kind=%s api=%q until=%s",
					v.Quota, v.Kind, v.API, fmtT(v.Until), v.Evidence, c.quota, c.kind, c.api, fmtT(c.until))
			}
			if v.Evidence == "" {
				t.Errorf("empty Evidence")
			}
		})
	}
}

func fmtT(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return "now+" + t.Sub(now).String()
}

func TestEvidenceText(t *testing.T) {
	for _, c := range []struct {
		ev   classify.Evidence
		want string
	}{
		{classify.Evidence{Status: 403, Message: ytQuotaJSON}, `status 403, reason "quotaExceeded" (youtube.quota)`},
		{classify.Evidence{Message: "Rate limit hit"}, `keyword "rate limit"`},
		{classify.Evidence{Status: 429, Message: groqTPM, Headers: hdr(groqHeaders...)}, `status 429, code "rate_limit_exceeded", per-minute limit, x-ratelimit-reset-requests 2m59.56s`},
		{classify.Evidence{Message: ytQuotaGo}, `"quotaExceeded"`},
		{classify.Evidence{Status: 403, Message: ytForbidden}, `status 403, reason "forbidden" (youtube.header): not a quota reason`},
	} {
		if got := classify.Classify(c.ev, apis, now).Evidence; got != c.want {
			t.Errorf("Evidence = %q, want %q", got, c.want)
		}
	}
}

func TestNoAPIs(t *testing.T) {
	v := classify.Classify(classify.Evidence{Status: 403, Message: ytQuotaJSON}, nil, now)
	if v.API != "" || v.Kind != classify.KindQuota {
		t.Errorf("got %+v", v)
	}
	// A YouTube-shaped body finds the API by name even without keywords.
	v = classify.Classify(classify.Evidence{Status: 403, Message: ytRateJSON}, []classify.APIInfo{{Name: "yt-data"}, {Name: "my-youtube"}}, now)
	if v.API != "my-youtube" {
		t.Errorf("API = %q, want my-youtube", v.API)
	}
	// An OpenAI-shaped body naming a llama model finds the groq API by name.
	v = classify.Classify(classify.Evidence{Status: 429, Message: groqTPM}, []classify.APIInfo{{Name: "openai"}, {Name: "groq-cloud"}}, now)
	if v.API != "groq-cloud" {
		t.Errorf("API = %q, want groq-cloud", v.API)
	}
}

func TestLargeMessage(t *testing.T) {
	msg := strings.Repeat("x", 1<<20) + " quota exceeded"
	if v := classify.Classify(classify.Evidence{Message: msg}, apis, now); v.Quota {
		t.Errorf("text past the scan limit was read: %+v", v)
	}
}
