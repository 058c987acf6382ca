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
			{Name: "search.list", Limit: 100, Reset: "daily 00:00 America/Los_Angeles", Meter: MeterCost,
				Note: "search.list calls (GET /search), 1 per call"},
			{Name: "videos.insert", Limit: 100, Reset: "daily 00:00 America/Los_Angeles", Meter: MeterCost,
				Note: "videos.insert calls (POST /videos, uploads), 1 per call"},
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
		Windows: []Window{
			{Name: "rpm", Limit: 30, Reset: "every 1m", Meter: MeterRequests, Note: "requests per minute (llama-3.3-70b-versatile)"},
			{Name: "rpd", Limit: 1000, Reset: "daily 00:00 UTC", Meter: MeterRequests,
				Note: "requests per day; Groq's day is rolling: quotad resets it at 00:00 UTC and adopts x-ratelimit-reset-requests whenever Groq states it"},
			{Name: "tpm", Limit: 12000, Reset: "every 1m", Meter: MeterTokens, Note: "tokens per minute"},
			{Name: "tpd", Limit: 100000, Reset: "daily 00:00 UTC", Meter: MeterTokens, Note: "tokens per day (rolling, as rpd)"},
		},
		DefaultMeter: MeterTokens,
		UsageWindow:  "tpd",
		Headers: []string{
			"x-ratelimit-limit-requests, x-ratelimit-remaining-requests: the per-DAY request window (rpd)",
			"x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens: the per-MINUTE token window (tpm)",
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
		Windows: []Window{
			{Name: "rpm", Limit: 500, Reset: "every 1m", Meter: MeterRequests, Note: "requests per minute (tier 1, gpt-4o-mini)"},
			{Name: "rpd", Limit: 10000, Reset: "daily 00:00 UTC", Meter: MeterRequests, Note: "requests per day (rolling; reset at 00:00 UTC)"},
			{Name: "tpm", Limit: 200000, Reset: "every 1m", Meter: MeterTokens, Note: "tokens per minute"},
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
