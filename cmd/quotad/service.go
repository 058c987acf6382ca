package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/client"
	"github.com/quotad/quotad/config"
)

// service opens what the operation runs on: the daemon at --server, else the
// store directly. The returned function releases it.
func (g *globals) service(ctx context.Context) (quotad.Service, config.Config, func(), error) {
	cfg, _, err := g.loadConfig()
	if err != nil {
		return nil, cfg, nil, err
	}
	if url := g.serverURL(); url != "" {
		c, err := client.New(url, client.WithToken(g.tokenValue(cfg)))
		if err != nil {
			return nil, cfg, nil, err
		}
		return c, cfg, func() {}, nil
	}
	l, err := g.openLocal(ctx, cfg)
	if err != nil {
		return nil, cfg, nil, err
	}
	return jobViews(l.engine, l.cfg), l.cfg, func() { l.Close() }, nil
}

// withService runs fn with an open service and the command's context.
func (g *globals) withService(cmd *cobra.Command, fn func(ctx context.Context, svc quotad.Service, cfg config.Config) error) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	svc, cfg, done, err := g.service(ctx)
	if err != nil {
		return err
	}
	defer done()
	return fn(ctx, svc, cfg)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// human formats an instant in the config's zone, "-" for none.
func human(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	if t.Year() >= 9999 {
		return "until a person resets it"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// humanIn is human plus the time left, e.g. "2026-01-12 00:00:00 PST (in 5h29m)".
func humanIn(t *time.Time, loc *time.Location, now time.Time) string {
	s := human(t, loc)
	if t == nil || t.IsZero() || t.Year() >= 9999 {
		return s
	}
	d := t.Sub(now).Round(time.Second)
	if d >= 0 {
		return fmt.Sprintf("%s (in %s)", s, shortDur(d))
	}
	return fmt.Sprintf("%s (%s ago)", s, shortDur(-d))
}

// shortDur is a duration as a person reads it: "27d11h", "2h31m", "5m12s",
// "42s".
func shortDur(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= day:
		d = d.Round(time.Hour)
		if h := d % day / time.Hour; h != 0 {
			return fmt.Sprintf("%dd%dh", d/day, h)
		}
		return fmt.Sprintf("%dd", d/day)
	case d >= time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	return d.Round(time.Second).String()
}
