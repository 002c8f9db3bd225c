package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
)

var (
	rpcFlag = &cli.StringFlag{
		Name:     "rpc",
		Usage:    "JSON-RPC URL of the chain that holds the registry",
		Required: true,
		Category: catChain,
		EnvVars:  envVars("rpc"),
	}
	digestFlag = &cli.StringFlag{
		Name:  "digest",
		Usage: "SHA-256 digest of the credential (hex); defaults to the receipt's own",
	}
	timeoutFlag = &cli.DurationFlag{
		Name:     "timeout",
		Usage:    "how long to wait for the chain RPC",
		Value:    30 * time.Second,
		Category: catChain,
	}
)

var receiptCommand = &cli.Command{
	Name:  "receipt",
	Usage: "work with credential receipts",
	Subcommands: []*cli.Command{{
		Name:      "verify",
		Usage:     "verify a receipt against the chain alone, with no node and no issuer",
		ArgsUsage: "RECEIPT.json",
		Description: `Checks the receipt's inclusion path, then asks the registry contract (one
eth_call) who anchored the root and in which block. Exits non-zero if the
receipt does not verify.`,
		Flags:  []cli.Flag{rpcFlag, digestFlag, timeoutFlag},
		Action: verifyReceipt,
	}},
}

// receiptResult is what `receipt verify` prints.
type receiptResult struct {
	Verified      bool   `json:"verified"`
	Digest        string `json:"digest"`
	Root          string `json:"root"`
	Member        string `json:"member,omitempty"`
	BlockNumber   uint64 `json:"blockNumber,omitempty"`
	BlockTime     string `json:"blockTime,omitempty"`
	Confirmations uint64 `json:"confirmations,omitempty"`
	Error         string `json:"error,omitempty"`
}

func verifyReceipt(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the receipt file")
	}
	data, err := os.ReadFile(c.Args().First())
	if err != nil {
		return err
	}
	r, err := anchor.ParseReceipt(data)
	if err != nil {
		return err
	}
	digest := r.Digest
	if s := c.String(digestFlag.Name); s != "" {
		if digest, err = merkle.ParseHash(s); err != nil {
			return fmt.Errorf("--digest: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	client, err := ethclient.DialContext(ctx, c.String(rpcFlag.Name))
	if err != nil {
		return fmt.Errorf("dial %s: %w", c.String(rpcFlag.Name), err)
	}
	defer client.Close()

	res := receiptResult{Digest: digest.String(), Root: r.Root.String()}
	v, verr := anchor.VerifyReceipt(ctx, client, r, digest)
	if verr == nil {
		res.Verified = true
		res.Member = v.Member.Hex()
		res.BlockNumber = v.BlockNumber
		res.BlockTime = time.Unix(int64(v.BlockTime), 0).UTC().Format(time.RFC3339)
		res.Confirmations = v.Confirmations
	} else {
		res.Error = verr.Error()
	}
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if verr != nil {
		return cli.Exit("receipt does not verify", 1)
	}
	return nil
}
