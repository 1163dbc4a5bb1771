package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
// seconds). The returned function closes the storage.
func openStorage(ctx context.Context, spec string, stderr io.Writer) (storage.Storage, func(), error) {
	if strings.HasPrefix(spec, "redis://") || strings.HasPrefix(spec, "rediss://") {
		st, ping, closeFn, err := openRedis(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("--storage: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, storagePingTimeout)
		defer cancel()
		if err := ping(pctx); err != nil {
			fmt.Fprintf(stderr, "httpskit: --storage %s does not answer (%v); serving with session-ticket keys in this process until it does\n", st, err)
		}
		return st, closeFn, nil
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
	return storage.NewDir(dir), func() {}, nil
}
