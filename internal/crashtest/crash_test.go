// Package crashtest kills `quotad serve` with SIGKILL while it takes
// concurrent spends over HTTP and calls through its metering proxy, again
// and again, and checks after every restart that no acknowledged spend and
// no answered proxied call was lost, none was counted twice,
// exhausted and paused states survived, and resets missed while the daemon
// was down were applied.
package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/client"
	"github.com/quotad/quotad/store/sqlite"
)

const config = `timezone: UTC
apis:
  stock:
    provider: generic
    upstream: UPSTREAM/v2
    windows:
      - {name: requests, limit: 1000000000, reset: "daily 00:00"}
  groq:
    unit: tokens
    windows:
      - {name: daily, limit: 1000000000, reset: "daily 00:00"}
  youtube:
    windows:
      - {name: daily, limit: 100, reset: "daily 00:00"}
  ticker:
    windows:
      - {name: second, limit: 1, reset: "every 1s"}
channels:
  Writer:
    apis: [groq]
  Held:
    apis: [groq]
  Uploader:
    apis: [youtube]
  Stocky:
    apis: [stock]
`

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quotad")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/quotad/quotad/cmd/quotad").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// daemon starts quotad serve and waits until it answers /readyz.
func daemon(t *testing.T, bin, dir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", filepath.Join(dir, "q.db"), "--config", filepath.Join(dir, "quotad.yaml"),
		"--listen", addr, "--no-jobs", "--quiet")
	cmd.Env = append(os.Environ(), "QUOTAD_TOKEN=", "QUOTAD_DB=", "QUOTAD_SERVER=")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // keep the pipe drained
		s := bufio.NewScanner(stderr)
		for s.Scan() {
		}
	}()
	c, _ := client.New("http://" + addr)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ready(ctx)
		cancel()
		if err == nil {
			return cmd
		}
		time.Sleep(20 * time.Millisecond) // polling a process that is starting
	}
	cmd.Process.Kill()
	t.Fatal("quotad serve did not become ready")
	return nil
}

