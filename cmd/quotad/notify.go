package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/engine"
	"github.com/quotad/quotad/notify"
)

// notifyEngineOptions gives the engine the config's thresholds and, when
// notifiers are configured, the outbox hook that queues their
// notifications in the transaction of each event - in the daemon and in
// every CLI command that changes state, so that a person's `quotad pause`
// is notified by the daemon's dispatcher.
func notifyEngineOptions(cfg config.Config, o *engine.Options) {
	if cfg.Thresholds != nil {
		o.Thresholds = cfg.Thresholds
	}
	o.Outbox = notify.Outbox(notifiers(cfg))
}

// serveNotifications is the serve hook of the notification dispatcher: it
// delivers the queued notifications until ctx is done, woken by every
// committed event and polling for the ones other processes queue.
func serveNotifications(ctx context.Context, d *daemon) error {
	w := d.out
	if len(d.cfg.Notifiers) == 0 {
		return nil
	}
	disp, err := notify.NewDispatcher(d.engine, notifiers(d.cfg), notify.Options{Clock: d.engine.Clock(), Logger: d.log})
	if err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	defer d.engine.Subscribe(func([]quotad.Event) { disp.Wake() })()
	names := make([]string, 0, len(d.cfg.Notifiers))
	for _, n := range d.cfg.Notifiers {
		names = append(names, n.Name+" ("+n.Type+")")
	}
	fmt.Fprintf(w, "[OK] Notifications to %s\n", strings.Join(names, ", "))
	return disp.Run(ctx)
}

func newNotifyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Test notifiers and show queued notifications",
		Long: `Notifiers (the config's "notifiers") are told of exhaustions, resets, resumes,
thresholds, forecasts and pauses. Notifications are queued in the store with
the event that causes them and sent by "quotad serve", with retries.

  quotad notify test NAME    send a test message to a notifier now
  quotad notify list         the newest notifications and their delivery state
  quotad notify stats        how many notifications each notifier has, by state`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newNotifyTestCmd(g), newNotifyListCmd(g), newNotifyStatsCmd(g))
	return cmd
}

func newNotifyTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Send a test message to a notifier now (not queued) and print the result",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			n, ok := cfg.Notifier(args[0])
			if !ok {
				names := make([]string, 0, len(cfg.Notifiers))
				for _, n := range cfg.Notifiers {
					names = append(names, n.Name)
				}
				if len(names) == 0 {
					return fmt.Errorf("no notifier %q: the config has no notifiers", args[0])
				}
				return fmt.Errorf("no notifier %q in the config; expected one of: %s", args[0], strings.Join(names, ", "))
			}
			start := time.Now()
			m, err := notify.Test(cmd.Context(), notifier(n), start)
			took := time.Since(start).Round(time.Millisecond)
			if err != nil {
				return fmt.Errorf("test message to %s (%s) failed after %s: %w", n.Name, n.Type, took, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "[OK] Test message sent to %s (%s) in %s: %s\n", n.Name, n.Type, took, m.Text())
			return nil
		},
	}
}

// openStoreOnly opens the store the config names, without an engine.
func (g *globals) openStoreOnly(ctx context.Context) (quotad.Store, config.Config, error) {
	cfg, _, err := g.loadConfig()
	if err != nil {
		return nil, cfg, err
	}
	st, _, err := g.openConfigured(ctx, cfg)
	return st, cfg, err
}

// notificationStatus is a notification as `quotad notify list --json`
// prints it.
type notificationStatus struct {
	ID          int64      `json:"id"`
	Notifier    string     `json:"notifier"`
	Kind        string     `json:"kind"`
	Key         string     `json:"key"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt"` // when pending: the next try; when sent: when it was sent
	CreatedAt   *time.Time `json:"created_at"`
	LastError   string     `json:"last_error,omitempty"`
	Message     string     `json:"message"`
}

func newNotifyListCmd(g *globals) *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the newest notifications and their delivery state",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10000 {
				return usagef("--limit must be between 1 and 10000, got %d", limit)
			}
			st, cfg, err := g.openStoreOnly(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			var ns []quotad.Notification
			if err := st.View(cmd.Context(), func(tx quotad.Tx) error {
				ns, err = tx.Notifications(limit)
				return err
			}); err != nil {
				return fmt.Errorf("read notifications: %w", err)
			}
			out := make([]notificationStatus, 0, len(ns))
			for _, n := range ns {
				s := notificationStatus{ID: n.ID, Notifier: n.Notifier, Kind: n.Kind, Key: n.Key, State: n.State, Attempts: n.Attempts,
					NextAttempt: quotad.TimePtr(n.NextAttempt), CreatedAt: quotad.TimePtr(n.CreatedAt), LastError: n.LastError}
				if m, err := notify.DecodeMessage(n.Payload); err == nil {
					s.Message = m.Text()
				}
				out = append(out, s)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(out) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "(no notifications yet)")
				return nil
			}
			loc := cfg.Location()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tNOTIFIER\tKIND\tSTATE\tATTEMPTS\tNEXT/SENT\tMESSAGE / LAST ERROR")
			for _, s := range out {
				next := "-"
				if s.State != quotad.NotifyDead {
					next = human(s.NextAttempt, loc)
				}
				text := s.Message
				if s.LastError != "" {
					text = s.LastError
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, human(s.CreatedAt, loc), s.Notifier, s.Kind, s.State, s.Attempts, next, oneLine(text, 100))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "at most this many notifications, newest first")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newNotifyStatsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count the stored notifications of each notifier by state (pending, sent, dead)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := g.openStoreOnly(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			stats, err := notify.Stats(cmd.Context(), quotad.ReadStore(st))
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), stats)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NOTIFIER\tSTATE\tCOUNT")
			for _, s := range stats {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", s.Notifier, s.State, s.Count)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "…" // never half a character
	}
	return s
}
