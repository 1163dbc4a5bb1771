package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/pebbletest"
	"github.com/httpskit/httpskit/internal/testenv"
	"github.com/httpskit/httpskit/storage"
)

// acmeSite is one Server with an ACME listener under test, and what it reported.
type acmeSite struct {
	s      *Server
	tl     *Listener
	events chan ACMEEvent
	plain  chan RequestInfo // requests the plain HTTP listener finished (its Observer)
}

func init() { acmeRetryMin = 50 * time.Millisecond }

// startACME starts a Server with an ACME TLS listener on tlsPort (and a plain HTTP one on
// httpPort when it is not zero) for domains, against p, keeping state in st.
func startACME(t *testing.T, p *pebbletest.Pebble, st storage.Storage, tlsPort, httpPort int, a ACMEConfig) *acmeSite {
	t.Helper()
	site := &acmeSite{s: New(Config{}), events: make(chan ACMEEvent, 100), plain: make(chan RequestInfo, 100)}
	a.DirectoryURL = p.DirectoryURL
	a.CARoots = p.APIRootFile
	a.Notify = func(e ACMEEvent) { site.events <- e }
	var err error
	site.tl, err = site.s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: tlsPort}, ACME: &a, Storage: st})
	if err != nil {
		t.Fatal(err)
	}
	if httpPort != 0 {
		obs := ObserverFunc(func(info RequestInfo) { site.plain <- info })
		if _, err := site.s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: httpPort, Observer: obs}); err != nil {
			t.Fatal(err)
		}
	}
	site.s.RouteFunc("GET", "/", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(200, "hello\n", nil)
	})
	if err := site.s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.stop(t) })
	return site
}

func (site *acmeSite) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := site.s.Stop(ctx); err != nil {
		t.Error(err)
	}
}

// next waits for the next event of one of kinds, failing the test on any other kind.
func (site *acmeSite) next(t *testing.T, kinds ...string) ACMEEvent {
	t.Helper()
	timeout := time.NewTimer(testenv.Scale(time.Minute))
	defer timeout.Stop()
	for {
		select {
		case e := <-site.events:
			for _, k := range kinds {
				if e.Kind == k {
					return e
				}
			}
			if e.Kind != ACMEStapled && e.Kind != ACMEStapleFailed {
				t.Fatalf("ACME event %s (err %v), want %v", e.Kind, e.Err, kinds)
			}
		case <-timeout.C:
			t.Fatalf("no ACME event %v within a minute", kinds)
		}
	}
}

