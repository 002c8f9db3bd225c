package rdfc

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

func randDataset(r *rand.Rand) []Quad {
	nb := 1 + r.IntN(7)
	preds := []string{"http://ex/p", "http://ex/q"}
	lits := []Term{Literal("a", ""), Literal("a\u0001\b\t\n\f\r\"\\\u007f\u000b\u001fé", ""), LangLiteral("x", "en-US"), Literal("1", "http://ex/int"), Literal("s", XSDString)}
	iris := []Term{IRI("http://ex/s"), IRI("http://ex/o"), IRI("urn:x{y} z")}
	var qs []Quad
	nq := 1 + r.IntN(14)
	bn := func() Term { return BlankNode(fmt.Sprint("b", r.IntN(nb))) }
	for range nq {
		var q Quad
		if r.IntN(4) == 0 {
			q.Subject = iris[r.IntN(len(iris))]
		} else {
			q.Subject = bn()
		}
		q.Predicate = IRI(preds[r.IntN(len(preds))])
		switch r.IntN(5) {
		case 0:
			q.Object = lits[r.IntN(len(lits))]
		case 1:
			q.Object = iris[r.IntN(len(iris))]
		default:
			q.Object = bn()
		}
		switch r.IntN(6) {
		case 0:
			q.Graph = IRI("http://ex/g")
		case 1:
			q.Graph = bn()
		}
		qs = append(qs, q)
	}
	return qs
}

func TestZZGenDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		qs := randDataset(r)
		os.WriteFile(fmt.Sprintf("/tmp/rdfcdiff/%04d-in.nq", i), FormatNQuads(qs), 0o644)
		res, err := Canonicalize(qs, Options{MaxWork: -1, MaxDeepIterations: -1})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(fmt.Sprintf("/tmp/rdfcdiff/%04d-go.nq", i), res.NQuads, 0o644)
		mj, _ := json.Marshal(res.IssuedIdentifiers)
		os.WriteFile(fmt.Sprintf("/tmp/rdfcdiff/%04d-go.json", i), mj, 0o644)
	}
}
