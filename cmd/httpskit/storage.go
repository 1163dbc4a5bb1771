package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/storage"
)

// storageUsage is the help of serve --storage.
const storageUsage = "keep session-ticket keys (and ACME state) in this directory or Redis (redis://[USER:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS), shared by every instance of a site behind a load balancer (default: in this process only)"

// storagePingTimeout bounds the check that a Redis named by --storage answers at start.
const storagePingTimeout = 3 * time.Second

// openStorage opens what serve --storage names: a Redis URL or a directory. A directory is
// created (0700) at once, so a folder that cannot be written is an error at start. A Redis
// that does not answer is not: serve says so in one line on stderr and serves, with
// session-ticket keys in this process until Redis answers (the listeners try every 30
// seconds). Either way the storage failing later, and working again, is one line each on
// stderr (reportingStorage). The returned function closes the storage.
func openStorage(ctx context.Context, spec string, stderr io.Writer) (storage.Storage, func(), error) {
	if strings.HasPrefix(spec, "redis://") || strings.HasPrefix(spec, "rediss://") {
		st, ping, closeFn, err := openRedis(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("--storage: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, storagePingTimeout)
		defer cancel()
		r := &reportingStorage{Storage: st, stderr: stderr}
		if err := ping(pctx); err != nil {
			r.failing.Store(true)
			fmt.Fprintf(stderr, "httpskit: --storage %s does not answer (%v); serving with session-ticket keys in this process until it does\n", st, err)
		}
		return r, closeFn, nil
	}
	if strings.Contains(spec, "://") {
		return nil, nil, usagef("--storage %q: give a directory or a redis:// or rediss:// URL", spec)
	}
	dir, err := filepath.Abs(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("--storage: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("--storage: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, nil, fmt.Errorf("--storage: folder %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &reportingStorage{Storage: storage.NewDir(dir), stderr: stderr}, func() {}, nil
}

// reportingStorage says on stderr, in one line each, when its storage starts failing and when
// it works again: serve keeps serving meanwhile (the listeners keep what they have and try
// again), and without -v nothing else would say so.
type reportingStorage struct {
	storage.Storage
	stderr  io.Writer
	failing atomic.Bool
}

// String returns the storage's own description.
func (r *reportingStorage) String() string { return r.Storage.String() }

func (r *reportingStorage) report(err error) error {
	switch {
	case err == nil, errors.Is(err, storage.ErrNotExist), errors.Is(err, storage.ErrBadKey): // it answered
		if r.failing.CompareAndSwap(true, false) {
			fmt.Fprintf(r.stderr, "httpskit: storage %s works again\n", r.Storage)
		}
	case errors.Is(err, context.Canceled): // serve is stopping
	default:
		if r.failing.CompareAndSwap(false, true) {
			fmt.Fprintf(r.stderr, "httpskit: storage %s fails (%v); serving on with what this instance has, trying again\n", r.Storage, err)
		}
	}
	return err
}

func (r *reportingStorage) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := r.Storage.Get(ctx, key)
	return b, r.report(err)
}

func (r *reportingStorage) Put(ctx context.Context, key string, value []byte) error {
	return r.report(r.Storage.Put(ctx, key, value))
}

func (r *reportingStorage) Delete(ctx context.Context, key string) error {
	return r.report(r.Storage.Delete(ctx, key))
}

func (r *reportingStorage) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := r.Storage.List(ctx, prefix)
	return keys, r.report(err)
}

func (r *reportingStorage) Lock(ctx context.Context, name string, ttl time.Duration) error {
	return r.report(r.Storage.Lock(ctx, name, ttl))
}

func (r *reportingStorage) Unlock(ctx context.Context, name string) error {
	return r.report(r.Storage.Unlock(ctx, name))
}
