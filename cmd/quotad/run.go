package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/client"
	"github.com/quotad/quotad/config"
	"github.com/quotad/quotad/runner"
)

func newRunCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "run CHANNEL",
		Short: "Run a channel's job now, in the foreground, with the daemon's accounting",
		Long: `Run a channel's job now, whatever its schedule, in the foreground: its output is
shown as it comes and captured. The run is accounted like a scheduled one: a
quota error in its last lines pauses the channel and exhausts the API, another
failure counts toward the error threshold, a success clears the count; it is
recorded in the event log (category "job") and the job's record.

A paused channel's job is refused unless --force. A job that is running
(under the daemon or another "quotad run") is always refused: the store's
lease keeps one channel's job from running twice.

run works on the store directly (--db, QUOTAD_DB); the job reaches quotad
through QUOTAD_DB, QUOTAD_TOKEN, QUOTAD_BIN and QUOTAD_CHANNEL. With
--server (QUOTAD_SERVER) the daemon there starts the job instead, as the
dashboard's "Run now" does: run returns once it has started, and its result
goes to the daemon's event log ("quotad logs --category job"). A relative
job dir is resolved against the config file's directory, where a job without
a dir runs. The exit status is 0 when the job succeeded, 1 otherwise.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg, path, err := g.loadConfig()
			if err != nil {
				return err
			}
			if url := g.serverURL(); url != "" {
				return startRemote(ctx, cmd, g, cfg, args[0], force)
			}
			ch, ok := cfg.Channel(args[0])
			switch {
			case !ok:
				return fmt.Errorf("%w: %q is not in the config", quotad.ErrUnknownChannel, args[0])
			case ch.Job == nil:
				return fmt.Errorf("channel %s has no job in the config", ch.Name)
			}
			l, err := g.openLocal(ctx, cfg)
			if err != nil {
				return err
			}
			defer l.Close()
			r, err := runner.New(l.engine, []runner.Job{runnerJob(ch)}, runner.Options{
				Location:  cfg.Location(),
				Env:       jobEnv(l.dsn, "", g.tokenValue(cfg), path),
				Logger:    g.logger(),
				ConfigDir: configDir(path),
			})
			if err != nil {
				return err
			}
			res, err := r.RunOnce(ctx, ch.Name, force, cmd.OutOrStdout())
			switch {
			case errors.Is(err, runner.ErrPaused):
				return fmt.Errorf("%w; not running its job (--force runs it anyway)", err)
			case err != nil:
				return err
			}
			return runSummary(cmd, res)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "run even if the channel is paused")
	return cmd
}

// startRemote has the daemon at --server start a channel's job.
func startRemote(ctx context.Context, cmd *cobra.Command, g *globals, cfg config.Config, channel string, force bool) error {
	c, err := client.New(g.serverURL(), client.WithToken(g.tokenValue(cfg)))
	if err != nil {
		return err
	}
	js, err := c.Run(ctx, channel, force)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "[OK] %s started the job of channel %s at %s; its result goes to the event log (quotad logs --category job)\n",
		g.serverURL(), js.Channel, human(&js.Started, cfg.Location()))
	return nil
}

// runSummary prints how a run went on standard error and returns an error
// (exit status 1) unless it succeeded.
func runSummary(cmd *cobra.Command, res runner.Result) error {
	took := res.Duration.Round(time.Millisecond)
	switch {
	case res.OK():
		fmt.Fprintf(cmd.ErrOrStderr(), "[OK] job of channel %s finished in %s\n", res.Channel, took)
		return nil
	case res.Interrupted:
		return fmt.Errorf("job of channel %s interrupted after %s", res.Channel, took)
	}
	msg := fmt.Sprintf("job of channel %s: %s after %s: %s", res.Channel, res.Outcome, took, res.Detail)
	if len(res.Paused) > 0 {
		msg += fmt.Sprintf("; paused %v", res.Paused)
	}
	return errors.New(msg)
}
