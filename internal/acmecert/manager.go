// Package acmecert obtains and renews the certificate of one TLS listener from an ACME
// certificate authority (Let's Encrypt, Pebble, a private CA), keeps it in a storage.Storage
// shared by every instance of the site, staples OCSP responses to it, and answers the CA's
// TLS-ALPN-01 and HTTP-01 challenges. Package server wires it to HTTPSConfig.ACME.
//
// It is built on golang.org/x/crypto/acme rather than acme/autocert: autocert orders on the
// first handshake for a name (a client waits for the whole order), keeps its state in a Cache
// with no locks (two instances order the same name twice), and renews on its own schedule in
// each process. A Manager orders in the background from Run, as soon as the listener starts;
// takes a storage lock per certificate so one instance orders while the others wait and then
// load the result; retries failures with backoff; and keeps serving the certificate it has.
package acmecert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"

	"github.com/httpskit/httpskit/storage"
)

// Timing of the manager. Variables so that tests in this package can shorten them.
const (
	// orderTimeout bounds one whole order: account, authorizations, challenges, finalize.
	orderTimeout = 3 * time.Minute
	// lockTTL is longer than orderTimeout, so a lock never expires under a live holder.
	lockTTL = orderTimeout + time.Minute
	// maxRetry caps the backoff between failed attempts.
	maxRetry = time.Hour
	// maxSleep caps the wait between two checks of the certificate.
	maxSleep = 12 * time.Hour
	// storageTimeout bounds one storage read or write outside the lock.
	storageTimeout = 30 * time.Second
)

// Config configures a Manager. Domains, DirectoryURL and Storage are required.
type Config struct {
	Domains      []string // the names of the certificate, the first one names it in storage
	DirectoryURL string
	Email        string         // contact address; "" registers the account without one
	Roots        *x509.CertPool // roots trusted for the CA's API; nil: the system roots
	RenewBefore  time.Duration  // renew this long before expiry; 0 or past the lifetime: a third of it
	Profile      string         // ACME certificate profile; "" lets the CA choose
	Storage      storage.Storage
	Logger       *slog.Logger // nil: no log output
	// Notify, when set, is called from Run's goroutine for every Event.
	Notify func(Event)
	// HTTPChallenge reports whether a plain HTTP listener answers HTTP-01 challenges on port
	// 80 for this manager; then HTTP-01 is preferred over TLS-ALPN-01. Nil means never.
	HTTPChallenge func() bool
	// RetryMin is the first wait after a failed attempt; it doubles up to an hour. Zero
	// means one minute.
	RetryMin time.Duration
}

// Event kinds.
const (
	Loaded   = "loaded"   // a certificate was read from storage and put in service
	Obtained = "obtained" // the CA issued a certificate, now stored and in service
	Failed   = "failed"   // an attempt failed; Err says why and Retry when the next one is
	Stapled  = "stapled"  // an OCSP response was fetched and is stapled to handshakes
	// StapleFailed: no OCSP response could be stapled (Err says why); the certificate is
	// served without one, or with the previous one while it is valid.
	StapleFailed = "staple-failed"
)

// Event reports what the manager did, for a person: Kind is one of Loaded, Obtained, Failed,
// Stapled and StapleFailed.
type Event struct {
	Kind     string
	Domains  []string
	NotAfter time.Time     // expiry of the certificate in service (Loaded, Obtained, Stapled)
	Err      error         // Failed and StapleFailed only
	Retry    time.Duration // Failed only: the wait before the next attempt
}

// Manager holds the certificate in service and keeps it valid. Make one with New, run Run in
// a goroutine, and give GetCertificate to the listener's tls.Config. Its methods are safe for
// concurrent use.
type Manager struct {
	cfg    Config
	client *acme.Client
	prefix string // "acme/<CA>"
	logger *slog.Logger

	cert   atomic.Pointer[tls.Certificate] // in service; Leaf is set
	staple ocspState

	mu     sync.Mutex
	alpn   map[string]*tls.Certificate // TLS-ALPN-01 answers by name
	http01 map[string]string           // HTTP-01 answers by path
}

