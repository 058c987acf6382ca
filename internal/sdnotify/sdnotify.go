// Package sdnotify tells the service manager (systemd) about the daemon's
// state over $NOTIFY_SOCKET, with the standard library only: READY=1 once
// the daemon serves, RELOADING=1 and READY=1 around a config reload, and
// STOPPING=1 when it begins to stop. Without $NOTIFY_SOCKET (not started by
// systemd with Type=notify) every call does nothing.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// The states of the notify protocol quotad sends.
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1"
	Stopping  = "STOPPING=1"
)

// EnvSocket is the variable in which systemd names the socket.
const EnvSocket = "NOTIFY_SOCKET"

// ErrNoSocket is returned by Send when $NOTIFY_SOCKET is unset.
var ErrNoSocket = errors.New("sdnotify: " + EnvSocket + " is not set")

// Send sends the newline-separated assignments in state (such as "READY=1"
// or "STATUS=serving") to the socket $NOTIFY_SOCKET names. It returns
// ErrNoSocket when the variable is unset; callers that do not care whether
// a service manager listens ignore that error.
func Send(state string) error {
	return SendTo(os.Getenv(EnvSocket), state)
}

// SendTo sends state to the notify socket at addr: a path, or an abstract
// socket name when it starts with "@". An empty addr is ErrNoSocket.
func SendTo(addr, state string) error {
	if addr == "" {
		return ErrNoSocket
	}
	if !strings.HasPrefix(addr, "/") && !strings.HasPrefix(addr, "@") {
		return fmt.Errorf("sdnotify: %s=%q is neither a path nor an abstract socket name", EnvSocket, addr)
	}
	ua := &net.UnixAddr{Name: addr, Net: "unixgram"}
	if addr[0] == '@' {
		ua.Name = "\x00" + addr[1:]
	}
	c, err := net.DialUnix("unixgram", nil, ua)
	if err != nil {
		return fmt.Errorf("sdnotify: dial %s: %w", addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: send to %s: %w", addr, err)
	}
	return nil
}

// ReloadingNow returns the message that starts a reload: RELOADING=1 with the
// monotonic time systemd asks for beside it (when the platform has one).
func ReloadingNow() string {
	if usec, ok := monotonicUsec(); ok {
		return fmt.Sprintf("%s\nMONOTONIC_USEC=%d", Reloading, usec)
	}
	return Reloading
}
