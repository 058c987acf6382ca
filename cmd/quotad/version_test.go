package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	module := &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}
	for _, tc := range []struct {
		name    string
		stamped versionInfo
		info    *debug.BuildInfo
		want    versionInfo
		line    string
	}{
		{"stamped by make build wins", versionInfo{Version: "v1.2.3", Commit: "abc", Date: "2026-11-30T09:00:00Z", Go: "go1.26", Platform: "linux/arm64"}, vcs,
			versionInfo{Version: "v1.2.3", Commit: "abc", Date: "2026-11-30T09:00:00Z", Go: "go1.26", Platform: "linux/arm64"},
			"quotad v1.2.3 (commit abc, 2026-11-30T09:00:00Z) go1.26 linux/arm64"},
		{"go build in a checkout: vcs settings", versionInfo{Version: "dev", Go: "go1.26", Platform: "linux/amd64"}, vcs,
			versionInfo{Version: "dev", Commit: "0123456789abcdef0123", Date: "2026-12-01T10:00:00Z", Modified: true, Go: "go1.26", Platform: "linux/amd64"},
			"quotad dev (commit 0123456789ab-modified, 2026-12-01T10:00:00Z) go1.26 linux/amd64"},
		{"go install module@version", versionInfo{Version: "dev", Go: "go1.26", Platform: "darwin/arm64"}, module,
			versionInfo{Version: "v1.4.0", Go: "go1.26", Platform: "darwin/arm64"}, "quotad v1.4.0 go1.26 darwin/arm64"},
		{"nothing known", versionInfo{Go: "go1.26", Platform: "windows/amd64"}, nil,
			versionInfo{Version: "dev", Go: "go1.26", Platform: "windows/amd64"}, "quotad dev go1.26 windows/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := versionOf(tc.stamped, tc.info)
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			if got.String() != tc.line {
				t.Fatalf("line %q, want %q", got.String(), tc.line)
			}
		})
	}
}

// `make build` stamps the binary, and `quotad version --json` says so.
func TestMakeBuildStampsTheVersion(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	out := filepath.Join(t.TempDir(), "quotad")
	mk := exec.Command("make", "-C", "../..", "build", "BIN="+out, "VERSION=v9.8.7", "COMMIT=feedface", "DATE=2026-12-04T20:00:00Z")
	if b, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, b)
	}
	b, err := exec.Command(out, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v versionInfo
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if v.Version != "v9.8.7" || v.Commit != "feedface" || v.Date != "2026-12-04T20:00:00Z" {
		t.Fatalf("version --json: %s", b)
	}
}
