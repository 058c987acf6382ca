package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/classify"
	"github.com/quotad/quotad/config"
)

// evidenceFlags are the flags report-error and classify share.
type evidenceFlags struct {
	channel, api string
	model, scope string
	status       int
	headers      []string
}

func (f *evidenceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.channel, "channel", "", "the channel whose call failed")
	cmd.Flags().StringVar(&f.api, "api", "", "the API that failed (else attributed from the evidence)")
	cmd.Flags().StringVar(&f.model, "model", "", "the model (or bucket) the failed call used: only its windows are exhausted")
	cmd.Flags().StringVar(&f.scope, "scope", "", "the credential scope of the failed call (default: the default scope)")
	cmd.Flags().IntVar(&f.status, "status", 0, "the HTTP status of the failed call")
	cmd.Flags().StringArrayVar(&f.headers, "header", nil, "a response header, 'Name: value' (repeatable)")
}

// maxMessage caps a message read from standard input.
const maxMessage = 1 << 20

// report builds the error report from flags and MESSAGE or - (stdin).
func (f *evidenceFlags) report(cmd *cobra.Command, args []string) (quotad.ErrorReport, error) {
	r := quotad.ErrorReport{Channel: f.channel, Model: f.model, Scope: f.scope, Evidence: classify.Evidence{API: f.api, Status: f.status}}
	if f.status != 0 && (f.status < 100 || f.status > 599) {
		return r, usagef("--status must be an HTTP status 100..599, got %d", f.status)
	}
	if len(f.headers) > 0 {
		r.Headers = http.Header{}
		for _, h := range f.headers {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return r, usagef("--header must look like 'Name: value', got %q", h)
			}
			r.Headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
	}
	switch {
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxMessage+1))
		if err != nil {
			return r, fmt.Errorf("read message from stdin: %w", err)
		}
		if len(b) > maxMessage {
			return r, usagef("message on stdin is longer than %d bytes", maxMessage)
		}
		r.Message = string(b)
	case len(args) == 1:
		r.Message = args[0]
	case f.status == 0 && len(f.headers) == 0:
		return r, usagef("give the error MESSAGE (or - to read it from stdin), --status or --header")
	}
	return r, nil
}

// newEvidenceCmd builds a command that takes error evidence (flags and
// MESSAGE or -) and hands it to run with the open service; with --json, run's
// value is printed as JSON, else human prints it.
func newEvidenceCmd(g *globals, use, short string, run func(ctx context.Context, svc quotad.Service, r quotad.ErrorReport) (any, error), human func(out io.Writer, cfg config.Config, r quotad.ErrorReport, v any)) *cobra.Command {
	var f evidenceFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.report(cmd, args)
			if err != nil {
				return err
			}
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, cfg config.Config) error {
				v, err := run(ctx, svc, r)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), v)
				}
				human(cmd.OutOrStdout(), cfg, r, v)
				return nil
			})
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newReportErrorCmd(g *globals) *cobra.Command {
	return newEvidenceCmd(g, "report-error [flags] (MESSAGE | -)",
		"Report a failed call: quota errors pause, other errors count toward the threshold",
		func(ctx context.Context, svc quotad.Service, r quotad.ErrorReport) (any, error) {
			return svc.ReportError(ctx, r)
		},
		func(out io.Writer, cfg config.Config, r quotad.ErrorReport, v any) {
			res := v.(quotad.ReportResult)
			printVerdict(out, res.Verdict, cfg.Location())
			for _, c := range res.Paused {
				fmt.Fprintf(out, "[WARNING] Paused: %s\n", c)
			}
			if !res.Verdict.Quota && r.Channel != "" {
				fmt.Fprintf(out, "%s: %d consecutive error(s)\n", r.Channel, res.ConsecutiveErrors)
			}
		})
}

func newClassifyCmd(g *globals) *cobra.Command {
	return newEvidenceCmd(g, "classify [flags] (MESSAGE | -)", "Say how an error would be classified, changing nothing",
		func(ctx context.Context, svc quotad.Service, r quotad.ErrorReport) (any, error) {
			return svc.Classify(ctx, r)
		},
		func(out io.Writer, cfg config.Config, _ quotad.ErrorReport, v any) {
			printVerdict(out, v.(classify.Verdict), cfg.Location())
		})
}

// printVerdict prints a verdict for a person, its time as every time the
// CLI prints: in the config's zone, with the time left.
func printVerdict(out io.Writer, v classify.Verdict, loc *time.Location) {
	api := v.API
	if api == "" {
		api = "(unattributed)"
	}
	until := humanIn(&v.Until, loc, time.Now())
	fmt.Fprintf(out, "quota: %s\nkind: %s\napi: %s\nuntil: %s\nevidence: %s\n", strconv.FormatBool(v.Quota), v.Kind, api, until, v.Evidence)
}

func newReportSuccessCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "report-success CHANNEL",
		Short: "Report a successful call or run: clears the channel's consecutive-error count",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withService(cmd, func(ctx context.Context, svc quotad.Service, _ config.Config) error {
				if _, err := svc.ReportSuccess(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "[OK] %s: error count cleared\n", args[0])
				return nil
			})
		},
	}
}
