package registry_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/testnet"
)

// account is a funded test account with a deterministic key.
type account struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

func newAccount(tb testing.TB, name string) account {
	tb.Helper()
	seed := sha256.Sum256([]byte("credanchor test account " + name))
	key, err := crypto.ToECDSA(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return account{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// institution is a (would-be) member: its governance account, DID and name.
type institution struct {
	account
	did, name string
}

func newInstitution(tb testing.TB, name string) institution {
	tb.Helper()
	return institution{account: newAccount(tb, name), did: "did:web:" + name + ".example", name: name}
}

// chain is an in-process chain (ethclient/simulated) with a registry on it.
type chain struct {
	tb       testing.TB
	sim      *simulated.Backend
	client   simulated.Client
	chainID  *big.Int
	deployer account
	reg      *registry.Registry
	inst     *bind.BoundContract
	addr     common.Address
}

// newChain starts a simulated chain under cfg's fork rules
// (testnet.ChainConfig() when nil) with the deployer and every given account
// funded. The chain closes when the test ends.
func newChain(tb testing.TB, cfg *params.ChainConfig, funded ...account) *chain {
	tb.Helper()
	if cfg == nil {
		cfg = testnet.ChainConfig()
	}
	deployer := newAccount(tb, "deployer")
	fund := new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
	alloc := types.GenesisAlloc{deployer.addr: {Balance: fund}}
	for _, a := range funded {
		alloc[a.addr] = types.Account{Balance: fund}
	}
	sim := simulated.NewBackend(nil, func(_ *node.Config, ethConf *ethconfig.Config) {
		ethConf.Genesis = testnet.Genesis(cfg, alloc)
	})
	tb.Cleanup(func() { _ = sim.Close() })
	return &chain{
		tb:       tb,
		sim:      sim,
		client:   sim.Client(),
		chainID:  cfg.ChainID,
		deployer: deployer,
		reg:      registry.NewRegistry(),
	}
}

// deploy deploys a registry seeded with founders and threshold and makes it
// the chain's registry.
func (c *chain) deploy(founders []institution, threshold uint64) (*types.Receipt, error) {
	c.tb.Helper()
	addrs := []common.Address{}
	dids, names := []string{}, []string{}
	for _, f := range founders {
		addrs = append(addrs, f.addr)
		dids = append(dids, f.did)
		names = append(names, f.name)
	}
	input := c.reg.PackConstructor(addrs, dids, names, threshold)
	addr, tx, err := bind.DeployContract(c.opts(c.deployer), common.FromHex(registry.RegistryMetaData.Bin), c.client, input)
	if err != nil {
		return nil, err
	}
	c.sim.Commit()
	if _, err := bind.WaitDeployed(context.Background(), c.client, tx.Hash()); err != nil {
		return nil, err
	}
	rcpt, err := c.client.TransactionReceipt(context.Background(), tx.Hash())
	if err != nil {
		return nil, err
	}
	c.addr = addr
	c.inst = c.reg.Instance(c.client, addr)
	return rcpt, nil
}

// newRegistry is newChain plus a successful deploy.
func newRegistry(tb testing.TB, cfg *params.ChainConfig, founders []institution, threshold uint64, funded ...account) *chain {
	tb.Helper()
	for _, f := range founders {
		funded = append(funded, f.account)
	}
	c := newChain(tb, cfg, funded...)
	if _, err := c.deploy(founders, threshold); err != nil {
		tb.Fatalf("deploy: %v", err)
	}
	return c
}

func (c *chain) opts(from account) *bind.TransactOpts {
	opts := bind.NewKeyedTransactor(from.key, c.chainID)
	opts.Context = context.Background()
	return opts
}

// send submits calldata from an account, mines it and returns the receipt,
// failing the test if the transaction does not succeed.
func (c *chain) send(from account, data []byte) *types.Receipt {
	c.tb.Helper()
	rcpt, err := c.trySend(from, data)
	if err != nil {
		c.tb.Fatalf("transaction from %s: %v", from.addr, err)
	}
	return rcpt
}

// trySend is send returning the error instead. A revert shows up as the
// error of the gas estimation, before anything is mined.
func (c *chain) trySend(from account, data []byte) (*types.Receipt, error) {
	c.tb.Helper()
	// Gas is estimated against the latest block, so an SSTORE that writes
	// block.number over the value written in that very block looks like a
	// no-op (anchorStatusList updating a list twice in a row): leave a margin,
	// as a real client must.
	opts := c.opts(from)
	gas, err := c.client.EstimateGas(context.Background(), ethereum.CallMsg{From: from.addr, To: &c.addr, Data: data})
	if err != nil {
		return nil, err
	}
	opts.GasLimit = gas + gas/4
	tx, err := bind.Transact(c.inst, opts, data)
	if err != nil {
		return nil, err
	}
	c.sim.Commit()
	rcpt, err := bind.WaitMined(context.Background(), c.client, tx.Hash())
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return rcpt, fmt.Errorf("transaction reverted (gas limit %d, used %d)", tx.Gas(), rcpt.GasUsed)
	}
	return rcpt, nil
}

// revertOf decodes the custom error that err (from a call, a gas estimation
// or a deployment) carries.
func (c *chain) revertOf(err error) any {
	c.tb.Helper()
	if err == nil {
		c.tb.Fatal("got success, want a revert")
	}
	raw, ok := ethclient.RevertErrorData(err)
	if !ok || len(raw) < 4 {
		c.tb.Fatalf("got error %v, want a revert with a custom error", err)
	}
	got, err := c.reg.UnpackError(raw)
	if err != nil {
		c.tb.Fatalf("unpack revert %x: %v", raw, err)
	}
	return got
}

// wantRevert sends data from an account and checks that it reverts with the
// custom error want (a pointer to a binding error struct).
func (c *chain) wantRevert(from account, data []byte, want any) {
	c.tb.Helper()
	_, err := c.trySend(from, data)
	if got := c.revertOf(err); !reflect.DeepEqual(got, want) {
		c.tb.Errorf("revert: got %T%+v, want %T%+v", got, got, want, want)
	}
}

// call makes an eth_call at the latest block and unpacks the result.
func call[T any](c *chain, data []byte, unpack func([]byte) (T, error)) T {
	c.tb.Helper()
	v, err := bind.Call(c.inst, &bind.CallOpts{Context: context.Background()}, data, unpack)
	if err != nil {
		c.tb.Fatalf("call: %v", err)
	}
	return v
}

// callErr makes an eth_call that must revert and returns the decoded error.
func callErr[T any](c *chain, data []byte, unpack func([]byte) (T, error)) any {
	c.tb.Helper()
	_, err := bind.Call(c.inst, &bind.CallOpts{Context: context.Background()}, data, unpack)
	return c.revertOf(err)
}

// events returns every event of one kind the registry emitted in the block
// of rcpt (the whole chain when rcpt is nil) that matches topics.
func events[Ev bind.ContractEvent](c *chain, rcpt *types.Receipt, unpack func(*types.Log) (*Ev, error), topics ...[]any) []Ev {
	c.tb.Helper()
	opts := &bind.FilterOpts{Context: context.Background()}
	if rcpt != nil {
		n := rcpt.BlockNumber.Uint64()
		opts.Start, opts.End = n, &n
	}
	it, err := bind.FilterEvents(c.inst, opts, unpack, topics...)
	if err != nil {
		c.tb.Fatalf("filter events: %v", err)
	}
	defer it.Close()
	var out []Ev
	for it.Next() {
		out = append(out, *it.Value())
	}
	if err := it.Error(); err != nil {
		c.tb.Fatalf("filter events: %v", err)
	}
	return out
}

// hash32 returns a deterministic 32-byte value with no zero byte, so that its
// calldata cost is the same whatever the label (the worst case).
func hash32(label string) common.Hash {
	h := sha256.Sum256([]byte(label))
	return common.Hash(bytes.ReplaceAll(h[:], []byte{0}, []byte{1}))
}

// bindDeploy deploys the registry with raw constructor input.
func bindDeploy(c *chain, input []byte) (common.Address, *types.Transaction, error) {
	return bind.DeployContract(c.opts(c.deployer), common.FromHex(registry.RegistryMetaData.Bin), c.client, input)
}
