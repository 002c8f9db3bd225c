package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/urfave/cli/v2"
)

// DefaultKeyFile is where `keys new` writes a hex key when --out is not given;
// the same name devnet gives its node key.
const DefaultKeyFile = "nodekey"

var (
	keyOutFlag = &cli.PathFlag{
		Name:     "out",
		Usage:    "write the new key as hex to FILE (mode 0600; an existing file is never overwritten)",
		Value:    DefaultKeyFile,
		Category: catKeys,
	}
	// newKeystoreDirFlag and newPasswordFileFlag have no environment
	// variables: CREDANCHOR_KEYSTORE names the keystore FILE that signs, not
	// a directory to create keys in, and a CREDANCHOR_PASSWORD_FILE kept for
	// signing must not make `keys new` refuse to write a hex key.
	newKeystoreDirFlag = &cli.PathFlag{
		Name:     "keystore",
		Usage:    "create an encrypted go-ethereum keystore file in DIR instead of a hex file (with --password-file)",
		Category: catKeys,
	}
	newPasswordFileFlag = &cli.PathFlag{
		Name:     passwordFileFlag.Name,
		Usage:    "FILE holding the new keystore's password (a trailing newline is ignored)",
		Category: catKeys,
	}
	didKeyFlag = &cli.BoolFlag{
		Name:     "did",
		Usage:    "create a learner's Ed25519 key instead (32-byte seed, hex; --out defaults to " + DefaultLearnerKeyFile + ") and print its did:key, the id to put in credentialSubject.id",
		Category: catKeys,
	}
	lightKDFFlag = &cli.BoolFlag{
		Name:     "light-kdf",
		Usage:    "encrypt the keystore with light scrypt parameters: fast but weak, for tests only",
		Category: catKeys,
	}
)

var keysCommand = &cli.Command{
	Name:  "keys",
	Usage: "create node keys and show their addresses",
	Description: `Node keys are secp256k1 keys: a member's key governs the registry, and
node keys it authorises anchor batches for it. A key is kept either as a hex
file readable only by its owner, or as an encrypted go-ethereum keystore file.
An institution's issuer key, which signs its credentials, is an Ed25519 key
(32-byte seed in hex, mode 0600) whose did:key is the member DID to register.`,
	Subcommands: []*cli.Command{keysNewCommand, keysAddressCommand, keysIssuerNewCommand, keysIssuerDIDCommand},
}

var keysNewCommand = &cli.Command{
	Name:  "new",
	Usage: "create a secp256k1 node key and print its address, or with --did a learner's key and its did:key",
	Description: `Creates a key and writes it as hex to --out (mode 0600), or, with --keystore,
as an encrypted keystore file in that directory, unlocked by the password in
--password-file. Prints only the key's address, never the key; an existing
--out file is never overwritten.

With --did it creates a learner's Ed25519 key instead and prints its did:key:
credentials are issued to that DID, and credanchor present --key FILE proves
them.`,
	Flags:  []cli.Flag{keyOutFlag, didKeyFlag, newKeystoreDirFlag, newPasswordFileFlag, lightKDFFlag},
	Action: newKey,
}

var keysAddressCommand = &cli.Command{
	Name:  "address",
	Usage: "print the address of a key file or keystore file",
	Description: `Loads the key exactly as the commands that sign do (--key, or --keystore with
--password-file) and prints its address: a way to check a key and its
password before using them.`,
	Flags:  signerFlags,
	Action: keyAddress,
}

func newKey(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	if c.Bool(didKeyFlag.Name) {
		if c.IsSet(newKeystoreDirFlag.Name) || c.IsSet(newPasswordFileFlag.Name) || c.Bool(lightKDFFlag.Name) {
			return fmt.Errorf("--%s keys are hex files: --%s, --%s and --%s do not apply", didKeyFlag.Name, newKeystoreDirFlag.Name, newPasswordFileFlag.Name, lightKDFFlag.Name)
		}
		path := DefaultLearnerKeyFile
		if c.IsSet(keyOutFlag.Name) {
			path = c.Path(keyOutFlag.Name)
		}
		return newEd25519Key(c, path, keyOutFlag.Name)
	}
	if dir := c.Path(newKeystoreDirFlag.Name); dir != "" {
		if c.IsSet(keyOutFlag.Name) {
			return fmt.Errorf("--%s and --%s both say where the key goes: give one", keyOutFlag.Name, newKeystoreDirFlag.Name)
		}
		return newKeystoreKey(c, dir)
	}
	// A password given for a hex key would be silently unused, leaving the
	// user to believe the key is encrypted.
	if c.IsSet(newPasswordFileFlag.Name) || c.Bool(lightKDFFlag.Name) {
		return fmt.Errorf("--%s and --%s go with --%s", newPasswordFileFlag.Name, lightKDFFlag.Name, newKeystoreDirFlag.Name)
	}
	path := c.Path(keyOutFlag.Name)
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	// Creating the file exclusively first both refuses an existing file and
	// closes the window in which another process could create it before
	// SaveECDSA, which truncates whatever is there.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("--%s: %s already exists; a key file is never overwritten", keyOutFlag.Name, path)
	} else if err != nil {
		return fmt.Errorf("--%s: %w", keyOutFlag.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--%s: %w", keyOutFlag.Name, err)
	}
	if err := crypto.SaveECDSA(path, key); err != nil {
		return errors.Join(fmt.Errorf("--%s: %w", keyOutFlag.Name, err), os.Remove(path))
	}
	fmt.Fprintln(c.App.Writer, crypto.PubkeyToAddress(key.PublicKey).Hex())
	return nil
}

// newKeystoreKey creates a key in an encrypted keystore file in dir.
func newKeystoreKey(c *cli.Context, dir string) error {
	pwFile := c.Path(newPasswordFileFlag.Name)
	if pwFile == "" {
		return fmt.Errorf("--%s needs --%s", newKeystoreDirFlag.Name, newPasswordFileFlag.Name)
	}
	password, err := readPassword(pwFile)
	if err != nil {
		return err
	}
	if password == "" {
		return fmt.Errorf("--%s: %s holds an empty password", newPasswordFileFlag.Name, pwFile)
	}
	n, p := keystore.StandardScryptN, keystore.StandardScryptP
	if c.Bool(lightKDFFlag.Name) {
		n, p = keystore.LightScryptN, keystore.LightScryptP
	}
	acct, err := keystore.StoreKey(dir, password, n, p)
	if err != nil {
		return fmt.Errorf("--%s: %w", newKeystoreDirFlag.Name, err)
	}
	// The file name is on stderr so that stdout stays just the address, as
	// for a hex key, and scripts can capture it the same way.
	fmt.Fprintf(c.App.ErrWriter, "keystore file: %s\n", acct.URL.Path)
	fmt.Fprintln(c.App.Writer, acct.Address.Hex())
	return nil
}

func keyAddress(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	key, err := loadSigningKey(c)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, crypto.PubkeyToAddress(key.PublicKey).Hex())
	return nil
}
