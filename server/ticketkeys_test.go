package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/redistest"
	"github.com/httpskit/httpskit/storage"
	"github.com/httpskit/httpskit/storage/redisstore"
)

// fakeClock is the rotator's clock in tests: it moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }

// firstTicketCache keeps the first session it is given: later tickets (a TLS 1.3 server sends
// a fresh one after every resumption) do not replace it, so a test can resume on an old
// ticket again and again.
type firstTicketCache struct {
	mu sync.Mutex
	cs *tls.ClientSessionState
}

func (c *firstTicketCache) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cs, c.cs != nil
}

func (c *firstTicketCache) Put(_ string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs == nil && cs != nil {
		c.cs = cs
	}
}

// ticket returns the session ticket held.
func (c *firstTicketCache) ticket(t *testing.T) []byte {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	tk, _, err := c.cs.ResumptionState()
	if err != nil || tk == nil {
		t.Fatalf("no ticket in the cache: %v", err)
	}
	return tk
}

// connect makes one request on a new TLS connection to l with cache and reports whether the
// session was resumed.
func connect(t *testing.T, addr string, cache tls.ClientSessionCache, version uint16) bool {
	t.Helper()
	return connectWith(t, addr, &tls.Config{ClientSessionCache: cache, MinVersion: version, MaxVersion: version})
}

// connectWith is connect with a client configuration: cfg's RootCAs, ServerName and
// NextProtos are filled in.
func connectWith(t *testing.T, addr string, cfg *tls.Config) bool {
	t.Helper()
	cfg.RootCAs, cfg.ServerName, cfg.NextProtos = getPKI(t).pool, "localhost", []string{"http/1.1"}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn) // reading also takes in a TLS 1.3 ticket
	if err != nil || !bytes.HasPrefix(b, []byte("HTTP/1.1 200 ")) {
		t.Fatalf("response %q, %v", b, err)
	}
	return conn.ConnectionState().DidResume
}

// ticketServer starts a server with one HTTPS listener on cfg whose rotator uses clock.
func ticketServer(t *testing.T, cfg HTTPSConfig, clock *fakeClock, logger *slog.Logger) (*Server, *Listener) {
	t.Helper()
	p := getPKI(t)
	s := New(Config{Logger: logger})
	check(t, s.RouteFunc("GET", "/", helloRoute))
	cfg.CertPEM, cfg.KeyPEM = p.certPEM, p.keyPEM
	cfg.HTTPConfig = HTTPConfig{Host: "127.0.0.1", Port: RandomPort}
	l, err := s.AddHTTPSServer(cfg)
	check(t, err)
	if l.tickets == nil {
		t.Fatal("listener has no ticket-key rotator")
	}
	if clock != nil {
		l.tickets.now = clock.Now
	}
	check(t, s.Start(context.Background()))
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s, l
}

// keyIndex returns the index in the listener's keys in service of the key that encrypted
// ticket, or -1.
func keyIndex(t *testing.T, l *Listener, ticket []byte) int {
	t.Helper()
	l.tickets.mu.Lock()
	keys := serviceOrder(l.tickets.keys, l.tickets.now())
	l.tickets.mu.Unlock()
	for i, k := range keys {
		cfg := &tls.Config{}
		cfg.SetSessionTicketKeys([][32]byte{k})
		if ss, _ := cfg.DecryptTicket(ticket, tls.ConnectionState{}); ss != nil {
			return i
		}
	}
	return -1
}

