package node

import (
	"context"
	"fmt"

	"github.com/credanchor/credanchor/store"
)

// Batches returns up to limit of the node's batches, newest first.
func (n *Node) Batches(limit int) ([]*store.Batch, error) {
	bs, err := n.st.RecentBatches(limit)
	if err != nil {
		return nil, fmt.Errorf("node: list batches: %w", err)
	}
	return bs, nil
}

// ChainHead returns the number of the chain's latest block: a cheap probe
// that the chain RPC answers, for health checks.
func (n *Node) ChainHead(ctx context.Context) (uint64, error) {
	h, err := n.cfg.Chain.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("node: chain head: %w", err)
	}
	return h.Number.Uint64(), nil
}

// CheckStore returns nil while the node's store is open and readable, for
// health checks.
func (n *Node) CheckStore() error {
	if _, err := n.st.Meta("schema"); err != nil {
		return fmt.Errorf("node: store: %w", err)
	}
	return nil
}
