package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped at build time by `make build` and `make dist`:
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// Without them, versionOf falls back to the build information the Go
// toolchain embeds (module version, vcs.revision, vcs.time).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// versionInfo is what `quotad version` prints.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Modified bool   `json:"modified"` // built from a tree with uncommitted changes
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// versionOf returns the stamped values, filling what is missing from the
// embedded build information.
func versionOf(stamped versionInfo, info *debug.BuildInfo) versionInfo {
	v := stamped
	if info != nil {
		if (v.Version == "" || v.Version == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v.Version = info.Main.Version
		}
		fromVCS := v.Commit == ""
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && fromVCS:
				v.Commit = s.Value
			case s.Key == "vcs.time" && v.Date == "":
				v.Date = s.Value
			case s.Key == "vcs.modified" && fromVCS:
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

func (v versionInfo) String() string {
	s := "quotad " + v.Version
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if v.Modified {
			c += "-modified"
		}
		s += " (commit " + c
		if v.Date != "" {
			s += ", " + v.Date
		}
		s += ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, _ := debug.ReadBuildInfo()
			v := versionOf(versionInfo{Version: version, Commit: commit, Date: date,
				Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}, info)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), v)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