// fetch makes a new TLS connection to the listener for name, trusting roots, and GETs /
// over HTTP/1.1 or HTTP/2. It returns the response, its body and the server's certificate.
func (site *acmeSite) fetch(t *testing.T, name string, roots *x509.CertPool, h2 bool) (*http.Response, string, *x509.Certificate) {
	t.Helper()
	addr := site.tl.Addr()
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: name},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, "tcp", addr)
		},
		ForceAttemptHTTP2: h2,
		DisableKeepAlives: true,
	}
	if !h2 {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get("https://" + net.JoinHostPort(name, strconv.Itoa(site.tl.Port())) + "/")
	if err != nil {
		t.Fatalf("GET over TLS for %s: %v", name, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if (res.ProtoMajor == 2) != h2 {
		t.Errorf("protocol %s, want HTTP/2 %v", res.Proto, h2)
	}
	return res, string(b), res.TLS.PeerCertificates[0]
}

// TestACMETLSALPN obtains a certificate through TLS-ALPN-01 on the HTTPS listener alone,
// serves it with HSTS over HTTP/1.1 and HTTP/2, and after a restart serves the stored
// certificate without a new order.
func TestACMETLSALPN(t *testing.T) {
	tlsPort := pebbletest.FreePort(t)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsPort, HTTPPort: pebbletest.FreePort(t)})
	st := storage.NewDir(t.TempDir())
	site := startACME(t, p, st, tlsPort, 0, ACMEConfig{Domains: []string{"site.test", "www.site.test"}, Email: "admin@site.test"})
	e := site.next(t, ACMEObtained)
	if got := strings.Join(e.Domains, ","); got != "site.test,www.site.test" || e.NotAfter.Before(time.Now().Add(80*24*time.Hour)) {
		t.Errorf("obtained event: domains %s, not after %v", got, e.NotAfter)
	}
	// Nothing listens on Pebble's HTTP-01 port: the validation was TLS-ALPN-01.
	roots := p.IssuerRoots(t)
	var serial string
	for _, h2 := range []bool{false, true} {
		for _, name := range []string{"site.test", "www.site.test"} {
			res, body, leaf := site.fetch(t, name, roots, h2)
			if body != "hello\n" {
				t.Errorf("body %q", body)
			}
			if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
				t.Errorf("Strict-Transport-Security %q, want max-age=31536000", got)
			}
			serial = leaf.SerialNumber.String()
		}
	}
	if leaf := site.tl.Certificate(); leaf == nil || leaf.SerialNumber.String() != serial {
		t.Errorf("Listener.Certificate() = %v, want serial %s", leaf, serial)
	}
	keys, err := st.List(t.Context(), "acme/")
	if err != nil {
		t.Fatal(err)
	}
	want := "acme/127.0.0.1-" + strings.TrimPrefix(strings.TrimSuffix(p.DirectoryURL, "/dir"), "https://127.0.0.1:") + "-dir/sites/site.test/cert.pem"
	if !strings.Contains(strings.Join(keys, " "), want) {
		t.Errorf("storage keys %v, want %s among them", keys, want)
	}
	if got := p.Orders(); got != 1 {
		t.Errorf("Pebble received %d orders, want 1", got)
	}

	// A restart with the same storage loads the certificate and orders nothing.
	site.stop(t)
	again := startACME(t, p, st, tlsPort, 0, ACMEConfig{Domains: []string{"site.test", "www.site.test"}, Email: "admin@site.test", DisableHSTS: true})
	again.next(t, ACMELoaded)
	res, _, leaf := again.fetch(t, "site.test", roots, true)
	if leaf.SerialNumber.String() != serial {
		t.Errorf("after restart: serial %s, want the stored %s", leaf.SerialNumber, serial)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("DisableHSTS: Strict-Transport-Security %q", got)
	}
	if got := p.Orders(); got != 1 {
		t.Errorf("after restart Pebble received %d orders, want still 1", got)
	}
}

// TestACMEHTTP01 obtains a certificate through HTTP-01 on the plain HTTP listener of the same
// Server (Pebble's TLS-ALPN-01 port leads nowhere), and the plain listener still routes
// everything else.
func TestACMEHTTP01(t *testing.T) {
	tlsPort, httpPort := pebbletest.FreePort(t), pebbletest.FreePort(t)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: pebbletest.FreePort(t), HTTPPort: httpPort})
	site := startACME(t, p, storage.NewDir(t.TempDir()), tlsPort, httpPort, ACMEConfig{Domains: []string{"plain.test"}})
	site.next(t, ACMEObtained)
	// Nothing listens on Pebble's TLS-ALPN-01 port: the validation was HTTP-01.
	_, body, leaf := site.fetch(t, "plain.test", p.IssuerRoots(t), false)
	if body != "hello\n" || leaf.DNSNames[0] != "plain.test" {
		t.Errorf("body %q, names %v", body, leaf.DNSNames)
	}
	res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/.well-known/acme-challenge/unknown-token-1234567")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("unknown challenge over plain HTTP: %s, HSTS %q; want 404 from the router, no HSTS", res.Status, res.Header.Get("Strict-Transport-Security"))
	}
	// The listener's Observer (so the access log and serve's metrics) saw Pebble's challenge
	// requests, answered 200 with the key authorization, then the unknown token's 404.
	answered := 0
	for info := range site.plain {
		if !strings.HasPrefix(info.Request.URL.Path, "/.well-known/acme-challenge/") {
			t.Errorf("plain listener observed %s %s", info.Request.Method, info.Request.URL)
		}
		if strings.HasSuffix(info.Request.URL.Path, "/unknown-token-1234567") {
			if info.Status != http.StatusNotFound {
				t.Errorf("unknown token observed with status %d, want 404", info.Status)
			}
			break
		}
		if info.Status == http.StatusOK && info.Bytes > 0 {
			answered++
		}
	}
	if answered == 0 {
		t.Error("the plain listener's Observer saw no challenge answered 200 with a body")
	}
}

