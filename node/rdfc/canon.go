package rdfc

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// HashAlgorithm is the hash function RDFC-1.0 runs with.
type HashAlgorithm uint8

// Hash algorithms. The zero value is SHA256, the RDFC-1.0 default.
const (
	SHA256 HashAlgorithm = iota
	SHA384
)

func (h HashAlgorithm) String() string {
	switch h {
	case SHA256:
		return "SHA-256"
	case SHA384:
		return "SHA-384"
	}
	return "HashAlgorithm(" + strconv.Itoa(int(h)) + ")"
}

const (
	// DefaultMaxWork is the default Options.MaxWork. A unit is about one
	// hash: one call of Hash N-Degree Quads, one related blank node hashed
	// in it, one permutation tried, or 64 issuer entries scanned; 100,000
	// units take about 20 ms. The W3C suite needs at most 5,662 (the poison
	// graphs test044–046), a typical credential none; a list of 100
	// identical items about 64,000, a clique of 8 blank nodes millions.
	DefaultMaxWork = 100_000

	// DefaultMaxDeepIterations is the default Options.MaxDeepIterations.
	// The W3C suite runs Hash N-Degree Quads at most 43 times for one blank
	// node (test044–046); symmetric data such as a list of n identical
	// items needs about n.
	DefaultMaxDeepIterations = 128
)

// Options tune Canonicalize. The zero value is the RDFC-1.0 default with
// the default limits.
type Options struct {
	// Hash is the hash algorithm; zero is SHA256.
	Hash HashAlgorithm

	// MaxWork bounds the total work of Hash N-Degree Quads (calls,
	// related blank nodes hashed, permutations tried). Zero means
	// DefaultMaxWork; negative means no limit, which only trusted input
	// may use.
	MaxWork int

	// MaxDeepIterations bounds how many times Hash N-Degree Quads may run
	// for any one blank node, top-level and recursive calls counted,
	// the per-node limit RDFC-1.0 §4.4.3 suggests. Zero means
	// DefaultMaxDeepIterations; negative means no limit.
	MaxDeepIterations int
}

// Result is a canonicalized dataset.
type Result struct {
	// NQuads is the canonical N-Quads document: each distinct quad on one
	// line under its canonical blank node labels, lines in code point
	// order, each ending in "\n".
	NQuads []byte

	// IssuedIdentifiers maps each input blank node label to its canonical
	// label ("c14n0", "c14n1", …), neither with "_:".
	IssuedIdentifiers map[string]string
}

// Canonicalize runs RDFC-1.0 on the dataset quads. Duplicate quads count
// once, as in an RDF dataset. Each quad must pass Validate. Datasets whose
// blank nodes are too symmetric to label within opts' limits fail with
// ErrWorkLimit.
func Canonicalize(quads []Quad, opts Options) (*Result, error) {
	c := pool.Get().(*canonicalizer)
	defer c.release()
	switch opts.Hash {
	case SHA256:
		c.size, c.sha384 = sha256.Size, false
	case SHA384:
		c.size, c.sha384 = sha512.Size384, true
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedHash, opts.Hash)
	}
	c.maxWork = limit(opts.MaxWork, DefaultMaxWork)
	c.maxDeep = limit(opts.MaxDeepIterations, DefaultMaxDeepIterations)
	if err := c.index(quads); err != nil {
		return nil, err
	}
	if err := c.label(); err != nil {
		return nil, err
	}
	return c.result(), nil
}

// pool recycles canonicalizers, whose scratch buffers would otherwise be
// most of the allocations of a call.
var pool = sync.Pool{New: func() any { return new(canonicalizer) }}

// maxPooledBytes keeps one huge dataset from pinning its buffers for ever.
const maxPooledBytes = 1 << 20

// release clears c, dropping every reference to the caller's data, and
// returns it to the pool.
func (c *canonicalizer) release() {
	if cap(c.buf) > maxPooledBytes || cap(c.buf2) > maxPooledBytes || cap(c.quads) > maxPooledBytes/32 {
		return
	}
	clear(c.quads)
	c.quads = c.quads[:0]
	for i := range c.nodes {
		c.nodes[i] = node{quads: c.nodes[i].quads[:0]}
	}
	c.nodes = c.nodes[:0]
	clear(c.ids)
	c.useIDs = false
	clear(c.seen)
	c.useSeen = false
	c.canonCount = 0
	c.canonOrder = c.canonOrder[:0]
	c.work = 0
	pool.Put(c)
}

