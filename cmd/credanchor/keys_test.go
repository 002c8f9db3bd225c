package main

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
)

// runEnv is run with extra environment variables.
func runEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// testKey is a key written to a hex key file for the binary to load.
type testKey struct {
	file string
	addr string
	key  *ecdsa.PrivateKey
}

func saveTestKey(t *testing.T, dir, name string, key *ecdsa.PrivateKey) testKey {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := crypto.SaveECDSA(path, key); err != nil {
		t.Fatal(err)
	}
	return testKey{file: path, addr: crypto.PubkeyToAddress(key.PublicKey).Hex(), key: key}
}

// writePassword writes a password file readable only by its owner.
func writePassword(t *testing.T, dir, name, password string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// secretOf is the hex form of key, which no output may contain.
func secretOf(key *ecdsa.PrivateKey) string { return hex.EncodeToString(crypto.FromECDSA(key)) }

func TestKeysNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodekey")
	stdout, stderr, code := run(t, "keys", "new", "--out", path)
	if code != 0 {
		t.Fatalf("keys new: exit %d\n%s", code, stderr)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	key, err := crypto.LoadECDSA(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stdout, crypto.PubkeyToAddress(key.PublicKey).Hex()+"\n"; got != want {
		t.Errorf("keys new printed %q, want the address %q and nothing else", got, want)
	}
	if strings.Contains(strings.ToLower(stdout+stderr), secretOf(key)) {
		t.Fatal("keys new printed the secret key")
	}

	before, _ := os.ReadFile(path)
	_, stderr, code = run(t, "keys", "new", "--out", path)
	if code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("keys new over an existing file: exit %d, stderr %q", code, stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("keys new overwrote an existing key file")
	}

	stdout, stderr, code = run(t, "keys", "address", "--key", path)
	if code != 0 || stdout != crypto.PubkeyToAddress(key.PublicKey).Hex()+"\n" {
		t.Fatalf("keys address: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = runEnv(t, []string{"CREDANCHOR_KEY=" + path}, "keys", "address")
	if code != 0 || stdout != crypto.PubkeyToAddress(key.PublicKey).Hex()+"\n" {
		t.Fatalf("keys address with CREDANCHOR_KEY: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// The variables that name a signing keystore do not turn `keys new`
	// into a keystore command.
	env := []string{"CREDANCHOR_KEYSTORE=" + path, "CREDANCHOR_PASSWORD_FILE=" + path}
	second := filepath.Join(filepath.Dir(path), "second")
	if _, stderr, code := runEnv(t, env, "keys", "new", "--out", second); code != 0 {
		t.Fatalf("keys new with signing variables set: exit %d, stderr %q", code, stderr)
	}
}

func TestKeysNewKeystore(t *testing.T) {
	dir := t.TempDir()
	ksDir := filepath.Join(dir, "keystore")
	pw := writePassword(t, dir, "pw", "correct horse battery staple\n")
	stdout, stderr, code := run(t, "keys", "new", "--keystore", ksDir, "--password-file", pw, "--light-kdf")
	if code != 0 {
		t.Fatalf("keys new --keystore: exit %d\n%s", code, stderr)
	}
	files, err := os.ReadDir(ksDir)
	if err != nil || len(files) != 1 {
		t.Fatalf("keystore dir holds %v (%v), want one file", files, err)
	}
	ksFile := filepath.Join(ksDir, files[0].Name())
	if !strings.Contains(stderr, ksFile) {
		t.Errorf("keys new did not name the keystore file %s: %q", ksFile, stderr)
	}
	if st, _ := os.Stat(ksFile); st.Mode().Perm()&0o077 != 0 {
		t.Errorf("keystore file mode %04o, want 0600 or stricter", st.Mode().Perm())
	}
	data, _ := os.ReadFile(ksFile)
	// The password file's newline is not part of the password.
	k, err := keystore.DecryptKey(data, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	addr := k.Address.Hex()
	if stdout != addr+"\n" {
		t.Errorf("keys new --keystore printed %q, want %q", stdout, addr+"\n")
	}
	if strings.Contains(strings.ToLower(stdout+stderr), secretOf(k.PrivateKey)) || strings.Contains(stdout+stderr, "correct horse") {
		t.Fatal("keys new printed a secret")
	}

	stdout, stderr, code = run(t, "keys", "address", "--keystore", ksFile, "--password-file", pw)
	if code != 0 || stdout != addr+"\n" {
		t.Fatalf("keys address --keystore: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	wrong := writePassword(t, dir, "wrong", "Correct horse battery staple\n")
	_, stderr, code = run(t, "keys", "address", "--keystore", ksFile, "--password-file", wrong)
	if code != 1 || !strings.Contains(stderr, "could not decrypt") || strings.Contains(stderr, "orrect horse") {
		t.Fatalf("keys address with a wrong password: exit %d, stderr %q", code, stderr)
	}
}

func TestKeysNewRefuses(t *testing.T) {
	dir := t.TempDir()
	pw := writePassword(t, dir, "pw", "secret\n")
	empty := writePassword(t, dir, "empty", "\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"keystore without password", []string{"--keystore", dir}, "needs --password-file"},
		{"empty password", []string{"--keystore", dir, "--password-file", empty}, "empty password"},
		{"both destinations", []string{"--keystore", dir, "--password-file", pw, "--out", filepath.Join(dir, "k")}, "give one"},
		{"password without keystore", []string{"--out", filepath.Join(dir, "k2"), "--password-file", pw}, "go with --keystore"},
		{"missing directory", []string{"--out", filepath.Join(dir, "no", "such", "k")}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"keys", "new"}, tc.args...)...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
		})
	}
}

// TestKeyFileMode checks that every command that signs refuses a hex key file
// that group or others may access, before it does anything else.
func TestKeyFileMode(t *testing.T) {
	dir := t.TempDir()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey).Hex()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o640, false},
		{0o644, false},
		{0o604, false},
		{0o660, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			path := saveTestKey(t, dir, "key-"+tc.mode.String(), key).file
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := run(t, "keys", "address", "--key", path)
			if tc.ok {
				if code != 0 || stdout != addr+"\n" {
					t.Fatalf("mode %04o: exit %d, stdout %q, stderr %q", tc.mode, code, stdout, stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr, "0600 or stricter") || !strings.Contains(stderr, path) {
				t.Fatalf("mode %04o: exit %d, stderr %q", tc.mode, code, stderr)
			}
			// A command that sends a transaction refuses it too, before it
			// dials the (here unreachable) chain.
			_, stderr, code = run(t, "contract", "member", "approve", "--rpc", "http://127.0.0.1:1",
				"--registry", "0x0000000000000000000000000000000000000001", "--key", path, "1")
			if code != 1 || !strings.Contains(stderr, "0600 or stricter") {
				t.Fatalf("mode %04o, contract member approve: exit %d, stderr %q", tc.mode, code, stderr)
			}
		})
	}
}

func TestSigningKeyFlags(t *testing.T) {
	dir := t.TempDir()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k := saveTestKey(t, dir, "k", key)
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", nil, "no signing key"},
		{"two keys", []string{"--key", k.file, "--keystore", k.file}, "give one"},
		{"keystore without password", []string{"--keystore", k.file}, "needs --password-file"},
		{"missing key file", []string{"--key", filepath.Join(dir, "missing")}, "no such file"},
		{"not a key", []string{"--key", garbage}, "--key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, append([]string{"keys", "address"}, tc.args...)...)
			if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q, want %q", code, stdout, stderr, tc.want)
			}
			if strings.Contains(strings.ToLower(stderr), secretOf(key)) {
				t.Fatal("an error printed the secret key")
			}
		})
	}
}

func TestKeysAndContractHelp(t *testing.T) {
	for _, args := range [][]string{
		{"keys"}, {"keys", "new"}, {"keys", "address"},
		{"contract"}, {"contract", "deploy"},
		{"contract", "member"}, {"contract", "member", "list"}, {"contract", "member", "propose-add"},
		{"contract", "member", "propose-remove"}, {"contract", "member", "propose-threshold"},
		{"contract", "member", "approve"}, {"contract", "member", "show"},
		{"contract", "key"}, {"contract", "key", "authorize"}, {"contract", "key", "revoke"},
		{"contract", "key", "rotate"}, {"contract", "key", "show"},
	} {
		out, stderr, code := run(t, append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "USAGE") || !strings.Contains(out, "DESCRIPTION") {
			t.Errorf("credanchor %s --help: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
		}
	}
}
