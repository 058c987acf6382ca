"""youtube.py ROOT_URL DISCOVERY VIDEO: google-api-python-client built from a
discovery document whose rootUrl is quotad's (ROOT_URL, e.g.
http://127.0.0.1:8080/proxy/youtube/): list calls, a multipart upload and a
resumable upload. Prints one JSON line."""
import json
import sys

import httplib2
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

root, discovery, video = sys.argv[1:4]
with open(discovery) as f:
    doc = json.load(f)
doc["rootUrl"] = root  # the one endpoint setting
yt = build_from_document(doc, developerKey="AIzaSyTestKey0123456789abcdefghijklmno", http=httplib2.Http())
out = {}
try:
    out["search"] = len(yt.search().list(part="snippet", q="fast models", maxResults=2).execute()["items"])
    out["videos"] = len(yt.videos().list(part="id", id="fakeVid0001").execute()["items"])
    body = {"snippet": {"title": "Fast models, explained"}, "status": {"privacyStatus": "private"}}
    r = yt.videos().insert(part="snippet,status", body=body,
                           media_body=MediaFileUpload(video, mimetype="video/mp4", resumable=False)).execute()
    out["multipart"] = r["id"]
    r = yt.videos().insert(part="snippet,status", body=body,
                           media_body=MediaFileUpload(video, mimetype="video/mp4", resumable=True)).execute()
    out["resumable"] = r["id"]
    out["ok"] = True
except HttpError as e:
    out["ok"] = False
    out["status"] = e.resp.status
    out["error"] = str(e)
print(json.dumps(out))
