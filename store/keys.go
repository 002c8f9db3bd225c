package store

import (
	"bytes"
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
//	n/<subject>\0<hour:8><metric>\0<label>
//	                         a stats counter's count in one hour (stats.go): uint64, 8 bytes;
//	                         subject, metric and label are strings without NUL (\0 is one
//	                         NUL byte), hour counts hours since the Unix epoch (UTC)
//
// Status lists (status.go) are named by <list:5>, a purpose code (1 byte:
// 1 revocation, 2 suspension) and the list's number within its purpose (4
// bytes), so that "revocation-3" is 0x01 00000003 and every key of one list
// shares a fixed-length prefix:
//
//	l/<list:5>                          status list record (binary, statusListV1)
//	a/<list:5><index:8>                 an allocated index of the list (empty value)
//	o/<list:5><index:8>                 a status bit that is on (empty value); absent means off
//	x/<list:5><seq:8>                   status change record (binary, statusChangeV1), by list sequence
//	h/<digest:32><list:5><seq:8>        index of status changes by credential digest (empty value)
//	v/<list:5><version:8>               status list version record (binary, statusVersionV1)
//	e/<digest:32><list:5><index:8>      a status entry of an issued credential (empty value)
//
// Pathways (pathway.go):
//
//	p/<id>                              a pathway definition (JSON, as the node stored it)
//
// Integers are big-endian, so that key order is numeric order.
const (
	prefixBatch      = 'b'
	prefixDigests    = 'd'
	prefixBatchState = 's'
	prefixBatchTime  = 't'
	prefixCredential = 'c'
	prefixQueue      = 'q'
	prefixMeta       = 'm'
	prefixStats      = 'n'

	prefixStatusList    = 'l'
	prefixStatusAlloc   = 'a'
	prefixStatusBit     = 'o'
	prefixStatusChange  = 'x'
	prefixStatusHistory = 'h'
	prefixStatusVersion = 'v'
	prefixStatusEntry   = 'e'
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

// listRef names a status list inside keys: its purpose code and its number
// within the purpose.
type listRef struct {
	purpose purposeCode
	number  uint32
}

// listRefLen is the length of an encoded listRef in keys.
const listRefLen = 5

func (r listRef) append(b []byte) []byte {
	return binary.BigEndian.AppendUint32(append(b, byte(r.purpose)), r.number)
}

func statusListKey(r listRef) []byte {
	return r.append([]byte{prefixStatusList, '/'})
}

// statusListLower and statusListUpper bound every status list record.
var statusListLower, statusListUpper = []byte{prefixStatusList, '/'}, []byte{prefixStatusList, '/' + 1}

// listPrefixBounds returns the iterator bounds of every key of list r under
// prefix, whose keys are <prefix>/<list:5><8 bytes>: the upper bound is one
// byte longer than any of them and all 0xff, so above them all.
func listPrefixBounds(prefix byte, r listRef) (lower, upper []byte) {
	lower = r.append([]byte{prefix, '/'})
	return lower, append(append([]byte(nil), lower...), bytes.Repeat([]byte{0xff}, 9)...)
}

func listItemKey(prefix byte, r listRef, n uint64) []byte {
	return binary.BigEndian.AppendUint64(r.append([]byte{prefix, '/'}), n)
}

func statusAllocKey(r listRef, index uint64) []byte {
	return listItemKey(prefixStatusAlloc, r, index)
}

func statusBitKey(r listRef, index uint64) []byte {
	return listItemKey(prefixStatusBit, r, index)
}

func statusChangeKey(r listRef, seq uint64) []byte {
	return listItemKey(prefixStatusChange, r, seq)
}

func statusVersionKey(r listRef, version uint64) []byte {
	return listItemKey(prefixStatusVersion, r, version)
}

func statusHistoryKey(digest [32]byte, r listRef, seq uint64) []byte {
	k := r.append(append([]byte{prefixStatusHistory, '/'}, digest[:]...))
	return binary.BigEndian.AppendUint64(k, seq)
}

// statusHistoryBounds returns the iterator bounds of the status changes of
// digest.
func statusHistoryBounds(digest [32]byte) (lower, upper []byte) {
	lower = append([]byte{prefixStatusHistory, '/'}, digest[:]...)
	return lower, append(append([]byte(nil), lower...), bytes.Repeat([]byte{0xff}, listRefLen+8+1)...)
}

func statusEntryKey(digest [32]byte, r listRef, index uint64) []byte {
	k := append([]byte{prefixStatusEntry, '/'}, digest[:]...)
	return binary.BigEndian.AppendUint64(r.append(k), index)
}
