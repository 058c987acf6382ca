package provider

// The built-in profiles. Limits are the providers' published defaults for a
// free or first-tier account; a config overrides windows, upstream and costs.
var builtins = map[string]*Profile{
	"youtube": {
		builtIn:  0,
		Name:     "youtube",
		Upstream: "https://www.googleapis.com/youtube/v3",
		Unit:     "units",
		Keywords: []string{"youtube", "google"},
		Windows: []Window{
			{Name: "daily", Limit: 10000, Reset: "daily 00:00 America/Los_Angeles", Meter: MeterCost,
				Note: "units of every endpoint but search.list and videos.insert"},
			{Name: "search.list", Limit: 100, Reset: "daily 00:00 America/Los_Angeles", Meter: MeterCost, Bucket: true,
				Note: "search.list calls (GET /search), 1 per call; a bucket: when it is out, only search.list calls are refused"},
			{Name: "videos.insert", Limit: 100, Reset: "daily 00:00 America/Los_Angeles", Meter: MeterCost, Bucket: true,
				Note: "videos.insert calls (POST /videos, uploads), 1 per call; a bucket: when it is out, only uploads are refused"},
		},
		Costs: []CostRule{
			{Method: "GET", Path: "/search", Window: "search.list", Cost: 1},
			{Method: "POST", Path: "/videos", Window: "videos.insert", Cost: 1},
			{Method: "READ", Path: "/", Window: "daily", Cost: 1},
			{Method: "*", Path: "/", Window: "daily", Cost: 50},
		},
		DefaultMeter: MeterCost,
		FailedCost:   1,
		UsageWindow:  "daily",
		OriginPaths:  []string{"/upload/", "/resumable/upload/"},
		SessionParam: "upload_id",
		Headers: []string{
			"none: YouTube sends no rate-limit headers and no Retry-After; quotad counts every bucket itself",
		},
		Errors: []string{
			`403 quotaExceeded (domain youtube.quota) or dailyLimitExceeded (domain usageLimits, "reset at midnight Pacific Time"): the bucket the call was charged to is exhausted until 00:00 America/Los_Angeles`,
			"403 rateLimitExceeded / userRateLimitExceeded: a short rate limit; the API is blocked for 60 s",
			`400 uploadLimitExceeded ("try again in 24 hours"): a limit of the calling channel; that channel is paused (channel_limit), not the API`,
		},
		Notes: []string{
			"every call costs at least 1, even an invalid one: a call the provider answers with an error costs 1 in its bucket",
			"GET /search → search.list; POST /videos (and /upload/youtube/v3/videos) → videos.insert; other GET calls 1 unit; other writes 50 units",
			"paths under /upload/ and /resumable/upload/ are forwarded to the upstream's origin: /proxy/youtube/upload/youtube/v3/videos → https://www.googleapis.com/upload/youtube/v3/videos; a resumable upload's session (upload_id) is charged once, by the call that opened it",
			"the base path may be repeated (/proxy/youtube/youtube/v3/search) and, for SDKs that keep only the origin, the native paths work at quotad's root (/youtube/v3/search, /upload/youtube/v3/videos)",
		},
		errs: styleGoogle,
	},
	"groq": {
		builtIn:  1,
		Name:     "groq",
		Upstream: "https://api.groq.com/openai/v1",
		Unit:     "tokens",
		Keywords: []string{"groq", "llama"},
		// Every model has its own windows (per organization): Groq's
		// published free-plan table, console.groq.com/docs/rate-limits
		// (December 2026). The limits below are llama-3.3-70b-versatile's,
		// the shape of every model's windows.
		Windows: []Window{
			{Name: "rpm", Limit: 30, Reset: "every 1m", Meter: MeterRequests, Note: "requests per minute, per model"},
			{Name: "rpd", Limit: 1000, Reset: "daily 00:00 UTC", Meter: MeterRequests,
				Note: "requests per day, per model; Groq's day is rolling: quotad resets it at 00:00 UTC and adopts x-ratelimit-reset-requests whenever Groq states it"},
			{Name: "tpm", Limit: 12000, Reset: "every 1m", Meter: MeterTokens, Note: "tokens per minute, per model"},
			{Name: "tpd", Limit: 100000, Reset: "daily 00:00 UTC", Meter: MeterTokens, Note: "tokens per day, per model (rolling, as rpd)"},
		},
		PerModel: true,
		Models: []ModelLimits{
			groqModel("llama-3.3-70b-versatile", 30, 1000, 12000, 100000),
			groqModel("llama-3.1-8b-instant", 30, 14400, 6000, 500000),
			groqModel("allam-2-7b", 30, 7000, 6000, 500000),
			groqModel("groq/compound", 30, 250, 70000, 0),
			groqModel("groq/compound-mini", 30, 250, 70000, 0),
			groqModel("meta-llama/llama-4-maverick-17b-128e-instruct", 30, 1000, 6000, 500000),
			groqModel("meta-llama/llama-4-scout-17b-16e-instruct", 30, 1000, 30000, 500000),
			groqModel("meta-llama/llama-guard-4-12b", 30, 14400, 15000, 500000),
			groqModel("meta-llama/llama-prompt-guard-2-22m", 30, 14400, 15000, 500000),
			groqModel("meta-llama/llama-prompt-guard-2-86m", 30, 14400, 15000, 500000),
			groqModel("moonshotai/kimi-k2-instruct", 60, 1000, 10000, 300000),
			groqModel("moonshotai/kimi-k2-instruct-0905", 60, 1000, 10000, 300000),
			groqModel("openai/gpt-oss-120b", 30, 1000, 8000, 200000),
			groqModel("openai/gpt-oss-20b", 30, 1000, 8000, 200000),
			groqModel("openai/gpt-oss-safeguard-20b", 30, 1000, 8000, 200000),
			groqModel("qwen/qwen3-32b", 60, 1000, 6000, 500000),
		},
		// US dollars per million input / output tokens (groq.com/pricing,
		// 2025); override them in the config when they change.
		Prices: []Price{
			{Model: "llama-3.3-70b-versatile", Input: 0.59, Output: 0.79},
			{Model: "llama-3.1-8b-instant", Input: 0.05, Output: 0.08},
			{Model: "meta-llama/llama-4-scout-17b-16e-instruct", Input: 0.11, Output: 0.34},
			{Model: "meta-llama/llama-4-maverick-17b-128e-instruct", Input: 0.20, Output: 0.60},
			{Model: "openai/gpt-oss-120b", Input: 0.15, Output: 0.75},
			{Model: "openai/gpt-oss-20b", Input: 0.10, Output: 0.50},
			{Model: "qwen/qwen3-32b", Input: 0.29, Output: 0.59},
			{Model: "moonshotai/kimi-k2-instruct-0905", Input: 1.00, Output: 3.00},
		},
		DefaultMeter: MeterTokens,
		UsageWindow:  "tpd",
		Headers: []string{
			"x-ratelimit-limit-requests, x-ratelimit-remaining-requests: the per-DAY request window (rpd) of the model called",
			"x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens: the per-MINUTE token window (tpm) of the model called",
			"x-ratelimit-reset-requests, x-ratelimit-reset-tokens: durations such as 2m59.56s, 7.66s, 12ms: the window's next reset",
			"retry-after (seconds): on 429 only",
		},
		Errors: []string{
			`429 rate_limit_exceeded "... on tokens per minute (TPM) ... Please try again in 8m45.312s": the named window (rpm, rpd, tpm, tpd) is exhausted until then`,
			"429 insufficient_quota (billing): no time restores it; the API is held until a person resets it",
			`429 "Request too large ... must be reduced": an error of that request, not an exhausted quota; the API is not paused`,
		},
		Notes: []string{
			"tokens come from the response's usage.total_tokens, or, streamed, from the final chunk's usage (stream_options.include_usage) or x_groq.usage",
			"limits are per model: a call is charged to the windows of the model its body names; a model not in the table gets rpd and tpm windows from its first response's x-ratelimit-* headers",
		},
		rules: []headerRule{
			{limit: "X-Ratelimit-Limit-Requests", remaining: "X-Ratelimit-Remaining-Requests", reset: "X-Ratelimit-Reset-Requests", window: "rpd"},
			{limit: "X-Ratelimit-Limit-Tokens", remaining: "X-Ratelimit-Remaining-Tokens", reset: "X-Ratelimit-Reset-Tokens", window: "tpm"},
		},
		errs:   styleOpenAI,
		tokens: true,
	},
	"openai": {
		builtIn:  2,
		Name:     "openai",
		Upstream: "https://api.openai.com/v1",
		Unit:     "tokens",
		Keywords: []string{"openai", "gpt"},
		// Limits are per model (and per organization or project): tier 1,
		// platform.openai.com/docs/guides/rate-limits; the shape of every
		// model's windows is gpt-4o-mini's.
		Windows: []Window{
			{Name: "rpm", Limit: 500, Reset: "every 1m", Meter: MeterRequests, Note: "requests per minute, per model"},
			{Name: "rpd", Limit: 10000, Reset: "daily 00:00 UTC", Meter: MeterRequests, Note: "requests per day, per model (rolling; reset at 00:00 UTC)"},
			{Name: "tpm", Limit: 200000, Reset: "every 1m", Meter: MeterTokens, Note: "tokens per minute, per model"},
		},
		PerModel: true,
		Models: []ModelLimits{
			{Model: "gpt-4o-mini", Limits: map[string]int64{"rpm": 500, "rpd": 10000, "tpm": 200000}},
		},
		// US dollars per million input / output tokens
		// (openai.com/api/pricing, 2025).
		Prices: []Price{
			{Model: "gpt-4o-mini", Input: 0.15, Output: 0.60},
			{Model: "gpt-4o", Input: 2.50, Output: 10.00},
			{Model: "gpt-4.1-mini", Input: 0.40, Output: 1.60},
			{Model: "gpt-4.1", Input: 2.00, Output: 8.00},
		},
		DefaultMeter: MeterTokens,
		UsageWindow:  "tpm",
		Headers: []string{
			"x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests: the per-minute request window (rpm)",
			"x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens: the per-minute token window (tpm)",
			"retry-after (seconds): on 429 only",
		},
		Errors: []string{
			`429 rate_limit_exceeded "... on tokens per min (TPM) ... Please try again in 2s": the named window is exhausted until then`,
			"429 insufficient_quota (billing): no time restores it; the API is held until a person resets it",
			`429 "Request too large ... must be reduced": an error of that request; the API is not paused`,
		},
		Notes: []string{
			"streamed calls carry usage only with stream_options.include_usage; without it a streamed call is metered as 1 request and 0 tokens",
		},
		rules: []headerRule{
			{limit: "X-Ratelimit-Limit-Requests", remaining: "X-Ratelimit-Remaining-Requests", reset: "X-Ratelimit-Reset-Requests", window: "rpm"},
			{limit: "X-Ratelimit-Limit-Tokens", remaining: "X-Ratelimit-Remaining-Tokens", reset: "X-Ratelimit-Reset-Tokens", window: "tpm"},
		},
		errs:   styleOpenAI,
		tokens: true,
	},
	"pexels": {
		builtIn:  3,
		Name:     "pexels",
		Upstream: "https://api.pexels.com",
		Unit:     "requests",
		Keywords: []string{"pexels"},
		Windows: []Window{
			{Name: "hourly", Limit: 200, Reset: "every 1h", Meter: MeterRequests, Note: "requests per hour, counted by quotad (Pexels states nothing about it)"},
			{Name: "monthly", Limit: 20000, Reset: "monthly 1 00:00 UTC", Meter: MeterRequests,
				Note: "requests per month; its roll-over is the last X-Ratelimit-Reset Pexels stated"},
		},
		DefaultMeter: MeterRequests,
		UsageWindow:  "monthly",
		Headers: []string{
			"X-Ratelimit-Limit, X-Ratelimit-Remaining: the MONTHLY quota only, on 2xx responses only (never on a 429)",
			"X-Ratelimit-Reset: Unix time of the monthly roll-over; quotad keeps the last one seen as the monthly window's next reset",
		},
		Errors: []string{
			"429 (no Retry-After, no rate-limit headers): the monthly window when its last stated remaining was 0, else the hourly window, until its reset",
		},
		rules: []headerRule{
			{limit: "X-Ratelimit-Limit", remaining: "X-Ratelimit-Remaining", reset: "X-Ratelimit-Reset", window: "monthly"},
		},
		okOnly: true,
		errs:   stylePexels,
	},
	"pixabay": {
		builtIn:  4,
		Name:     "pixabay",
		Upstream: "https://pixabay.com/api",
		Unit:     "requests",
		Keywords: []string{"pixabay"},
		Windows: []Window{
			{Name: "minute", Limit: 100, Reset: "every 1m", Meter: MeterRequests, Note: "requests per 60 s per key"},
		},
		DefaultMeter: MeterRequests,
		UsageWindow:  "minute",
		Headers: []string{
			"X-RateLimit-Limit, X-RateLimit-Remaining: the 60-second window",
			"X-RateLimit-Reset: SECONDS REMAINING until the window resets (not a Unix time)",
		},
		Errors: []string{
			`429 plain text "API rate limit exceeded": the minute window is exhausted until X-RateLimit-Reset, else its reset`,
		},
		rules: []headerRule{
			{limit: "X-Ratelimit-Limit", remaining: "X-Ratelimit-Remaining", reset: "X-Ratelimit-Reset", window: "minute", deltaOnly: true},
		},
		errs: stylePixabay,
	},
	"generic": {
		builtIn:      5,
		Name:         "generic",
		Unit:         "requests",
		DefaultMeter: MeterRequests,
		Headers: []string{
			"Retry-After: delay-seconds or HTTP-date (a date in the past means now)",
			"RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (delta seconds), RateLimit-Policy (100;w=60): IETF draft",
			`RateLimit ("name";r=REMAINING;t=RESET or limit=, remaining=, reset=) and RateLimit-Policy ("name";q=QUOTA;w=WINDOW): later IETF drafts`,
			"X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (Unix time, or delta seconds below 1e9)",
			"figures go to the window with the policy's name, else the one whose limit they state, else the API's only window",
		},
		Errors: []string{
			"classified by quotad's rules: status, JSON error bodies, Retry-After, rate-limit headers, try-again texts, keywords",
		},
		Notes: []string{
			"has no upstream or windows of its own: configure both; every window counts 1 per call unless it is named in a cost rule",
		},
		ietf: true,
		errs: styleGeneric,
	},
}

// groqModel is a row of Groq's table; a 0 limit is one Groq does not state.
func groqModel(model string, rpm, rpd, tpm, tpd int64) ModelLimits {
	m := ModelLimits{Model: model, Limits: map[string]int64{}}
	for name, n := range map[string]int64{"rpm": rpm, "rpd": rpd, "tpm": tpm, "tpd": tpd} {
		if n > 0 {
			m.Limits[name] = n
		}
	}
	return m
}
