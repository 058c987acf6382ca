package sdnotify_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotad/quotad/internal/sdnotify"
)

// listen opens a unixgram socket as systemd does and returns its address as
// $NOTIFY_SOCKET would name it.
func listen(t *testing.T, abstract bool) (string, *net.UnixConn) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "notify.sock")
	addr := name
	if abstract {
		name = "\x00quotad-test-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + time.Now().Format("150405.000000000")
		addr = "@" + name[1:]
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return addr, c
}

func receive(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestSendReachesTheSocket(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run(map[bool]string{false: "path", true: "abstract"}[abstract], func(t *testing.T) {
			addr, c := listen(t, abstract)
			t.Setenv(sdnotify.EnvSocket, addr)
			for _, msg := range []string{sdnotify.Ready, sdnotify.Stopping} {
				if err := sdnotify.Send(msg); err != nil {
					t.Fatal(err)
				}
				if got := receive(t, c); got != msg {
					t.Fatalf("got %q, want %q", got, msg)
				}
			}
		})
	}
}

func TestReloadingCarriesMonotonicTime(t *testing.T) {
	addr, c := listen(t, false)
	if err := sdnotify.SendTo(addr, sdnotify.ReloadingNow()); err != nil {
		t.Fatal(err)
	}
	got := receive(t, c)
	lines := strings.Split(got, "\n")
	if lines[0] != sdnotify.Reloading {
		t.Fatalf("got %q", got)
	}
	if len(lines) == 2 && !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("second line %q", lines[1])
	}
}

func TestNoSocket(t *testing.T) {
	t.Setenv(sdnotify.EnvSocket, "")
	if err := sdnotify.Send(sdnotify.Ready); !errors.Is(err, sdnotify.ErrNoSocket) {
		t.Fatalf("got %v, want ErrNoSocket", err)
	}
	if err := sdnotify.SendTo("relative.sock", sdnotify.Ready); err == nil {
		t.Fatal("a relative socket name was accepted")
	}
	if err := sdnotify.SendTo(filepath.Join(t.TempDir(), "none.sock"), sdnotify.Ready); err == nil {
		t.Fatal("a missing socket gave no error")
	}
}