// TestACMERefusedKeepsServing: Pebble refuses the name; the failure is reported with the CA's
// own words and retried with growing waits, and the Server keeps serving.
func TestACMERefusedKeepsServing(t *testing.T) {
	tlsPort, httpPort := pebbletest.FreePort(t), pebbletest.FreePort(t)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsPort, HTTPPort: httpPort})
	site := startACME(t, p, storage.NewDir(t.TempDir()), tlsPort, httpPort, ACMEConfig{Domains: []string{pebbletest.BlockedDomain}})
	first := site.next(t, ACMEFailed)
	second := site.next(t, ACMEFailed)
	for _, e := range []ACMEEvent{first, second} {
		if e.Err == nil || !strings.Contains(e.Err.Error(), "CA refuses the name") || !strings.Contains(e.Err.Error(), "blocked") {
			t.Errorf("failure %v: want the CA's refusal of the blocked name", e.Err)
		}
	}
	if second.Retry <= first.Retry {
		t.Errorf("retry waits %v then %v, want growing", first.Retry, second.Retry)
	}
	if !site.s.Running() || !site.tl.Running() {
		t.Fatal("the server stopped")
	}
	res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("plain HTTP while the order fails: %s", res.Status)
	}
	_, err = tls.Dial("tcp", site.tl.Addr(), &tls.Config{ServerName: pebbletest.BlockedDomain, InsecureSkipVerify: true})
	if err == nil {
		t.Error("a handshake succeeded with no certificate obtained")
	}
}

// TestACMERenew renews a certificate that is due while serving the current one, and keeps
// serving the stored one while the CA is unreachable.
func TestACMERenew(t *testing.T) {
	tlsPort := pebbletest.FreePort(t)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsPort, HTTPPort: pebbletest.FreePort(t), ShortValidity: time.Hour})
	st := storage.NewDir(t.TempDir())
	// Due two seconds after it is issued.
	cfg := ACMEConfig{Domains: []string{"renew.test"}, Profile: "shortlived", RenewBefore: time.Hour - 2*time.Second}
	site := startACME(t, p, st, tlsPort, 0, cfg)
	first := site.next(t, ACMEObtained)
	if life := time.Until(first.NotAfter); life > time.Hour+time.Minute {
		t.Errorf("shortlived profile: certificate valid for %v", life)
	}
	roots := p.IssuerRoots(t)
	_, _, leaf1 := site.fetch(t, "renew.test", roots, false)
	site.next(t, ACMEObtained)
	_, _, leaf2 := site.fetch(t, "renew.test", roots, true)
	if leaf1.SerialNumber.Cmp(leaf2.SerialNumber) == 0 {
		t.Errorf("serial %s after renewal, want a new certificate", leaf2.SerialNumber)
	}
	site.stop(t)
	orders := p.Orders()
	if orders < 2 {
		t.Errorf("Pebble received %d orders, want 2 or more", orders)
	}

	// The stored certificate is due and the CA is gone: the stored one is served, and the
	// renewal fails with a clear error.
	p.Stop()
	cfg.RenewBefore = leaf2.NotAfter.Sub(leaf2.NotBefore) // the whole lifetime: due now
	again := startACME(t, p, st, tlsPort, 0, cfg)
	again.next(t, ACMELoaded)
	failed := again.next(t, ACMEFailed)
	if !strings.Contains(failed.Err.Error(), "CA unreachable") {
		t.Errorf("renewal with the CA down: %v, want it to say the CA is unreachable", failed.Err)
	}
	_, _, leaf3 := again.fetch(t, "renew.test", roots, false)
	if leaf3.NotAfter.Before(leaf2.NotAfter) {
		t.Errorf("with the CA down: serving serial %s, want the newest stored one", leaf3.SerialNumber)
	}
}

