package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/anchor"
	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/node/dataintegrity"
	"github.com/credanchor/credanchor/node/webfetch"
)

// DefaultLearnerKeyFile is where `keys new --did` writes by default.
const DefaultLearnerKeyFile = "learner.key"

var (
	learnerKeyFlag = &cli.PathFlag{
		Name:     "key",
		Usage:    "FILE holding the learner's Ed25519 key (32-byte seed, hex, mode 0600, as keys new --did writes it); its did:key must be the credential's subject",
		Required: true,
	}
	challengeFlag = &cli.StringFlag{
		Name:  "challenge",
		Usage: "the verifier's challenge (from its POST /challenges, or its own)",
	}
	domainFlag = &cli.StringFlag{
		Name:  "domain",
		Usage: "the verifier's domain, if it names one",
	}
	cryptosuiteFlag = &cli.StringFlag{
		Name:  "cryptosuite",
		Usage: "the presentation proof's cryptosuite: " + dataintegrity.CryptosuiteJCS + " or " + dataintegrity.CryptosuiteRDFC,
		Value: dataintegrity.CryptosuiteJCS,
	}
	alsoFlag = &cli.StringSliceFlag{
		Name:  "also",
		Usage: "another credential to present with the first, as FILE or FILE:RECEIPT (a pathway's components with its roll-up, say); repeat for several",
	}
	presentationFlag = &cli.BoolFlag{
		Name:  "presentation",
		Usage: "the file is a Verifiable Presentation (from `credanchor present`): check the holder's proof over --challenge and every credential in it, with the receipts it carries",
	}
)

var presentCommand = &cli.Command{
	Name:      "present",
	Usage:     "prove a credential is yours: a Verifiable Presentation signed by your key over a verifier's challenge",
	ArgsUsage: "CREDENTIAL [RECEIPT]",
	Description: `Makes a W3C Verifiable Presentation whose holder is the did:key of --key,
carrying the credential (JSON, or a VC-JWT) and its receipt, and signs it with
a Data Integrity proof (purpose authentication) over the verifier's
--challenge and --domain. The verifier checks it with POST
/presentations/verify on any node, or with
credanchor verify --presentation --challenge C --rpc URL, which needs no node.
The presentation also carries the credential's status lists, fetched from the
URLs it names (or given with --status-list), so that a verifier can check its
status when the issuer's node is unreachable: each list is checked against
the hash its issuer anchored last, so a revocation after the presentation
was made still shows. Prints the presentation to --out or standard output.`,
	Flags: []cli.Flag{learnerKeyFlag, &cli.StringFlag{Name: challengeFlag.Name, Usage: challengeFlag.Usage, Required: true}, domainFlag, cryptosuiteFlag, alsoFlag,
		&cli.StringSliceFlag{Name: statusListFileFlag.Name, Usage: "a saved status list credential (FILE) of the credential to carry; repeat for several (default: fetch them from the URLs the credential names)"},
		outFlag, timeoutFlag},
	Action: present,
}

func present(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return errors.New("expected the credential file and, optionally, its receipt file")
	}
	key, err := loadIssuerKey(c.Path(learnerKeyFlag.Name))
	if err != nil {
		return fmt.Errorf("--%s: %w", learnerKeyFlag.Name, err)
	}
	args := []string{c.Args().Get(0)}
	if c.NArg() == 2 {
		args[0] += ":" + c.Args().Get(1)
	}
	creds, lists, err := presentedCredentials(c, append(args, c.StringSlice(alsoFlag.Name)...))
	if err != nil {
		return err
	}
	vp, err := node.Present(node.PresentationRequest{
		Key:         key,
		Credentials: creds,
		StatusLists: lists,
		Challenge:   c.String(challengeFlag.Name),
		Domain:      c.String(domainFlag.Name),
		Cryptosuite: c.String(cryptosuiteFlag.Name),
	})
	if err != nil {
		return err
	}
	if p := c.Path(outFlag.Name); p != "" {
		return os.WriteFile(p, append(vp, '\n'), 0o644)
	}
	_, err = c.App.Writer.Write(append(vp, '\n'))
	return err
}

