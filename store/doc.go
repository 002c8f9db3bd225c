// Package store keeps a node's durable state in Pebble: batches of credential
// digests and their anchoring progress; the W3C Bitstring Status Lists
// the node keeps for its institution (status.go); and the hourly counters of
// its analytics (stats.go). Every write that the node acknowledges is synced
// before it returns; keys.go lists the whole key schema.
package store
