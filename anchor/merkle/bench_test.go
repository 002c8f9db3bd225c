package merkle

import "testing"

const benchLeaves = 1_000_000

var sink byte

// BenchmarkRootAndAllProofs1M measures what anchoring a batch costs: build
// the tree over a million digests, take the root, and produce every proof.
func BenchmarkRootAndAllProofs1M(b *testing.B) {
	digests := testDigests(benchLeaves)
	b.ReportAllocs()
	for b.Loop() {
		tr, err := New(digests)
		if err != nil {
			b.Fatal(err)
		}
		root := tr.Root()
		sink ^= root[0]
		for _, p := range tr.AllInclusionProofs() {
			sink ^= p[len(p)-1][0]
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
}

// BenchmarkInclusionProof measures one allocated proof from a 1M-leaf tree.
func BenchmarkInclusionProof(b *testing.B) {
	tr, err := New(testDigests(benchLeaves))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		p, err := tr.InclusionProof(i % benchLeaves)
		if err != nil {
			b.Fatal(err)
		}
		sink ^= p[0][0]
		i += 7919
	}
}

// BenchmarkVerifyInclusion measures checking one receipt-sized proof (20
// hashes, from a 1M-leaf tree).
func BenchmarkVerifyInclusion(b *testing.B) {
	digests := testDigests(benchLeaves)
	tr, err := New(digests)
	if err != nil {
		b.Fatal(err)
	}
	const index = 654_321
	p, err := tr.InclusionProof(index)
	if err != nil {
		b.Fatal(err)
	}
	root := tr.Root()
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyInclusion(index, benchLeaves, digests[index], p, root); err != nil {
			b.Fatal(err)
		}
	}
}