func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return int(^uint(0) >> 1)
	}
	return v
}

// digest holds a SHA-256 or SHA-384 digest; canonicalizer.size says which.
type digest [sha512.Size384]byte

// iquad is a quad of the dataset with its blank nodes resolved to indexes
// into canonicalizer.nodes, -1 where the component is not a blank node.
type iquad struct {
	q       *Quad
	s, o, g int32
	esc     uint8 // escSubject… bits: components that need escaping
}

type node struct {
	label string
	quads []int32 // quads mentioning the node, in input order, each once
	h1    digest  // Hash First Degree Quads
	canon int32   // canonical number, -1 until issued
	calls int     // Hash N-Degree Quads calls for this node
}

type canonicalizer struct {
	sha384 bool
	size   int

	quads []iquad
	nodes []node

	ids     map[string]int32 // label to node, once there are many nodes
	useIDs  bool
	seen    map[Quad]struct{} // quads with blank nodes, once there are many
	useSeen bool

	canonCount int32
	canonOrder []int32 // nodes in the order canonical labels were issued
	order      []int32 // nodes by first degree hash

	work, maxWork, maxDeep int

	buf   []byte   // scratch for serialized lines
	buf2  []byte   // scratch for data to hash
	spans []span   // line positions in buf
	depth []*frame // per-recursion-depth scratch of Hash N-Degree Quads
}

type span struct{ start, end int32 }

func (c *canonicalizer) sum(data []byte) (d digest) {
	if c.sha384 {
		h := sha512.Sum384(data)
		copy(d[:], h[:])
	} else {
		h := sha256.Sum256(data)
		copy(d[:], h[:])
	}
	return d
}

func (c *canonicalizer) cmp(a, b *digest) int { return bytes.Compare(a[:c.size], b[:c.size]) }

// index validates quads and builds the blank node to quads map (RDFC-1.0
// §4.4.3 step 2), the blank nodes numbered in order of first appearance so
// that ties later break the way the reference implementations break them.
func (c *canonicalizer) index(quads []Quad) error {
	c.quads = slices.Grow(c.quads[:0], len(quads))
	for i := range quads {
		q := &quads[i]
		esc, err := validateQuad(q)
		if err != nil {
			return fmt.Errorf("quad %d: %w", i, err)
		}
		iq := iquad{q: q, s: -1, o: -1, g: -1, esc: esc}
		// Only quads with blank nodes take part in hashing, so only
		// they are deduplicated here; duplicate ground quads become
		// equal adjacent lines of the sorted output, dropped there.
		if q.Subject.Kind == KindBlankNode || q.Object.Kind == KindBlankNode || q.Graph.Kind == KindBlankNode {
			if c.duplicate(q) {
				continue
			}
			qi := int32(len(c.quads))
			iq.s = c.nodeFor(&q.Subject, qi)
			iq.o = c.nodeFor(&q.Object, qi)
			iq.g = c.nodeFor(&q.Graph, qi)
		}
		c.quads = append(c.quads, iq)
	}
	return nil
}

// duplicate reports whether a quad equal to q, which has a blank node, is
// already indexed. An equal quad shares q's first blank node, so only that
// node's quads are compared, unless it has so many that a set of all quads
// with blank nodes is cheaper.
func (c *canonicalizer) duplicate(q *Quad) bool {
	if c.useSeen {
		key := normalQuad(q)
		if _, dup := c.seen[key]; dup {
			return true
		}
		c.seen[key] = struct{}{}
		return false
	}
	first := &q.Subject
	if first.Kind != KindBlankNode {
		first = &q.Object
		if first.Kind != KindBlankNode {
			first = &q.Graph
		}
	}
	id := c.lookup(first.Value)
	if id < 0 {
		return false
	}
	list := c.nodes[id].quads
	if len(list) > 32 {
		if c.seen == nil {
			c.seen = make(map[Quad]struct{})
		}
		for i := range c.quads {
			if iq := &c.quads[i]; iq.s >= 0 || iq.o >= 0 || iq.g >= 0 {
				c.seen[normalQuad(iq.q)] = struct{}{}
			}
		}
		c.useSeen = true
		return c.duplicate(q)
	}
	for _, qi := range list {
		if sameQuad(c.quads[qi].q, q) {
			return true
		}
	}
	return false
}

// normalQuad gives the quad the single spelling that dataset equality uses.
func normalQuad(q *Quad) Quad {
	n := *q
	n.Object.Datatype = literalDatatype(&n.Object)
	return n
}

