// Package locks holds what the Storage implementations share to hand out expiring locks: the
// tokens a Storage value holds its locks with, and the waiting loop.
package locks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// Held is the set of locks a Storage value holds, by name, with the token each was taken
// with. Its zero value is empty and ready; it is safe for concurrent use.
type Held struct {
	mu     sync.Mutex
	tokens map[string]string
}

// Add records that the lock name is held with token.
func (h *Held) Add(name, token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tokens == nil {
		h.tokens = make(map[string]string)
	}
	h.tokens[name] = token
}

// Remove forgets the lock name and returns its token; held is false when it was not held.
func (h *Held) Remove(name string) (token string, held bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	token, held = h.tokens[name]
	delete(h.tokens, name)
	return token, held
}

// NewToken returns a random token that names one holder of one lock.
func NewToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Wait takes the lock name for h: it calls try with a new token at once and then every poll
// until try reports the lock taken, fails, or ctx is done. Errors are in the form
// "storage: lock NAME: ...".
func Wait(ctx context.Context, h *Held, name string, poll time.Duration, try func(token string) (bool, error)) error {
	token := NewToken()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("storage: lock %s: %w", name, ctx.Err())
		case <-t.C:
		}
		ok, err := try(token)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("storage: lock %s: %w", name, ctx.Err())
			}
			return fmt.Errorf("storage: lock %s: %w", name, err)
		}
		if ok {
			h.Add(name, token)
			return nil
		}
		t.Reset(poll)
	}
}
