package anchor

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/credanchor/credanchor/contracts/registry"
)

// ErrTxFailed is returned when a registry transaction is mined but reverts.
var ErrTxFailed = errors.New("anchor: registry transaction failed")

// Member is an institution of the consortium as the registry records it.
type Member struct {
	Address common.Address
	DID     string
	Name    string
}

// DeployRegistry deploys a registry seeded with members and the number of
// member approvals that governance changes need, and waits until it is mined.
func DeployRegistry(ctx context.Context, backend Backend, deployer *ecdsa.PrivateKey, members []Member, threshold uint64) (common.Address, error) {
	opts, err := transactOpts(ctx, backend, deployer)
	if err != nil {
		return common.Address{}, err
	}
	addrs := make([]common.Address, len(members))
	dids := make([]string, len(members))
	names := make([]string, len(members))
	for i, m := range members {
		addrs[i], dids[i], names[i] = m.Address, m.DID, m.Name
	}
	input := registry.NewRegistry().PackConstructor(addrs, dids, names, threshold)
	addr, tx, err := bind.DeployContract(opts, common.FromHex(registry.RegistryMetaData.Bin), backend, input)
	if err != nil {
		return common.Address{}, fmt.Errorf("anchor: deploy registry: %w", err)
	}
	if _, err := waitSuccess(ctx, backend, tx); err != nil {
		return common.Address{}, fmt.Errorf("anchor: deploy registry: %w", err)
	}
	return addr, nil
}

// AuthorizeKey has member authorise nodeKey to anchor for it.
func AuthorizeKey(ctx context.Context, backend Backend, reg common.Address, member *ecdsa.PrivateKey, nodeKey common.Address) error {
	_, err := Transact(ctx, backend, reg, member, registry.NewRegistry().PackAuthorizeKey(nodeKey))
	return err
}

// Transact sends a registry call signed by key and waits until it is mined
// successfully.
func Transact(ctx context.Context, backend Backend, reg common.Address, key *ecdsa.PrivateKey, data []byte) (*types.Receipt, error) {
	opts, err := transactOpts(ctx, backend, key)
	if err != nil {
		return nil, err
	}
	// eth_estimateGas runs against the latest block, where rewriting a
	// slot that block wrote (a status list's block number, say) looks
	// cheaper than it will be in the next one: leave a margin.
	gas, err := backend.EstimateGas(ctx, ethereum.CallMsg{From: opts.From, To: &reg, Data: data})
	if err != nil {
		return nil, fmt.Errorf("anchor: registry transaction: %w", err)
	}
	opts.GasLimit = gas + gas/4
	tx, err := bind.Transact(registry.NewRegistry().Instance(backend, reg), opts, data)
	if err != nil {
		return nil, fmt.Errorf("anchor: registry transaction: %w", err)
	}
	return waitSuccess(ctx, backend, tx)
}

func transactOpts(ctx context.Context, backend Backend, key *ecdsa.PrivateKey) (*bind.TransactOpts, error) {
	id, err := backend.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("anchor: chain id: %w", err)
	}
	opts := bind.NewKeyedTransactor(key, id)
	opts.Context = ctx
	return opts, nil
}

func waitSuccess(ctx context.Context, backend bind.DeployBackend, tx *types.Transaction) (*types.Receipt, error) {
	rcpt, err := bind.WaitMined(ctx, backend, tx.Hash())
	if err != nil {
		return nil, fmt.Errorf("anchor: wait for %s: %w", tx.Hash(), err)
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return rcpt, fmt.Errorf("%w: %s", ErrTxFailed, tx.Hash())
	}
	return rcpt, nil
}
