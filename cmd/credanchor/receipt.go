package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
)

var (
	rpcFlag = &cli.StringFlag{
		Name:     "rpc",
		Usage:    "JSON-RPC URL of the chain that holds the registry",
		Required: true,
		Category: catChain,
		EnvVars:  envVars("rpc"),
	}
	receiptFlag = &cli.PathFlag{
		Name:  "receipt",
		Usage: "the credential's receipt (JSON); required for a credential",
	}
	registryFlag = &cli.StringFlag{
		Name:     "registry",
		Usage:    "the consortium's registry address; the receipt must name it (default: trust the receipt's)",
		Category: catChain,
		EnvVars:  envVars("registry"),
	}
	jsonOutFlag = &cli.BoolFlag{
		Name:  "json",
		Usage: "print the verification as JSON",
	}
	timeoutFlag = &cli.DurationFlag{
		Name:     "timeout",
		Usage:    "how long to wait for the chain RPC",
		Value:    30 * time.Second,
		Category: catChain,
	}
)

var verifyCommand = &cli.Command{
	Name:      "verify",
	Usage:     "verify a credential and its receipt with only a chain RPC: no node, no issuer",
	ArgsUsage: "CREDENTIAL | --presentation PRESENTATION",
	Description: `Computes the credential's digest (SHA-256 of its JCS form, or of a VC-JWT's
compact form), checks its structure, its proof and its issuer's DID, its
validity period, the receipt's inclusion path, and asks the registry contract
(one eth_call) who anchored the root and in which block, and which consortium
member that is. Prints every check; exits 1 when any fails.

With --presentation, the file is a learner's Verifiable Presentation: the
holder's proof must answer --challenge (and --domain), every credential must be
about the holder, and each is checked as above with the receipt the
presentation carries.

A credential with a credentialStatus is checked against its status lists:
fetched from the URLs it names (or read from --status-list files, so that a
saved list works offline), verified, and, for a consortium member's
credential, checked to be the latest version the member anchored.`,
	Flags:  []cli.Flag{rpcFlag, receiptFlag, registryFlag, presentationFlag, challengeFlag, domainFlag, statusListFileFlag, statusMinBitsFlag, jsonOutFlag, timeoutFlag},
	Action: verifyCredential,
}

// readCredential reads a credential file: a JSON object, or a VC-JWT.
func readCredential(path string) ([]byte, credential.Form, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return data, credential.FormJSON, nil
	}
	return data, credential.FormJWT, nil
}

func verifyCredential(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the credential or presentation file")
	}
	if c.Bool(presentationFlag.Name) {
		return verifyPresentation(c)
	}
	if c.IsSet(challengeFlag.Name) || c.IsSet(domainFlag.Name) {
		return fmt.Errorf("--%s and --%s go with --%s", challengeFlag.Name, domainFlag.Name, presentationFlag.Name)
	}
	if !c.IsSet(receiptFlag.Name) {
		return fmt.Errorf("--%s is required: the credential's receipt", receiptFlag.Name)
	}
	data, form, err := readCredential(c.Args().First())
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(c.Path(receiptFlag.Name))
	if err != nil {
		return fmt.Errorf("--receipt: %w", err)
	}
	r, err := anchor.ParseReceipt(raw)
	if err != nil {
		return fmt.Errorf("--receipt: %w", err)
	}
	sc, err := verifierStatus(c)
	if err != nil {
		return err
	}
	return onChain(c, func(ctx context.Context, client *ethclient.Client, reg common.Address) error {
		v, err := node.VerifyWith(ctx, client, reg, data, form, r, node.VerifyOptions{Status: sc})
		if err != nil {
			return err
		}
		if err := printVerification(c, v); err != nil {
			return err
		}
		if !v.Verified {
			return cli.Exit("", 1)
		}
		return nil
	})
}

// onChain runs f with a client of --rpc, bounded by --timeout, and the
// --registry address.
func onChain(c *cli.Context, f func(ctx context.Context, client *ethclient.Client, reg common.Address) error) error {
	reg, err := registryAddress(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	client, err := ethclient.DialContext(ctx, c.String(rpcFlag.Name))
	if err != nil {
		return fmt.Errorf("dial %s: %w", c.String(rpcFlag.Name), err)
	}
	defer client.Close()
	return f(ctx, client, reg)
}

// registryAddress is --registry, or the zero address that trusts the
// receipt's.
func registryAddress(c *cli.Context) (common.Address, error) {
	s := c.String(registryFlag.Name)
	if s == "" {
		return common.Address{}, nil
	}
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("--registry: %q is not an address", s)
	}
	return common.HexToAddress(s), nil
}

func printVerification(c *cli.Context, v *node.Verification) error {
	if c.Bool(jsonOutFlag.Name) {
		return printJSON(c.App.Writer, v)
	}
	printChecks(c, v.Checks)
	printVerdict(c, v.Verified)
	return nil
}

// printVerdict ends the text of a verification with its outcome.
func printVerdict(c *cli.Context, verified bool) {
	if verified {
		fmt.Fprintln(c.App.Writer, "verified")
	} else {
		fmt.Fprintln(c.App.Writer, "NOT verified")
	}
}

// digestOfJSON is the credential digest of a JSON credential, as 0x-hex.
func printChecks(c *cli.Context, checks []node.Check) {
	for _, ch := range checks {
		mark := "PASS"
		if !ch.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(c.App.Writer, "%s  %-18s %s\n", mark, ch.Check, ch.Detail)
	}
}

func digestOfJSON(cred string) (string, error) {
	d, err := credential.Digest([]byte(cred), credential.FormJSON)
	return merkle.Hash(d).String(), err
}
