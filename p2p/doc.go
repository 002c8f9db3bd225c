// Package p2p is the consortium's libp2p layer: a host per node, GossipSub
// announcements of anchored batches and status lists, and request/response
// protocols for sync and queries.
package p2p