// New checks cfg and returns a Manager. Nothing is read or ordered until Run.
func New(cfg Config) (*Manager, error) {
	if len(cfg.Domains) == 0 {
		return nil, errors.New("no domain names")
	}
	if cfg.Storage == nil {
		return nil, errors.New("no storage")
	}
	u, err := url.Parse(cfg.DirectoryURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("directory URL %q is not an https:// URL", cfg.DirectoryURL)
	}
	if cfg.RenewBefore < 0 {
		return nil, fmt.Errorf("renew window %v is negative", cfg.RenewBefore)
	}
	m := &Manager{
		cfg:    cfg,
		prefix: "acme/" + caName(u),
		logger: cfg.Logger,
		alpn:   make(map[string]*tls.Certificate),
		http01: make(map[string]string),
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryMin <= 0 {
		m.cfg.RetryMin = time.Minute
	}
	for _, k := range []string{m.certKey(), m.accountKey(), m.lockName()} {
		if err := storage.CheckKey(k); err != nil {
			return nil, err
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: cfg.Roots, MinVersion: tls.VersionTLS12}
	tr.ResponseHeaderTimeout = 30 * time.Second
	m.client = &acme.Client{
		DirectoryURL: cfg.DirectoryURL,
		UserAgent:    "httpskit",
		HTTPClient:   &http.Client{Transport: tr, Timeout: time.Minute},
		// A few quick retries for a bad nonce or a CA error 5xx; none when rate limited:
		// Run waits for as long as the CA says.
		RetryBackoff: func(n int, _ *http.Request, res *http.Response) time.Duration {
			if n > 3 || res != nil && res.StatusCode == http.StatusTooManyRequests {
				return -1
			}
			return time.Duration(n) * 500 * time.Millisecond
		},
	}
	return m, nil
}

// caName turns a directory URL into one storage key part: its host (":" as "-") and path
// ("/" as "-"), such as "acme-v02.api.letsencrypt.org-directory".
func caName(u *url.URL) string {
	s := strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/")
	return strings.NewReplacer(":", "-", "/", "-", "%", "-").Replace(s)
}

func (m *Manager) certKey() string { return m.prefix + "/sites/" + m.cfg.Domains[0] + "/cert.pem" }
func (m *Manager) lockName() string {
	return m.prefix + "/locks/" + m.cfg.Domains[0]
}

func (m *Manager) accountKey() string {
	user := m.cfg.Email
	if user == "" {
		user = "default"
	}
	return m.prefix + "/users/" + user + "/account.key"
}

// StorageKey returns where the certificate and its key are kept in the storage.
func (m *Manager) StorageKey() string { return m.certKey() }

// Certificate returns the certificate in service, or nil before the first one is obtained.
func (m *Manager) Certificate() *tls.Certificate { return m.cert.Load() }

// GetCertificate is the listener's tls.Config.GetCertificate: the TLS-ALPN-01 answer for a
// validation connection (ALPN "acme-tls/1"), otherwise the certificate in service, with its
// OCSP staple when there is one.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		name := strings.ToLower(hello.ServerName)
		m.mu.Lock()
		c := m.alpn[name]
		m.mu.Unlock()
		if c == nil && slices.Contains(m.cfg.Domains, name) {
			c = m.sharedALPN(hello.Context(), name) // another instance may be ordering
		}
		if c == nil {
			return nil, fmt.Errorf("acme: no TLS-ALPN-01 challenge pending for %q", hello.ServerName)
		}
		return c, nil
	}
	if c := m.staple.cert.Load(); c != nil {
		return c, nil
	}
	if c := m.cert.Load(); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("acme: no certificate for %s obtained yet", strings.Join(m.cfg.Domains, ","))
}

// ServeChallenge answers an HTTP-01 validation request and reports whether r was one.
func (m *Manager) ServeChallenge(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
		return false
	}
	m.mu.Lock()
	body, ok := m.http01[r.URL.Path]
	m.mu.Unlock()
	if !ok {
		// Another instance may be ordering.
		token := strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")
		if !validToken(token) {
			return false
		}
		ctx, cancel := context.WithTimeout(r.Context(), sharedTimeout)
		b, err := m.cfg.Storage.Get(ctx, m.http01Key(token))
		cancel()
		if err != nil {
			return false
		}
		body = string(b)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(body))
	return true
}

