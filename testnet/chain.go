package testnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
)

// Chain is what tests need from a dev chain, whichever kind runs it: the
// in-process DevChain or a geth --dev process (Geth).
type Chain interface {
	// RPCURL is the chain's JSON-RPC endpoint on loopback (http://127.0.0.1:PORT).
	RPCURL() string
	// Client is a client of RPCURL shared by all callers; Close closes it.
	Client() *ethclient.Client
	// ChainID is the chain's EIP-155 chain id.
	ChainID() *big.Int
	// Keys are the funded dev keys, the same DevKeys on every kind of chain.
	Keys() []*ecdsa.PrivateKey
	// Close stops the chain. It is safe to call more than once.
	Close() error
}

var (
	// ErrChainIDMismatch is returned when a data dir holds a chain whose chain
	// id differs from the one asked for. go-ethereum would silently adopt the
	// new id, because the chain config is not part of the genesis hash.
	ErrChainIDMismatch = errors.New("testnet: chain id mismatch")

	// ErrChainConfigMismatch is returned when a data dir holds a chain with the
	// same chain id but other fork rules than the ones asked for. go-ethereum
	// would rewrite the stored rules, or rewind the chain to apply them.
	ErrChainConfigMismatch = errors.New("testnet: chain config mismatch")

	// ErrGenesisMismatch is returned when a data dir holds a chain that was
	// started with other funded accounts (so another genesis block).
	ErrGenesisMismatch = errors.New("testnet: genesis mismatch")

	// ErrGethVersion is returned when a geth binary is not of the go-ethereum
	// version this package is built with.
	ErrGethVersion = errors.New("testnet: wrong geth version")

	// ErrGethExited is returned when the geth process ends while it is started
	// or waited for.
	ErrGethExited = errors.New("testnet: geth exited")
)

// DefaultKeys is the number of dev keys a chain funds when its config says 0.
const DefaultKeys = 4

// DevBalance is what the genesis (or, on geth, the faucet) gives each funded
// account: one million ether.
var DevBalance = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))

// devKeySeed seeds the dev keys. It is public on purpose: the keys are for
// tests only and must be the same in every run, so they are never secret.
const devKeySeed = "credanchor/testnet dev key"

// DevKeys returns n deterministic private keys: the i-th is derived from
// keccak256(seed || i), so every run and every kind of chain funds the same
// addresses. They are public test keys; never use them for anything of value.
func DevKeys(n int) []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, 0, n)
	var buf [8]byte
	for ctr := uint64(0); len(keys) < n; ctr++ {
		binary.BigEndian.PutUint64(buf[:], ctr)
		// A hash is a valid secp256k1 scalar except with negligible
		// probability; the counter simply moves on when it is not.
		key, err := crypto.ToECDSA(crypto.Keccak256([]byte(devKeySeed), buf[:]))
		if err != nil {
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// keyCount applies the documented zero value of a Keys field.
func keyCount(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("testnet: negative key count %d", n)
	case n == 0:
		return DefaultKeys, nil
	}
	return n, nil
}

// fundedAddresses lists the addresses of keys followed by extra, without
// duplicates, in a stable order.
func fundedAddresses(keys []*ecdsa.PrivateKey, extra []common.Address) []common.Address {
	seen := make(map[common.Address]bool, len(keys)+len(extra))
	addrs := make([]common.Address, 0, len(keys)+len(extra))
	add := func(a common.Address) {
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	for _, k := range keys {
		add(crypto.PubkeyToAddress(k.PublicKey))
	}
	for _, a := range extra {
		add(a)
	}
	return addrs
}

// receiptPoll is how often waitReceipt asks for a receipt. Dev chains mine a
// transaction in milliseconds, so a short interval keeps tests fast.
const receiptPoll = 25 * time.Millisecond

// txIndexingMsg is the JSON-RPC error go-ethereum returns for a receipt or a
// transaction while its indexer has not caught up with the newest block,
// which on a dev chain happens for a moment after each block.
const txIndexingMsg = "transaction indexing is in progress"

// waitReceipt polls for the receipt of hash until it exists or ctx ends.
func waitReceipt(ctx context.Context, c *ethclient.Client, hash common.Hash) (*types.Receipt, error) {
	t := time.NewTicker(receiptPoll)
	defer t.Stop()
	for {
		r, err := c.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), txIndexingMsg) {
			return nil, fmt.Errorf("testnet: receipt of %s: %w", hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("testnet: waiting for receipt of %s: %w", hash, ctx.Err())
		case <-t.C:
		}
	}
}
