package provider

import "strings"

// The paths SDKs send. An SDK pointed at quotad with its own endpoint
// setting sends one of three forms of the same call, and all of them reach
// the same upstream path and the same cost rule:
//
//   - below the upstream's base path: openai-node with baseURL
//     …/proxy/openai sends /proxy/openai/chat/completions;
//   - with the base path repeated: groq-sdk with baseURL …/proxy/groq sends
//     /proxy/groq/openai/v1/chat/completions, @googleapis/youtube with a
//     per-call rootUrl …/proxy/youtube/ sends /proxy/youtube/youtube/v3/search;
//   - at quotad's root, for SDKs that keep only the origin of their setting
//     (@googleapis/youtube's global rootUrl): /youtube/v3/search,
//     /upload/youtube/v3/videos.
//
// Media uploads go to origin paths (OriginPaths: /upload/youtube/v3/…, and
// the discovery document's /resumable/upload/youtube/v3/…), forwarded
// relative to the upstream's origin.

// UpstreamPath returns the path a call is sent to, relative to the
// upstream's origin, for the path esc (escaped, "" or starting with "/") the
// caller sent below the API's root: an origin path and a path that already
// starts with the upstream's base path go as they are; any other path goes
// below the base path. It is pure and never lets a path leave the base path
// or the origin paths.
func (p *Profile) UpstreamPath(esc string) string {
	if esc != "" && esc[0] != '/' {
		esc = "/" + esc
	}
	if _, ok := p.CutOrigin(esc); ok {
		return esc
	}
	base := p.basePath()
	if base != "" && (esc == base || strings.HasPrefix(esc, base+"/")) {
		return esc
	}
	return base + esc
}

// Native reports whether path, a path at quotad's root, is one of the API's
// own paths as the provider serves them: it starts with the upstream's base
// path, directly or after an origin prefix (/youtube/v3/search,
// /upload/youtube/v3/videos, /openai/v1/chat/completions). A profile whose
// upstream has no base path (pexels) claims no path.
func (p *Profile) Native(path string) bool {
	base := p.basePath()
	if base == "" {
		return false
	}
	path, _ = p.CutOrigin(path)
	return path == base || strings.HasPrefix(path, base+"/")
}

// NativePrefixes returns the first path segments ("/youtube/", "/upload/")
// under which Native paths lie, for mounting a handler at quotad's root.
func (p *Profile) NativePrefixes() []string {
	base := p.basePath()
	if base == "" {
		return nil
	}
	out := []string{firstSegment(base)}
	for _, o := range p.OriginPaths {
		if s := firstSegment(o); s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// firstSegment returns "/a/" for "/a/b/c" and "/a".
func firstSegment(path string) string {
	path = strings.TrimPrefix(path, "/")
	seg, _, _ := strings.Cut(path, "/")
	if seg == "" {
		return ""
	}
	return "/" + seg + "/"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Continues reports whether a call with the given raw query continues an
// upload session that an earlier, charged call opened (YouTube's resumable
// uploads: the PUTs to the session URI carry upload_id). Such a call is
// charged nothing: the provider charged the session once.
func (p *Profile) Continues(rawQuery string) bool {
	if p.SessionParam == "" || rawQuery == "" {
		return false
	}
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == p.SessionParam {
			return true
		}
	}
	return false
}
