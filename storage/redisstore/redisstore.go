// Package redisstore is a storage.Storage in Redis, for several instances of one site behind
// a load balancer: they share ACME accounts, certificates and TLS session-ticket keys, and
// take turns through its locks. It lives in its own package so that programs that do not
// import it do not carry the Redis client (github.com/redis/go-redis/v9).
//
//	st, err := redisstore.New(redisstore.Options{URL: "redis://10.0.0.5:6379/0"})
//	...
//	defer st.Close()
//	srv.AddHTTPSServer(server.HTTPSConfig{Storage: st, ...})
//
// # In Redis
//
// A value is the Redis string Prefix+"key:"+KEY, written with one SET (atomic). A lock is the
// string Prefix+"lock:"+NAME holding a random token, taken with SET NX PX (so it expires by
// itself) and released by a Lua script that deletes it only when it still holds this Store's
// token. List walks the keys with SCAN, never KEYS, so it does not stall a busy Redis; it
// still visits every key of the database, which is cheap for the few hundred keys a site
// keeps but worth a database of its own (the /DB part of the URL) beside a large cache.
//
// # Failures
//
// Every call is bounded by Options.Timeout (dial, read, write and the whole call, retries
// included); a Redis that is down or unreachable makes each call fail within it, with an error
// naming the operation, the key and the address: "storage: get tls/ticket-keys: redis
// 127.0.0.1:6379: dial tcp 127.0.0.1:6379: connect: connection refused". Nothing blocks
// forever, and the client reconnects by itself once Redis is back.
package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/httpskit/httpskit/storage"
	"github.com/httpskit/httpskit/storage/internal/locks"
)

// DefaultTimeout bounds each call of a Store whose Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// DefaultPrefix is put before every key and lock name in Redis when Options.Prefix is empty.
const DefaultPrefix = "httpskit:"

// LockPoll is how often Lock asks again for a lock held by someone else: a waiter takes the
// lock within LockPoll of its release or expiry.
const LockPoll = 100 * time.Millisecond

// Options configures a Store.
type Options struct {
	// URL is redis://[USER:PASSWORD@]HOST[:PORT][/DB] or rediss://... for TLS. The port
	// defaults to 6379 and DB to 0. It is required.
	URL string

	// Prefix is put before every key and lock name in Redis, so that several sites, or
	// httpskit and other programs, can share one database. Empty means DefaultPrefix.
	Prefix string

	// Timeout bounds every call: connecting, each read and write, and the whole call with
	// its retries. Zero means DefaultTimeout. A Lock waiting for a lock held by another is
	// bounded by its context only.
	Timeout time.Duration

	// TLSConfig is used for rediss:// URLs (certificates are verified; set RootCAs for a
	// private CA). Nil means the system roots. It is cloned.
	TLSConfig *tls.Config
}

// Store is a storage.Storage in Redis. Create one with New; it is safe for concurrent use and
// holds a pool of connections until Close.
type Store struct {
	client  *redis.Client
	addr    string
	desc    string
	prefix  string
	timeout time.Duration

	held locks.Held // the locks this Store holds
}

var _ storage.Storage = (*Store)(nil)

// New returns a Store for o. It checks the options but does not connect: the first call
// does (see Ping). The error names the problem with the URL, never its password.
func New(o Options) (*Store, error) {
	opt, desc, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < 0 {
		return nil, fmt.Errorf("redisstore: timeout %v is negative", timeout)
	}
	if opt.TLSConfig != nil && o.TLSConfig != nil {
		cfg := o.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = opt.TLSConfig.ServerName
		}
		if cfg.MinVersion < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS12
		}
		opt.TLSConfig = cfg
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = 1
	opt.DialerRetries = 1
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	prefix := o.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{client: redis.NewClient(opt), addr: opt.Addr, desc: desc, prefix: prefix, timeout: timeout}, nil
}

