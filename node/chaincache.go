package node

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/credanchor/credanchor/anchor"
)

// verifyCacheTTL is how long the node's verifications reuse what the chain
// said: a second, so that a busy node makes a few calls a second per
// anchored root and member rather than several per verification. An anchor
// is immutable once made (a reorg aside), and membership changes only by
// governance; a second is far below the confirmations a verifier waits.
const verifyCacheTTL = time.Second

// maxChainCache bounds the cached answers.
const maxChainCache = 1 << 14

// chainCache answers the read-only calls of verifications from a short
// cache: the chain id, eth_call at the latest block, the latest header,
// and headers by number. Anchoring never goes through it.
type chainCache struct {
	anchor.ChainReader
	ttl time.Duration

	mu      sync.Mutex
	chainID *big.Int
	calls   map[string]cachedCall
	head    *types.Header
	headAt  time.Time
	headers map[uint64]cachedHeader
}

type cachedCall struct {
	out []byte
	at  time.Time
}

type cachedHeader struct {
	h  *types.Header
	at time.Time
}

func newChainCache(c anchor.ChainReader, ttl time.Duration) *chainCache {
	return &chainCache{ChainReader: c, ttl: ttl, calls: make(map[string]cachedCall), headers: make(map[uint64]cachedHeader)}
}

// ChainID is asked once: a chain's id does not change under a node.
func (c *chainCache) ChainID(ctx context.Context) (*big.Int, error) {
	c.mu.Lock()
	id := c.chainID
	c.mu.Unlock()
	if id != nil {
		return new(big.Int).Set(id), nil
	}
	id, err := c.ChainReader.ChainID(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.chainID = new(big.Int).Set(id)
	c.mu.Unlock()
	return id, nil
}

// CallContract caches calls at the latest block (blockNumber nil).
func (c *chainCache) CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error) {
	if blockNumber != nil || call.To == nil {
		return c.ChainReader.CallContract(ctx, call, blockNumber)
	}
	key := string(call.To[:]) + string(call.Data)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.calls[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.out, nil
	}
	out, err := c.ChainReader.CallContract(ctx, call, nil)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.calls) >= maxChainCache {
		clear(c.calls)
	}
	c.calls[key] = cachedCall{out: out, at: now}
	c.mu.Unlock()
	return out, nil
}

// HeaderByNumber caches the latest header and headers by number.
func (c *chainCache) HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error) {
	now := time.Now()
	c.mu.Lock()
	if number == nil && c.head != nil && now.Sub(c.headAt) < c.ttl {
		h := c.head
		c.mu.Unlock()
		return h, nil
	}
	if number != nil && number.IsUint64() {
		if e, ok := c.headers[number.Uint64()]; ok && now.Sub(e.at) < c.ttl {
			c.mu.Unlock()
			return e.h, nil
		}
	}
	c.mu.Unlock()
	h, err := c.ChainReader.HeaderByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if number == nil {
		c.head, c.headAt = h, now
	} else if number.IsUint64() {
		if len(c.headers) >= maxChainCache {
			clear(c.headers)
		}
		c.headers[number.Uint64()] = cachedHeader{h: h, at: now}
	}
	c.mu.Unlock()
	return h, nil
}
