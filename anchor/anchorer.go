package anchor

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/credanchor/credanchor/contracts/registry"
	"github.com/credanchor/credanchor/store"
)

// Defaults for the zero values of Config.
const (
	DefaultConfirmations = 1
	DefaultPollInterval  = time.Second
	DefaultReorgWindow   = 128
	DefaultMaxAttempts   = 5
	DefaultMaxBackoff    = 30 * time.Second
)

var (
	// DefaultMaxFeePerGas caps what one anchor may pay per gas: 500 gwei.
	DefaultMaxFeePerGas = big.NewInt(500_000_000_000)
	// DefaultMinTip is go-ethereum's default miner minimum tip (0.001 gwei):
	// lower tips are never mined.
	DefaultMinTip = big.NewInt(1_000_000)
)

var (
	// ErrFeeCapExceeded: the chain's base fee is above Config.MaxFeePerGas,
	// so the anchor waits.
	ErrFeeCapExceeded = errors.New("anchor: base fee above the configured fee cap")
	// ErrNotAuthorized: the registry does not accept anchors from the node key.
	ErrNotAuthorized = errors.New("anchor: node key is not authorised by an active member")
)

// Backend is what the Anchorer needs of a chain RPC; *ethclient.Client and
// the simulated backend's client provide it.
type Backend interface {
	bind.Backend
	ChainID(ctx context.Context) (*big.Int, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
}

// BatchStore is the part of store.Store the Anchorer uses.
type BatchStore interface {
	Batch(root [32]byte) (*store.Batch, error)
	BatchesInState(state store.BatchState) ([]*store.Batch, error)
	UpdateBatch(b *store.Batch) error
}

// Config configures an Anchorer.
type Config struct {
	// Backend is the chain RPC. Required.
	Backend Backend
	// Store holds the batches; the Anchorer anchors every batch in
	// BatchPending and moves it to BatchConfirmed. Required.
	Store BatchStore
	// Registry is the address of the registry contract. Required.
	Registry common.Address
	// Key is the node key that signs anchor transactions; the registry must
	// list it as authorised by an active member. Required.
	Key *ecdsa.PrivateKey
	// Confirmations is how many blocks, counting the anchor's own, must be
	// on the canonical chain before a batch counts as confirmed. Zero means
	// DefaultConfirmations.
	Confirmations uint64
	// UseFinalized confirms a batch once the chain's finalized block reaches
	// the anchor's block instead of counting Confirmations.
	UseFinalized bool
	// ReorgWindow is how many blocks below the head confirmed anchors are
	// re-checked on every pass; all of them are re-checked once on start.
	// Zero means DefaultReorgWindow.
	ReorgWindow uint64
	// MaxFeePerGas caps the fee per gas of an anchor. Nil means
	// DefaultMaxFeePerGas.
	MaxFeePerGas *big.Int
	// MinTip is the least priority fee offered. Nil means DefaultMinTip.
	MinTip *big.Int
	// PollInterval is the time between passes. Zero means DefaultPollInterval.
	PollInterval time.Duration
	// MaxAttempts is how many anchor transactions may fail on chain for one
	// batch before it is marked failed. Zero means DefaultMaxAttempts.
	MaxAttempts int
	// OnConfirmed, if set, is called after a batch is durably confirmed.
	OnConfirmed func(*store.Batch)
	// OnReorged, if set, is called after a confirmed batch lost its block
	// and went back to pending.
	OnReorged func(*store.Batch)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Anchorer anchors batch roots in the registry and follows each anchor to a
// confirmed canonical block. All of its state lives in the store and on
// chain, so a restarted Anchorer resumes where the last one stopped: it
// recognises anchors sent before a crash by their root on chain, never sends
// a second anchor for a root the chain holds, and re-checks that confirmed
// anchors are still canonical.
type Anchorer struct {
	cfg      Config
	from     common.Address
	reg      *registry.Registry
	log      *slog.Logger
	wake     chan struct{}
	mu       sync.Mutex // serialises passes
	chainID  *big.Int
	signer   types.Signer
	started  bool // the first pass, which re-checks every confirmed anchor, is done
	metricMu sync.Mutex
	gasSpent uint64
}

// New checks cfg and returns an Anchorer. It does not touch the chain.
func New(cfg Config) (*Anchorer, error) {
	switch {
	case cfg.Backend == nil:
		return nil, errors.New("anchor: Config.Backend is required")
	case cfg.Store == nil:
		return nil, errors.New("anchor: Config.Store is required")
	case cfg.Key == nil:
		return nil, errors.New("anchor: Config.Key is required")
	case cfg.Registry == (common.Address{}):
		return nil, errors.New("anchor: Config.Registry is required")
	}
	if cfg.Confirmations == 0 {
		cfg.Confirmations = DefaultConfirmations
	}
	if cfg.ReorgWindow == 0 {
		cfg.ReorgWindow = DefaultReorgWindow
	}
	if cfg.MaxFeePerGas == nil {
		cfg.MaxFeePerGas = DefaultMaxFeePerGas
	}
	if cfg.MinTip == nil {
		cfg.MinTip = DefaultMinTip
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Anchorer{
		cfg:  cfg,
		from: crypto.PubkeyToAddress(cfg.Key.PublicKey),
		reg:  registry.NewRegistry(),
		log:  cfg.Logger.With("component", "anchorer"),
		wake: make(chan struct{}, 1),
	}, nil
}

// Address is the node key's address, which sends the anchors.
func (a *Anchorer) Address() common.Address { return a.from }

// GasSpent is the gas used by every anchor transaction this Anchorer saw
// confirmed since it started.
func (a *Anchorer) GasSpent() uint64 {
	a.metricMu.Lock()
	defer a.metricMu.Unlock()
	return a.gasSpent
}

// Notify wakes Run for a pass now, for example after a new batch was stored.
func (a *Anchorer) Notify() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run makes passes until ctx ends, one every PollInterval or on Notify. A
// failed pass (the RPC is down, say) is retried with exponential backoff up
// to DefaultMaxBackoff. Run returns ctx's error.
func (a *Anchorer) Run(ctx context.Context) error {
	backoff := a.cfg.PollInterval
	for {
		wait := a.cfg.PollInterval
		if err := a.Step(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.log.WarnContext(ctx, "anchor pass failed", slog.Any("error", err), slog.Duration("retry", backoff))
			wait = backoff
			backoff = min(2*backoff, DefaultMaxBackoff)
		} else {
			backoff = a.cfg.PollInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-a.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// chainView is what one pass knows of the chain.
type chainView struct {
	head      *types.Header
	finalized uint64         // zero when unknown or unused
	member    common.Address // the member the node key anchors for
	active    bool           // whether the key may anchor now
	nonce     uint64
}

// keyActive is the registry's KeyState.Active.
const keyActive = 1

// Step makes one pass: re-check confirmed anchors near the head (all of them
// on the first pass), follow sent anchors, and send anchors for pending
// batches. Tests drive it directly.
func (a *Anchorer) Step(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.chainID == nil {
		id, err := a.cfg.Backend.ChainID(ctx)
		if err != nil {
			return fmt.Errorf("anchor: chain id: %w", err)
		}
		a.chainID = id
		a.signer = types.LatestSignerForChainID(id)
	}
	view, err := a.view(ctx)
	if err != nil {
		return err
	}
	if err := a.recheckConfirmed(ctx, view); err != nil {
		return err
	}
	a.started = true
	sent, err := a.cfg.Store.BatchesInState(store.BatchSent)
	if err != nil {
		return err
	}
	slices.SortFunc(sent, func(x, y *store.Batch) int { return cmp.Compare(x.Nonce, y.Nonce) })
	for _, b := range sent {
		if err := a.followSent(ctx, view, b); err != nil {
			return err
		}
	}
	pending, err := a.cfg.Store.BatchesInState(store.BatchPending)
	if err != nil {
		return err
	}
	slices.SortFunc(pending, func(x, y *store.Batch) int { return x.CreatedAt.Compare(y.CreatedAt) })
	for _, b := range pending {
		if err := a.send(ctx, view, b); err != nil {
			return err
		}
	}
	return nil
}

func (a *Anchorer) view(ctx context.Context) (*chainView, error) {
	head, err := a.cfg.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("anchor: head: %w", err)
	}
	v := &chainView{head: head}
	if a.cfg.UseFinalized {
		fin, err := a.cfg.Backend.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
		if err != nil && !errors.Is(err, ethereum.NotFound) {
			return nil, fmt.Errorf("anchor: finalized block: %w", err)
		}
		if fin != nil {
			v.finalized = fin.Number.Uint64()
		}
	}
	k, err := a.keyOf(ctx)
	if err != nil {
		return nil, err
	}
	v.member = k.Member
	v.active = k.State == keyActive
	v.nonce, err = a.cfg.Backend.PendingNonceAt(ctx, a.from)
	if err != nil {
		return nil, fmt.Errorf("anchor: nonce: %w", err)
	}
	return v, nil
}

// keyOf asks the registry whose key the node key is, and its state.
func (a *Anchorer) keyOf(ctx context.Context) (registry.KeyOfOutput, error) {
	out, err := call(ctx, a.cfg.Backend, a.cfg.Registry, a.reg.PackKeyOf(a.from), nil)
	if err != nil {
		return registry.KeyOfOutput{}, fmt.Errorf("anchor: keyOf: %w", err)
	}
	k, err := a.reg.UnpackKeyOf(out)
	if err != nil {
		return registry.KeyOfOutput{}, fmt.Errorf("anchor: keyOf answer: %w", err)
	}
	return k, nil
}

// confirmedAt reports whether an anchor in block number n is confirmed.
func (a *Anchorer) confirmedAt(v *chainView, n uint64) bool {
	if a.cfg.UseFinalized {
		return v.finalized >= n && v.finalized > 0
	}
	h := v.head.Number.Uint64()
	return h >= n && h-n+1 >= a.cfg.Confirmations
}

// onChain is the registry's record of a root.
type onChain struct {
	member common.Address
	block  uint64
	size   uint64
}

func (a *Anchorer) anchorOf(ctx context.Context, root [32]byte) (onChain, error) {
	out, err := call(ctx, a.cfg.Backend, a.cfg.Registry, a.reg.PackAnchorOf(root), nil)
	if err != nil {
		return onChain{}, fmt.Errorf("anchor: anchorOf: %w", err)
	}
	r, err := a.reg.UnpackAnchorOf(out)
	if err != nil {
		return onChain{}, fmt.Errorf("anchor: anchorOf answer: %w", err)
	}
	return onChain{member: r.Member, block: r.BlockNumber, size: r.Size}, nil
}

// recheckConfirmed moves back to pending every confirmed batch whose anchor
// is no longer on the canonical chain, checking those within ReorgWindow of
// the head (all of them on the first pass after start, because a dev chain
// killed with the node can lose its newest blocks).
func (a *Anchorer) recheckConfirmed(ctx context.Context, v *chainView) error {
	confirmed, err := a.cfg.Store.BatchesInState(store.BatchConfirmed)
	if err != nil {
		return err
	}
	head := v.head.Number.Uint64()
	for _, b := range confirmed {
		// Another member's batch is its anchorer's to follow.
		if b.Foreign || a.started && b.BlockNumber+a.cfg.ReorgWindow < head {
			continue
		}
		canonical := false
		if b.BlockNumber <= head {
			h, err := a.cfg.Backend.HeaderByNumber(ctx, new(big.Int).SetUint64(b.BlockNumber))
			if err != nil && !errors.Is(err, ethereum.NotFound) {
				return fmt.Errorf("anchor: block %d: %w", b.BlockNumber, err)
			}
			canonical = err == nil && h.Hash() == common.Hash(b.BlockHash)
		}
		if canonical {
			continue
		}
		a.log.WarnContext(ctx, "anchor left the canonical chain", slog.String("root", hexs(b.Root)),
			slog.Uint64("block", b.BlockNumber), slog.String("tx", hexs(b.TxHash)))
		// The batch is unanchored again. Its transaction may come back
		// from the pool or be re-broadcast; followSent sends a new one if
		// its nonce is gone.
		b.State = store.BatchSent
		if len(b.RawTx) == 0 {
			b.State = store.BatchPending
		}
		b.BlockNumber, b.BlockHash, b.BlockTime, b.GasUsed = 0, [32]byte{}, time.Time{}, 0
		if err := a.cfg.Store.UpdateBatch(b); err != nil {
			return err
		}
		if a.cfg.OnReorged != nil {
			a.cfg.OnReorged(b)
		}
	}
	return nil
}

// followSent follows a batch whose anchor transaction was sent: confirm it
// once deep enough, re-broadcast it if the chain lost it, or send again if
// its nonce was taken.
func (a *Anchorer) followSent(ctx context.Context, v *chainView, b *store.Batch) error {
	rcpt, err := a.cfg.Backend.TransactionReceipt(ctx, b.TxHash)
	switch {
	case err == nil && rcpt.Status == types.ReceiptStatusSuccessful:
		return a.confirm(ctx, v, b, rcpt)
	case err == nil:
		return a.reverted(ctx, v, b)
	case isIndexing(err):
		return nil // the receipt exists but is not indexed yet; look next pass
	case !errors.Is(err, ethereum.NotFound):
		return fmt.Errorf("anchor: receipt of %x: %w", b.TxHash, err)
	}
	// No receipt: maybe another transaction anchored the root (one sent
	// before a crash whose record was lost, or re-mined after a reorg).
	oc, err := a.anchorOf(ctx, b.Root)
	if err != nil {
		return err
	}
	if oc.member != (common.Address{}) {
		return a.adopt(ctx, v, b, oc)
	}
	if _, _, err := a.cfg.Backend.TransactionByHash(ctx, b.TxHash); err == nil {
		return nil // still in the pool
	} else if !errors.Is(err, ethereum.NotFound) {
		return fmt.Errorf("anchor: transaction %x: %w", b.TxHash, err)
	}
	if len(b.RawTx) == 0 || b.Nonce < v.nonce {
		return a.toPending(ctx, b, "anchor transaction lost and its nonce is taken")
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(b.RawTx); err != nil {
		return a.toPending(ctx, b, "stored anchor transaction unreadable")
	}
	a.log.InfoContext(ctx, "re-broadcasting anchor", slog.String("root", hexs(b.Root)), slog.Uint64("nonce", b.Nonce))
	if err := a.cfg.Backend.SendTransaction(ctx, &tx); err != nil {
		if isNonceTaken(err) {
			return a.toPending(ctx, b, err.Error())
		}
		if !isKnownTx(err) {
			return fmt.Errorf("anchor: re-broadcast %x: %w", b.TxHash, err)
		}
	}
	return nil
}

func (a *Anchorer) toPending(ctx context.Context, b *store.Batch, why string) error {
	a.log.InfoContext(ctx, "anchor goes back to pending", slog.String("root", hexs(b.Root)), slog.String("reason", why))
	b.State = store.BatchPending
	return a.cfg.Store.UpdateBatch(b)
}

// reverted handles an anchor transaction that failed on chain.
func (a *Anchorer) reverted(ctx context.Context, v *chainView, b *store.Batch) error {
	oc, err := a.anchorOf(ctx, b.Root)
	if err != nil {
		return err
	}
	if oc.member != (common.Address{}) {
		return a.adopt(ctx, v, b, oc)
	}
	if b.Attempts >= a.cfg.MaxAttempts {
		return a.fail(ctx, b, fmt.Sprintf("anchor reverted %d times", b.Attempts))
	}
	return a.toPending(ctx, b, "anchor transaction reverted")
}

func (a *Anchorer) fail(ctx context.Context, b *store.Batch, why string) error {
	a.log.ErrorContext(ctx, "batch cannot be anchored", slog.String("root", hexs(b.Root)), slog.String("reason", why))
	b.State = store.BatchFailed
	b.Error = why
	return a.cfg.Store.UpdateBatch(b)
}

// adopt takes over an anchor the chain already holds for b's root.
func (a *Anchorer) adopt(ctx context.Context, v *chainView, b *store.Batch, oc onChain) error {
	if oc.member != v.member || oc.size != b.Size {
		return a.fail(ctx, b, fmt.Sprintf("root anchored by member %s with size %d", oc.member, oc.size))
	}
	logs, err := a.cfg.Backend.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(oc.block),
		ToBlock:   new(big.Int).SetUint64(oc.block),
		Addresses: []common.Address{a.cfg.Registry},
		Topics:    [][]common.Hash{{a.reg.GetABI().Events["Anchored"].ID}, {b.Root}},
	})
	if err != nil {
		return fmt.Errorf("anchor: logs of block %d: %w", oc.block, err)
	}
	if len(logs) == 0 {
		return fmt.Errorf("anchor: root %x anchored in block %d but no Anchored event there", b.Root, oc.block)
	}
	rcpt, err := a.cfg.Backend.TransactionReceipt(ctx, logs[0].TxHash)
	if err != nil {
		return fmt.Errorf("anchor: receipt of %x: %w", logs[0].TxHash, err)
	}
	a.log.InfoContext(ctx, "found anchor on chain", slog.String("root", hexs(b.Root)), slog.String("tx", logs[0].TxHash.Hex()))
	b.TxHash = logs[0].TxHash
	if b.State != store.BatchSent {
		b.State = store.BatchSent
		if err := a.cfg.Store.UpdateBatch(b); err != nil {
			return err
		}
	}
	return a.confirm(ctx, v, b, rcpt)
}

// confirm records a mined anchor once it has enough confirmations.
func (a *Anchorer) confirm(ctx context.Context, v *chainView, b *store.Batch, rcpt *types.Receipt) error {
	n := rcpt.BlockNumber.Uint64()
	if !a.confirmedAt(v, n) {
		return nil
	}
	h, err := a.cfg.Backend.HeaderByNumber(ctx, rcpt.BlockNumber)
	if err != nil {
		return fmt.Errorf("anchor: block %d: %w", n, err)
	}
	if h.Hash() != rcpt.BlockHash {
		return nil // the receipt is from a block being reorganised; look again next pass
	}
	b.State = store.BatchConfirmed
	b.TxHash = rcpt.TxHash
	b.BlockNumber = n
	b.BlockHash = rcpt.BlockHash
	b.BlockTime = time.Unix(int64(h.Time), 0).UTC()
	b.Member = v.member
	b.GasUsed = rcpt.GasUsed
	b.Error = ""
	if err := a.cfg.Store.UpdateBatch(b); err != nil {
		return err
	}
	a.metricMu.Lock()
	a.gasSpent += rcpt.GasUsed
	a.metricMu.Unlock()
	a.log.InfoContext(ctx, "batch anchored", slog.String("root", hexs(b.Root)), slog.Uint64("size", b.Size),
		slog.Uint64("block", n), slog.String("tx", rcpt.TxHash.Hex()), slog.Uint64("gas", rcpt.GasUsed))
	if a.cfg.OnConfirmed != nil {
		a.cfg.OnConfirmed(b)
	}
	return nil
}

// send anchors a pending batch: unless the chain already holds its root, it
// signs an anchor transaction, records it durably, and only then broadcasts.
func (a *Anchorer) send(ctx context.Context, v *chainView, b *store.Batch) error {
	oc, err := a.anchorOf(ctx, b.Root)
	if err != nil {
		return err
	}
	if oc.member != (common.Address{}) {
		return a.adopt(ctx, v, b, oc)
	}
	if !v.active {
		return fmt.Errorf("%w: %s", ErrNotAuthorized, a.from)
	}
	data := a.reg.PackAnchor(b.Root, b.Size)
	gas, err := a.cfg.Backend.EstimateGas(ctx, ethereum.CallMsg{From: a.from, To: &a.cfg.Registry, Data: data})
	if err != nil {
		return fmt.Errorf("anchor: estimate gas for %x: %w", b.Root, err)
	}
	tip, feeCap, err := a.fees(ctx, v)
	if err != nil {
		return err
	}
	tx, err := types.SignNewTx(a.cfg.Key, a.signer, &types.DynamicFeeTx{
		ChainID:   a.chainID,
		Nonce:     v.nonce,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		Gas:       gas + gas/4,
		To:        &a.cfg.Registry,
		Data:      data,
	})
	if err != nil {
		return fmt.Errorf("anchor: sign: %w", err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return fmt.Errorf("anchor: encode tx: %w", err)
	}
	b.State = store.BatchSent
	b.TxHash = tx.Hash()
	b.Nonce = v.nonce
	b.RawTx = raw
	b.Attempts++
	if err := a.cfg.Store.UpdateBatch(b); err != nil {
		return err
	}
	v.nonce++
	a.log.InfoContext(ctx, "sending anchor", slog.String("root", hexs(b.Root)), slog.Uint64("size", b.Size),
		slog.Uint64("nonce", tx.Nonce()), slog.String("tx", tx.Hash().Hex()))
	if err := a.cfg.Backend.SendTransaction(ctx, tx); err != nil && !isKnownTx(err) {
		// The transaction is recorded; the next pass re-broadcasts it or,
		// if its nonce was taken meanwhile, sends a new one.
		return fmt.Errorf("anchor: send %x: %w", tx.Hash(), err)
	}
	return nil
}

// fees picks EIP-1559 fees: the node's suggested tip (at least MinTip) and
// a fee cap of twice the base fee plus the tip, within MaxFeePerGas.
func (a *Anchorer) fees(ctx context.Context, v *chainView) (tip, feeCap *big.Int, err error) {
	tip, err = a.cfg.Backend.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("anchor: suggest tip: %w", err)
	}
	if tip.Cmp(a.cfg.MinTip) < 0 {
		tip = new(big.Int).Set(a.cfg.MinTip)
	}
	base := v.head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	if base.Cmp(a.cfg.MaxFeePerGas) >= 0 {
		return nil, nil, fmt.Errorf("%w: base fee %s, cap %s", ErrFeeCapExceeded, base, a.cfg.MaxFeePerGas)
	}
	feeCap = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	if feeCap.Cmp(a.cfg.MaxFeePerGas) > 0 {
		feeCap = new(big.Int).Set(a.cfg.MaxFeePerGas)
	}
	if room := new(big.Int).Sub(feeCap, base); tip.Cmp(room) > 0 {
		tip = room
	}
	return tip, feeCap, nil
}

// isNonceTaken reports a send refused because the nonce is already used on
// chain. Nodes report it only as text.
func isNonceTaken(err error) bool {
	return strings.Contains(err.Error(), "nonce too low")
}

// isIndexing reports go-ethereum's answer for a receipt in a block whose
// transactions are still being indexed, which it gives for a moment after
// every block.
func isIndexing(err error) bool {
	return strings.Contains(err.Error(), "transaction indexing is in progress")
}

// isKnownTx reports a send refused because the node already has the
// transaction, which is what a re-broadcast wants.
func isKnownTx(err error) bool {
	return strings.Contains(err.Error(), "already known")
}

func hexs[T ~[32]byte](h T) string { return common.Hash(h).Hex() }