// Run keeps a valid certificate in service until ctx ends: it loads the stored one, orders
// when there is none or it is due for renewal, retries failures with backoff, and keeps the
// OCSP staple fresh. A failure never takes the certificate in service away.
func (m *Manager) Run(ctx context.Context) {
	retry := m.cfg.RetryMin
	var retryAt time.Time // after a failure: no new attempt before it
	for {
		var wait time.Duration
		if now := m.now(); now.Before(retryAt) {
			// Woken for the OCSP staple while waiting out a failure.
			if c := m.cert.Load(); c != nil {
				m.refreshStaple(ctx, c)
			}
			wait = retryAt.Sub(now)
		} else {
			var err error
			wait, err = m.maintain(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				wait = retry
				if d, ok := rateLimit(err); ok && d > wait {
					wait = d
				}
				retry = min(retry*2, maxRetry)
				retryAt = m.now().Add(wait)
				m.logger.Error("acme: certificate not obtained", "domains", m.cfg.Domains, "err", err, "retry_in", wait)
				m.notify(Event{Kind: Failed, Err: err, Retry: wait})
			} else {
				// A certificate due as soon as issued (a renew window as long as its
				// lifetime) is renewed no more often than a failure is retried.
				retry, retryAt = m.cfg.RetryMin, time.Time{}
				wait = max(wait, m.cfg.RetryMin)
			}
		}
		if s := m.staple.next(m.now()); s > 0 && s < wait {
			wait = s
		}
		t := time.NewTimer(min(wait, maxSleep))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (m *Manager) now() time.Time { return time.Now() }

func (m *Manager) notify(e Event) {
	e.Domains = m.cfg.Domains
	if e.NotAfter.IsZero() {
		if c := m.cert.Load(); c != nil {
			e.NotAfter = c.Leaf.NotAfter
		}
	}
	if m.cfg.Notify != nil {
		m.cfg.Notify(e)
	}
}

// maintain does one round: it returns how long to wait before the next one.
func (m *Manager) maintain(ctx context.Context) (time.Duration, error) {
	cur := m.cert.Load()
	if cur == nil || m.due(cur.Leaf) {
		// Another instance may have renewed already: storage first, without the lock. A
		// stored certificate that is due but not expired is served until its renewal.
		sctx, cancel := context.WithTimeout(ctx, storageTimeout)
		c, err := m.load(sctx)
		cancel()
		switch {
		case err == nil && (cur == nil || c.Leaf.NotAfter.After(cur.Leaf.NotAfter)) && m.now().Before(c.Leaf.NotAfter):
			m.use(ctx, c, Loaded)
			cur = c
		case err != nil && !errors.Is(err, storage.ErrNotExist):
			m.logger.Warn("acme: stored certificate not usable", "key", m.certKey(), "err", err)
		}
		if cur == nil || m.due(cur.Leaf) {
			if err := m.obtain(ctx); err != nil {
				return 0, err
			}
			cur = m.cert.Load()
		}
	} else {
		m.refreshStaple(ctx, cur)
	}
	return time.Until(m.renewAt(cur.Leaf)), nil
}

// renewAt is when leaf is due for renewal: RenewBefore before it expires, or when a third of
// its lifetime is left if RenewBefore is zero or longer than the lifetime.
func (m *Manager) renewAt(leaf *x509.Certificate) time.Time {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	before := m.cfg.RenewBefore
	if before == 0 || before > life {
		before = life / 3
	}
	return leaf.NotAfter.Add(-before)
}

func (m *Manager) due(leaf *x509.Certificate) bool { return !m.now().Before(m.renewAt(leaf)) }

// use puts c in service and staples it when it names an OCSP responder.
func (m *Manager) use(ctx context.Context, c *tls.Certificate, kind string) {
	m.cert.Store(c)
	m.staple.reset()
	m.logger.Info("acme: certificate in service", "how", kind, "domains", m.cfg.Domains, "not_after", c.Leaf.NotAfter, "serial", c.Leaf.SerialNumber.Text(16))
	m.notify(Event{Kind: kind, NotAfter: c.Leaf.NotAfter})
	m.refreshStaple(ctx, c)
}

// load reads the stored certificate and checks that it covers every domain and that its key
// matches.
func (m *Manager) load(ctx context.Context) (*tls.Certificate, error) {
	b, err := m.cfg.Storage.Get(ctx, m.certKey())
	if err != nil {
		return nil, err
	}
	var keyPEM, certPEM []byte
	for rest := b; ; {
		var block *pem.Block
		start := rest
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			keyPEM = append(keyPEM, start[:len(start)-len(rest)]...)
		} else {
			certPEM = append(certPEM, start[:len(start)-len(rest)]...)
		}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("stored certificate %s: %w", m.certKey(), err)
	}
	for _, d := range m.cfg.Domains {
		if err := c.Leaf.VerifyHostname(d); err != nil {
			return nil, fmt.Errorf("stored certificate %s does not cover %s", m.certKey(), d)
		}
	}
	return &c, nil
}

// obtain takes the order lock, loads what another instance may have stored meanwhile, and
// otherwise orders a certificate, stores it and puts it in service.
func (m *Manager) obtain(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, lockTTL+orderTimeout)
	defer cancel()
	if err := m.cfg.Storage.Lock(lctx, m.lockName(), lockTTL); err != nil {
		return fmt.Errorf("storage %s not usable (cannot take the order lock; is it writable?): %w", m.cfg.Storage, err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storageTimeout)
		defer cancel()
		if err := m.cfg.Storage.Unlock(uctx, m.lockName()); err != nil {
			m.logger.Warn("acme: unlock", "err", err)
		}
	}()
	cur := m.cert.Load()
	if c, err := m.load(lctx); err == nil && !m.due(c.Leaf) && (cur == nil || c.Leaf.NotAfter.After(cur.Leaf.NotAfter)) {
		m.use(ctx, c, Loaded) // another instance ordered it while we waited
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	c, stored, err := m.order(octx)
	if err != nil {
		return err
	}
	if err := m.cfg.Storage.Put(octx, m.certKey(), stored); err != nil {
		// Serve it anyway; the next start orders again.
		m.logger.Error("acme: certificate obtained but not stored", "err", err)
		m.use(ctx, c, Obtained)
		return fmt.Errorf("certificate obtained but not stored (it is served from memory): %w", err)
	}
	m.use(ctx, c, Obtained)
	return nil
}

// order runs one ACME order and returns the certificate and its storage form: the key then
// the chain, in PEM.
func (m *Manager) order(ctx context.Context) (*tls.Certificate, []byte, error) {
	if err := m.account(ctx); err != nil {
		return nil, nil, err
	}
	var opts []acme.OrderOption
	if m.cfg.Profile != "" {
		opts = append(opts, acme.WithOrderIssuanceProfile(acme.ProfileName(m.cfg.Profile)))
	}
	o, err := m.client.AuthorizeOrder(ctx, acme.DomainIDs(m.cfg.Domains...), opts...)
	if err != nil {
		var ae *acme.Error
		if errors.As(err, &ae) && strings.HasSuffix(ae.ProblemType, ":accountDoesNotExist") {
			m.client.Key = nil // the CA forgot the account: register again next time
		}
		return nil, nil, caError("new order", err)
	}
	for _, zurl := range o.AuthzURLs {
		if err := m.authorize(ctx, zurl); err != nil {
			return nil, nil, err
		}
	}
	if o, err = m.client.WaitOrder(ctx, o.URI); err != nil {
		return nil, nil, caError("order", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: m.cfg.Domains}, key)
	if err != nil {
		return nil, nil, err
	}
	der, _, err := m.client.CreateCertFromOrder(ctx, o, csr, true)
	if err != nil {
		return nil, nil, caError("finalize", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	pem.Encode(&buf, &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	for _, d := range der {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return nil, nil, fmt.Errorf("CA issued a certificate that does not parse: %w", err)
	}
	c := &tls.Certificate{Certificate: der, PrivateKey: key, Leaf: leaf}
	return c, buf.Bytes(), nil
}

// account loads or creates the account key and registers it with the CA.
func (m *Manager) account(ctx context.Context) error {
	if m.client.Key != nil {
		return nil
	}
	var key crypto.Signer
	b, err := m.cfg.Storage.Get(ctx, m.accountKey())
	switch {
	case err == nil:
		block, _ := pem.Decode(b)
		if block == nil {
			return fmt.Errorf("account key %s in storage is not PEM", m.accountKey())
		}
		if key, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
			return fmt.Errorf("account key %s in storage: %w", m.accountKey(), err)
		}
	case errors.Is(err, storage.ErrNotExist):
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return err
		}
		if err := m.cfg.Storage.Put(ctx, m.accountKey(), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})); err != nil {
			return err
		}
		key = k
	default:
		return err
	}
	m.client.Key = key
	acct := &acme.Account{}
	if m.cfg.Email != "" {
		acct.Contact = []string{"mailto:" + m.cfg.Email}
	}
	if _, err := m.client.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		m.client.Key = nil // registered on the next attempt
		return caError("register account", err)
	}
	return nil
}

