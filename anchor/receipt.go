package anchor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/contracts/registry"
)

// ReceiptType and ReceiptVersion identify the receipt format of DESIGN.md.
const (
	ReceiptType    = "CredanchorReceipt"
	ReceiptVersion = 1
)

// MaxReceiptSize bounds the bytes ParseReceipt reads: a receipt for a tree
// of 2^64 leaves is under 6 KiB.
const MaxReceiptSize = 16 << 10

// maxPath is the longest audit path of any tree with a uint64 size.
const maxPath = 64

var (
	// ErrMalformedReceipt is returned for a receipt that does not parse or
	// breaks the format's rules.
	ErrMalformedReceipt = errors.New("anchor: malformed receipt")
	// ErrDigestMismatch: the credential does not hash to the receipt's digest.
	ErrDigestMismatch = errors.New("anchor: credential digest does not match the receipt")
	// ErrNotAnchored: the chain has no anchor for the receipt's root.
	ErrNotAnchored = errors.New("anchor: root is not anchored on chain")
	// ErrWrongChain: the RPC serves another chain than the receipt names.
	ErrWrongChain = errors.New("anchor: chain id does not match the receipt")
	// ErrMemberMismatch: the chain says another member anchored the root.
	ErrMemberMismatch = errors.New("anchor: root was anchored by another member than the receipt names")
)

// Receipt is what a learner keeps with a credential: the RFC 9162 inclusion
// proof of its digest in an anchored batch, and where the batch root lives
// on chain. It is self-contained: with the credential and any RPC of the chain
// it verifies with one contract call.
type Receipt struct {
	Type        string         `json:"type"`
	Version     int            `json:"version"`
	Digest      merkle.Hash    `json:"digest"`
	LeafIndex   uint64         `json:"leafIndex"`
	TreeSize    uint64         `json:"treeSize"`
	Path        []merkle.Hash  `json:"path"`
	Root        merkle.Hash    `json:"root"`
	ChainID     uint64         `json:"chainId"`
	Contract    common.Address `json:"contract"`
	TxHash      common.Hash    `json:"txHash"`
	BlockNumber uint64         `json:"blockNumber"`
	Member      common.Address `json:"member"`
}

// AnchorInfo is where a batch was anchored: the fields every receipt of the
// batch shares.
type AnchorInfo struct {
	ChainID     uint64
	Contract    common.Address
	TxHash      common.Hash
	BlockNumber uint64
	Member      common.Address
}

// NewReceipt builds the receipt of the leaf at index of tree.
func NewReceipt(tree *merkle.Tree, index uint64, digest merkle.Hash, at AnchorInfo) (*Receipt, error) {
	path, err := tree.InclusionProof(index)
	if err != nil {
		return nil, fmt.Errorf("anchor: receipt for leaf %d: %w", index, err)
	}
	return &Receipt{
		Type:        ReceiptType,
		Version:     ReceiptVersion,
		Digest:      digest,
		LeafIndex:   index,
		TreeSize:    tree.Size(),
		Path:        path,
		Root:        tree.Root(),
		ChainID:     at.ChainID,
		Contract:    at.Contract,
		TxHash:      at.TxHash,
		BlockNumber: at.BlockNumber,
		Member:      at.Member,
	}, nil
}

// ParseReceipt decodes and checks a receipt: known type and version, no
// unknown fields, an index inside the tree, and a path of the length the
// index and size require whose hashes lead to the stated root.
func ParseReceipt(data []byte) (*Receipt, error) {
	if len(data) > MaxReceiptSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedReceipt, len(data), MaxReceiptSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Receipt
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedReceipt, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the receipt", ErrMalformedReceipt)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Check verifies everything about the receipt that needs no chain: its type
// and version, and that the path leads from the digest to the root.
func (r *Receipt) Check() error {
	switch {
	case r.Type != ReceiptType:
		return fmt.Errorf("%w: type %q, want %q", ErrMalformedReceipt, r.Type, ReceiptType)
	case r.Version != ReceiptVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrMalformedReceipt, r.Version, ReceiptVersion)
	case len(r.Path) > maxPath:
		return fmt.Errorf("%w: path of %d hashes, limit %d", ErrMalformedReceipt, len(r.Path), maxPath)
	case r.ChainID == 0:
		return fmt.Errorf("%w: chainId missing", ErrMalformedReceipt)
	case r.Contract == (common.Address{}):
		return fmt.Errorf("%w: contract missing", ErrMalformedReceipt)
	}
	if err := merkle.VerifyInclusion(r.LeafIndex, r.TreeSize, r.Digest, r.Path, r.Root); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedReceipt, err)
	}
	return nil
}

