package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/credanchor/credanchor/node"
)

// DefaultIssuerKeyFile is where keys issuer-new writes by default.
const DefaultIssuerKeyFile = "issuer.key"

var (
	issuerKeyFlag = &cli.PathFlag{
		Name:     "issuer-key",
		Usage:    "FILE holding the institution's Ed25519 issuer key (32-byte seed, hex, mode 0600); its did:key is the issuer DID, and submissions must then be signed by it",
		Category: catNode,
		EnvVars:  envVars("issuer-key"),
	}
	issuerNameFlag = &cli.StringFlag{
		Name:     "issuer-name",
		Usage:    "the institution's name in the issuer profile of issued credentials",
		Category: catNode,
		EnvVars:  envVars("issuer-name"),
	}
	issuerOutFlag = &cli.PathFlag{
		Name:     "out",
		Usage:    "write the new issuer key (32-byte Ed25519 seed, hex) to FILE (mode 0600; an existing file is never overwritten)",
		Value:    DefaultIssuerKeyFile,
		Category: catKeys,
	}
	formatFlag = &cli.StringFlag{
		Name:  "format",
		Usage: "di (a Data Integrity proof) or jwt (VC-JWT)",
		Value: node.FormatDataIntegrity,
	}
	issueCryptosuiteFlag = &cli.StringFlag{
		Name:  "cryptosuite",
		Usage: "the Data Integrity cryptosuite: eddsa-rdfc-2022 or eddsa-jcs-2022 (default: the node's, eddsa-rdfc-2022 where the credential has an RDF form)",
	}
)

var keysIssuerNewCommand = &cli.Command{
	Name:  "issuer-new",
	Usage: "create an Ed25519 issuer key and print its did:key",
	Description: `Creates the institution's issuer key and writes its 32-byte seed as hex to
--out (mode 0600; an existing file is never overwritten). Prints the key's
did:key: register it as the member's DID, and pass the file to
node run --issuer-key.`,
	Flags:  []cli.Flag{issuerOutFlag},
	Action: newIssuerKey,
}

var keysIssuerDIDCommand = &cli.Command{
	Name:      "issuer-did",
	Usage:     "print the did:key and verification method of an issuer key file",
	ArgsUsage: "FILE",
	Action:    issuerDID,
}

func newIssuerKey(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	return newEd25519Key(c, c.Path(issuerOutFlag.Name), issuerOutFlag.Name)
}

// newEd25519Key writes a new Ed25519 seed as hex to path (mode 0600, never
// over an existing file) and prints the key's did:key. flag names the
// option that chose path, for errors.
func newEd25519Key(c *cli.Context, path, flag string) error {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("--%s: %s already exists; a key file is never overwritten", flag, path)
	} else if err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	_, werr := f.WriteString(hex.EncodeToString(seed) + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		return errors.Join(fmt.Errorf("--%s: %w", flag, err), os.Remove(path))
	}
	id, err := node.NewDIDKeyIssuer(ed25519.NewKeyFromSeed(seed), "")
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, id.DID)
	return nil
}

func issuerDID(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the issuer key file")
	}
	key, err := loadIssuerKey(c.Args().First())
	if err != nil {
		return err
	}
	id, err := node.NewDIDKeyIssuer(key, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s\n%s\n", id.DID, id.VerificationMethod)
	return nil
}

var issueCommand = &cli.Command{
	Name:      "issue",
	Usage:     "issue a credential through a node: it signs it as the institution and anchors it",
	ArgsUsage: "FILE",
	Description: `Sends the unsigned credential in FILE (an Open Badges 3.0 AchievementCredential
or any VC 2.0 credential, JSON) to the node's POST /v1/issue. The node fills in
its issuer profile, an id and validFrom, signs the credential and queues it for
anchoring. Prints the signed credential (JSON, or the VC-JWT) to --out or
standard output, and its digest on standard error.`,
	Flags:  []cli.Flag{nodeURLFlag, tokenFlag, formatFlag, issueCryptosuiteFlag, outFlag, timeoutFlag},
	Action: issueCredential,
}

func issueCredential(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("expected one argument: the unsigned credential file")
	}
	data, err := os.ReadFile(c.Args().First())
	if err != nil {
		return err
	}
	base := strings.TrimRight(c.String(nodeURLFlag.Name), "/")
	ctx, cancel := context.WithTimeout(c.Context, c.Duration(timeoutFlag.Name))
	defer cancel()
	q := url.Values{}
	if f := c.String(formatFlag.Name); f != "" && f != node.FormatDataIntegrity {
		q.Set("format", f)
	}
	if cs := c.String(issueCryptosuiteFlag.Name); cs != "" {
		q.Set("cryptosuite", cs)
	}
	u := base + "/v1/issue"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	code, body, err := nodeCall(ctx, http.MethodPost, u, c.String(tokenFlag.Name), data)
	if err != nil {
		return err
	}
	if code != http.StatusCreated {
		return problemError(code, body)
	}
	var out struct {
		Credential json.RawMessage `json:"credential"`
		Digest     string          `json:"digest"`
		State      string          `json:"state"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("node answer: %w", err)
	}
	cred := []byte(out.Credential)
	var jwt string
	if json.Unmarshal(out.Credential, &jwt) == nil {
		cred = []byte(jwt)
	}
	fmt.Fprintf(c.App.ErrWriter, "issued %s (%s)\n", out.Digest, out.State)
	if p := c.Path(outFlag.Name); p != "" {
		return os.WriteFile(p, append(cred, '\n'), 0o644)
	}
	_, err = c.App.Writer.Write(append(cred, '\n'))
	return err
}

// loadIssuerKey reads an Ed25519 issuer key file: the 32-byte seed in hex,
// readable only by its owner.
func loadIssuerKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not hex: %w", path, err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: got a %d-byte key, want a %d-byte Ed25519 seed", path, len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// loadOrCreateIssuerKey reads the issuer key, or creates one in a file
// readable only by the owner.
func loadOrCreateIssuerKey(path string) (ed25519.PrivateKey, error) {
	key, err := loadIssuerKey(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return key, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