// literalDatatype is t's datatype with xsd:string and rdf:langString, the
// implied ones, spelled "".
func literalDatatype(t *Term) string {
	if t.Kind == KindLiteral && (t.Language != "" || t.Datatype == XSDString) {
		return ""
	}
	return t.Datatype
}

func sameQuad(a, b *Quad) bool {
	return a.Subject == b.Subject && a.Predicate == b.Predicate && a.Graph == b.Graph &&
		a.Object.Kind == b.Object.Kind && a.Object.Value == b.Object.Value &&
		a.Object.Language == b.Object.Language &&
		literalDatatype(&a.Object) == literalDatatype(&b.Object)
}

// lookup returns the index of the blank node labelled label, or -1. Few
// datasets have more than a handful of blank nodes, and for those a scan
// beats hashing; a map takes over beyond.
func (c *canonicalizer) lookup(label string) int32 {
	if c.useIDs {
		if id, ok := c.ids[label]; ok {
			return id
		}
		return -1
	}
	for i := range c.nodes {
		if c.nodes[i].label == label {
			return int32(i)
		}
	}
	return -1
}

const maxScannedNodes = 16

func (c *canonicalizer) nodeFor(t *Term, qi int32) int32 {
	if t.Kind != KindBlankNode {
		return -1
	}
	id := c.lookup(t.Value)
	if id < 0 {
		id = int32(len(c.nodes))
		if len(c.nodes) < cap(c.nodes) {
			// Reuse the quads list a pooled node left behind.
			c.nodes = c.nodes[:id+1]
			c.nodes[id].label, c.nodes[id].canon = t.Value, -1
		} else {
			c.nodes = append(c.nodes, node{label: t.Value, canon: -1})
		}
		switch {
		case c.useIDs:
			c.ids[t.Value] = id
		case len(c.nodes) > maxScannedNodes:
			if c.ids == nil {
				c.ids = make(map[string]int32)
			}
			for i := range c.nodes {
				c.ids[c.nodes[i].label] = int32(i)
			}
			c.useIDs = true
		}
	}
	n := &c.nodes[id]
	// A quad naming the node twice (a self link) is listed once.
	if len(n.quads) == 0 || n.quads[len(n.quads)-1] != qi {
		n.quads = append(n.quads, qi)
	}
	return id
}

// modeCanonical, passed to appendLine as ref, writes blank nodes under their
// canonical labels. A node index instead writes that node as _:a and every
// other blank node as _:z, the form Hash First Degree Quads hashes.
const modeCanonical = -1

func (c *canonicalizer) appendLine(dst []byte, q *iquad, ref int32) []byte {
	dst = c.appendComponent(dst, q.s, &q.q.Subject, ref, q.esc&escSubject != 0)
	dst = append(dst, ' ')
	if q.esc&escPredicate != 0 {
		dst = appendIRI(dst, q.q.Predicate.Value)
	} else {
		dst = appendTermFast(dst, &q.q.Predicate)
	}
	dst = append(dst, ' ')
	dst = c.appendComponent(dst, q.o, &q.q.Object, ref, q.esc&escObject != 0)
	if q.q.Graph.Kind != KindNone {
		dst = append(dst, ' ')
		dst = c.appendComponent(dst, q.g, &q.q.Graph, ref, q.esc&escGraph != 0)
	}
	return append(dst, ' ', '.', '\n')
}

func (c *canonicalizer) appendComponent(dst []byte, n int32, t *Term, ref int32, esc bool) []byte {
	switch {
	case n < 0 && esc:
		return t.AppendTo(dst)
	case n < 0:
		return appendTermFast(dst, t)
	case ref == modeCanonical:
		return appendCanonLabel(append(dst, '_', ':'), c.nodes[n].canon)
	case n == ref:
		return append(dst, '_', ':', 'a')
	default:
		return append(dst, '_', ':', 'z')
	}
}

func appendCanonLabel(dst []byte, n int32) []byte {
	return strconv.AppendInt(append(dst, 'c', '1', '4', 'n'), int64(n), 10)
}

// sortedLines sorts the lines recorded in c.spans over c.buf in code point
// order, which for UTF-8 is byte order.
func (c *canonicalizer) sortedLines() {
	buf := c.buf
	slices.SortFunc(c.spans, func(a, b span) int {
		return bytes.Compare(buf[a.start:a.end], buf[b.start:b.end])
	})
}

