package testnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/version"
)

// GethEnv names the environment variable that points at a prebuilt geth
// binary. When it is set, BuildGeth uses that binary and nothing else, and
// fails if it is not of GethVersion.
const GethEnv = "CREDANCHOR_GETH"

// gethModule is the module whose cmd/geth BuildGeth builds.
const gethModule = "github.com/ethereum/go-ethereum"

// GethVersion returns the go-ethereum module version this package is built
// with, such as "v1.17.10": the one go.mod pins, read from the binary's
// build info, so a test and the geth it runs never disagree.
func GethVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == gethModule && dep.Replace == nil && dep.Version != "" {
				return dep.Version
			}
		}
	}
	// A binary without module information (or with go-ethereum replaced)
	// still has the release compiled in.
	return fmt.Sprintf("v%d.%d.%d", version.Major, version.Minor, version.Patch)
}

// GethCachePath returns where BuildGeth caches the geth it builds:
// <os.UserCacheDir()>/credanchor/geth-<GethVersion()>/geth, that is
// $XDG_CACHE_HOME/credanchor/geth-v1.17.10/geth or
// ~/.cache/credanchor/geth-v1.17.10/geth on Linux.
func GethCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("testnet: geth cache dir: %w", err)
	}
	name := "geth"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(dir, "credanchor", "geth-"+GethVersion(), name), nil
}

// gethSem serialises BuildGeth within a process (a file lock does so across
// processes); gethPath remembers its answer.
var (
	gethSem  = make(chan struct{}, 1)
	gethPath string
)

// BuildGeth returns the path of a geth binary of GethVersion. It takes
// $CREDANCHOR_GETH when set (and fails if that binary reports another
// version); otherwise the binary at GethCachePath, which it first builds with
// `go install github.com/ethereum/go-ethereum/cmd/geth@<version>` if it is
// missing. A build takes a few minutes on a small machine; concurrent callers,
// in this process or in other test binaries, wait for one build.
//
// A CI script can prebuild the cached binary with
//
//	GOBIN=$HOME/.cache/credanchor/geth-v1.17.10 go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10
//
// or build geth anywhere and export CREDANCHOR_GETH=/path/to/geth.
func BuildGeth(ctx context.Context) (string, error) {
	select {
	case gethSem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("testnet: waiting for geth build: %w", ctx.Err())
	}
	defer func() { <-gethSem }()
	if gethPath != "" {
		return gethPath, nil
	}
	path, err := findOrBuildGeth(ctx, GethVersion())
	if err != nil {
		return "", err
	}
	gethPath = path
	return path, nil
}

func findOrBuildGeth(ctx context.Context, want string) (string, error) {
	if path := os.Getenv(GethEnv); path != "" {
		if err := checkGethVersion(ctx, path, want); err != nil {
			return "", fmt.Errorf("testnet: %s=%s: %w", GethEnv, path, err)
		}
		return path, nil
	}
	path, err := GethCachePath()
	if err != nil {
		return "", err
	}
	if checkGethVersion(ctx, path, want) == nil {
		return path, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testnet: geth cache dir: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", fmt.Errorf("testnet: lock geth cache: %w", err)
	}
	defer unlock()
	// Another process may have built it while this one waited for the lock.
	if checkGethVersion(ctx, path, want) == nil {
		return path, nil
	}
	if err := buildGeth(ctx, want, path); err != nil {
		return "", err
	}
	if err := checkGethVersion(ctx, path, want); err != nil {
		return "", fmt.Errorf("testnet: built geth at %s: %w", path, err)
	}
	return path, nil
}

// buildGeth installs cmd/geth at version into a scratch dir next to path and
// renames it into place, so that no reader ever runs a half-written binary.
func buildGeth(ctx context.Context, version, path string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("testnet: building geth needs the go command on PATH (or set %s): %w", GethEnv, err)
	}
	dir := filepath.Dir(path)
	scratch, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("testnet: geth build dir: %w", err)
	}
	defer os.RemoveAll(scratch)

	logPath := filepath.Join(dir, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("testnet: geth build log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.CommandContext(ctx, goBin, "install", gethModule+"/cmd/geth@"+version)
	// Outside the project module, and without the caller's GOFLAGS (such as
	// -mod=mod, which `go install pkg@version` refuses).
	cmd.Dir = dir
	cmd.Env = append(withoutEnv(os.Environ(), "GOBIN", "GOFLAGS", "GOWORK"),
		"GOBIN="+scratch, "GOFLAGS=", "GOWORK=off")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("testnet: go install geth@%s (log %s): %w\n%s", version, logPath, err, tailFile(logPath, 0, 20))
	}
	if err := os.Rename(filepath.Join(scratch, filepath.Base(path)), path); err != nil {
		return fmt.Errorf("testnet: install geth: %w", err)
	}
	return nil
}

// checkGethVersion runs `geth version` and compares its release number with
// want's.
func checkGethVersion(ctx context.Context, path, want string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return fmt.Errorf("%s version: %w", path, err)
	}
	got := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Version:"); ok {
			got = strings.TrimSpace(v)
			break
		}
	}
	// geth reports "1.17.10-stable"; a module version is "v1.17.10" or a
	// pseudo-version "v1.17.11-0.2026…", so compare the release numbers.
	if release(got) == "" || release(got) != release(want) {
		return fmt.Errorf("%w: %s reports %q, want %s", ErrGethVersion, path, got, want)
	}
	return nil
}

// release returns the MAJOR.MINOR.PATCH of a version string.
func release(v string) string {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	return v
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if name == n {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// tailFile returns the last n lines of a log file written after offset
// from, for error messages.
func tailFile(path string, from int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	// Read no more than the end of a large log.
	const maxTail = 64 << 10
	if info, err := f.Stat(); err == nil {
		from = max(from, info.Size()-maxTail)
	}
	if _, err := f.Seek(max(from, 0), io.SeekStart); err != nil {
		return ""
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
