package store

import (
	"encoding/binary"
	"time"
)

// The key schema. Every key the store writes starts with one of these
// prefixes; nothing else lives in the database.
//
//	b/<root:32>              batch record (JSON-encoded Batch)
//	d/<root:32>              the batch's digests, in leaf order, concatenated (32 bytes each)
//	s/<state:1><root:32>     index of batches by state (empty value)
//	t/<created:8><root:32>   index of batches by creation time, Unix ns (empty value)
//	c/<digest:32>            credential record (JSON-encoded Credential)
//	q/<seq:8>                the pending queue: digests waiting for a batch, in arrival order
//	m/<name>                 node metadata (schema version, chain id, registry address)
const (
	prefixBatch      = 'b'
	prefixDigests    = 'd'
	prefixBatchState = 's'
	prefixBatchTime  = 't'
	prefixCredential = 'c'
	prefixQueue      = 'q'
	prefixMeta       = 'm'
)

// schemaVersion is stored under m/schema; Open refuses a database written by
// a newer schema.
const schemaVersion = 1

func batchKey(root [32]byte) []byte {
	return append([]byte{prefixBatch, '/'}, root[:]...)
}

func digestsKey(root [32]byte) []byte {
	return append([]byte{prefixDigests, '/'}, root[:]...)
}

func stateKey(state BatchState, root [32]byte) []byte {
	return append([]byte{prefixBatchState, '/', byte(state)}, root[:]...)
}

// statePrefixBounds returns the iterator bounds of every state index key of state.
func statePrefixBounds(state BatchState) (lower, upper []byte) {
	return []byte{prefixBatchState, '/', byte(state)}, []byte{prefixBatchState, '/', byte(state) + 1}
}

func metaKey(name string) []byte {
	return append([]byte{prefixMeta, '/'}, name...)
}

func credentialKey(digest [32]byte) []byte {
	return append([]byte{prefixCredential, '/'}, digest[:]...)
}

func queueKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixQueue, '/'}, seq)
}

// queueBounds are the iterator bounds of the whole pending queue.
var queueLower, queueUpper = []byte{prefixQueue, '/'}, []byte{prefixQueue, '/' + 1}

func timeKey(created time.Time, root [32]byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte{prefixBatchTime, '/'}, uint64(created.UnixNano()))
	return append(k, root[:]...)
}

// timeLower and timeUpper bound the batch time index.
var timeLower, timeUpper = []byte{prefixBatchTime, '/'}, []byte{prefixBatchTime, '/' + 1}