// authorize completes one authorization with the preferred challenge the CA offers.
func (m *Manager) authorize(ctx context.Context, zurl string) error {
	z, err := m.client.GetAuthorization(ctx, zurl)
	if err != nil {
		return caError("authorization", err)
	}
	if z.Status == acme.StatusValid {
		return nil
	}
	name := z.Identifier.Value
	prefer := []string{"tls-alpn-01"}
	if m.cfg.HTTPChallenge != nil && m.cfg.HTTPChallenge() {
		prefer = []string{"http-01", "tls-alpn-01"}
	}
	var chal *acme.Challenge
	for _, typ := range prefer {
		if i := slices.IndexFunc(z.Challenges, func(c *acme.Challenge) bool { return c.Type == typ }); i >= 0 {
			chal = z.Challenges[i]
			break
		}
	}
	if chal == nil {
		return fmt.Errorf("CA offers no challenge this server can answer for %s (wants one of %s)", name, strings.Join(prefer, ", "))
	}
	switch chal.Type {
	case "tls-alpn-01":
		cert, err := m.client.TLSALPN01ChallengeCert(chal.Token, name)
		if err != nil {
			return err
		}
		m.mu.Lock()
		m.alpn[strings.ToLower(name)] = &cert
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.alpn, strings.ToLower(name))
			m.mu.Unlock()
		}()
		shared, err := certPEM(&cert)
		if err != nil {
			return err
		}
		unshare, err := m.share(ctx, m.alpnKey(name), shared)
		if err != nil {
			return err
		}
		defer unshare()
	case "http-01":
		body, err := m.client.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			return err
		}
		path := m.client.HTTP01ChallengePath(chal.Token)
		m.mu.Lock()
		m.http01[path] = body
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.http01, path)
			m.mu.Unlock()
		}()
		unshare, err := m.share(ctx, m.http01Key(chal.Token), []byte(body))
		if err != nil {
			return err
		}
		defer unshare()
	}
	if _, err := m.client.Accept(ctx, chal); err != nil {
		return caError("accept "+chal.Type+" challenge for "+name, err)
	}
	if _, err := m.client.WaitAuthorization(ctx, z.URI); err != nil {
		return caError(chal.Type+" validation of "+name, err)
	}
	return nil
}

