// Package node wires a credanchor node together: the store, the batcher, the
// anchorer, the HTTP API and the consortium's libp2p layer.
package node
