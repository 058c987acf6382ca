package fakeprovider

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// YouTubeLimits are YouTube's daily quota buckets, all reset at midnight
// America/Los_Angeles: the project's units, and the search.list and
// videos.insert buckets Google keeps beside them.
type YouTubeLimits struct {
	Daily, Search, Insert int64
}

// DefaultYouTube are the limits quotad's youtube profile ships.
var DefaultYouTube = YouTubeLimits{Daily: 10000, Search: 100, Insert: 100}

// YouTube returns the fake YouTube Data API v3: list calls (GET
// /youtube/v3/{resource}, part required) cost 1 unit of the daily bucket,
// search.list 1 of its own bucket, videos.insert (POST /youtube/v3/videos,
// multipart and resumable uploads under /upload/youtube/v3/videos and
// /resumable/upload/youtube/v3/videos) 1 of its own, other writes 50 daily
// units; an answered error costs 1. An exhausted bucket refuses its calls,
// and the daily bucket every call, with Google's 403 quotaExceeded body.
func (f *Fake) YouTube() http.Handler { return http.HandlerFunc(f.youtube) }

const ytQuotaMsg = "The request cannot be completed because you have exceeded your \u003ca href=\"/youtube/v3/getting-started#quota\"\u003equota\u003c/a\u003e."

func ytError(w http.ResponseWriter, status int, reason, domain, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg,
		"errors": []map[string]string{{"message": msg, "domain": domain, "reason": reason}}}})
}

func (f *Fake) youtube(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	c := Call{Provider: "youtube", Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	defer func() { c.Status = sw.status; f.record(c) }()
	path := r.URL.Path
	upload := false
	for _, pre := range []string{"/upload", "/resumable/upload"} {
		if rest, ok := strings.CutPrefix(path, pre+"/youtube/v3/"); ok {
			path, upload = "/youtube/v3/"+rest, true
		}
	}
	resource, ok := strings.CutPrefix(path, "/youtube/v3/")
	if !ok || resource == "" {
		ytError(sw, http.StatusNotFound, "notFound", "global", "Not Found")
		return
	}
	q := r.URL.Query()
	// A resumable upload's later chunks belong to a session already charged.
	if id := q.Get("upload_id"); upload && id != "" {
		f.mu.Lock()
		_, known := f.uploads[id]
		delete(f.uploads, id)
		f.mu.Unlock()
		if !known {
			ytError(sw, http.StatusNotFound, "notFound", "global", "Upload session not found")
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		f.writeVideo(sw, nil)
		return
	}
	bucket, units := "daily", int64(1)
	switch {
	case r.Method == http.MethodGet && resource == "search":
		bucket = "search.list"
	case r.Method == http.MethodPost && resource == "videos":
		bucket = "videos.insert"
	case r.Method != http.MethodGet:
		units = 50
	}
	now := f.now()
	f.mu.Lock()
	daily, own := f.windowLocked("youtube", "", "daily"), f.windowLocked("youtube", "", bucket)
	if (daily != nil && daily.left(now) < 1) || (own != nil && own.left(now) < units) {
		f.mu.Unlock()
		c.Bucket = bucket
		ytError(sw, http.StatusForbidden, "quotaExceeded", "youtube.quota", ytQuotaMsg)
		return
	}
	// The call is charged, answered well or not.
	charge := units
	if q.Get("part") == "" && !(upload && q.Get("uploadType") == "media") {
		charge = 1
	}
	if own != nil {
		own.roll(now)
		own.used += charge
	}
	c.Bucket, c.Units = bucket, charge
	f.mu.Unlock()
	if q.Get("part") == "" {
		ytError(sw, http.StatusBadRequest, "required", "global", "No filter selected. Expected one of: ...; 'part' is required")
		return
	}
	switch {
	case r.Method == http.MethodGet:
		f.writeList(sw, resource, q.Get("maxResults"))
	case bucket == "videos.insert" && upload && q.Get("uploadType") == "resumable":
		meta, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		f.mu.Lock()
		f.nextID++
		id := fmt.Sprintf("ADPycdu%06d", f.nextID)
		f.uploads[id] = string(meta)
		f.mu.Unlock()
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		sw.Header().Set("Location", scheme+"://"+r.Host+r.URL.Path+"?"+r.URL.RawQuery+"&upload_id="+id)
		sw.Header().Set("X-GUploader-UploadID", id)
		sw.Header().Set("Content-Length", "0")
		sw.WriteHeader(http.StatusOK)
	case bucket == "videos.insert":
		meta := readMultipartMeta(r)
		f.writeVideo(sw, meta)
	default:
		_, _ = io.Copy(io.Discard, r.Body)
		sw.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(sw).Encode(map[string]any{"kind": "youtube#" + strings.TrimSuffix(resource, "s"), "etag": "fake", "id": "fake1"})
	}
}

// readMultipartMeta returns the JSON metadata part of a multipart/related
// upload, reading the media part to its end.
func readMultipartMeta(r *http.Request) map[string]any {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		_, _ = io.Copy(io.Discard, r.Body)
		return nil
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var meta map[string]any
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") && meta == nil {
			_ = json.NewDecoder(p).Decode(&meta)
		}
		_, _ = io.Copy(io.Discard, p)
	}
	return meta
}

func (f *Fake) writeVideo(w http.ResponseWriter, meta map[string]any) {
	f.mu.Lock()
	f.nextID++
	id := fmt.Sprintf("fakeVid%04d", f.nextID)
	f.mu.Unlock()
	v := map[string]any{"kind": "youtube#video", "etag": "fake", "id": id, "status": map[string]any{"uploadStatus": "uploaded", "privacyStatus": "private"}}
	if s, ok := meta["snippet"]; ok {
		v["snippet"] = s
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Fake) writeList(w http.ResponseWriter, resource, _ string) {
	kind := strings.TrimSuffix(resource, "s")
	var items []any
	for i := 1; i <= 2; i++ {
		if resource == "search" {
			items = append(items, map[string]any{"kind": "youtube#searchResult", "etag": "fake",
				"id": map[string]any{"kind": "youtube#video", "videoId": fmt.Sprintf("fakeVid%04d", i)}})
		} else {
			items = append(items, map[string]any{"kind": "youtube#" + kind, "etag": "fake", "id": fmt.Sprintf("fake%s%d", kind, i)})
		}
	}
	lk := "youtube#" + kind + "ListResponse"
	if resource == "search" {
		lk = "youtube#searchListResponse"
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": lk, "etag": "fake", "items": items,
		"pageInfo": map[string]any{"totalResults": len(items), "resultsPerPage": len(items)}})
}
