#!/bin/sh
# Uploader searches YouTube (search.list, 100 units) and uploads a video
# (videos.insert, 1600 units). quotad learns that a run costs 1700 units and
# holds the job while fewer are free. When quotad refuses a call anyway
# (exit status 3), the script prints YouTube's 403 quotaExceeded body and
# fails; quotad pauses the channel until the quota resets.
set -u

# call API UNITS WHAT: meter one call; return 1 when quotad refuses it (exit
# status 3: the quota is gone or the units do not fit what is left).
call() {
	err=$("$QUOTAD_BIN" spend "$1" "$2" --channel "$QUOTAD_CHANNEL" 2>&1 >/dev/null)
	case $? in
	0) echo "$1: $3 done ($2 units)"; return 0 ;;
	3) echo "$1: $3 refused"; return 1 ;;
	esac
	echo "$err" >&2
	exit 1
}

quota_exceeded() {
	echo 'HTTP 403 Forbidden'
	echo '{'
	echo '  "error": {'
	echo '    "code": 403,'
	echo '    "message": "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",'
	echo '    "errors": [{'
	echo '      "message": "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",'
	echo '      "domain": "youtube.quota",'
	echo '      "reason": "quotaExceeded"'
	echo '    }]'
	echo '  }'
	echo '}'
	exit 1
}

call youtube 100 search.list || quota_exceeded
call youtube 1600 videos.insert || quota_exceeded
echo "video uploaded"
