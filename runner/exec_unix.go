//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// ownGroup makes the command the leader of a new process group, so that
// the job and every process it starts can be signalled at once.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends SIGTERM (or SIGKILL when hard) to the process group led by
// pid. A group that is already gone is not an error.
func killGroup(pid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}
