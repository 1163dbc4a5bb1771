package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/storage/internal/locks"
)

// lockPoll is how often Dir.Lock looks again at a lock held by someone else.
const lockPoll = 50 * time.Millisecond

// Dir is a Storage in a directory of the local file system: each key is a file under Root
// (folders 0700, files 0600), written to a temporary file in its folder, synced and renamed
// into place, so a reader never sees half a value. Locks are files under Root/.locks holding
// their owner's token and expiry; several processes sharing Root exclude each other.
//
// A Dir is safe for concurrent use. Its zero value is not usable: set Root.
type Dir struct {
	// Root is the directory that holds the values. It is created (0700) on first write.
	Root string

	held locks.Held // the locks this value holds
}

// NewDir returns a Dir storing under root.
func NewDir(root string) *Dir { return &Dir{Root: root} }

// String returns the directory.
func (d *Dir) String() string { return d.Root }

func (d *Dir) path(op, key string) (string, error) {
	if d.Root == "" {
		return "", fmt.Errorf("storage: %s %s: Dir.Root is empty", op, key)
	}
	if err := CheckKey(key); err != nil {
		return "", fmt.Errorf("storage: %s: %w", op, err)
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

// Get implements Storage.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := d.path("get", key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("storage: get %s: %w", key, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", key, err)
	}
	return b, nil
}

// Put implements Storage.
func (d *Dir) Put(ctx context.Context, key string, value []byte) error {
	p, err := d.path("put", key)
	if err != nil {
		return err
	}
	if err := writeAtomic(p, value); err != nil {
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

// writeAtomic writes data to name through a synced temporary file in the same folder, then
// renames it into place; on failure nothing new is left behind.
func writeAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	ok = true
	return nil
}

// Delete implements Storage.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.path("delete", key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// List implements Storage. Temporary files of writes in progress and lock files are not
// listed.
func (d *Dir) List(ctx context.Context, prefix string) ([]string, error) {
	if d.Root == "" {
		return nil, errors.New("storage: list: Dir.Root is empty")
	}
	var keys []string
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == d.Root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if strings.HasPrefix(e.Name(), ".") && p != d.Root {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.Root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list %q: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// Lock implements Storage. A lock is the file Root/.locks/NAME holding "token
// expiry-unix-nanoseconds", read and written under a guard (flock(2) on NAME.guard beside it on
// Unix), so that processes sharing Root exclude each other; an expired lock file is replaced.
// Waiters look again every 50ms.
func (d *Dir) Lock(ctx context.Context, name string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("storage: lock %s: ttl %v is not positive", name, ttl)
	}
	p, err := d.lockPath("lock", name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("storage: lock %s: %w", name, err)
	}
	return locks.Wait(ctx, &d.held, name, lockPoll, func(token string) (bool, error) {
		return d.tryLock(p, token, ttl)
	})
}

func (d *Dir) lockPath(op, name string) (string, error) {
	if d.Root == "" {
		return "", fmt.Errorf("storage: %s %s: Dir.Root is empty", op, name)
	}
	if err := CheckKey(name); err != nil {
		return "", fmt.Errorf("storage: %s: %w", op, err)
	}
	return filepath.Join(d.Root, ".locks", filepath.FromSlash(name)), nil
}

// tryLock takes the lock file p if it is free or expired. Reading the lock file and writing
// the new holder's happen under the guard of p (dirguard_*.go), so two takers, in this
// process or another, never both see it free; a guard held by someone else is "not free now".
func (d *Dir) tryLock(p, token string, ttl time.Duration) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return false, err
	}
	release, ok, err := guard(p)
	if err != nil || !ok {
		return false, err
	}
	defer release()
	// Absent, expired, or unreadable (never half written: writeAtomic renames into place).
	if _, expiry, ok := readLock(p); ok && time.Now().UnixNano() < expiry {
		return false, nil
	}
	content := []byte(token + " " + strconv.FormatInt(time.Now().Add(ttl).UnixNano(), 10))
	if err := writeAtomic(p, content); err != nil {
		return false, err
	}
	return true, nil
}

func readLock(p string) (token string, expiry int64, ok bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", 0, false
	}
	tok, exp, found := strings.Cut(string(b), " ")
	if !found {
		return "", 0, false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return tok, n, true
}

// Unlock implements Storage.
func (d *Dir) Unlock(ctx context.Context, name string) error {
	p, err := d.lockPath("unlock", name)
	if err != nil {
		return err
	}
	token, held := d.held.Remove(name)
	if !held {
		return fmt.Errorf("storage: unlock %s: not held", name)
	}
	for {
		release, ok, err := guard(p)
		if err != nil {
			return fmt.Errorf("storage: unlock %s: %w", name, err)
		}
		if !ok { // someone is looking at the lock this very moment
			select {
			case <-ctx.Done():
				return fmt.Errorf("storage: unlock %s: %w", name, ctx.Err())
			case <-time.After(time.Millisecond):
			}
			continue
		}
		defer release()
		break
	}
	if got, _, ok := readLock(p); !ok || got != token {
		return nil // expired and taken over by another holder: theirs now
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: unlock %s: %w", name, err)
	}
	return nil
}