// hashFirstDegree is Hash First Degree Quads (RDFC-1.0 §4.6).
func (c *canonicalizer) hashFirstDegree(n int32) {
	c.buf, c.spans = c.buf[:0], c.spans[:0]
	for _, qi := range c.nodes[n].quads {
		start := len(c.buf)
		c.buf = c.appendLine(c.buf, &c.quads[qi], n)
		c.spans = append(c.spans, span{int32(start), int32(len(c.buf))})
	}
	if len(c.spans) == 1 {
		c.nodes[n].h1 = c.sum(c.buf)
		return
	}
	c.sortedLines()
	data := c.buf2[:0]
	for _, s := range c.spans {
		data = append(data, c.buf[s.start:s.end]...)
	}
	c.buf2 = data
	c.nodes[n].h1 = c.sum(data)
}

func (c *canonicalizer) issueCanonical(n int32) {
	if c.nodes[n].canon < 0 {
		c.nodes[n].canon = c.canonCount
		c.canonCount++
		c.canonOrder = append(c.canonOrder, n)
	}
}

// label issues every blank node its canonical identifier (RDFC-1.0 §4.4.3
// steps 3 to 5).
func (c *canonicalizer) label() error {
	if len(c.nodes) == 0 {
		return nil
	}
	c.canonOrder = slices.Grow(c.canonOrder[:0], len(c.nodes))
	for n := range c.nodes {
		c.hashFirstDegree(int32(n))
	}
	// The hash to blank nodes map, as node lists grouped by hash in code
	// point order of the hash; stable so each list keeps input order.
	order := slices.Grow(c.order[:0], len(c.nodes))
	for i := range c.nodes {
		order = append(order, int32(i))
	}
	c.order = order
	slices.SortStableFunc(order, func(a, b int32) int { return c.cmp(&c.nodes[a].h1, &c.nodes[b].h1) })
	shared := false
	for i := 0; i < len(order); {
		j := c.groupEnd(order, i)
		if j-i == 1 {
			c.issueCanonical(order[i]) // step 4: a unique hash
		} else {
			shared = true
		}
		i = j
	}
	if !shared {
		return nil
	}
	// Step 5: blank nodes sharing a hash, ordered by Hash N-Degree Quads.
	type pathResult struct {
		hash   digest
		issuer []int32
	}
	var results []pathResult
	for i := 0; i < len(order); {
		j := c.groupEnd(order, i)
		if j-i > 1 {
			results = results[:0]
			for _, n := range order[i:j] {
				if c.nodes[n].canon >= 0 {
					continue
				}
				h, iss, err := c.hashNDegree(n, []int32{n}, 0)
				if err != nil {
					return err
				}
				results = append(results, pathResult{h, iss})
			}
			slices.SortStableFunc(results, func(a, b pathResult) int { return c.cmp(&a.hash, &b.hash) })
			for _, r := range results {
				for _, n := range r.issuer {
					c.issueCanonical(n)
				}
			}
		}
		i = j
	}
	return nil
}

func (c *canonicalizer) groupEnd(order []int32, i int) int {
	j := i + 1
	for j < len(order) && c.cmp(&c.nodes[order[i]].h1, &c.nodes[order[j]].h1) == 0 {
		j++
	}
	return j
}

// frame is the scratch of one depth of Hash N-Degree Quads recursion.
type frame struct {
	related []relatedHash
	data    []byte
	path    []byte
	chosen  []byte
	list    []int32
	perm    permuter
	recurse []int32
}

type relatedHash struct {
	hash digest
	node int32
}

func (c *canonicalizer) frame(depth int) *frame {
	for len(c.depth) <= depth {
		c.depth = append(c.depth, new(frame))
	}
	return c.depth[depth]
}

// scanUnit is how many issuer entries scanned cost one unit of work, about
// the time of one hash of related blank node.
const scanUnit = 64

func (c *canonicalizer) spend(units int) error {
	c.work += units
	if c.work > c.maxWork {
		return fmt.Errorf("%w: more than %d units of Hash N-Degree Quads work", ErrWorkLimit, c.maxWork)
	}
	return nil
}

// issued returns the number issuer gave n, or -1. An issuer is the list of
// blank nodes in the order it issued them temporary identifiers b0, b1, ….
func issued(issuer []int32, n int32) int {
	for i, m := range issuer {
		if m == n {
			return i
		}
	}
	return -1
}

