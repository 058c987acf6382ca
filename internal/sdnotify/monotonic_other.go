//go:build !linux

package sdnotify

// monotonicUsec is unavailable off Linux, where systemd does not run.
func monotonicUsec() (uint64, bool) { return 0, false }
