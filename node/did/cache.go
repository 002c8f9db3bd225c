package did

import "sync"

// cacheSize bounds each cache of did:key work: enough for every issuer a
// busy verifier sees in a while, and a few hundred kilobytes at most.
const cacheSize = 1024

// boundedCache remembers the results of a pure function of a string (a
// did:key document, a decoded Multikey), so that verifying many
// credentials of one issuer decodes its key once. When full it forgets
// everything: any policy is correct for a pure function, and this one is
// cheap and keeps memory bounded whatever keys an attacker sends.
type boundedCache[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (c *boundedCache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *boundedCache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheSize {
		c.m = make(map[string]V)
	}
	c.m[k] = v
}
