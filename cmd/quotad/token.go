package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// tokenBytes is the entropy of a token made by `quotad token --new`.
const tokenBytes = 32

func newTokenCmd(g *globals) *cobra.Command {
	var fresh bool
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the HTTP API's bearer token, or make a new one with --new",
		Long: `Print the bearer token that quotad serve requires for mutations (from --token,
QUOTAD_TOKEN or the config's server.token, in that order).

With --new, print a new random token (32 bytes, URL-safe base64) on standard
output and how to install it on standard error; nothing is written to disk:

  quotad token --new
  export QUOTAD_TOKEN=$(quotad token --new 2>/dev/null)`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fresh {
				tok, err := newToken()
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), tok)
				fmt.Fprintf(cmd.ErrOrStderr(), `
Install it where quotad serve reads it, either in the config file:

  server:
    token: %s

or in the daemon's environment: QUOTAD_TOKEN=%s
Clients send it as "Authorization: Bearer %s"; the CLI reads QUOTAD_TOKEN
or --token. Keep it secret: it allows every change to quotad.
`, tok, tok, tok)
				return nil
			}
			cfg, _, err := g.loadConfig()
			if err != nil {
				return err
			}
			tok := g.tokenValue(cfg)
			if tok == "" {
				return errors.New("no token is configured (server.token, QUOTAD_TOKEN); make one with: quotad token --new")
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().BoolVar(&fresh, "new", false, "make a new random token and print it")
	return cmd
}

// newToken returns a random URL-safe token of tokenBytes bytes.
func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