// orderedLocks is a Storage whose Lock of an order lock waits for after to be closed, and
// closes locked once it holds one. The session-ticket keys' lock passes straight through.
type orderedLocks struct {
	storage.Storage
	after, locked chan struct{}
	once          *sync.Once
}

func (o orderedLocks) Lock(ctx context.Context, name string, ttl time.Duration) error {
	if name == TicketKeysKey { // the listeners' session-ticket keys, not the order
		return o.Storage.Lock(ctx, name, ttl)
	}
	select {
	case <-o.after:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := o.Storage.Lock(ctx, name, ttl); err != nil {
		return err
	}
	o.once.Do(func() { close(o.locked) })
	return nil
}

// TestACMESharedStorage runs two instances on one storage. Instance B takes the order lock
// first and orders; A then asks for the lock and waits. The CA validates on A's ports only
// (TLS-ALPN-01 on its HTTPS listener; HTTP-01 on its plain one when both have one), and A
// answers from the storage the challenge B shared. Once B releases the lock, A loads B's
// certificate: one order in all.
func TestACMESharedStorage(t *testing.T) {
	for _, challenge := range []string{"tls-alpn-01", "http-01"} {
		t.Run(challenge, func(t *testing.T) {
			tlsA, httpA, httpB := pebbletest.FreePort(t), 0, 0
			pebbleHTTP := pebbletest.FreePort(t) // nothing there
			if challenge == "http-01" {
				httpA, httpB = pebbletest.FreePort(t), pebbletest.FreePort(t)
				pebbleHTTP = httpA
			}
			p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsA, HTTPPort: pebbleHTTP})
			st := storage.NewDir(t.TempDir())
			open, bLocked := make(chan struct{}), make(chan struct{})
			close(open)
			stB := orderedLocks{Storage: st, after: open, locked: bLocked, once: new(sync.Once)}
			stA := orderedLocks{Storage: st, after: bLocked, locked: make(chan struct{}), once: new(sync.Once)}
			cfg := ACMEConfig{Domains: []string{"shared.test"}}
			a := startACME(t, p, stA, tlsA, httpA, cfg)
			b := startACME(t, p, stB, pebbletest.FreePort(t), httpB, cfg)
			b.next(t, ACMEObtained)
			a.next(t, ACMELoaded)
			roots := p.IssuerRoots(t)
			_, _, leafA := a.fetch(t, "shared.test", roots, false)
			_, _, leafB := b.fetch(t, "shared.test", roots, false)
			if leafA.SerialNumber.Cmp(leafB.SerialNumber) != 0 {
				t.Errorf("instances serve serials %s and %s, want one certificate", leafA.SerialNumber, leafB.SerialNumber)
			}
			if got := p.Orders(); got != 1 {
				t.Errorf("Pebble received %d orders, want 1", got)
			}
			if keys, _ := st.List(t.Context(), "acme/"); strings.Contains(strings.Join(keys, " "), "/challenges/") {
				t.Errorf("challenge answers left in storage: %v", keys)
			}
		})
	}
}

