package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/node"
)

var pathwayCommand = &cli.Command{
	Name:  "pathway",
	Usage: "stackable credentials: define a pathway, claim its roll-up",
	Subcommands: []*cli.Command{
		{
			Name:      "define",
			Usage:     "define a pathway of the node's institution",
			ArgsUsage: "FILE",
			Description: `Sends the pathway in FILE (JSON: an Open Badges Achievement for the roll-up,
and a requirement: {"kind": "allOf" | "kOf", "k": n, "components":
[{"achievementId": "…", "issuer": "did:… (optional)"}]}) to the node's
POST /v1/pathways. Prints the stored pathway, with its id.`,
			Flags:  []cli.Flag{nodeURLFlag, tokenFlag, timeoutFlag},
			Action: definePathway,
		},
		{
			Name:      "claim",
			Usage:     "claim a pathway's roll-up with your component credentials",
			ArgsUsage: "PATHWAY_ID CREDENTIAL[:RECEIPT] ...",
			Description: `Asks the node for a challenge, presents the component credentials (each with
its receipt, and the status lists it names) signed by the learner key, and
claims the pathway. The node checks every component and issues the roll-up
to you: it is written to --out or standard output. A refused claim names
each component that is missing or fails, and why.`,
			Flags:  []cli.Flag{nodeURLFlag, learnerKeyFlag, domainFlag, outFlag, timeoutFlag},
			Action: claimPathway,
		},
	},
}

// nodeCall sends a JSON request to the node and returns the answer's status
// and body.
func nodeCall(ctx context.Context, method, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, out, err
}

func definePathway(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the pathway file")
	}
	def, err := os.ReadFile(c.Args().First())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	code, out, err := nodeCall(ctx, http.MethodPost, strings.TrimRight(c.String(nodeURLFlag.Name), "/")+"/v1/pathways", c.String(tokenFlag.Name), def)
	if err != nil {
		return err
	}
	if code != http.StatusCreated {
		return problemError(code, out)
	}
	_, err = c.App.Writer.Write(append(out, '\n'))
	return err
}

func claimPathway(c *cli.Context) error {
	if c.NArg() < 2 {
		return errors.New("expected the pathway id and at least one credential")
	}
	key, err := loadIssuerKey(c.Path(learnerKeyFlag.Name))
	if err != nil {
		return fmt.Errorf("--%s: %w", learnerKeyFlag.Name, err)
	}
	creds, lists, err := presentedCredentials(c, c.Args().Slice()[1:])
	if err != nil {
		return err
	}
	base := strings.TrimRight(c.String(nodeURLFlag.Name), "/")
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	code, out, err := nodeCall(ctx, http.MethodPost, base+"/challenges", "", nil)
	if err != nil {
		return err
	}
	if code != http.StatusCreated {
		return problemError(code, out)
	}
	var ch struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(out, &ch); err != nil {
		return fmt.Errorf("node answer: %w", err)
	}
	vp, err := node.Present(node.PresentationRequest{Key: key, Credentials: creds, StatusLists: lists, Challenge: ch.Challenge, Domain: c.String(domainFlag.Name)})
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"verifiablePresentation": json.RawMessage(vp)})
	if err != nil {
		return err
	}
	code, out, err = nodeCall(ctx, http.MethodPost, base+"/v1/pathways/"+c.Args().First()+"/claim", "", body)
	if err != nil {
		return err
	}
	var res struct {
		Credential json.RawMessage         `json:"credential"`
		Digest     string                  `json:"digest"`
		Detail     string                  `json:"detail"`
		Components []node.ComponentOutcome `json:"components"`
	}
	_ = json.Unmarshal(out, &res)
	for _, comp := range res.Components {
		mark := "MET   "
		if !comp.Met {
			mark = "NOT MET"
		}
		fmt.Fprintf(c.App.ErrWriter, "%s %s %s\n", mark, comp.AchievementID, comp.Reason)
	}
	if code != http.StatusCreated {
		return problemError(code, out)
	}
	fmt.Fprintf(c.App.ErrWriter, "issued %s\n", res.Digest)
	if p := c.Path(outFlag.Name); p != "" {
		return os.WriteFile(p, append(res.Credential, '\n'), 0o644)
	}
	_, err = c.App.Writer.Write(append(res.Credential, '\n'))
	return err
}
