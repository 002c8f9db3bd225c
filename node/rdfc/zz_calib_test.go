package rdfc

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func stats(quads []Quad, opts Options) (int, int, error) {
	c := canonicalizer{size: 32, maxWork: limit(opts.MaxWork, DefaultMaxWork), maxDeep: limit(opts.MaxDeepIterations, DefaultMaxDeepIterations)}
	c.index(quads)
	err := c.label()
	mx := 0
	for _, n := range c.nodes {
		mx = max(mx, n.calls)
	}
	return c.work, mx, err
}

func clique(n int) []Quad {
	var qs []Quad
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				qs = append(qs, Quad{Subject: BlankNode(fmt.Sprint("n", i)), Predicate: IRI("http://ex/p"), Object: BlankNode(fmt.Sprint("n", j))})
			}
		}
	}
	return qs
}

func TestZZCalib(t *testing.T) {
	files, _ := filepath.Glob("testdata/rdf-canon/rdfc10/*-in.nq")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		q, _ := ParseNQuads(b)
		w, mx, err := stats(q, Options{MaxWork: -1, MaxDeepIterations: -1})
		if w > 0 {
			fmt.Println(filepath.Base(f), w, mx, err)
		}
	}
	for n := 2; n <= 10; n++ {
		st := time.Now()
		w, mx, err := stats(clique(n), Options{MaxWork: 5_000_000, MaxDeepIterations: -1})
		fmt.Println("clique", n, w, mx, err, time.Since(st))
	}
}

func list(n int) []Quad {
	var qs []Quad
	qs = append(qs, Quad{Subject: IRI("http://ex/s"), Predicate: IRI("http://ex/p"), Object: BlankNode("l0")})
	for i := 0; i < n; i++ {
		qs = append(qs, Quad{Subject: BlankNode(fmt.Sprint("l", i)), Predicate: IRI("http://www.w3.org/1999/02/22-rdf-syntax-ns#first"), Object: Literal("x", "")})
		rest := BlankNode(fmt.Sprint("l", i+1))
		if i == n-1 {
			rest = IRI("http://www.w3.org/1999/02/22-rdf-syntax-ns#nil")
		}
		qs = append(qs, Quad{Subject: BlankNode(fmt.Sprint("l", i)), Predicate: IRI("http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"), Object: rest})
	}
	return qs
}

func TestZZList(t *testing.T) {
	for _, n := range []int{10, 50, 100, 150, 200, 400, 1000} {
		st := time.Now()
		w, mx, err := stats(list(n), Options{MaxWork: 10_000_000, MaxDeepIterations: -1})
		fmt.Println("list", n, w, mx, err, time.Since(st))
	}
}

func TestZZDefaults(t *testing.T) {
	for _, n := range []int{5, 6, 7, 8, 10, 20} {
		st := time.Now()
		w, mx, err := stats(clique(n), Options{})
		fmt.Println("dclique", n, w, mx, err, time.Since(st))
	}
	for _, n := range []int{100, 130, 200, 1000, 5000} {
		st := time.Now()
		w, mx, err := stats(list(n), Options{})
		fmt.Println("dlist", n, w, mx, err, time.Since(st))
	}
}
