package testnet

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Deadlines are generous: the machines running these tests are small and
// shared, and a deadline only bounds a poll, it asserts no speed.
const (
	chainTimeout = 2 * time.Minute
	// gethTimeout also covers a first build of geth.
	gethTimeout = 9 * time.Minute
)

// storeInitCode is contract creation code that writes 1 to storage slot 0 and
// deploys no code: PUSH1 1, PUSH1 0, SSTORE, STOP.
var storeInitCode = common.FromHex("0x6001600055" + "00")

// storeGasPrague is what storeInitCode costs under Prague/Osaka rules:
// 21000 transaction + 32000 creation + 72 calldata (4 non-zero bytes at 16,
// 2 zero at 4) + 2 init code word + 6 pushes + 22100 cold new slot.
const storeGasPrague = 75_180

func TestChains(t *testing.T) {
	t.Parallel()
	kinds := []struct {
		name    string
		timeout time.Duration
		start   func(context.Context) (Chain, error)
		chainID int64
		// bogota says whether the chain prices new state per EIP-8037.
		bogota bool
	}{
		{
			name:    "devchain",
			timeout: chainTimeout,
			start: func(ctx context.Context) (Chain, error) {
				return New(ctx, Config{})
			},
			chainID: ChainID,
		},
		{
			name:    "geth",
			timeout: gethTimeout,
			start: func(ctx context.Context) (Chain, error) {
				return StartGeth(ctx, GethConfig{})
			},
			chainID: GethChainID,
			bogota:  true,
		},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
			defer cancel()
			begin := time.Now()
			chain, err := k.start(ctx)
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			t.Logf("started in %v at %s", time.Since(begin).Round(time.Millisecond), chain.RPCURL())
			t.Cleanup(func() {
				if err := chain.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			if !strings.HasPrefix(chain.RPCURL(), "http://127.0.0.1:") {
				t.Errorf("RPCURL = %q, want http://127.0.0.1:PORT", chain.RPCURL())
			}
			if got := chain.ChainID(); got.Cmp(big.NewInt(k.chainID)) != 0 {
				t.Errorf("ChainID() = %v, want %d", got, k.chainID)
			}
			// Over HTTP, from a client of our own, not the shared one.
			c, err := ethclient.DialContext(ctx, chain.RPCURL())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if got, err := c.ChainID(ctx); err != nil || got.Cmp(big.NewInt(k.chainID)) != 0 {
				t.Errorf("eth_chainId = %v, %v; want %d", got, err, k.chainID)
			}
			keys := chain.Keys()
			if len(keys) != DefaultKeys {
				t.Fatalf("got %d keys, want %d", len(keys), DefaultKeys)
			}
			for i, key := range keys {
				addr := crypto.PubkeyToAddress(key.PublicKey)
				if bal, err := c.BalanceAt(ctx, addr, nil); err != nil || bal.Cmp(DevBalance) != 0 {
					t.Errorf("balance of key %d (%s) = %v, %v; want %v", i, addr, bal, err, DevBalance)
				}
			}

			to := common.HexToAddress("0x00000000000000000000000000000000c0ffee01")
			value := big.NewInt(1_234_567)
			r := sendTx(ctx, t, c, keys[0], &to, value, nil)
			if r.Status != types.ReceiptStatusSuccessful || r.GasUsed != 21_000 {
				t.Errorf("transfer receipt: status %d, gas %d; want 1, 21000", r.Status, r.GasUsed)
			}
			if bal, err := c.BalanceAt(ctx, to, nil); err != nil || bal.Cmp(value) != 0 {
				t.Errorf("recipient balance = %v, %v; want %v", bal, err, value)
			}

			r = sendTx(ctx, t, c, keys[1], nil, nil, storeInitCode)
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("storage write failed: %+v", r)
			}
			t.Logf("new storage slot costs %d gas (bogota %v)", r.GasUsed, k.bogota)
			if k.bogota && r.GasUsed <= storeGasPrague {
				t.Errorf("storage write used %d gas, want more than Prague's %d under Bogota", r.GasUsed, storeGasPrague)
			}
			if !k.bogota && r.GasUsed != storeGasPrague {
				t.Errorf("storage write used %d gas, want Prague's %d", r.GasUsed, storeGasPrague)
			}
		})
	}
}

// sendTx signs a dynamic fee transaction from key (a contract creation when
// to is nil), sends it, and waits for its receipt.
func sendTx(ctx context.Context, t *testing.T, c *ethclient.Client, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) *types.Receipt {
	t.Helper()
	tx := signTx(ctx, t, c, key, to, value, data)
	if err := c.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("send %s: %v", tx.Hash(), err)
	}
	r, err := waitReceipt(ctx, c, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signTx makes a dynamic fee transaction with the chain's suggested tip, which
// is never below the miner's minimum.
func signTx(ctx context.Context, t *testing.T, c *ethclient.Client, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) *types.Transaction {
	t.Helper()
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatalf("suggest tip: %v", err)
	}
	return signTxTip(ctx, t, c, key, to, value, data, tip)
}

func signTxTip(ctx context.Context, t *testing.T, c *ethclient.Client, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte, tip *big.Int) *types.Transaction {
	t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID, err := c.ChainID(ctx)
	if err != nil {
		t.Fatalf("chain id: %v", err)
	}
	nonce, err := c.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatalf("nonce of %s: %v", from, err)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if value == nil {
		value = new(big.Int)
	}
	gas := uint64(21_000)
	if to == nil || len(data) > 0 {
		gas = 200_000
	}
	tx := types.NewTx(&types.DynamicFeeTx{
		ChainID:   chainID,
		Nonce:     nonce,
		GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip),
		Gas:       gas,
		To:        to,
		Value:     value,
		Data:      data,
	})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(chainID), key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return signed
}

func TestDevKeys(t *testing.T) {
	t.Parallel()
	// The keys are pinned: tests and scripts elsewhere may rely on them.
	want := []common.Address{
		common.HexToAddress("0x7A3156032BC3c8d7802D122B96790dd46dCd69b5"),
		common.HexToAddress("0x903c28C093870BA495fa5425f979d79c3Cf570cB"),
	}
	keys := DevKeys(len(want))
	if len(keys) != len(want) {
		t.Fatalf("got %d keys, want %d", len(keys), len(want))
	}
	for i, k := range keys {
		if got := crypto.PubkeyToAddress(k.PublicKey); got != want[i] {
			t.Errorf("key %d address = %s, want %s", i, got, want[i])
		}
	}
	if len(DevKeys(0)) != 0 {
		t.Errorf("DevKeys(0) is not empty")
	}
}
