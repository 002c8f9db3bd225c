package node

import (
	"runtime"
	"sync"
	"time"

	"github.com/credanchor/credanchor/anchor/merkle"
	"github.com/credanchor/credanchor/node/credential"
	"github.com/credanchor/credanchor/store"
)

// Item is one credential of a SubmitMany call.
type Item struct {
	Data []byte
	Form credential.Form
}

// ItemResult is the answer for one Item: a Submission, or why the
// credential was refused.
type ItemResult struct {
	Submission *Submission
	Err        error
}

// SubmitMany records many credentials in one synced write, which is what
// makes bulk submission fast: digests are computed on every core, then one
// fsync acknowledges them all. A malformed credential gets its own error
// and does not stop the others.
func (n *Node) SubmitMany(items []Item) []ItemResult {
	results := make([]ItemResult, len(items))
	digests := make([][32]byte, len(items))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(items))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				digests[i], results[i].Err = credential.Digest(items[i].Data, items[i].Form)
			}
		})
	}
	wg.Wait()

	var entries []store.NewCredential
	var idx []int
	for i, it := range items {
		if results[i].Err != nil {
			continue
		}
		issuer := ""
		if it.Form == credential.FormJSON {
			issuer = credential.Issuer(it.Data)
		}
		entries = append(entries, store.NewCredential{Digest: digests[i], Issuer: issuer})
		idx = append(idx, i)
	}
	if len(entries) == 0 {
		return results
	}
	recs, created, err := n.st.AddCredentials(entries, time.Now())
	if err != nil {
		for _, i := range idx {
			results[i].Err = err
		}
		return results
	}
	fresh := 0
	for k, i := range idx {
		if created[k] {
			fresh++
		}
		r, err := n.record(recs[k])
		if err != nil {
			results[i].Err = err
			continue
		}
		results[i].Submission = &Submission{Digest: merkle.Hash(digests[i]), Created: created[k], Record: r}
	}
	n.queued(fresh)
	n.stats.submitted.Add(time.Now(), uint64(fresh))
	return results
}

// queued accounts for k new digests in the queue and wakes the batcher when
// the queue was empty (the batch's clock starts) or a batch is full.
func (n *Node) queued(k int) {
	if k == 0 {
		return
	}
	n.metrics.submitted.Add(float64(k))
	n.mu.Lock()
	wake := n.pending == 0 || n.pending+k >= n.cfg.MaxBatchSize
	n.pending += k
	n.metrics.pending.Set(float64(n.pending))
	n.mu.Unlock()
	if wake {
		n.kick()
	}
}