func readStore(t *testing.T, path string) quotad.Status {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var s quotad.Status
	err = st.View(context.Background(), func(tx quotad.Tx) error {
		apis, err := tx.APIs()
		if err != nil {
			return err
		}
		for _, a := range apis {
			s.APIs = append(s.APIs, quotad.StatusOf(a))
		}
		chans, err := tx.Channels()
		for _, c := range chans {
			s.Channels = append(s.Channels, quotad.ChannelStatusOf(c, nil))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func window(s quotad.Status, api string) quotad.WindowStatus {
	for _, a := range s.APIs {
		if a.Name == api {
			return a.Windows[0]
		}
	}
	return quotad.WindowStatus{}
}

func channel(s quotad.Status, name string) quotad.ChannelStatus {
	for _, c := range s.Channels {
		if c.Name == name {
			return c
		}
	}
	return quotad.ChannelStatus{}
}

func TestSpendsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the daemon 20 times")
	}
	bin := build(t)
	dir := t.TempDir()
	// The proxied API's upstream: answers every call with a small body of
	// known length and no rate-limit figures, so the proxy charges one
	// request a call.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"items":[1,2,3]}`)
	}))
	defer up.Close()
	doc := strings.Replace(config, "UPSTREAM", up.URL, 1)
	if err := os.WriteFile(filepath.Join(dir, "quotad.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	db := filepath.Join(dir, "q.db")
	ctx := context.Background()

	// Set up states that must survive: youtube exhausted, Held paused by a person.
	cmd := daemon(t, bin, dir, addr)
	c, _ := client.New("http://" + addr)
	if _, err := c.Spend(ctx, "youtube", 100, "Uploader"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pause(ctx, "Held", "do not touch"); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	var acked, sent, proxyAnswered, proxySent int64
	const rounds, callers, proxyCallers = 20, 16, 16
	for round := range rounds {
		cmd := daemon(t, bin, dir, addr)
		// The ticker window (reset every second) was exhausted before the
		// last kill; the daemon must have caught up on its missed reset.
		if round > 0 {
			w := window(readStore(t, db), "ticker")
			if w.Exhausted {
				t.Fatalf("round %d: a reset missed while down was not applied: %+v", round, w)
			}
		}
		c, _ := client.New("http://" + addr)
		var wg sync.WaitGroup
		var roundAcked, roundSent, roundAnswered, roundProxySent atomic.Int64
		stop := make(chan struct{})
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: proxyCallers}, Timeout: 2 * time.Second}
		for range proxyCallers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					roundProxySent.Add(1)
					if err := proxyCall(hc, addr); err != nil {
						return // the daemon died: this call may or may not be counted
					}
					roundAnswered.Add(1) // the whole answer arrived: it must be counted
				}
			})
		}
		for range callers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					roundSent.Add(1)
					rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					_, err := c.Spend(rctx, "groq", 1, "Writer")
					cancel()
					if err != nil {
						return // the daemon died: this spend is unacknowledged
					}
					roundAcked.Add(1)
				}
			})
		}
		c.Spend(ctx, "ticker", 1, "")                                   // exhaust the ticker window (may already be)
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond) // a random moment
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
		acked += roundAcked.Load()
		sent += roundSent.Load()
		proxyAnswered += roundAnswered.Load()
		proxySent += roundProxySent.Load()

		s := readStore(t, db)
		used := window(s, "groq").Used
		// Stay down past the ticker's next reset, so that one is missed.
		if next := window(s, "ticker").NextReset; next != nil {
			time.Sleep(time.Until(*next) + 10*time.Millisecond)
		}
		if used < acked {
			t.Fatalf("round %d: quota_used %d < %d acknowledged spends: an acknowledged spend was lost", round, used, acked)
		}
		if used > sent {
			t.Fatalf("round %d: quota_used %d > %d spends sent: a spend was counted twice", round, used, sent)
		}
		if charged := window(s, "stock").Used; charged < proxyAnswered {
			t.Fatalf("round %d: %d proxied calls charged < %d answered: %d answered calls were not counted", round, charged, proxyAnswered, proxyAnswered-charged)
		} else if charged > proxySent {
			t.Fatalf("round %d: %d proxied calls charged > %d sent: a call was counted twice", round, charged, proxySent)
		}
		if y := window(s, "youtube"); !y.Exhausted {
			t.Fatalf("round %d: youtube no longer exhausted: %+v", round, y)
		}
		if h := channel(s, "Held"); h.Active || len(h.PauseReasons) == 0 || h.PauseReasons[0].Reason != quotad.ReasonManual.String() {
			t.Fatalf("round %d: Held lost its manual pause: %+v", round, h)
		}
		t.Logf("round %d: %d acknowledged (%d total), quota_used %d, %d committed but unacknowledged so far (in flight at kills); proxy: %d answered, %d charged",
			round, roundAcked.Load(), acked, used, used-acked, proxyAnswered, window(s, "stock").Used)
	}
	if acked == 0 || proxyAnswered == 0 {
		t.Fatalf("%d spends acknowledged, %d proxied calls answered: the load did not run", acked, proxyAnswered)
	}
	t.Logf("%d proxied calls answered over %d kills, all counted", proxyAnswered, rounds)
}

// proxyCall sends one call through the metering proxy and reads its whole
// answer; an error means the answer did not arrive complete.
func proxyCall(hc *http.Client, addr string) error {
	req, _ := http.NewRequest("GET", "http://"+addr+"/proxy/stock/items", nil)
	req.Header.Set("X-Quotad-Channel", "Stocky")
	req.Header.Set("X-Api-Key", "k-123")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(b) != `{"items":[1,2,3]}` {
		return fmt.Errorf("proxied call: %d %q", resp.StatusCode, b)
	}
	return nil
}
