package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/statuslist"
)

var (
	publicURLFlag = &cli.StringFlag{
		Name:     "public-url",
		Usage:    "the node's HTTP base URL as verifiers reach it; the status lists of the credentials it issues are served under it (default: http:// and the --http address)",
		Category: catAPI,
		EnvVars:  envVars("public-url"),
	}
	statusIntervalFlag = &cli.DurationFlag{
		Name:     "status.interval",
		Usage:    "how often status lists that changed are signed and anchored",
		Value:    node.DefaultStatusPublishInterval,
		Category: catNode,
		EnvVars:  envVars("status.interval"),
	}
	statusMinBitsFlag = &cli.Uint64Flag{
		Name:     "status.min-bits",
		Usage:    "the shortest status list accepted when verifying: the specification's 131072, or less for lists issued before that minimum",
		Value:    statuslist.DefaultMinBits,
		Category: catNode,
		EnvVars:  envVars("status.min-bits"),
	}
	statusPrivateFlag = &cli.BoolFlag{
		Name:     "status.allow-private",
		Usage:    "fetch status lists from loopback and private addresses too; off, a credential cannot make the node probe its own network",
		Category: catNode,
		EnvVars:  envVars("status.allow-private"),
	}
	statusListFileFlag = &cli.StringSliceFlag{
		Name:  "status-list",
		Usage: "a saved status list credential (FILE) to use instead of fetching the one whose id is a status entry's URL; repeat for several",
	}
	reasonFlag = &cli.StringFlag{
		Name:  "reason",
		Usage: "why; recorded by the node, not published",
	}
)

// statusConfig is the node's status checking as the flags set it.
func statusConfig(c *cli.Context, allowPrivate bool) node.StatusConfig {
	cfg := node.StatusConfig{MinBits: c.Uint64(statusMinBitsFlag.Name)}
	cfg.Fetch.AllowPrivate = allowPrivate || c.Bool(statusPrivateFlag.Name)
	return cfg
}

// publicURL is --public-url, or the URL of the address the API listens on.
func publicURL(c *cli.Context, ln net.Listener) string {
	if u := c.String(publicURLFlag.Name); u != "" {
		return strings.TrimRight(u, "/")
	}
	return "http://" + ln.Addr().String()
}

func statusCommand(action, usage, description string) *cli.Command {
	return &cli.Command{
		Name:        action,
		Usage:       usage,
		ArgsUsage:   "DIGEST | CREDENTIAL",
		Description: description + "\n\nThe node records the change durably before it answers; verifiers see it once the\nnext version of the status list is anchored (the node's --status.interval).",
		Flags:       []cli.Flag{nodeURLFlag, tokenFlag, reasonFlag, jsonOutFlag, timeoutFlag},
		Action:      func(c *cli.Context) error { return changeStatus(c, action) },
	}
}

var (
	revokeCommand    = statusCommand(node.ActionRevoke, "revoke a credential the node issued: final", "Sets the credential's bit in its revocation list. Revocation cannot be undone.")
	suspendCommand   = statusCommand(node.ActionSuspend, "suspend a credential the node issued", "Sets the credential's bit in its suspension list, until unsuspend.")
	unsuspendCommand = statusCommand(node.ActionUnsuspend, "lift a credential's suspension", "Clears the credential's bit in its suspension list.")
)

// digestArg reads a digest, or the credential file to take it from.
func digestArg(arg string) (merkle.Hash, error) {
	if d, err := merkle.ParseHash(arg); err == nil {
		return d, nil
	}
	data, form, err := readCredential(arg)
	if err != nil {
		return merkle.Hash{}, fmt.Errorf("%s is neither a digest nor a readable credential file: %w", arg, err)
	}
	d, err := credential.Digest(data, form)
	if err != nil {
		return merkle.Hash{}, fmt.Errorf("%s: %w", arg, err)
	}
	return merkle.Hash(d), nil
}

func changeStatus(c *cli.Context, action string) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the credential's digest or file")
	}
	d, err := digestArg(c.Args().First())
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"reason": c.String(reasonFlag.Name)})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	u := strings.TrimRight(c.String(nodeURLFlag.Name), "/") + "/v1/credentials/" + d.String() + "/" + action
	code, out, err := nodeCall(ctx, http.MethodPost, u, c.String(tokenFlag.Name), body)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return problemError(code, out)
	}
	if c.Bool(jsonOutFlag.Name) {
		_, err = c.App.Writer.Write(out)
		return err
	}
	var st struct {
		Status  []node.EntryState `json:"status"`
		Pending bool              `json:"pending"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return fmt.Errorf("node answer: %w", err)
	}
	for _, e := range st.Status {
		state := "not set"
		if e.Set {
			state = "set"
		}
		if e.Pending {
			state += ", pending publication"
		}
		fmt.Fprintf(c.App.Writer, "%-10s %s #%d: %s\n", e.Purpose, e.ListID, e.Index, state)
	}
	return nil
}

// savedStatusLists reads --status-list files into a StatusConfig.Local.
func savedStatusLists(c *cli.Context) (func(context.Context, string) ([]byte, bool, error), error) {
	files := c.StringSlice(statusListFileFlag.Name)
	if len(files) == 0 {
		return nil, nil
	}
	byID := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", statusListFileFlag.Name, err)
		}
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("--%s %s: not a status list credential: %w", statusListFileFlag.Name, f, err)
		}
		byID[head.ID] = data
	}
	return func(_ context.Context, url string) ([]byte, bool, error) {
		// The same file answers a credanchor node's ?hash= form of the
		// URL: a saved list is all a verifier offline has.
		base, _, _ := strings.Cut(url, "?")
		data, ok := byID[base]
		return data, ok, nil
	}, nil
}

// verifierStatus is the status checking of `credanchor verify`: lists from
// --status-list files, else fetched from anywhere, loopback included, since
// the verifier is the person running the command.
func verifierStatus(c *cli.Context) (*node.StatusChecker, error) {
	local, err := savedStatusLists(c)
	if err != nil {
		return nil, err
	}
	cfg := statusConfig(c, true)
	cfg.Local = local
	return node.NewStatusChecker(cfg)
}
