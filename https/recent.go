package https

import "sync"

// recent remembers the values of the last few distinct keys, for inputs that
// repeat request after request (the same Options, the same CA). The oldest
// entry gives way to a new one. Safe for concurrent use.
type recent[K, V any] struct {
	same    func(a, b *K) bool
	mu      sync.Mutex
	entries [4]struct {
		k K
		v V
	}
	n, next int
}

func (c *recent[K, V]) lookup(k *K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.n {
		if e := &c.entries[i]; c.same(&e.k, k) {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// add records v for k; k must not be modified afterwards.
func (c *recent[K, V]) add(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[c.next].k, c.entries[c.next].v = k, v
	c.next = (c.next + 1) % len(c.entries)
	if c.n < len(c.entries) {
		c.n++
	}
}