func TestTicketKeyRotation(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			clock := newFakeClock()
			t0 := clock.Now()
			_, l := ticketServer(t, HTTPSConfig{}, clock, nil)
			addr := l.Addr()
			old := &firstTicketCache{}
			if connect(t, addr, old, v) {
				t.Fatal("first connection resumed")
			}
			if !connect(t, addr, old, v) {
				t.Fatal("second connection did not resume")
			}
			if i := keyIndex(t, l, old.ticket(t)); i != 0 {
				t.Fatalf("ticket made with key %d in service, want 0 (the current one)", i)
			}

			// An hour later a new key encrypts; the old ticket still resumes.
			clock.Advance(TicketKeyRotation + time.Second)
			l.tickets.sync(context.Background())
			fresh := &firstTicketCache{}
			connect(t, addr, fresh, v)
			if i := keyIndex(t, l, fresh.ticket(t)); i != 0 {
				t.Fatalf("after rotation a new ticket was made with key %d, want 0", i)
			}
			if i := keyIndex(t, l, old.ticket(t)); i < 1 {
				t.Fatalf("after rotation the old ticket's key is at %d, want an older key", i)
			}
			if !connect(t, addr, old, v) || !connect(t, addr, fresh, v) {
				t.Fatal("a ticket did not resume after rotation")
			}

			// The old key still decrypts 24 h after it stopped encrypting, and not after.
			for _, c := range []struct {
				at   time.Duration
				want bool
			}{
				{TicketKeyRotation + TicketKeyLifetime - time.Minute, true},
				{TicketKeyRotation + TicketKeyLifetime + time.Minute, false},
			} {
				clock.Set(t0.Add(c.at))
				l.tickets.sync(context.Background())
				if got := connect(t, addr, old, v); got != c.want {
					t.Errorf("old ticket at +%v: resumed = %v, want %v", c.at, got, c.want)
				}
				if !connect(t, addr, fresh, v) {
					t.Errorf("second ticket at +%v did not resume (its key stopped an hour later)", c.at)
				}
			}
			l.tickets.mu.Lock()
			n := len(l.tickets.keys)
			l.tickets.mu.Unlock()
			if n > 2+int(TicketKeyLifetime/TicketKeyRotation)+1 {
				t.Errorf("%d keys kept, want at most one per hour of lifetime plus two", n)
			}
		})
	}
}

func TestPlanTicketKeys(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	keys := planTicketKeys(nil, t0, time.Hour, 24*time.Hour)
	if len(keys) != 2 || !keys[1].Activate.Equal(t0) || !keys[0].Activate.Equal(t0.Add(time.Hour)) {
		t.Fatalf("first plan = %v, want a key now and one an hour ahead", activations(keys))
	}
	if again := planTicketKeys(keys, t0.Add(59*time.Minute), time.Hour, 24*time.Hour); len(again) != 2 {
		t.Fatalf("plan within the hour changed the keys: %v", activations(again))
	}
	// At the hour the key made ahead takes over and the next one is made ahead.
	next := planTicketKeys(keys, t0.Add(time.Hour), time.Hour, 24*time.Hour)
	if len(next) != 3 || !bytes.Equal(next[1].Key, keys[0].Key) || !next[0].Activate.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("plan at the hour = %v", activations(next))
	}
	// Nobody ran for two days: a fresh key takes over at once, the old ones are gone.
	late := t0.Add(48 * time.Hour)
	gone := planTicketKeys(next, late, time.Hour, 24*time.Hour)
	// The stale key in service stops encrypting only now, so it still decrypts.
	if len(gone) != 3 || !gone[1].Activate.Equal(late) || !gone[2].Activate.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("plan after two days = %v, want a key ahead, one now and the stale one", activations(gone))
	}
	for _, k := range gone {
		if len(k.Key) != 32 {
			t.Fatalf("key of %d bytes", len(k.Key))
		}
	}
}

func activations(keys []ticketKey) []string {
	var s []string
	for _, k := range keys {
		s = append(s, k.Activate.Format(time.RFC3339))
	}
	return s
}