// hashRelated is Hash Related Blank Node (RDFC-1.0 §4.7).
func (c *canonicalizer) hashRelated(related int32, q *iquad, issuer []int32, position byte) digest {
	in := append(c.buf2[:0], position)
	if position != 'g' {
		// The predicate's value goes in as is, not in N-Quads form.
		in = append(in, '<')
		in = append(in, q.q.Predicate.Value...)
		in = append(in, '>')
	}
	switch rn := &c.nodes[related]; {
	case rn.canon >= 0:
		in = appendCanonLabel(append(in, '_', ':'), rn.canon)
	default:
		if b := issued(issuer, related); b >= 0 {
			in = strconv.AppendInt(append(in, '_', ':', 'b'), int64(b), 10)
		} else {
			in = hex.AppendEncode(in, rn.h1[:c.size])
		}
	}
	c.buf2 = in
	return c.sum(in)
}

// hashNDegree is Hash N-Degree Quads (RDFC-1.0 §4.8). It returns the hash
// and the issuer that replaces issuer; issuer itself is left unchanged.
func (c *canonicalizer) hashNDegree(id int32, issuer []int32, depth int) (digest, []int32, error) {
	n := &c.nodes[id]
	n.calls++
	if n.calls > c.maxDeep {
		return digest{}, nil, fmt.Errorf("%w: Hash N-Degree Quads ran more than %d times for one blank node",
			ErrWorkLimit, c.maxDeep)
	}
	if err := c.spend(1); err != nil {
		return digest{}, nil, err
	}
	f := c.frame(depth)

	// Steps 1–3: hash each related blank node.
	related := f.related[:0]
	for _, qi := range n.quads {
		q := &c.quads[qi]
		if q.s >= 0 && q.s != id {
			related = append(related, relatedHash{c.hashRelated(q.s, q, issuer, 's'), q.s})
		}
		if q.o >= 0 && q.o != id {
			related = append(related, relatedHash{c.hashRelated(q.o, q, issuer, 'o'), q.o})
		}
		if q.g >= 0 && q.g != id {
			related = append(related, relatedHash{c.hashRelated(q.g, q, issuer, 'g'), q.g})
		}
	}
	f.related = related
	// Each related hash looked its node up in issuer: charge the scans too,
	// so that work stays proportional to time however long issuers grow.
	if err := c.spend(len(related) * (1 + len(issuer)/scanUnit)); err != nil {
		return digest{}, nil, err
	}
	// Stable: within one hash, related nodes keep the order found.
	slices.SortStableFunc(related, func(a, b relatedHash) int { return c.cmp(&a.hash, &b.hash) })

	// Steps 4–5.
	data := f.data[:0]
	for i := 0; i < len(related); {
		j := i + 1
		for j < len(related) && c.cmp(&related[i].hash, &related[j].hash) == 0 {
			j++
		}
		data = hex.AppendEncode(data, related[i].hash[:c.size])

		list := f.list[:0]
		for _, r := range related[i:j] {
			list = append(list, r.node)
		}
		// Permutations are tried in the order of rdf-canonize (sorted
		// labels, then Steinhaus–Johnson–Trotter), so that of equal
		// paths the same one is chosen and the issued identifiers
		// map agrees with the reference implementations.
		slices.SortStableFunc(list, func(a, b int32) int { return strings.Compare(c.nodes[a].label, c.nodes[b].label) })
		f.list = list

		chosen := f.chosen[:0]
		var chosenIssuer []int32
		for p := f.perm.reset(len(list)); p != nil; p = f.perm.next() {
			// A permutation copies issuer and looks each related
			// node up in it.
			if err := c.spend(1 + len(list)*(len(issuer)+len(list))/scanUnit); err != nil {
				return digest{}, nil, err
			}
			issuerCopy := slices.Clip(issuer)
			path := f.path[:0]
			recurse := f.recurse[:0]
			skip := false
			for _, k := range p {
				r := list[k]
				if cn := c.nodes[r].canon; cn >= 0 {
					path = appendCanonLabel(append(path, '_', ':'), cn)
				} else {
					b := issued(issuerCopy, r)
					if b < 0 {
						recurse = append(recurse, r)
						// Appending to a clipped slice copies it,
						// so issuer itself never changes.
						issuerCopy = append(issuerCopy, r)
						b = len(issuerCopy) - 1
					}
					path = strconv.AppendInt(append(path, '_', ':', 'b'), int64(b), 10)
				}
				// A path already past the chosen one cannot end
				// below it. (The length test of the spec only
				// prunes less, with the same result.)
				if len(chosen) > 0 && bytes.Compare(path, chosen) > 0 {
					skip = true
					break
				}
			}
			f.recurse = recurse
			for ri := 0; !skip && ri < len(recurse); ri++ {
				r := recurse[ri]
				h, resultIssuer, err := c.hashNDegree(r, issuerCopy, depth+1)
				if err != nil {
					return digest{}, nil, err
				}
				b := issued(issuerCopy, r)
				path = strconv.AppendInt(append(path, '_', ':', 'b'), int64(b), 10)
				path = append(path, '<')
				path = hex.AppendEncode(path, h[:c.size])
				path = append(path, '>')
				issuerCopy = resultIssuer
				if len(chosen) > 0 && bytes.Compare(path, chosen) > 0 {
					skip = true
				}
			}
			f.path = path
			if !skip && (len(chosen) == 0 || bytes.Compare(path, chosen) < 0) {
				chosen = append(chosen[:0], path...)
				chosenIssuer = issuerCopy
			}
		}
		f.chosen = chosen
		data = append(data, chosen...)
		issuer = chosenIssuer
		i = j
	}
	f.data = data
	return c.sum(data), issuer, nil
}