// TestACMEConfigErrors: every bad ACME setting is refused by AddHTTPSServer with an error
// naming it, before anything is contacted.
func TestACMEConfigErrors(t *testing.T) {
	pem := getPKI(t)
	st := storage.NewDir(t.TempDir())
	for _, tc := range []struct {
		name string
		cfg  HTTPSConfig
		want string
	}{
		{"no domains", HTTPSConfig{ACME: &ACMEConfig{}}, "at least one domain"},
		{"with a certificate", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a.test"}}, CertPEM: pem.certPEM, KeyPEM: pem.keyPEM}, "set no Cert"},
		{"wildcard", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"*.a.test"}}}, "DNS-01"},
		{"IP address", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"192.0.2.1"}}}, "IP address"},
		{"IPv6 address", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"::1"}}}, "not allowed"},
		{"bad label", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a..test"}}}, "label"},
		{"unicode", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"bücher.test"}}}, "xn--"},
		{"space", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a test"}}}, "not allowed"},
		{"email", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a.test"}, Email: "admin"}}, "not an address"},
		{"directory", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a.test"}, DirectoryURL: "http://ca.test/dir"}}, "not an https:// URL"},
		{"roots missing", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a.test"}, CARoots: "/nonexistent/root.pem"}}, "ACME CA roots"},
		{"roots not PEM", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a.test"}, CARoots: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}}, "ACME CA roots"},
		{"negative renew", HTTPSConfig{ACME: &ACMEConfig{Domains: []string{"a.test"}, RenewBefore: -time.Hour}}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Storage = st
			_, err := New(Config{}).AddHTTPSServer(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddHTTPSServer: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestACMEDefaultStorage: a nil Storage keeps ACME state under the development CA's root.
func TestACMEDefaultStorage(t *testing.T) {
	root := t.TempDir()
	t.Setenv("HTTPSKIT_CAROOT", root)
	d, err := DefaultStorage()
	if err != nil || d.Root != root {
		t.Fatalf("DefaultStorage() = %v, %v; want a Dir at %s", d, err, root)
	}
}

// TestNoHSTSWithoutACME: listeners with any other certificate (the development CA's here)
// never send Strict-Transport-Security.
func TestNoHSTSWithoutACME(t *testing.T) {
	s := New(Config{})
	s.RouteFunc("GET", "/", func(_ string, _ *Request, res *Response) error { return res.WriteText(200, "ok\n", nil) })
	for _, tg := range startTargets(t, s) {
		res, _ := tg.get(t, "/")
		if got := res.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: Strict-Transport-Security %q without ACME", tg.name, got)
		}
	}
}

// TestACMEFaults: a rate-limited CA, a CA that is not there and a storage that cannot be
// written each give one failure naming the cause, and the Server keeps serving.
func TestACMEFaults(t *testing.T) {
	limited, limitedRoot := pebbletest.RateLimitedCA(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, roots string
		st               storage.Storage
		want             string
		minRetry         time.Duration
	}{
		{"rate limited", limited, limitedRoot, storage.NewDir(t.TempDir()), "rate limited by the CA", time.Hour - time.Minute},
		{"CA unreachable", "https://127.0.0.1:" + strconv.Itoa(pebbletest.FreePort(t)) + "/dir", "", storage.NewDir(t.TempDir()), "CA unreachable", 0},
		{"storage not writable", limited, limitedRoot, storage.NewDir(filepath.Join(blocker, "sub")), "not usable", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{})
			events := make(chan ACMEEvent, 10)
			tl, err := s.AddHTTPSServer(HTTPSConfig{
				HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort},
				ACME:       &ACMEConfig{Domains: []string{"fault.test"}, DirectoryURL: tc.dir, CARoots: tc.roots, Notify: func(e ACMEEvent) { events <- e }},
				Storage:    tc.st,
			})
			if err != nil {
				t.Fatal(err)
			}
			hl, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: RandomPort})
			if err != nil {
				t.Fatal(err)
			}
			s.RouteFunc("GET", "/", func(_ string, _ *Request, res *Response) error { return res.WriteText(200, "up\n", nil) })
			if err := s.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
			site := &acmeSite{s: s, tl: tl, events: events}
			e := site.next(t, ACMEFailed)
			if !strings.Contains(e.Err.Error(), tc.want) || e.Retry < tc.minRetry {
				t.Errorf("failure %q, retry in %v; want %q, retry after %v at least", e.Err, e.Retry, tc.want, tc.minRetry)
			}
			if strings.Contains(e.Err.Error(), "\n") {
				t.Errorf("failure over several lines: %q", e.Err)
			}
			res, err := http.Get(hl.URL() + "/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 || !tl.Running() {
				t.Errorf("while failing: plain HTTP %s, TLS listener running %v", res.Status, tl.Running())
			}
		})
	}
}
