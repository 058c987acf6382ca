//go:build !unix

package runner

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where process groups do not exist: only the job's
// main process is signalled.
func ownGroup(cmd *exec.Cmd) {}

// killGroup kills the process itself where process groups do not exist.
func killGroup(pid int, hard bool) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
