// Package gen rebuilds the compiled contracts and their Go bindings: it runs
// the pinned solcjs from contracts/node_modules with fixed standard-JSON
// settings, writes the ABI and bytecode, and binds them with go-ethereum's
// abigen (v2), exactly as `abigen --v2 --abi X.abi --bin X.bin --pkg P --type
// X` would. The output depends only on the sources, the pinned compiler and the
// go-ethereum version in go.mod, so the committed files can be checked byte for
// byte.
package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

// SolcVersion is the exact solcjs build every artifact is compiled with. It is
// pinned in contracts/package.json and package-lock.json too.
const SolcVersion = "0.8.37+commit.f401782d.Emscripten.clang"

// solcPackageVersion is the npm version of the solc package that ships
// SolcVersion.
const solcPackageVersion = "0.8.37"

// Compiler settings shared by every contract. Changing any of them changes the
// committed bytecode.
const (
	// EVMVersion is the fork whose rules the bytecode targets. Prague code
	// runs unchanged under Osaka, and on chains that have not reached Osaka.
	EVMVersion = "prague"
	// OptimizerRuns tells the optimizer to favour cheap calls over small
	// code: anchor runs once per batch for the life of the consortium.
	OptimizerRuns = 1_000_000
)

// ErrNoCompiler reports that the pinned solc package is not installed.
var ErrNoCompiler = errors.New("gen: the pinned solc is not installed in contracts/node_modules: run `npm ci --prefix contracts`")

// ErrNoNode reports that node, which runs solcjs, is not on PATH.
var ErrNoNode = errors.New("gen: node is not on PATH (solcjs needs node >= 12)")

// Contract names a Solidity contract and where its artifacts go.
type Contract struct {
	Dir    string // folder under contracts/, also the Go package name
	Source string // Solidity file in Dir
	Name   string // contract name in Source; also the ABI/bin file stem and Go type
}

// Contracts lists every contract this module builds.
var Contracts = []Contract{
	{Dir: "registry", Source: "Registry.sol", Name: "Registry"},
}

// Files returns the artifact paths of c relative to the contracts folder, in
// the order they are written: ABI, bytecode, bindings.
func (c Contract) Files() []string {
	return []string{
		filepath.Join(c.Dir, c.Name+".abi"),
		filepath.Join(c.Dir, c.Name+".bin"),
		filepath.Join(c.Dir, "bindings.go"),
	}
}

// Generate compiles every contract found under srcDir (the contracts folder)
// and writes its artifacts under outDir, which may be srcDir itself.
func Generate(ctx context.Context, srcDir, outDir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("%w: %v", ErrNoNode, err)
	}
	solc, err := solcPath(srcDir)
	if err != nil {
		return err
	}
	for _, c := range Contracts {
		if err := generate(ctx, solc, srcDir, outDir, c); err != nil {
			return fmt.Errorf("gen: %s: %w", c.Name, err)
		}
	}
	return nil
}

// solcPath checks that the pinned solc package is installed and returns the
// folder node should require.
func solcPath(srcDir string) (string, error) {
	dir, err := filepath.Abs(filepath.Join(srcDir, "node_modules", "solc"))
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrNoCompiler, err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", fmt.Errorf("%w (%s: %v)", ErrNoCompiler, dir, err)
	}
	if pkg.Version != solcPackageVersion {
		return "", fmt.Errorf("%w (got solc %s, want %s)", ErrNoCompiler, pkg.Version, solcPackageVersion)
	}
	return dir, nil
}

func generate(ctx context.Context, solc, srcDir, outDir string, c Contract) error {
	source, err := os.ReadFile(filepath.Join(srcDir, c.Dir, c.Source))
	if err != nil {
		return err
	}
	abiJSON, bin, err := compile(ctx, solc, c, source)
	if err != nil {
		return err
	}
	code, err := abigen.BindV2([]string{c.Name}, []string{string(abiJSON)}, []string{string(bin)}, c.Dir,
		map[string]string{}, map[string]string{})
	if err != nil {
		return fmt.Errorf("abigen: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(outDir, c.Dir), 0o755); err != nil {
		return err
	}
	files := c.Files()
	for i, data := range [][]byte{abiJSON, bin, []byte(code)} {
		if err := os.WriteFile(filepath.Join(outDir, files[i]), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compileScript runs solc's standard-JSON interface in node: the input on
// stdin, {version, output} on stdout.
const compileScript = `
const solc = require(process.argv[1]);
const input = require("fs").readFileSync(0, "utf8");
process.stdout.write(JSON.stringify({version: solc.version(), output: JSON.parse(solc.compile(input))}));
`

// compile returns the indented ABI JSON and the hex creation bytecode of c,
// each ending in a newline.
func compile(ctx context.Context, solc string, c Contract, source []byte) (abiJSON, bin []byte, err error) {
	input, err := json.Marshal(standardInput(c, source))
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, "node", "-e", compileScript, solc)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("node solc: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res struct {
		Version string `json:"version"`
		Output  struct {
			Errors []struct {
				Severity         string `json:"severity"`
				FormattedMessage string `json:"formattedMessage"`
			} `json:"errors"`
			Contracts map[string]map[string]struct {
				ABI json.RawMessage `json:"abi"`
				EVM struct {
					Bytecode struct {
						Object string `json:"object"`
					} `json:"bytecode"`
				} `json:"evm"`
			} `json:"contracts"`
		} `json:"output"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, nil, fmt.Errorf("solc output: %w", err)
	}
	if res.Version != SolcVersion {
		return nil, nil, fmt.Errorf("%w (got solc %s, want %s)", ErrNoCompiler, res.Version, SolcVersion)
	}
	// Warnings fail the build too: the sources are kept warning-free.
	var msgs []string
	for _, e := range res.Output.Errors {
		if e.Severity != "info" {
			msgs = append(msgs, e.FormattedMessage)
		}
	}
	if len(msgs) > 0 {
		return nil, nil, fmt.Errorf("solc:\n%s", strings.Join(msgs, "\n"))
	}
	compiled, ok := res.Output.Contracts[c.Source][c.Name]
	if !ok || compiled.EVM.Bytecode.Object == "" {
		return nil, nil, fmt.Errorf("solc produced no bytecode for %s:%s", c.Source, c.Name)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, compiled.ABI, "", "  "); err != nil {
		return nil, nil, fmt.Errorf("solc ABI: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), []byte(compiled.EVM.Bytecode.Object + "\n"), nil
}

// standardInput is solc's standard-JSON input for c. The metadata hash and
// its CBOR trailer are left out of the bytecode, so the bytecode depends on
// nothing but the source text and these settings.
func standardInput(c Contract, source []byte) any {
	type obj = map[string]any
	return obj{
		"language": "Solidity",
		"sources":  obj{c.Source: obj{"content": string(source)}},
		"settings": obj{
			"optimizer":  obj{"enabled": true, "runs": OptimizerRuns},
			"evmVersion": EVMVersion,
			"metadata":   obj{"bytecodeHash": "none", "appendCBOR": false},
			"outputSelection": obj{
				c.Source: obj{c.Name: []string{"abi", "evm.bytecode.object"}},
			},
		},
	}
}
