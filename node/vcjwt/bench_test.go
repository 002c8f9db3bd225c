package vcjwt

import (
	"context"
	"testing"
)

func benchVerify(b *testing.B, tok string) {
	b.Helper()
	ctx := context.Background()
	keys := resolver()
	o := opts()
	if _, err := Verify(ctx, tok, keys, o); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(ctx, tok, keys, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, mustSign(b, sampleVC, edKey, edKid)) }

func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, mustSign(b, sampleVC, ecKey, ecKid)) }

func BenchmarkParse(b *testing.B) {
	tok := mustSign(b, sampleVC, edKey, edKid)
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignEdDSA(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign([]byte(sampleVC), edKey, edKid); err != nil {
			b.Fatal(err)
		}
	}
}
