package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/server"
	"github.com/quotad/quotad/store/postgres"
)

// PostgresScaleOut measures durable spends through daemons (each its own
// store connection pool and engine, as separate `quotad serve` processes
// have) sharing one PostgreSQL database named by dsn: callers concurrent
// callers spread round-robin over the daemons, for d. The schema of dsn
// must be empty or quotad's; it is configured with one API.
//
// With overHTTP each daemon also serves quotad's HTTP API on a loopback
// port and the callers spend with POST /api/v1/apis/groq/spend over
// keep-alive connections, as the daemons' clients would.
func PostgresScaleOut(ctx context.Context, dsn string, daemons, callers int, d time.Duration, overHTTP bool) (Result, error) {
	engines := make([]*engine.Engine, daemons)
	for i := range engines {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			return Result{}, err
		}
		defer st.Close()
		e := engine.New(st, engine.Options{})
		defer e.Close()
		engines[i] = e
	}
	if _, err := engines[0].Configure(ctx, []quotad.API{bigAPI("groq")}, []quotad.Channel{{Name: "A", APIs: []string{"groq"}}}); err != nil {
		return Result{}, err
	}
	before, err := engines[0].API(ctx, "groq")
	if err != nil {
		return Result{}, err
	}
	var b0, o0 uint64
	for _, e := range engines {
		b, o, _ := e.Stats()
		b0, o0 = b0+b, o0+o
	}
	name := fmt.Sprintf("postgres spend, %d daemon(s), %d callers", daemons, callers)
	opOf := func(i int) func() error {
		e := engines[i%daemons]
		return func() error {
			_, err := e.Spend(ctx, "groq", 1, "A")
			return err
		}
	}
	if overHTTP {
		name = fmt.Sprintf("postgres HTTP spend, %d daemon(s), %d callers", daemons, callers)
		urls := make([]string, daemons)
		for i, e := range engines {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return Result{}, err
			}
			hs := &http.Server{Handler: server.New(e, server.Options{Logger: slog.New(slog.DiscardHandler)})}
			go hs.Serve(ln)
			defer hs.Close()
			urls[i] = "http://" + ln.Addr().String() + "/api/v1/apis/groq/spend"
		}
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: callers}}
		defer hc.CloseIdleConnections()
		opOf = func(i int) func() error {
			url := urls[i%daemons]
			return func() error {
				resp, err := hc.Post(url, "application/json", strings.NewReader(`{"units":1,"channel":"A"}`))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("spend: HTTP %d", resp.StatusCode)
				}
				return nil
			}
		}
	}
	r, err := runEach(name, callers, d, opOf)
	if err != nil {
		return r, err
	}
	var b1, o1 uint64
	for _, e := range engines {
		b, o, _ := e.Stats()
		b1, o1 = b1+b, o1+o
	}
	if b1 > b0 {
		r.Note = fmt.Sprintf("%.1f ops per transaction", float64(o1-o0)/float64(b1-b0))
	}
	after, err := engines[0].API(ctx, "groq")
	if err != nil {
		return r, err
	}
	if got := after.Windows[0].Used - before.Windows[0].Used; got != r.Ops {
		return r, fmt.Errorf("postgres spend: quota_used grew by %d but %d spends were acknowledged", got, r.Ops)
	}
	return r, nil
}