// result serializes the canonicalized dataset (RDFC-1.0 §4.4.3 steps 6–7).
func (c *canonicalizer) result() *Result {
	size := 0
	for i := range c.quads {
		size += quadLenHint(c.quads[i].q)
	}
	c.buf = slices.Grow(c.buf[:0], size)
	c.spans = slices.Grow(c.spans[:0], len(c.quads))
	for i := range c.quads {
		start := len(c.buf)
		c.buf = c.appendLine(c.buf, &c.quads[i], modeCanonical)
		c.spans = append(c.spans, span{int32(start), int32(len(c.buf))})
	}
	c.sortedLines()
	out := make([]byte, 0, len(c.buf))
	var prev []byte
	for _, s := range c.spans {
		line := c.buf[s.start:s.end]
		if bytes.Equal(line, prev) {
			continue // a duplicate ground quad
		}
		out = append(out, line...)
		prev = line
	}
	ids := make(map[string]string, len(c.nodes))
	for _, n := range c.canonOrder {
		ids[c.nodes[n].label] = canonLabel(c.nodes[n].canon)
	}
	return &Result{NQuads: out, IssuedIdentifiers: ids}
}

// canonLabels holds the first canonical labels, so that typical datasets
// build their issued identifiers map without allocating label strings.
var canonLabels = func() []string {
	var all []byte
	ends := make([]int, 0, 64)
	for i := range 64 {
		all = appendCanonLabel(all, int32(i))
		ends = append(ends, len(all))
	}
	s := string(all)
	labels := make([]string, 64)
	start := 0
	for i, e := range ends {
		labels[i] = s[start:e]
		start = e
	}
	return labels
}()

func canonLabel(n int32) string {
	if int(n) < len(canonLabels) {
		return canonLabels[n]
	}
	return string(appendCanonLabel(nil, n))
}

// permuter enumerates the permutations of 0…k-1 in the order of the
// Steinhaus–Johnson–Trotter algorithm, starting from the identity.
type permuter struct {
	cur  []int32
	left []bool // direction of each element: true looks left
	done bool
}

func (p *permuter) reset(k int) []int32 {
	p.cur = p.cur[:0]
	p.left = p.left[:0]
	for i := range k {
		p.cur = append(p.cur, int32(i))
		p.left = append(p.left, true)
	}
	p.done = false
	return p.cur
}

// next advances to the following permutation and returns it, or nil after
// the last one.
func (p *permuter) next() []int32 {
	if p.done {
		return nil
	}
	cur := p.cur
	mobile, pos := int32(-1), -1
	for i, e := range cur {
		if e <= mobile {
			continue
		}
		if p.left[e] && i > 0 && e > cur[i-1] || !p.left[e] && i < len(cur)-1 && e > cur[i+1] {
			mobile, pos = e, i
		}
	}
	if pos < 0 {
		p.done = true
		return nil
	}
	swap := pos + 1
	if p.left[mobile] {
		swap = pos - 1
	}
	cur[pos], cur[swap] = cur[swap], cur[pos]
	for _, e := range cur {
		if e > mobile {
			p.left[e] = !p.left[e]
		}
	}
	return cur
}
