package anchor

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/contracts/registry"
)

// ErrStatusListNotAnchored: the registry holds no hash for the list.
var ErrStatusListNotAnchored = errors.New("anchor: status list not anchored")

// StatusListAnchor is the registry's record of a status list: the hash of
// its latest version and the block that recorded it.
type StatusListAnchor struct {
	Hash        [32]byte
	BlockNumber uint64
}

// AnchorStatusList records hash as the latest version of the status list
// listID of the member that nodeKey anchors for, and waits until it is mined.
func AnchorStatusList(ctx context.Context, backend Backend, reg common.Address, nodeKey *ecdsa.PrivateKey, listID, hash [32]byte) (*StatusListAnchor, error) {
	rcpt, err := Transact(ctx, backend, reg, nodeKey, registry.NewRegistry().PackAnchorStatusList(listID, hash))
	if err != nil {
		return nil, err
	}
	return &StatusListAnchor{Hash: hash, BlockNumber: rcpt.BlockNumber.Uint64()}, nil
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