// TestTicketKeysShared checks that two servers sharing a Storage resume each other's
// tickets, before and after a rotation, for a directory and for Redis.
func TestTicketKeysShared(t *testing.T) {
	stores := map[string]func(t *testing.T) (storage.Storage, storage.Storage){
		"dir": func(t *testing.T) (storage.Storage, storage.Storage) {
			root := filepath.Join(t.TempDir(), "store")
			return storage.NewDir(root), storage.NewDir(root)
		},
		"redis": func(t *testing.T) (storage.Storage, storage.Storage) {
			srv := redistest.Start(t)
			var out [2]storage.Storage
			for i := range out {
				st, err := redisstore.New(redisstore.Options{URL: srv.URL(0)})
				check(t, err)
				t.Cleanup(func() { st.Close() })
				out[i] = st
			}
			return out[0], out[1]
		},
	}
	for name, newStores := range stores {
		t.Run(name, func(t *testing.T) {
			sa, sb := newStores(t)
			clock := newFakeClock()
			_, a := ticketServer(t, HTTPSConfig{Storage: sa}, clock, nil)
			_, b := ticketServer(t, HTTPSConfig{Storage: sb}, clock, nil)
			for round := range 2 {
				for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
					for _, pair := range [][2]*Listener{{a, b}, {b, a}} {
						cache := &firstTicketCache{}
						if connect(t, pair[0].Addr(), cache, v) {
							t.Fatal("first connection resumed")
						}
						if !connect(t, pair[1].Addr(), cache, v) {
							t.Fatalf("round %d, %s: a ticket from one server did not resume on the other", round, tls.VersionName(v))
						}
					}
				}
				// Rotate: one server at the hour, the other a little later.
				clock.Advance(TicketKeyRotation)
				a.tickets.sync(context.Background())
				b.tickets.sync(context.Background())
			}
		})
	}
}

// faultyStore is a Storage whose every call fails while down is set.
type faultyStore struct {
	storage.Storage
	down atomic.Bool
}

var errDown = errors.New("test store is down")

func (f *faultyStore) Get(ctx context.Context, key string) ([]byte, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Storage.Get(ctx, key)
}

func (f *faultyStore) Lock(ctx context.Context, name string, ttl time.Duration) error {
	if f.down.Load() {
		return errDown
	}
	return f.Storage.Lock(ctx, name, ttl)
}

// TestTicketKeysStorageDown checks that a Storage failing mid-run costs no resumption on the
// keys in use, is logged once, lets the keys rotate locally, and is used again once back.
func TestTicketKeysStorageDown(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	sa := &faultyStore{Storage: storage.NewDir(root)}
	var logs lockedBuffer
	clock := newFakeClock()
	_, a := ticketServer(t, HTTPSConfig{Storage: sa}, clock, slog.New(slog.NewTextHandler(&logs, nil)))
	_, b := ticketServer(t, HTTPSConfig{Storage: storage.NewDir(root)}, clock, nil)
	v := uint16(tls.VersionTLS13)
	before := &firstTicketCache{}
	connect(t, a.Addr(), before, v)

	sa.down.Store(true)
	for range 3 {
		a.tickets.sync(context.Background())
	}
	if !connect(t, a.Addr(), before, v) || !connect(t, b.Addr(), before, v) {
		t.Fatal("a ticket made before the storage failed did not resume")
	}
	if n := strings.Count(logs.String(), "storage failed"); n != 1 {
		t.Fatalf("storage failure logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), errDown.Error()) {
		t.Fatalf("log does not say why:\n%s", logs.String())
	}
	a.tickets.mu.Lock()
	if a.tickets.next.Sub(clock.Now()) != ticketRetry {
		t.Errorf("next try in %v, want %v", a.tickets.next.Sub(clock.Now()), ticketRetry)
	}
	a.tickets.mu.Unlock()

	// Still down at the hour: the key made ahead takes over on both servers, as planned.
	clock.Advance(TicketKeyRotation)
	a.tickets.sync(context.Background())
	b.tickets.sync(context.Background())
	during := &firstTicketCache{}
	connect(t, a.Addr(), during, v)
	if !connect(t, b.Addr(), during, v) {
		t.Fatal("a ticket made at the first rotation while the storage was down did not resume on the other server")
	}

	sa.down.Store(false)
	a.tickets.sync(context.Background())
	if !strings.Contains(logs.String(), "storage works again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
	for _, c := range []*firstTicketCache{before, during} {
		if !connect(t, a.Addr(), c, v) {
			t.Fatal("a ticket from before or during the failure did not resume after it")
		}
	}
}

// TestTicketKeysRotateOnTheirOwn runs the rotator on its real clock with a short rotation and
// checks that the key in service changes by itself and that Stop ends the rotator.
func TestTicketKeysRotateOnTheirOwn(t *testing.T) {
	p := getPKI(t)
	s := New(Config{})
	check(t, s.RouteFunc("GET", "/", helloRoute))
	l, err := s.AddHTTPSServer(HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM, HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}})
	check(t, err)
	l.tickets.rotation = 50 * time.Millisecond
	synced := make(chan struct{}, 100)
	apply := l.tickets.apply
	l.tickets.apply = func(keys [][32]byte) {
		apply(keys)
		select {
		case synced <- struct{}{}:
		default:
		}
	}
	check(t, s.Start(context.Background()))
	<-synced // the sync at start
	first := &firstTicketCache{}
	connect(t, l.Addr(), first, tls.VersionTLS13)
	for range 10 { // syncs by the listener's goroutine, every rotation/4: two rotations at least
		<-synced
	}
	later := &firstTicketCache{}
	connect(t, l.Addr(), later, tls.VersionTLS13)
	if i, j := keyIndex(t, l, first.ticket(t)), keyIndex(t, l, later.ticket(t)); i == j {
		t.Fatalf("tickets made before and after two rotations use the same key (%d)", i)
	}
	check(t, s.Stop(context.Background()))
	// Stop waits for the rotator to end.
	buf := make([]byte, 1<<20)
	if st := buf[:runtime.Stack(buf, true)]; bytes.Contains(st, []byte("(*ticketKeys).run")) {
		t.Fatalf("the rotator still runs after Stop:\n%s", st)
	}
}

