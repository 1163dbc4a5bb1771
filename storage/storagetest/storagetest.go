// Package storagetest is the contract test that every storage.Storage implementation passes.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/storage"
)

// Run tests the Storage contract. newStore returns a fresh, empty store; when called twice
// within one subtest it must return two values sharing one backing store (two instances of
// a site), so that locks can be checked across them.
func Run(t *testing.T, newStore func(t *testing.T) (a, b storage.Storage)) {
	ctx := context.Background()
	t.Run("GetAbsent", func(t *testing.T) {
		s, _ := newStore(t)
		_, err := s.Get(ctx, "no/such/key")
		if !errors.Is(err, storage.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Get(absent) error = %v, want ErrNotExist", err)
		}
	})
	t.Run("PutGetDeleteList", func(t *testing.T) {
		s, other := newStore(t)
		want := []byte("-----BEGIN CERTIFICATE-----\n\x00\xff binary too")
		if err := s.Put(ctx, "sites/example.com/cert.pem", want); err != nil {
			t.Fatal(err)
		}
		for _, st := range []storage.Storage{s, other} {
			got, err := st.Get(ctx, "sites/example.com/cert.pem")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: Get = %q, %v; want %q", st, got, err, want)
			}
		}
		if err := s.Put(ctx, "sites/example.com/cert.pem", []byte("v2")); err != nil {
			t.Fatal(err)
		}
		if got, _ := other.Get(ctx, "sites/example.com/cert.pem"); string(got) != "v2" {
			t.Fatalf("after replace: Get = %q, want v2", got)
		}
		for _, k := range []string{"sites/example.org/cert.pem", "sites/example.com/key.pem", "tickets/keys"} {
			if err := s.Put(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		keys, err := other.List(ctx, "sites/")
		want2 := []string{"sites/example.com/cert.pem", "sites/example.com/key.pem", "sites/example.org/cert.pem"}
		if err != nil || !slices.Equal(keys, want2) {
			t.Fatalf("List(sites/) = %q, %v; want %q", keys, err, want2)
		}
		all, err := s.List(ctx, "")
		if err != nil || len(all) != 4 {
			t.Fatalf("List(\"\") = %q, %v; want 4 keys", all, err)
		}
		if err := s.Delete(ctx, "sites/example.com/key.pem"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "sites/example.com/key.pem"); err != nil {
			t.Fatalf("Delete(absent) = %v, want nil", err)
		}
		if _, err := other.Get(ctx, "sites/example.com/key.pem"); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("Get after Delete: %v, want ErrNotExist", err)
		}
	})
	t.Run("BadKeys", func(t *testing.T) {
		s, _ := newStore(t)
		for _, k := range []string{"", "../x", "a/../b", "/abs", "a//b", "a/", "sp ace", "nul\x00", `back\slash`} {
			if err := s.Put(ctx, k, []byte("x")); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("Put(%q) = %v, want ErrBadKey", k, err)
			}
			if _, err := s.Get(ctx, k); !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("Get(%q) = %v, want ErrBadKey", k, err)
			}
		}
	})
	t.Run("ConcurrentPut", func(t *testing.T) {
		s, other := newStore(t)
		a, b := bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 64<<10)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errc := make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := a
				if i%2 == 1 {
					v = b
				}
				if err := s.Put(ctx, "k", v); err != nil {
					errc <- err
					return
				}
			}
		}()
		if err := s.Put(ctx, "k", a); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			got, err := other.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
				t.Fatalf("Get during Put saw a mixed or partial value (%d bytes)", len(got))
			}
		}
		close(stop)
		wg.Wait()
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
	})
	t.Run("LockExcludes", func(t *testing.T) {
		s, other := newStore(t)
		if err := s.Lock(ctx, "order/example.com", time.Minute); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if err := other.Lock(short, "order/example.com", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("second Lock while held = %v, want context.DeadlineExceeded", err)
		}
		if err := other.Lock(ctx, "order/example.org", time.Minute); err != nil {
			t.Fatalf("Lock of another name: %v", err)
		}
		got := make(chan error, 1)
		go func() { got <- other.Lock(ctx, "order/example.com", time.Minute) }()
		if err := s.Unlock(ctx, "order/example.com"); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatalf("Lock after Unlock: %v", err)
		}
		for _, n := range []string{"order/example.com", "order/example.org"} {
			if err := other.Unlock(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("LockExpires", func(t *testing.T) {
		s, other := newStore(t)
		if err := s.Lock(ctx, "l", 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		long, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := other.Lock(long, "l", time.Minute); err != nil {
			t.Fatalf("Lock after the holder's ttl: %v", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("expired lock taken after %v, before its ttl", d)
		}
		// The first holder's late Unlock must not release the new holder's lock.
		if err := s.Unlock(ctx, "l"); err != nil {
			t.Fatal(err)
		}
		short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel2()
		if err := s.Lock(short, "l", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock after a stale Unlock = %v, want still held by the other", err)
		}
		if err := other.Unlock(ctx, "l"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ListEmptyAndLiteral", func(t *testing.T) {
		s, other := newStore(t)
		if keys, err := s.List(ctx, ""); err != nil || len(keys) != 0 {
			t.Fatalf("List on an empty store = %q, %v; want none", keys, err)
		}
		// Characters that glob patterns (Redis MATCH, filepath.Match) give a meaning are
		// plain characters in keys and prefixes.
		for _, k := range []string{"g/a*b/x", "g/a?c", "g/a[b]", "g/abc", "g/a-b^", "g2/x"} {
			if err := s.Put(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"g/a*", []string{"g/a*b/x"}},
			{"g/a?", []string{"g/a?c"}},
			{"g/a[", []string{"g/a[b]"}},
			{"g/a-", []string{"g/a-b^"}},
			{"g/", []string{"g/a*b/x", "g/a-b^", "g/a?c", "g/a[b]", "g/abc"}},
			{"g", []string{"g/a*b/x", "g/a-b^", "g/a?c", "g/a[b]", "g/abc", "g2/x"}},
			{"nothing/", nil},
		} {
			keys, err := other.List(ctx, c.prefix)
			if err != nil || !slices.Equal(keys, c.want) {
				t.Errorf("List(%q) = %q, %v; want %q", c.prefix, keys, err, c.want)
			}
		}
	})
	t.Run("EmptyAndLargeValues", func(t *testing.T) {
		s, other := newStore(t)
		large := bytes.Repeat([]byte{0, 1, 0xfe, '\n'}, 1<<18) // 1 MiB
		for k, v := range map[string][]byte{"empty": {}, "large": large} {
			if err := s.Put(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			got, err := other.Get(ctx, k)
			if err != nil || !bytes.Equal(got, v) {
				t.Fatalf("Get(%s) = %d bytes, %v; want %d bytes", k, len(got), err, len(v))
			}
		}
	})
	t.Run("LockBadInput", func(t *testing.T) {
		s, _ := newStore(t)
		if err := s.Lock(ctx, "l", 0); err == nil {
			s.Unlock(ctx, "l")
			t.Error("Lock with ttl 0 succeeded")
		}
		if err := s.Lock(ctx, "../l", time.Minute); !errors.Is(err, storage.ErrBadKey) {
			t.Errorf("Lock(../l) = %v, want ErrBadKey", err)
		}
		if err := s.Unlock(ctx, "never/taken"); err == nil {
			t.Error("Unlock of a lock never taken succeeded")
		}
		if err := s.Lock(ctx, "l", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlock(ctx, "l"); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlock(ctx, "l"); err == nil {
			t.Error("second Unlock succeeded")
		}
	})
	t.Run("LockGoroutines", func(t *testing.T) {
		// Goroutines on one Storage value exclude each other: a counter updated under the
		// lock by read, then write, is never lost.
		s, other := newStore(t)
		if err := s.Put(ctx, "counter", []byte("0")); err != nil {
			t.Fatal(err)
		}
		const workers, rounds = 4, 5
		var wg sync.WaitGroup
		errc := make(chan error, workers)
		for w := range workers {
			st := s
			if w%2 == 1 {
				st = other
			}
			wg.Go(func() {
				for range rounds {
					if err := st.Lock(ctx, "counter", time.Minute); err != nil {
						errc <- err
						return
					}
					b, err := st.Get(ctx, "counter")
					if err == nil {
						var n int
						fmt.Sscan(string(b), &n)
						err = st.Put(ctx, "counter", []byte(fmt.Sprint(n+1)))
					}
					if uerr := st.Unlock(ctx, "counter"); err == nil {
						err = uerr
					}
					if err != nil {
						errc <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if b, err := s.Get(ctx, "counter"); err != nil || string(b) != fmt.Sprint(workers*rounds) {
			t.Fatalf("counter = %q, %v; want %d (an update was lost: the lock did not exclude)", b, err, workers*rounds)
		}
	})
	t.Run("String", func(t *testing.T) {
		s, _ := newStore(t)
		if s.String() == "" {
			t.Fatal("String() is empty")
		}
		_ = fmt.Sprint(s)
	})
}
