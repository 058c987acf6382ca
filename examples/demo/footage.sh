#!/bin/sh
# Footage fetches stock clips from Pexels: 10 requests per run. Its job
# declares "estimate: {pexels: 10}", so quotad does not start it while a
# Pexels window has fewer than 10 requests free: the channel stays active
# and the job waits for the reset instead of failing half-way.
set -u

err=$("$QUOTAD_BIN" spend pexels 10 --channel "$QUOTAD_CHANNEL" 2>&1 >/dev/null)
case $? in
0)
	echo "pexels: 10 clips fetched"
	exit 0 ;;
3) # refused by quotad: the quota is gone
	echo 'pexels: GET https://api.pexels.com/videos/search refused'
	echo 'HTTP 429 Too Many Requests'
	exit 1 ;;
esac
echo "$err" >&2
exit 1
