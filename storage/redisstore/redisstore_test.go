package redisstore_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/redistest"
	"github.com/httpskit/httpskit/storage"
	"github.com/httpskit/httpskit/storage/redisstore"
	"github.com/httpskit/httpskit/storage/storagetest"
)

func TestMain(m *testing.M) {
	redisstore.SilenceClientLog()
	os.Exit(m.Run())
}

func newStore(t *testing.T, o redisstore.Options) *redisstore.Store {
	t.Helper()
	st, err := redisstore.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestContract(t *testing.T) {
	srv := redistest.Start(t)
	var db atomic.Int32 // each subtest gets a fresh, empty database of the one server
	storagetest.Run(t, func(t *testing.T) (storage.Storage, storage.Storage) {
		n := int(db.Add(1)) % 16
		ctx := context.Background()
		a := newStore(t, redisstore.Options{URL: srv.URL(n)})
		b := newStore(t, redisstore.Options{URL: srv.URL(n)})
		keys, err := a.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			a.Delete(ctx, k)
		}
		return a, b
	})
}

func TestPrefixesDoNotMix(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := newStore(t, redisstore.Options{URL: srv.URL(0), Prefix: "site-a:"})
	b := newStore(t, redisstore.Options{URL: srv.URL(0), Prefix: "site-b:"})
	if err := a.Put(ctx, "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get through another prefix = %v, want ErrNotExist", err)
	}
	if keys, err := b.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("List through another prefix = %q, %v; want none", keys, err)
	}
	if err := a.Lock(ctx, "l", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(ctx, "l", time.Minute); err != nil {
		t.Fatalf("lock of the same name under another prefix: %v", err)
	}
	// A key and a lock of the same name do not collide.
	if err := a.Put(ctx, "l", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if keys, _ := a.List(ctx, ""); len(keys) != 2 {
		t.Fatalf("List = %q, want [k l]", keys)
	}
}

func TestBadURLs(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"", "empty URL"},
		{"http://h:6379", `scheme "http"`},
		{"127.0.0.1:6379", "scheme"},
		{"redis://", "no host"},
		{"redis://h:99999", `port "99999"`},
		{"redis://h:6379/x", `database "x"`},
		{"redis://h:6379/1/2", `database "1/2"`},
		{"redis://h:6379/0?dial_timeout=1s", "query"},
		{"redis://user:s3cret@h:6379/%zz", "bad URL"},
		{"redis://user:s3cret@h:bad/0", "bad URL"},
	} {
		_, err := redisstore.New(redisstore.Options{URL: c.url})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q) = %v, want an error with %q", c.url, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q) error shows the password: %v", c.url, err)
		}
	}
}

func TestStringHidesPassword(t *testing.T) {
	for url, want := range map[string]string{
		"redis://:s3cret@10.0.0.5:6390/2":     "redis://10.0.0.5:6390/2",
		"redis://app:s3cret@10.0.0.5/1":       "redis://app@10.0.0.5:6379/1",
		"rediss://app:s3cret@cache.example:7": "rediss://app@cache.example:7/0",
		"redis://[::1]:6379":                  "redis://[::1]:6379/0",
	} {
		st := newStore(t, redisstore.Options{URL: url})
		if got := st.String(); got != want {
			t.Errorf("String() of %q = %q, want %q", url, got, want)
		}
	}
}

// TestDown checks that every call against a Redis that is not there fails promptly with an
// error naming the address, and that the Store works again once Redis is back.
func TestDown(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, redisstore.Options{URL: srv.URL(0), Timeout: 2 * time.Second})
	ctx := context.Background()
	if err := st.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := st.Lock(ctx, "held", time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	calls := map[string]func() error{
		"Get":    func() error { _, err := st.Get(ctx, "k"); return err },
		"Put":    func() error { return st.Put(ctx, "k", []byte("v2")) },
		"Delete": func() error { return st.Delete(ctx, "k") },
		"List":   func() error { _, err := st.List(ctx, ""); return err },
		"Lock":   func() error { return st.Lock(ctx, "l", time.Minute) },
		"Unlock": func() error { return st.Unlock(ctx, "held") },
		"Ping":   func() error { return st.Ping(ctx) },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		took := time.Since(start)
		t.Logf("%s with Redis down: %v after %v", name, err, took.Round(time.Millisecond))
		if err == nil || !strings.Contains(err.Error(), "redis "+srv.Addr) {
			t.Errorf("%s with Redis down = %v, want an error naming %s", name, err, srv.Addr)
		}
		if errors.Is(err, storage.ErrNotExist) {
			t.Errorf("%s with Redis down looks like an absent key: %v", name, err)
		}
	}
	srv.Restart()
	if err := st.Put(ctx, "k", []byte("v3")); err != nil {
		t.Fatalf("Put after Redis came back: %v", err)
	}
}

// TestUnreachable checks that a Redis that never answers (a listener that accepts and then
// says nothing) bounds every call by the timeout.
func TestUnreachable(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr := redistest.Silent(t)
	st := newStore(t, redisstore.Options{URL: "redis://" + addr, Timeout: timeout})
	ctx := context.Background()
	start := time.Now()
	_, err := st.Get(ctx, "k")
	took := time.Since(start)
	t.Logf("Get from a silent server: %v after %v", err, took.Round(time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Get from a silent server = %v, want an error naming the address", err)
	}
	if took > 20*timeout {
		t.Fatalf("Get from a silent server took %v with a %v timeout", took, timeout)
	}
	lctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start = time.Now()
	err = st.Lock(lctx, "l", time.Minute)
	took = time.Since(start)
	if err == nil || !strings.Contains(err.Error(), addr) || took > 20*timeout {
		t.Fatalf("Lock from a silent server = %v after %v, want the call's own timeout error naming the address", err, took)
	}
}
