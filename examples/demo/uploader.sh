#!/bin/sh
# Uploader searches YouTube (search.list, 100 units) and uploads a video
# (videos.insert, 1600 units). When quotad refuses a call because youtube's
# quota is gone, the script prints YouTube's 403 quotaExceeded body and
# fails; quotad pauses the channel until the quota resets.
set -u

# call API UNITS WHAT: meter one call; return 1 when the quota is gone.
call() {
	if err=$("$QUOTAD_BIN" spend "$1" "$2" --channel "$QUOTAD_CHANNEL" 2>&1 >/dev/null); then
		echo "$1: $3 done ($2 units)"
		return 0
	fi
	case $err in
	*"quota exhausted"*) echo "$1: $3 refused"; return 1 ;;
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