// parseURL turns a redis:// or rediss:// URL into client options and a description without
// the password.
func parseURL(raw string) (*redis.Options, string, error) {
	if raw == "" {
		return nil, "", errors.New("redisstore: empty URL (want redis://HOST:PORT[/DB])")
	}
	if !strings.Contains(raw, "://") {
		return nil, "", errors.New("redisstore: URL has no redis:// or rediss:// scheme (want redis://HOST:PORT[/DB])")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, password included: keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", fmt.Errorf("redisstore: bad URL: %v (want redis://HOST:PORT[/DB])", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, "", fmt.Errorf("redisstore: URL scheme %q is not redis or rediss (want redis://HOST:PORT[/DB])", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, "", errors.New("redisstore: URL has no host (want redis://HOST:PORT[/DB])")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, "", errors.New("redisstore: URL has a query or fragment; only redis://[USER:PASSWORD@]HOST:PORT[/DB] is understood")
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, "", fmt.Errorf("redisstore: URL port %q is not 1-65535", port)
	}
	db := 0
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		if db, err = strconv.Atoi(p); err != nil || db < 0 {
			return nil, "", fmt.Errorf("redisstore: URL database %q is not a number 0 or more", p)
		}
	}
	opt := &redis.Options{Network: "tcp", Addr: net.JoinHostPort(u.Hostname(), port), DB: db}
	user := ""
	if u.User != nil {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
		if opt.Username != "" {
			user = url.PathEscape(opt.Username) + "@"
		}
	}
	if u.Scheme == "rediss" {
		opt.TLSConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	return opt, u.Scheme + "://" + user + opt.Addr + "/" + strconv.Itoa(db), nil
}

// SilenceClientLog stops the Redis client (go-redis) from writing its own log lines to
// standard error, such as "redis: connection pool: failed to dial" on every failed call while
// Redis is down: a Store's errors already say it, with the operation and the address. It is a
// setting of the whole process, so a library leaves it to the program; httpskit serve calls it.
func SilenceClientLog() { redis.SetLogger(discardLog{}) }

type discardLog struct{}

func (discardLog) Printf(context.Context, string, ...any) {}

// String returns the URL without its password, such as "redis://10.0.0.5:6379/0".
func (s *Store) String() string { return s.desc }

// Addr returns the HOST:PORT of the Redis server.
func (s *Store) Addr() string { return s.addr }

// Close closes the connections. Calls after Close fail.
func (s *Store) Close() error { return s.client.Close() }

// Ping checks that Redis answers, within the Store's timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("storage: ping: %w", s.wrap(err))
	}
	return nil
}

// wrap names the Redis address in err.
func (s *Store) wrap(err error) error { return fmt.Errorf("redis %s: %w", s.addr, err) }

func (s *Store) key(op, key string) (string, error) {
	if err := storage.CheckKey(key); err != nil {
		return "", fmt.Errorf("storage: %s: %w", op, err)
	}
	return s.prefix + "key:" + key, nil
}

// Get implements storage.Storage.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := s.key("get", key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	b, err := s.client.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("storage: get %s: %w", key, storage.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", key, s.wrap(err))
	}
	return b, nil
}

// Put implements storage.Storage with one SET, which Redis applies whole or not at all.
func (s *Store) Put(ctx context.Context, key string, value []byte) error {
	k, err := s.key("put", key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Set(ctx, k, value, 0).Err(); err != nil {
		return fmt.Errorf("storage: put %s: %w", key, s.wrap(err))
	}
	return nil
}

// Delete implements storage.Storage.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.key("delete", key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Del(ctx, k).Err(); err != nil {
		return fmt.Errorf("storage: delete %s: %w", key, s.wrap(err))
	}
	return nil
}

// scanCount is the COUNT hint of each SCAN: how many keys Redis looks at per round trip.
const scanCount = 1000

// List implements storage.Storage by SCAN with a MATCH pattern on the prefix. The timeout
// bounds the whole walk.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	base := s.prefix + "key:"
	pattern := globEscape(base+prefix) + "*"
	seen := make(map[string]bool)
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return nil, fmt.Errorf("storage: list %q: %w", prefix, s.wrap(err))
		}
		for _, k := range keys {
			seen[strings.TrimPrefix(k, base)] = true // SCAN may return a key twice
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// globEscape escapes the characters that MATCH patterns give a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch c {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unlockScript deletes the lock only while it holds the caller's token.
var unlockScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`)

// Lock implements storage.Storage with SET NX PX and a random token; a waiter asks again
// every LockPoll.
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("storage: lock %s: ttl %v is not positive", name, ttl)
	}
	if err := storage.CheckKey(name); err != nil {
		return fmt.Errorf("storage: lock: %w", err)
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	k := s.prefix + "lock:" + name
	return locks.Wait(ctx, &s.held, name, LockPoll, func(token string) (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		ok, err := s.client.SetNX(cctx, k, token, ttl).Result()
		if err != nil {
			return false, s.wrap(err)
		}
		return ok, nil
	})
}

// Unlock implements storage.Storage.
func (s *Store) Unlock(ctx context.Context, name string) error {
	if err := storage.CheckKey(name); err != nil {
		return fmt.Errorf("storage: unlock: %w", err)
	}
	token, held := s.held.Remove(name)
	if !held {
		return fmt.Errorf("storage: unlock %s: not held", name)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := unlockScript.Run(ctx, s.client, []string{s.prefix + "lock:" + name}, token).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("storage: unlock %s: %w", name, s.wrap(err))
	}
	return nil
}
