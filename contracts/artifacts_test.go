package contracts_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/credanchor/credanchor/contracts/internal/gen"
)

// TestArtifactsUpToDate rebuilds every contract into a temporary folder and
// checks that the committed ABI, bytecode and bindings match it byte for
// byte. It needs node and the pinned solc: on a fresh checkout it installs
// the solc that package-lock.json pins with `npm ci`, and it fails, never
// skips, when that cannot be done.
func TestArtifactsUpToDate(t *testing.T) {
	out := t.TempDir()
	err := gen.Generate(context.Background(), ".", out)
	if errors.Is(err, gen.ErrNoCompiler) {
		t.Log("installing the pinned solc: npm ci")
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		if msg, nerr := cmd.CombinedOutput(); nerr != nil {
			t.Fatalf("npm ci: %v\n%s", nerr, msg)
		}
		err = gen.Generate(context.Background(), ".", out)
	}
	if err != nil {
		if errors.Is(err, gen.ErrNoCompiler) || errors.Is(err, gen.ErrNoNode) {
			t.Fatalf("cannot rebuild the contracts: %v\n\trun `npm ci --prefix contracts` (node >= 12 on PATH) before `go test ./contracts/...`", err)
		}
		t.Fatalf("rebuild: %v", err)
	}
	for _, c := range gen.Contracts {
		for _, name := range c.Files() {
			want, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Errorf("%s: %v: run `go generate ./contracts`", name, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from a fresh build (got %d bytes, want %d): run `go generate ./contracts` and commit the result", name, len(got), len(want))
			}
		}
	}
}
