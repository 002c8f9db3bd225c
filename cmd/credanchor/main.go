// Command credanchor runs a credanchor node and its tools: a dev network in
// one command, and receipt verification against any chain RPC.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// Flag categories, as go-ethereum groups its flags in --help.
const (
	catNode    = "NODE"
	catAPI     = "HTTP API"
	catChain   = "CHAIN"
	catStorage = "STORAGE"
	catLogging = "LOGGING"
	catMisc    = "MISC"
)

// envPrefix is the prefix of every environment variable a flag reads.
const envPrefix = "CREDANCHOR_"

// envVars names a flag's environment variable: --log.level reads
// CREDANCHOR_LOG_LEVEL.
func envVars(flag string) []string {
	return []string{envPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(flag))}
}

var (
	logLevelFlag = &cli.StringFlag{
		Name:     "log.level",
		Usage:    "log level: debug, info, warn or error",
		Value:    "info",
		Category: catLogging,
		EnvVars:  envVars("log.level"),
	}
	logFormatFlag = &cli.StringFlag{
		Name:     "log.format",
		Usage:    "log format: text or json",
		Value:    "text",
		Category: catLogging,
		EnvVars:  envVars("log.format"),
	}
)

func newApp() *cli.App {
	return &cli.App{
		Name:                 "credanchor",
		Usage:                "anchor micro-credentials on an EVM chain and verify them",
		Flags:                []cli.Flag{logLevelFlag, logFormatFlag},
		Before:               setupLogging,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			devnetCommand,
			testnetCommand,
			nodeCommand,
			verifyCommand,
			keysCommand,
			contractCommand,
			submitCommand,
			issueCommand,
			receiptCommand,
			presentCommand,
			revokeCommand,
			suspendCommand,
			unsuspendCommand,
			pathwayCommand,
			queryCommand,
			benchCommand,
		},
	}
}

func setupLogging(c *cli.Context) error { return setLogOutput(c, c.App.ErrWriter) }

// setLogOutput makes the default logger write to w, at the level and in the
// format the flags say.
func setLogOutput(c *cli.Context, w io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String(logLevelFlag.Name))); err != nil {
		return fmt.Errorf("--%s: %w", logLevelFlag.Name, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch f := c.String(logFormatFlag.Name); f {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return fmt.Errorf("--%s: unknown format %q (want text or json)", logFormatFlag.Name, f)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

func main() {
	app := newApp()
	app.ErrWriter = os.Stderr
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "credanchor:", err)
		os.Exit(1)
	}
}