// TestTicketKeysClientCAFile checks that a listener whose client CA is a reloadable file,
// which hands out a clone of its configuration per handshake, encrypts with the key in service
// after a reload of the CA and a rotation.
func TestTicketKeysClientCAFile(t *testing.T) {
	p := getPKI(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	check(t, os.WriteFile(caFile, p.clientCA.CertPEM, 0o644))
	clientCert, err := tls.X509KeyPair(p.clientCertPEM, p.clientKeyPEM)
	check(t, err)
	clock := newFakeClock()
	s, l := ticketServer(t, HTTPSConfig{CA: caFile, ClientAuth: tls.RequireAndVerifyClientCert}, clock, nil)
	// A reload while stopped (Stop has waited for the serving goroutine, which writes HTTP/2
	// defaults into the config as it starts) makes the clone handed out carry a copy of the
	// keys in service; then the listener runs again.
	check(t, s.Stop(context.Background()))
	check(t, l.ReloadCertificate())
	check(t, s.Start(context.Background()))
	clock.Advance(TicketKeyRotation)
	l.tickets.sync(context.Background())
	cache := &firstTicketCache{}
	connectWith(t, l.Addr(), &tls.Config{Certificates: []tls.Certificate{clientCert}, ClientSessionCache: cache})
	if i := keyIndex(t, l, cache.ticket(t)); i != 0 {
		t.Fatalf("ticket made with key %d in service after a CA reload and a rotation, want 0", i)
	}
	if !connectWith(t, l.Addr(), &tls.Config{Certificates: []tls.Certificate{clientCert}, ClientSessionCache: cache}) {
		t.Fatal("did not resume")
	}
}

// TestTicketKeysSilentRedis: a Redis that accepts connections and never answers holds Start
// back by the store's timeout at most, and the listener serves with keys of its own.
func TestTicketKeysSilentRedis(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr := redistest.Silent(t)
	st, err := redisstore.New(redisstore.Options{URL: "redis://" + addr, Timeout: timeout})
	check(t, err)
	defer st.Close()
	var logs lockedBuffer
	start := time.Now()
	_, l := ticketServer(t, HTTPSConfig{Storage: st}, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	took := time.Since(start)
	t.Logf("Start with a silent Redis took %v (store timeout %v)", took.Round(time.Millisecond), timeout)
	if took > ticketSyncTimeout {
		t.Errorf("Start took %v with a silent Redis, more than the sync bound %v", took, ticketSyncTimeout)
	}
	cache := tls.NewLRUClientSessionCache(1)
	connect(t, l.Addr(), cache, tls.VersionTLS13)
	if !connect(t, l.Addr(), cache, tls.VersionTLS13) {
		t.Fatal("no resumption with the listener's own keys")
	}
	if !strings.Contains(logs.String(), addr) {
		t.Fatalf("the log does not name the Redis address:\n%s", logs.String())
	}
}