// caError wraps an error from the CA with what was being done, keeping the CA's own words.
func caError(op string, err error) error {
	var ae *acme.AuthorizationError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: CA refused: %w", op, err) // its text holds the CA's details
	}
	var oe *acme.OrderError
	if errors.As(err, &oe) {
		return fmt.Errorf("%s: CA marked the order %s: %w", op, oe.Status, err)
	}
	var e *acme.Error
	if errors.As(err, &e) {
		what := "CA refused"
		switch {
		case strings.HasSuffix(e.ProblemType, ":rateLimited"):
			what = "rate limited by the CA"
		case strings.HasSuffix(e.ProblemType, ":rejectedIdentifier"):
			what = "CA refuses the name"
		}
		return fmt.Errorf("%s: %s: %w", op, what, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out: %w", op, err)
	}
	return fmt.Errorf("%s: CA unreachable or not trusted: %w", op, err)
}

// sharedTimeout bounds the storage read of a challenge answer that another instance shared.
const sharedTimeout = 5 * time.Second

// Several instances behind one load balancer share the answers to the challenges in the
// storage: the CA's validation may reach any of them, not only the one ordering.
func (m *Manager) alpnKey(name string) string {
	return m.prefix + "/challenges/tls-alpn-01/" + strings.ToLower(name)
}
func (m *Manager) http01Key(token string) string {
	return m.prefix + "/challenges/http-01/" + token
}

// share puts a challenge answer in the storage and returns the function that removes it.
func (m *Manager) share(ctx context.Context, key string, value []byte) (func(), error) {
	if err := m.cfg.Storage.Put(ctx, key, value); err != nil {
		return nil, fmt.Errorf("share the challenge answer: %w", err)
	}
	return func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storageTimeout)
		defer cancel()
		m.cfg.Storage.Delete(dctx, key)
	}, nil
}

// sharedALPN returns the TLS-ALPN-01 answer for name that another instance shared, or nil.
func (m *Manager) sharedALPN(ctx context.Context, name string) *tls.Certificate {
	ctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	defer cancel()
	b, err := m.cfg.Storage.Get(ctx, m.alpnKey(name))
	if err != nil {
		return nil
	}
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		return nil
	}
	return &c
}

// validToken reports whether s is an ACME token: base64url, 16 to 256 bytes.
func validToken(s string) bool {
	if len(s) < 16 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// certPEM encodes c's chain and key in PEM, the key last.
func certPEM(c *tls.Certificate) ([]byte, error) {
	var buf bytes.Buffer
	for _, d := range c.Certificate {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, err
	}
	pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return buf.Bytes(), nil
}

// rateLimit returns the wait a rate-limited CA asked for (Retry-After), when err says so.
func rateLimit(err error) (time.Duration, bool) {
	var e *acme.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return acme.RateLimit(e)
}
