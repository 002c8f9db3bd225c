package main

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"
)

// catKeys groups the flags that name or create signing keys in --help.
const catKeys = "KEYS"

// The flags every command that signs a transaction takes. Exactly one of
// --key and --keystore names the key; --password-file unlocks a keystore.
var (
	keyFileFlag = &cli.PathFlag{
		Name:     "key",
		Usage:    "hex secp256k1 key FILE that signs (mode 0600 or stricter)",
		Category: catKeys,
		EnvVars:  envVars("key"),
	}
	keystoreFileFlag = &cli.PathFlag{
		Name:     "keystore",
		Usage:    "encrypted go-ethereum keystore FILE that signs (with --password-file)",
		Category: catKeys,
		EnvVars:  envVars("keystore"),
	}
	passwordFileFlag = &cli.PathFlag{
		Name:     "password-file",
		Usage:    "FILE holding the keystore password (a trailing newline is ignored)",
		Category: catKeys,
		EnvVars:  envVars("password-file"),
	}
)

// signerFlags are the flags loadSigningKey reads.
var signerFlags = []cli.Flag{keyFileFlag, keystoreFileFlag, passwordFileFlag}

// errKeyFileMode is returned for a hex key file that others than its owner
// may read or write.
var errKeyFileMode = errors.New("key file is accessible to group or others")

// loadSigningKey loads the key named by --key or by --keystore and
// --password-file. It never prints or logs the key or the password.
func loadSigningKey(c *cli.Context) (*ecdsa.PrivateKey, error) {
	keyFile, keystoreFile := c.Path(keyFileFlag.Name), c.Path(keystoreFileFlag.Name)
	switch {
	case keyFile != "" && keystoreFile != "":
		return nil, fmt.Errorf("--%s and --%s both name a key: give one", keyFileFlag.Name, keystoreFileFlag.Name)
	case keyFile != "":
		key, err := loadKeyFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", keyFileFlag.Name, err)
		}
		return key, nil
	case keystoreFile != "":
		pwFile := c.Path(passwordFileFlag.Name)
		if pwFile == "" {
			return nil, fmt.Errorf("--%s needs --%s", keystoreFileFlag.Name, passwordFileFlag.Name)
		}
		key, err := loadKeystoreFile(keystoreFile, pwFile)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", keystoreFileFlag.Name, err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("no signing key: give --%s FILE, or --%s FILE with --%s FILE",
		keyFileFlag.Name, keystoreFileFlag.Name, passwordFileFlag.Name)
}

// loadKeyFile reads a hex key file as written by crypto.SaveECDSA. It refuses
// a file that group or others may read or write: such a key may already have
// leaked, and an anchoring key must not be silently trusted then.
func loadKeyFile(path string) (*ecdsa.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	// Windows has no Unix permission bits; os.Stat reports 0666 there for any
	// writable file, so the check would refuse every key.
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want 0600 or stricter (chmod 600 %s)", errKeyFileMode, path, perm, path)
	}
	key, err := crypto.LoadECDSA(path)
	if err != nil {
		// LoadECDSA's errors name at most one bad character, never the key.
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// loadKeystoreFile decrypts a go-ethereum keystore file with the password in
// passwordFile.
func loadKeystoreFile(path, passwordFile string) (*ecdsa.PrivateKey, error) {
	password, err := readPassword(passwordFile)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := keystore.DecryptKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k.PrivateKey, nil
}

// readPassword reads a password file. Only the line ending an editor or
// `echo` adds is removed, so a password may still begin or end with spaces.
func readPassword(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", passwordFileFlag.Name, err)
	}
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		// A warning, not a refusal: the keystore is still encrypted, and the
		// password may be shared with other tools that set their own modes.
		slog.Warn("password file is accessible to group or others", slog.String("file", path), slog.String("mode", fmt.Sprintf("%04o", perm)))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", passwordFileFlag.Name, err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}
