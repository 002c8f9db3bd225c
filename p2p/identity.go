package p2p

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// IdentityFile is the name, inside Config.DataDir, of the file that holds
// the node's libp2p Ed25519 private key (libp2p protobuf encoding).
const IdentityFile = "p2p-identity.key"

// loadIdentity reads the node's libp2p key from dir, creating it (0600) on
// first start. A key file readable by group or others is refused rather
// than repaired: whoever could read it may already be impersonating the
// node, so an operator has to look.
func loadIdentity(dir string) (crypto.PrivKey, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: DataDir is required", ErrConfig)
	}
	path := filepath.Join(dir, IdentityFile)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createIdentity(dir, path)
	case err != nil:
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrIdentity, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o, want 0600 (readable by group or others)", ErrIdentity, path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrIdentity, path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: %s holds a %v key, want Ed25519", ErrIdentity, path, key.Type())
	}
	return key, nil
}

func createIdentity(dir, path string) (crypto.PrivKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	data, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	// Written to a temporary file and renamed so that a crash never leaves
	// a truncated key that would change the node's peer ID on restart.
	tmp, err := os.CreateTemp(dir, IdentityFile+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	// Link rather than rename: a key created meanwhile by another process
	// wins instead of being overwritten.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadIdentity(dir)
		}
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}
