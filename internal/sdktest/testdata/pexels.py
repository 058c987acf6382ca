"""pexels.py BASE_URL: Pexels with requests, BASE_URL in place of
https://api.pexels.com (e.g. http://127.0.0.1:8080/proxy/pexels). Prints
one JSON line."""
import json
import sys

import requests

base = sys.argv[1]
key = {"Authorization": "563492ad6f917000010000TestPexelsKey01"}
out = {}
r = requests.get(base + "/v1/search", params={"query": "nature", "per_page": 2}, headers=key, timeout=30)
out["search"] = r.status_code
out["photos"] = len(r.json().get("photos", [])) if r.ok else 0
r = requests.get(base + "/videos/search", params={"query": "ocean", "per_page": 2}, headers=key, timeout=30)
out["videos"] = r.status_code
out["remaining"] = r.headers.get("X-Ratelimit-Remaining")
print(json.dumps(out))
