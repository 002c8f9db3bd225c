package testnet

import (
	"encoding/json"
	"math/big"

	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// ChainID is the chain id of every credanchor dev chain. It differs from
// geth's default 1337 so that a data dir reopened with another config (which
// geth does not detect, because the config is not part of the genesis hash)
// shows up as a chain id mismatch on start.
const ChainID = 0x4352 // "CR"

// GasLimit is the block gas limit of the dev chain genesis.
const GasLimit = 60_000_000

// ChainConfig returns the explicit fork rules of the dev chain: every fork up
// to Prague and Osaka, with Bogota (EIP-8037/8038 state repricing) and
// Amsterdam off. go-ethereum's default dev config turns Bogota on, which prices
// a new storage slot about three times higher than mainnet does.
func ChainConfig() *params.ChainConfig {
	cfg := copyConfig(params.AllDevChainProtocolChanges)
	cfg.ChainID = big.NewInt(ChainID)
	cfg.BogotaTime = nil
	cfg.AmsterdamTime = nil
	return cfg
}

// DefaultDevChainConfig returns go-ethereum's own `--dev` rules (Bogota on),
// with our chain id, for measurements that compare the two rule sets.
func DefaultDevChainConfig() *params.ChainConfig {
	cfg := copyConfig(params.AllDevChainProtocolChanges)
	cfg.ChainID = big.NewInt(ChainID)
	return cfg
}

// copyConfig returns a deep copy of src. A struct copy would share the fork
// times and the blob schedule, so a caller setting *cfg.OsakaTime would change
// go-ethereum's global dev config for the whole process. Every field has a
// JSON encoding, so a round trip copies them all.
func copyConfig(src *params.ChainConfig) *params.ChainConfig {
	if data, err := json.Marshal(src); err == nil {
		var cfg params.ChainConfig
		if err := json.Unmarshal(data, &cfg); err == nil {
			return &cfg
		}
	}
	shallow := *src // unreachable for a valid config
	return &shallow
}

// Genesis returns the dev chain genesis with the given accounts funded, the
// system contracts of the enabled forks in place, and cfg as its rules
// (ChainConfig when cfg is nil).
func Genesis(cfg *params.ChainConfig, alloc types.GenesisAlloc) *core.Genesis {
	if cfg == nil {
		cfg = ChainConfig()
	}
	all := core.SystemContractAllocs()
	for addr, acct := range alloc {
		all[addr] = acct
	}
	return &core.Genesis{
		Config:     cfg,
		GasLimit:   GasLimit,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0),
		Alloc:      all,
	}
}
