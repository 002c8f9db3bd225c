package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/store"
)

// Limits of GET /v1/batches.
const (
	defaultBatchLimit = 100
	maxBatchLimit     = 1000
)

// Batch is a batch as the API shows it: hashes and addresses as 0x-hex, the
// state by name, and the anchor fields only once they are set. The signed
// transaction itself stays inside the node.
type Batch struct {
	Root        merkle.Hash     `json:"root"`
	Size        uint64          `json:"size"`
	State       string          `json:"state"`
	CreatedAt   time.Time       `json:"createdAt"`
	TxHash      *common.Hash    `json:"txHash,omitempty"`
	Nonce       *uint64         `json:"nonce,omitempty"`
	BlockNumber uint64          `json:"blockNumber,omitempty"`
	BlockHash   *common.Hash    `json:"blockHash,omitempty"`
	BlockTime   *time.Time      `json:"blockTime,omitempty"`
	Member      *common.Address `json:"member,omitempty"`
	GasUsed     uint64          `json:"gasUsed,omitempty"`
	Attempts    int             `json:"attempts"`
	Error       string          `json:"error,omitempty"`
}

// BatchList answers GET /v1/batches.
type BatchList struct {
	Batches []Batch `json:"batches"`
}

func batchJSON(b *store.Batch) Batch {
	out := Batch{
		Root:        b.Root,
		Size:        b.Size,
		State:       b.State.String(),
		CreatedAt:   b.CreatedAt,
		BlockNumber: b.BlockNumber,
		GasUsed:     b.GasUsed,
		Attempts:    b.Attempts,
		Error:       b.Error,
	}
	if b.TxHash != ([32]byte{}) {
		tx, nonce := common.Hash(b.TxHash), b.Nonce
		out.TxHash, out.Nonce = &tx, &nonce
	}
	if b.BlockHash != ([32]byte{}) {
		h := common.Hash(b.BlockHash)
		out.BlockHash = &h
	}
	if !b.BlockTime.IsZero() {
		t := b.BlockTime
		out.BlockTime = &t
	}
	if b.Member != ([20]byte{}) {
		m := common.Address(b.Member)
		out.Member = &m
	}
	return out
}

// batches lists the newest batches; ?limit= (default 100) is capped at 1000.
func (s *Server) batches(w http.ResponseWriter, r *http.Request) error {
	limit := defaultBatchLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return problemErr(ptInvalidParameter, err, "limit %q is not a positive integer", truncate(v, 40))
		}
		limit = min(n, maxBatchLimit)
	}
	bs, err := s.node.Batches(limit)
	if err != nil {
		return err
	}
	out := BatchList{Batches: make([]Batch, len(bs))}
	for i, b := range bs {
		out.Batches[i] = batchJSON(b)
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// batch answers one batch by its root.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) error {
	root, err := pathHash(r, "root")
	if err != nil {
		return err
	}
	b, err := s.node.Batch(root)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, batchJSON(b))
	return nil
}