// ChainReader is what receipt verification needs of a chain RPC;
// *ethclient.Client provides it.
type ChainReader interface {
	ChainID(ctx context.Context) (*big.Int, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// Verification is the chain's answer for a receipt.
type Verification struct {
	Root   merkle.Hash
	Member common.Address
	// BlockNumber is the block that holds the anchor now. It differs from the
	// receipt's when the batch was anchored again after a reorg.
	BlockNumber   uint64
	BlockTime     uint64
	Confirmations uint64
}

// VerifyReceipt proves that digest is included in a batch anchored on chain,
// using only the chain: the receipt's path is checked locally, then one
// contract call (the registry's verifyInclusion, which recomputes the root
// with the SHA-256 precompile) says who anchored the root and in which
// block, and the head header gives the confirmations.
func VerifyReceipt(ctx context.Context, chain ChainReader, r *Receipt, digest merkle.Hash) (*Verification, error) {
	if digest != r.Digest {
		return nil, fmt.Errorf("%w: got %s, receipt has %s", ErrDigestMismatch, digest, r.Digest)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	id, err := chain.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("anchor: chain id: %w", err)
	}
	if !id.IsUint64() || id.Uint64() != r.ChainID {
		return nil, fmt.Errorf("%w: RPC serves chain %s, receipt names %d", ErrWrongChain, id, r.ChainID)
	}
	reg := registry.NewRegistry()
	path := make([][32]byte, len(r.Path))
	for i, h := range r.Path {
		path[i] = h
	}
	out, err := call(ctx, chain, r.Contract, reg.PackVerifyInclusion(r.Digest, r.LeafIndex, r.TreeSize, path), nil)
	if err != nil {
		return nil, fmt.Errorf("anchor: verifyInclusion: %w", err)
	}
	res, err := reg.UnpackVerifyInclusion(out)
	if err != nil {
		return nil, fmt.Errorf("anchor: verifyInclusion answer: %w", err)
	}
	if res.Member == (common.Address{}) {
		return nil, fmt.Errorf("%w: root %s", ErrNotAnchored, r.Root)
	}
	if merkle.Hash(res.Root) != r.Root {
		return nil, fmt.Errorf("%w: contract computed root %x, receipt has %s", ErrMalformedReceipt, res.Root, r.Root)
	}
	if res.Member != r.Member {
		return nil, fmt.Errorf("%w: chain says %s, receipt says %s", ErrMemberMismatch, res.Member, r.Member)
	}
	v := &Verification{Root: r.Root, Member: res.Member, BlockNumber: res.BlockNumber}
	head, err := chain.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("anchor: head: %w", err)
	}
	if n := head.Number.Uint64(); n >= v.BlockNumber {
		v.Confirmations = n - v.BlockNumber + 1
	}
	block, err := chain.HeaderByNumber(ctx, new(big.Int).SetUint64(v.BlockNumber))
	if err != nil {
		return nil, fmt.Errorf("anchor: block %d: %w", v.BlockNumber, err)
	}
	v.BlockTime = block.Time
	return v, nil
}

func call(ctx context.Context, c interface {
	CallContract(context.Context, ethereum.CallMsg, *big.Int) ([]byte, error)
}, to common.Address, data []byte, block *big.Int) ([]byte, error) {
	return c.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, block)
}