// presentedCredentials reads CREDENTIAL[:RECEIPT] arguments, with the
// status lists each names.
func presentedCredentials(c *cli.Context, args []string) ([]node.PresentedCredential, [][]byte, error) {
	var (
		creds []node.PresentedCredential
		lists [][]byte
	)
	for _, arg := range args {
		credFile, receiptFile, _ := strings.Cut(arg, ":")
		data, form, err := readCredential(credFile)
		if err != nil {
			return nil, nil, err
		}
		pc := node.PresentedCredential{Data: data, Form: form}
		if receiptFile != "" {
			raw, err := os.ReadFile(receiptFile)
			if err != nil {
				return nil, nil, err
			}
			if pc.Receipt, err = anchor.ParseReceipt(raw); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", receiptFile, err)
			}
		}
		creds = append(creds, pc)
		l, err := presentedStatusLists(c, data, form)
		if err != nil {
			return nil, nil, err
		}
		lists = append(lists, l...)
	}
	return creds, lists, nil
}

// presentedStatusLists reads --status-list files, or fetches the status
// lists the credential names; one that cannot be fetched is left out with a
// warning, and the verifier will try to fetch it.
func presentedStatusLists(c *cli.Context, data []byte, form credential.Form) ([][]byte, error) {
	var lists [][]byte
	for _, f := range c.StringSlice(statusListFileFlag.Name) {
		l, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", statusListFileFlag.Name, err)
		}
		lists = append(lists, l)
	}
	if len(lists) > 0 {
		return lists, nil
	}
	f, err := webfetch.New(webfetch.Config{AllowPrivate: true})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	for _, u := range node.StatusListURLs(data, form) {
		l, _, err := f.Get(ctx, u, "application/vc+ld+json, application/json")
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: status list not carried: %v\n", err)
			continue
		}
		lists = append(lists, l)
	}
	return lists, nil
}

// verifyPresentation checks a presentation file with only the chain RPC.
func verifyPresentation(c *cli.Context) error {
	if c.IsSet(receiptFlag.Name) {
		return fmt.Errorf("--%s goes with a credential; a presentation carries its receipts", receiptFlag.Name)
	}
	challenge := c.String(challengeFlag.Name)
	if challenge == "" {
		return fmt.Errorf("--%s is required with --%s: the challenge you gave the holder, so that an old presentation cannot be replayed", challengeFlag.Name, presentationFlag.Name)
	}
	data, err := os.ReadFile(c.Args().First())
	if err != nil {
		return err
	}
	sc, err := verifierStatus(c)
	if err != nil {
		return err
	}
	return onChain(c, func(ctx context.Context, client *ethclient.Client, reg common.Address) error {
		pv, err := node.VerifyPresentation(ctx, client, reg, data, node.PresentationOptions{Challenge: challenge, Domain: c.String(domainFlag.Name), Status: sc})
		if err != nil {
			return err
		}
		return printPresentation(c, pv)
	})
}

func printPresentation(c *cli.Context, pv *node.PresentationVerification) error {
	if c.Bool(jsonOutFlag.Name) {
		if err := printJSON(c.App.Writer, pv); err != nil {
			return err
		}
	} else {
		printChecks(c, pv.Checks)
		index := make(map[merkle.Hash]int, len(pv.Credentials))
		for i, v := range pv.Credentials {
			index[v.Digest] = i
		}
		for i, v := range pv.Credentials {
			fmt.Fprintf(c.App.Writer, "credential %d:\n", i)
			printChecks(c, v.Checks)
			for _, comp := range v.Components {
				state := "not presented"
				switch {
				case comp.Verified:
					state = fmt.Sprintf("credential %d, verified", index[comp.Digest])
				case comp.Presented:
					state = fmt.Sprintf("credential %d, NOT verified", index[comp.Digest])
				}
				fmt.Fprintf(c.App.Writer, "      component %s: %s\n", comp.Digest, state)
			}
		}
		printVerdict(c, pv.Verified)
	}
	if !pv.Verified {
		return cli.Exit("", 1)
	}
	return nil
}
