package anchor

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/credanchor/credanchor/contracts/registry"
)

// ErrStatusListNotAnchored: the registry holds no hash for the list.
var ErrStatusListNotAnchored = errors.New("anchor: status list not anchored")

// StatusListAnchor is the registry's record of a status list: the hash of
// its latest version and the block that recorded it.
type StatusListAnchor struct {
	Hash        [32]byte
	BlockNumber uint64
	// TxHash and GasUsed are set by the calls that send the anchor.
	TxHash  common.Hash
	GasUsed uint64
}

// AnchorStatusList records hash as the latest version of the status list
// listID of the member that nodeKey anchors for, and waits until it is mined.
func AnchorStatusList(ctx context.Context, backend Backend, reg common.Address, nodeKey *ecdsa.PrivateKey, listID, hash [32]byte) (*StatusListAnchor, error) {
	rcpt, err := Transact(ctx, backend, reg, nodeKey, registry.NewRegistry().PackAnchorStatusList(listID, hash))
	if err != nil {
		return nil, err
	}
	return &StatusListAnchor{Hash: hash, BlockNumber: rcpt.BlockNumber.Uint64(), TxHash: rcpt.TxHash, GasUsed: rcpt.GasUsed}, nil
}

// AnchorStatusList records hash as the latest version of the node's
// member's status list listID, and waits until the anchor is confirmed as
// the Anchorer's batches are. mined, if not nil, is called as soon as the
// transaction is in a block: from then on the chain names the new version,
// so the caller must serve it. It shares the Anchorer's key: the
// transaction takes its nonce while no batch is being sent, so the two
// never collide.
func (a *Anchorer) AnchorStatusList(ctx context.Context, listID, hash [32]byte, mined func(*StatusListAnchor) error) (*StatusListAnchor, error) {
	data := registry.NewRegistry().PackAnchorStatusList(listID, hash)
	tx, err := a.sendLocked(ctx, data)
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(a.cfg.PollInterval)
	defer t.Stop()
	// Polled at the Anchorer's pace rather than bind.WaitMined's second:
	// the caller must serve the new version as soon as the chain names it.
	var rcpt *types.Receipt
	for {
		rcpt, err = a.cfg.Backend.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			break
		}
		if !errors.Is(err, ethereum.NotFound) {
			return nil, fmt.Errorf("anchor: receipt of %s: %w", tx.Hash(), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return nil, fmt.Errorf("%w: %s", ErrTxFailed, tx.Hash())
	}
	n := rcpt.BlockNumber.Uint64()
	out := &StatusListAnchor{Hash: hash, BlockNumber: n, TxHash: rcpt.TxHash, GasUsed: rcpt.GasUsed}
	if mined != nil {
		if err := mined(out); err != nil {
			return nil, err
		}
	}
	for {
		v := &chainView{}
		if v.head, err = a.cfg.Backend.HeaderByNumber(ctx, nil); err != nil {
			return nil, fmt.Errorf("anchor: head: %w", err)
		}
		if a.cfg.UseFinalized {
			fin, err := a.cfg.Backend.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
			if err == nil && fin != nil {
				v.finalized = fin.Number.Uint64()
			}
		}
		if a.confirmedAt(v, n) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	// A reorg may have dropped the block meanwhile: the registry tells.
	k, err := a.keyOf(ctx)
	if err != nil {
		return nil, err
	}
	got, err := StatusList(ctx, a.cfg.Backend, a.cfg.Registry, k.Member, listID)
	if err != nil {
		return nil, err
	}
	if got.Hash != hash {
		return nil, fmt.Errorf("anchor: status list %x: the registry holds %x, not %x, after the anchor", listID, got.Hash, hash)
	}
	return out, nil
}

// Member is the consortium member the node key anchors for.
func (a *Anchorer) Member(ctx context.Context) (common.Address, error) {
	k, err := a.keyOf(ctx)
	return k.Member, err
}

// sendLocked signs and sends a registry call with the node key while no
// batch anchor is being sent.
func (a *Anchorer) sendLocked(ctx context.Context, data []byte) (*types.Transaction, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	opts, err := transactOpts(ctx, a.cfg.Backend, a.cfg.Key)
	if err != nil {
		return nil, err
	}
	gas, err := a.cfg.Backend.EstimateGas(ctx, ethereum.CallMsg{From: opts.From, To: &a.cfg.Registry, Data: data})
	if err != nil {
		return nil, fmt.Errorf("anchor: registry transaction: %w", err)
	}
	// See Transact: the estimate runs against the latest block.
	opts.GasLimit = gas + gas/4
	tx, err := bind.Transact(registry.NewRegistry().Instance(a.cfg.Backend, a.cfg.Registry), opts, data)
	if err != nil {
		return nil, fmt.Errorf("anchor: registry transaction: %w", err)
	}
	return tx, nil
}

// StatusList reads the latest anchored hash of member's status list listID.
// A verifier trusts a status list credential only if its hash is this one.
func StatusList(ctx context.Context, chain ChainReader, reg, member common.Address, listID [32]byte) (*StatusListAnchor, error) {
	r := registry.NewRegistry()
	out, err := call(ctx, chain, reg, r.PackStatusList(member, listID), nil)
	if err != nil {
		return nil, fmt.Errorf("anchor: statusList: %w", err)
	}
	s, err := r.UnpackStatusList(out)
	if err != nil {
		return nil, fmt.Errorf("anchor: statusList answer: %w", err)
	}
	if s.Hash == ([32]byte{}) {
		return nil, fmt.Errorf("%w: member %s list %x", ErrStatusListNotAnchored, member, listID)
	}
	return &StatusListAnchor{Hash: s.Hash, BlockNumber: s.BlockNumber}, nil
}
