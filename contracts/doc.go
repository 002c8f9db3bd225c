// Package contracts holds credanchor's Solidity contracts, their compiled ABI
// and bytecode, and their abigen v2 Go bindings, one folder per contract
// (registry: the consortium registry of members, node keys, batch anchors and
// status list anchors).
//
// The artifacts are generated and committed; never edit them by hand. To
// rebuild them, byte for byte, with the solc version pinned in package.json:
//
//	npm ci --prefix contracts
//	go generate ./contracts
//
// TestArtifactsUpToDate fails when the committed artifacts differ from a fresh
// build.
package contracts

//go:generate go run ./internal/cmd/gen
