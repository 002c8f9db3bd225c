package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/node/credential"
)

var (
	nodeURLFlag = &cli.StringFlag{
		Name:     "node",
		Usage:    "base URL of a credanchor node's HTTP API",
		Required: true,
		Category: catAPI,
		EnvVars:  envVars("node"),
	}
	tokenFlag = &cli.StringFlag{
		Name:     "token",
		Usage:    "issuer token of the node (Authorization: Bearer)",
		Required: true,
		Category: catAPI,
		EnvVars:  envVars("token"),
	}
	chunkFlag = &cli.IntFlag{
		Name:  "chunk",
		Usage: "credentials per bulk request",
		Value: 1000,
	}
	outFlag = &cli.PathFlag{
		Name:  "out",
		Usage: "write to this file instead of standard output",
	}
)

var submitCommand = &cli.Command{
	Name:      "submit",
	Usage:     "submit credentials to a node for anchoring",
	ArgsUsage: "FILE|DIR...",
	Description: `Sends every credential file (a JSON credential, or a VC-JWT) named, and every
file under the directories named, to the node in bulk requests, with progress
on standard error. Prints one line per credential (digest, state, file) and a
summary; exits 1 if any was refused.`,
	Flags:  []cli.Flag{nodeURLFlag, tokenFlag, chunkFlag, timeoutFlag},
	Action: submit,
}

var receiptCommand = &cli.Command{
	Name:      "receipt",
	Usage:     "fetch the receipt of an anchored credential from a node",
	ArgsUsage: "DIGEST",
	Flags:     []cli.Flag{nodeURLFlag, outFlag, timeoutFlag},
	Action:    fetchReceipt,
}

// collectFiles expands the arguments into credential files, in order.
func collectFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// bulkResult is one line of the node's bulk answer.
type bulkResult struct {
	Digest string `json:"digest"`
	State  string `json:"state"`
	Error  *struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"error"`
}

func submit(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("expected credential files or directories")
	}
	files, err := collectFiles(c.Args().Slice())
	if err != nil {
		return err
	}
	chunk := max(c.Int(chunkFlag.Name), 1)
	base := strings.TrimRight(c.String(nodeURLFlag.Name), "/")
	client := &http.Client{Timeout: c.Duration(timeoutFlag.Name)}
	progress := newProgress(c.App.ErrWriter, len(files))
	out := bufio.NewWriter(c.App.Writer)
	defer out.Flush()
	var accepted, refused int
	for start := 0; start < len(files); start += chunk {
		var body bytes.Buffer
		var sent []string
		for _, f := range files[start:min(start+chunk, len(files))] {
			data, form, err := readCredential(f)
			if err == nil {
				err = ndjsonLine(&body, data, form)
			}
			if err != nil {
				// A file that is no credential is refused here; the rest go on.
				refused++
				fmt.Fprintf(out, "refused  %s: %v\n", f, err)
				continue
			}
			sent = append(sent, f)
		}
		if len(sent) > 0 {
			results, err := postBulk(c.Context, client, base, c.String(tokenFlag.Name), &body)
			if err != nil {
				return err
			}
			if len(results) != len(sent) {
				return fmt.Errorf("node answered %d results for %d credentials", len(results), len(sent))
			}
			for i, r := range results {
				if r.Error != nil {
					refused++
					fmt.Fprintf(out, "refused  %s: %s %s\n", sent[i], r.Error.Title, r.Error.Detail)
					continue
				}
				accepted++
				fmt.Fprintf(out, "%s  %-8s %s\n", r.Digest, r.State, sent[i])
			}
		}
		progress.add(min(chunk, len(files)-start))
	}
	progress.done()
	fmt.Fprintf(out, "%d submitted, %d refused\n", accepted, refused)
	if refused > 0 {
		out.Flush()
		return cli.Exit("", 1)
	}
	return nil
}

// ndjsonLine writes a credential as one NDJSON line: the JSON object
// compacted, or a VC-JWT as a JSON string.
func ndjsonLine(w *bytes.Buffer, data []byte, form credential.Form) error {
	if form == credential.FormJWT {
		s, err := json.Marshal(strings.TrimSpace(string(data)))
		if err != nil {
			return err
		}
		w.Write(s)
	} else if err := json.Compact(w, data); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	w.WriteByte('\n')
	return nil
}

func postBulk(ctx context.Context, client *http.Client, base, token string, body io.Reader) ([]bulkResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/credentials/bulk", body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemError(resp.StatusCode, data)
	}
	var out struct {
		Results []bulkResult `json:"results"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("node answer: %w", err)
	}
	return out.Results, nil
}

// problemError turns a problem-details answer into a readable error.
func problemError(status int, body []byte) error {
	var p struct{ Title, Detail string }
	if json.Unmarshal(body, &p) == nil && p.Title != "" {
		return fmt.Errorf("node answered %d %s: %s", status, p.Title, p.Detail)
	}
	return fmt.Errorf("node answered %d: %.200s", status, body)
}

func fetchReceipt(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the credential digest")
	}
	base := strings.TrimRight(c.String(nodeURLFlag.Name), "/")
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/credentials/"+c.Args().First()+"/receipt", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return problemError(resp.StatusCode, data)
	}
	if p := c.Path(outFlag.Name); p != "" {
		return os.WriteFile(p, data, 0o644)
	}
	_, err = c.App.Writer.Write(append(data, '\n'))
	return err
}

// progress draws a one-line progress bar on a terminal-ish writer.
type progress struct {
	w     io.Writer
	total int
	n     int
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

func (p *progress) add(k int) {
	p.n += k
	const width = 30
	filled := width * p.n / max(p.total, 1)
	rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.0f/s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total, rate)
}

func (p *progress) done() { fmt.Fprintln(p.w) }
