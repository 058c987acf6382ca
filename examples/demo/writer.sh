#!/bin/sh
# Writer drafts a video script with five Groq calls per run. Each call is
# metered with "quotad spend"; when quotad refuses one (exit status 3: the
# minute's tokens are gone), the script prints what Groq itself answers at
# that point (HTTP 429 with its JSON error body) and fails, as a real
# pipeline would. quotad classifies those last lines: a per-minute limit,
# retry in 41.2s.
set -u

for step in outline draft scenes polish title; do
	err=$("$QUOTAD_BIN" spend groq 2500 --channel "$QUOTAD_CHANNEL" 2>&1 >/dev/null)
	case $? in
	0)
		echo "groq: $step done (2500 tokens)"
		continue ;;
	3) ;; # refused by quotad: the quota is gone
	*) echo "$err" >&2; exit 1 ;;
	esac
	echo "groq: $step call refused"
	echo 'groq.RateLimitError: Error code: 429 - {"error":{"message":"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_demo` service tier `on_demand` on tokens per minute (TPM): Limit 10000, Used 10000, Requested 2500. Please try again in 41.2s. Visit https://console.groq.com/docs/rate-limits for more information.","type":"tokens","code":"rate_limit_exceeded"}}'
	exit 1
done
echo "script drafted"
