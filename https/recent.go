package https

import "sync"

// recent remembers the values of the last few distinct keys, for inputs that
// repeat request after request (the same Options, the same CA). The oldest
// entry gives way to a new one. Safe for concurrent use.
type recent[K, V any] struct {
	mu      sync.Mutex
	entries [4]struct {
		k K
		v V
	}
	n, next int
}

// find returns the value of the first key for which same is true. same is
// only called, never kept, so the key it compares with can stay on the
// caller's stack: this runs on every request.
func (c *recent[K, V]) find(same func(*K) bool) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.n {
		if e := &c.entries[i]; same(&e.k) {
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
