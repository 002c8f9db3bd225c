// Package testnet provides real go-ethereum dev chains for tests, benchmarks
// and the devnet command: an in-process geth dev node serving JSON-RPC on
// loopback (New, DevChain), and a real `geth --dev` process built from the
// go-ethereum version pinned in go.mod (StartGeth, Geth). Both satisfy Chain
// and fund the same deterministic DevKeys, so a test can run against either.
//
// The two differ in their rules. DevChain runs ChainConfig: Prague and Osaka,
// with Bogota's state repricing off, chain id ChainID. Geth runs go-ethereum's
// own dev rules, with Bogota on, chain id GethChainID (1337).
//
// Both mine a block as soon as a transaction arrives, and no block without
// one. DevChain's miner takes no tip below 0.001 gwei, and its pool refuses
// such a transaction when it is sent; geth --dev takes a tip of 1 wei. For a moment
// after each block, go-ethereum answers a receipt query with the error
// "transaction indexing is in progress": poll on, as for a receipt not found.
//
// A DevChain on disk (Config.DataDir) survives Close, and a SIGKILL of its
// process too, minus at most the few newest blocks.
//
// # The geth binary
//
// StartGeth runs the geth that BuildGeth finds: $CREDANCHOR_GETH (GethEnv)
// when set, which must report GethVersion; otherwise
// $XDG_CACHE_HOME/credanchor/geth-<version>/geth (~/.cache/... when
// XDG_CACHE_HOME is unset; see GethCachePath), which it builds on first use
// with `go install github.com/ethereum/go-ethereum/cmd/geth@<version>`, under
// a file lock so that concurrent test binaries build it once. The build takes
// a few minutes; a CI script can do it beforehand:
//
//	GOBIN=$HOME/.cache/credanchor/geth-v1.17.10 go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10
//
// A test that needs geth fails, rather than skips, when no geth can be had.
package testnet
