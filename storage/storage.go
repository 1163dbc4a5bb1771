// Package storage is where httpskit keeps state that outlives a process and may be shared by
// several instances of one site: ACME account keys, certificates and their keys, OCSP
// responses, and TLS session-ticket keys, plus the locks that make only one instance order a
// certificate for a name at a time.
//
// [Storage] is the contract; [Dir] keeps everything in a directory (the default, for one
// machine), and package storage/redisstore keeps it in Redis (for several instances behind a
// load balancer). Package storage/storagetest holds the contract test every implementation
// passes.
//
// Keys are slash-separated paths of printable ASCII without "..", such as
// "acme/acme-v02.api.letsencrypt.org-directory/sites/example.com/cert.pem"; [CheckKey] says
// which keys are valid.
//
// # Errors
//
// Get of an absent key returns an error matching [ErrNotExist] (and fs.ErrNotExist) with
// errors.Is. Every other failure is returned wrapped with the operation and key, in the form
// "storage: get KEY: ...".
package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) by Get when the key holds no value. It matches
// fs.ErrNotExist with errors.Is.
var ErrNotExist = fmt.Errorf("storage: %w", fs.ErrNotExist)

// ErrBadKey is returned (wrapped) for a key that [CheckKey] refuses.
var ErrBadKey = errors.New("storage: invalid key")

// Storage keeps values by key and hands out named locks. Implementations are safe for
// concurrent use by many goroutines and, where they are shared (Redis), by many processes.
//
// Every method takes a context; an implementation returns promptly when it is done.
type Storage interface {
	// Get returns the value stored at key, or an error matching ErrNotExist.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores value at key, replacing any value. It is atomic: a concurrent Get sees
	// the old value or the new one, never a part, and a failed Put leaves the old value.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, sorted. An empty prefix lists every
	// key.
	List(ctx context.Context, prefix string) ([]string, error)
	// Lock blocks until the caller holds the lock called name, or ctx is done (then it
	// returns an error wrapping ctx's). The lock expires ttl after it was taken, so a holder
	// that died blocks the others for ttl at most: a holder bounds its own work to less
	// than ttl. Waiters poll or are woken; either way they take the lock within a short,
	// documented interval of its release or expiry.
	//
	// Locks are held by the Storage value that took them: two values (two instances) on
	// the same backing store exclude each other, and so do two goroutines on one value.
	// Lock names follow the key rules of CheckKey.
	Lock(ctx context.Context, name string, ttl time.Duration) error
	// Unlock releases the lock called name that this Storage value holds. Releasing a lock
	// that expired and was taken by another holder does not release theirs.
	Unlock(ctx context.Context, name string) error
	// String describes where values are kept, for people: a directory, a Redis address
	// (never a password).
	String() string
}

// CheckKey reports whether key is valid: not empty, at most 1024 bytes of printable ASCII
// other than backslash, slash-separated parts none of which is empty, "." or "..".
func CheckKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w %q: empty or longer than 1024 bytes", ErrBadKey, key)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return fmt.Errorf("%w %q: byte %#x at %d", ErrBadKey, key, c, i)
		}
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%w %q: empty, \".\" or \"..\" part", ErrBadKey, key)
		}
	}
	return nil
}
