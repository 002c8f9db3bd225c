package p2p

import (
	"testing"

	"github.com/credanchor/credanchor/anchor/merkle"
)

// BenchmarkGetDigests1M measures a catch-up of one batch of a million
// digests from a peer over loopback: request, 32 MiB of digests, and the
// RFC 9162 root check.
func BenchmarkGetDigests1M(b *testing.B) {
	const n = 1_000_000
	a, c := connectedPair(b, nil)
	root := addBatch(b, a.provider, n)
	ctx := testContext(b)
	b.SetBytes(n * merkle.HashSize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ds, err := c.GetDigests(ctx, a.ID(), root)
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) != n {
			b.Fatalf("got %d digests", len(ds))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "digests/s")
}
