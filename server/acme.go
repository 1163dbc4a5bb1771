package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/acmecert"
	"github.com/httpskit/httpskit/storage"
)

// ACME certificate authorities' directory URLs.
const (
	// LetsEncrypt is Let's Encrypt's production directory, the default of
	// ACMEConfig.DirectoryURL. Its certificates are trusted by browsers; its rate limits are
	// strict (see letsencrypt.org/docs/rate-limits): try a new site on LetsEncryptStaging.
	LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
	// LetsEncryptStaging is Let's Encrypt's staging directory: generous rate limits,
	// certificates no browser trusts. For trying a setup out.
	LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// hstsValue is the Strict-Transport-Security header of ACME listeners: one year.
var hstsValue = []string{"max-age=31536000"}

// ACMEConfig makes a TLS listener obtain and renew its certificate from an ACME certificate
// authority such as Let's Encrypt (HTTPSConfig.ACME).
//
// The listener starts at once: Start never waits for the CA. The certificate is ordered in
// the background (ECDSA P-256 key), stored in HTTPSConfig.Storage, and renewed when a third
// of its lifetime is left; until the first one is issued, handshakes fail with an error
// naming the domains. A failed order is logged with the CA's own error and retried after a
// minute, then two, four... up to an hour (longer when the CA says when to come back); the
// certificate in service stays in service meanwhile. A restart loads the stored certificate
// and orders nothing while it is not due. Several instances sharing one Storage take a lock
// per certificate: one orders, the others wait for it and load the result.
//
// Challenges: TLS-ALPN-01 on the listener itself (the CA connects to port 443 of each
// domain), or HTTP-01 on a plain HTTP listener of the same Server when one is running (the
// CA connects to port 80). The Server answers HTTP-01 requests on its plain HTTP listeners
// before any route; the routes decide what else plain HTTP does (serve redirects it to
// HTTPS).
//
// When the certificate names an OCSP responder, the listener fetches its response in the
// background, refreshes it half-way to its next update, and staples it to handshakes.
//
// Responses on an ACME listener carry Strict-Transport-Security (max-age one year) unless
// DisableHSTS is set. Listeners with any other certificate never send it: a browser that saw
// it for a name refuses plain HTTP and certificate warnings for that name for a year.
type ACMEConfig struct {
	// Domains are the DNS names of the certificate (at least one; no wildcards, no IP
	// addresses). The first one names the certificate in storage. Each must resolve to this
	// server for the CA's validation.
	Domains []string
	// DirectoryURL is the CA's ACME directory. Zero means LetsEncrypt (production).
	DirectoryURL string
	// Email is the account's contact address: the CA writes to it about expiry and
	// problems. Zero means an account without contact.
	Email string
	// CARoots holds extra root certificates, as PEM text or a file name (the certs rule),
	// trusted when talking to the CA's API, beside the system roots: for a private CA or
	// Pebble. Zero means the system roots only.
	CARoots string
	// RenewBefore is how long before expiry the certificate is renewed. Zero, or a value
	// longer than a certificate's lifetime, means when a third of its lifetime is left (30
	// days for Let's Encrypt's 90-day certificates). Renewals are at least a minute apart.
	RenewBefore time.Duration
	// Profile asks the CA for a certificate profile by name (Let's Encrypt: "classic",
	// "tlsserver", "shortlived"). Zero lets the CA choose.
	Profile string
	// DisableHSTS turns off the Strict-Transport-Security header. Zero sends it.
	DisableHSTS bool
	// Notify, when set, is called for each certificate event: loaded from storage,
	// obtained from the CA, an attempt failed (with the error and the wait before the next
	// one), an OCSP response stapled. It is called from the listener's ACME goroutine, one
	// event at a time; it must not block.
	Notify func(ACMEEvent)
}

// ACMEEvent is what an ACME listener reports to ACMEConfig.Notify. Kind is one of
// ACMELoaded, ACMEObtained, ACMEFailed, ACMEStapled and ACMEStapleFailed; NotAfter is the
// expiry of the certificate in service (zero before the first); Err and Retry are set for
// ACMEFailed and ACMEStapleFailed.
type ACMEEvent = acmecert.Event

// ACMEEvent kinds.
const (
	ACMELoaded   = acmecert.Loaded
	ACMEObtained = acmecert.Obtained
	ACMEFailed   = acmecert.Failed
	ACMEStapled  = acmecert.Stapled
	// ACMEStapleFailed: no OCSP response could be stapled; Err says why.
	ACMEStapleFailed = acmecert.StapleFailed
)

// acmeRetryMin is the first wait after a failed order; tests shorten it.
var acmeRetryMin = time.Minute

// DefaultStorage returns the Storage that an ACME listener uses when HTTPSConfig.Storage is
// nil: a storage.Dir in the directory of the development CA (certs.DefaultRoot:
// $HTTPSKIT_CAROOT, else "httpskit" in the user's config directory), so ACME state lives
// under its "acme" folder. It creates nothing.
func DefaultStorage() (*storage.Dir, error) {
	root, err := certs.DefaultRoot()
	if err != nil {
		return nil, fmt.Errorf("server: ACME storage: %w", err)
	}
	return storage.NewDir(filepath.Clean(root)), nil
}

// acmeManager checks c.ACME and returns the manager of the listener's certificate.
func (c *HTTPSConfig) acmeManager(s *Server) (*acmecert.Manager, error) {
	a := c.ACME
	if c.Cert != "" || c.Key != "" || c.PFX != "" || len(c.CertPEM) > 0 || len(c.KeyPEM) > 0 ||
		c.TLSConfig != nil && (len(c.TLSConfig.Certificates) > 0 || c.TLSConfig.GetCertificate != nil || c.TLSConfig.GetConfigForClient != nil) {
		return nil, errors.New("server: ACME obtains the certificate: set no Cert, Key, PFX, CertPEM, KeyPEM or TLSConfig certificates with it")
	}
	if len(a.Domains) == 0 {
		return nil, errors.New("server: ACME needs at least one domain name")
	}
	domains := make([]string, 0, len(a.Domains))
	for _, d := range a.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if err := checkACMEName(d); err != nil {
			return nil, err
		}
		if !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	if strings.ContainsAny(a.Email, " \t\r\n\\/") || a.Email != "" && !strings.Contains(a.Email, "@") {
		return nil, fmt.Errorf("server: ACME email %q is not an address", a.Email)
	}
	var roots *x509.CertPool
	if a.CARoots != "" {
		pem, err := certs.ReadPEM("CA", a.CARoots)
		if err != nil {
			return nil, fmt.Errorf("server: ACME CA roots: %w", err)
		}
		if _, err := certs.CertPool(pem); err != nil {
			return nil, fmt.Errorf("server: ACME CA roots: %w", err)
		}
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		roots.AppendCertsFromPEM(pem)
	}
	dir := a.DirectoryURL
	if dir == "" {
		dir = LetsEncrypt
	}
	st := c.Storage
	if st == nil {
		d, err := DefaultStorage()
		if err != nil {
			return nil, err
		}
		st = d
	}
	m, err := acmecert.New(acmecert.Config{
		Domains:       domains,
		DirectoryURL:  dir,
		Email:         a.Email,
		Roots:         roots,
		RenewBefore:   a.RenewBefore,
		Profile:       a.Profile,
		Storage:       st,
		Logger:        s.logger,
		Notify:        a.Notify,
		HTTPChallenge: s.httpRunning,
		RetryMin:      acmeRetryMin,
	})
	if err != nil {
		return nil, fmt.Errorf("server: ACME: %w", err)
	}
	return m, nil
}

// checkACMEName accepts a DNS name a public CA can validate by HTTP-01 or TLS-ALPN-01.
func checkACMEName(d string) error {
	switch {
	case d == "":
		return errors.New("server: ACME domain name is empty")
	case strings.Contains(d, "*"):
		return fmt.Errorf("server: ACME domain %q: wildcard names need the DNS-01 challenge, which is not supported", d)
	case len(d) > 253:
		return fmt.Errorf("server: ACME domain %q is longer than 253 bytes", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("server: ACME domain %q: label %q is empty, longer than 63 bytes or starts or ends with '-'", d, label)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("server: ACME domain %q: byte %q is not allowed (write internationalised names in their xn-- form)", d, c)
			}
		}
	}
	if strings.Trim(d, "0123456789.") == "" || strings.Contains(d, ":") {
		return fmt.Errorf("server: ACME domain %q is an IP address; give DNS names", d)
	}
	return nil
}

// acmeManagers is the set of ACME managers of a Server's listeners, read by every plain
// HTTP request to answer HTTP-01 challenges.
type acmeManagers struct {
	list atomic.Pointer[[]*acmecert.Manager]
}

func (a *acmeManagers) add(m *acmecert.Manager) {
	for {
		old := a.list.Load()
		var next []*acmecert.Manager
		if old != nil {
			next = slices.Clone(*old)
		}
		next = append(next, m)
		if a.list.CompareAndSwap(old, &next) {
			return
		}
	}
}

func (a *acmeManagers) remove(m *acmecert.Manager) {
	for {
		old := a.list.Load()
		if old == nil {
			return
		}
		next := slices.DeleteFunc(slices.Clone(*old), func(x *acmecert.Manager) bool { return x == m })
		if a.list.CompareAndSwap(old, &next) {
			return
		}
	}
}

// serveChallenge answers an HTTP-01 validation request and reports whether r was one.
func (a *acmeManagers) serveChallenge(w http.ResponseWriter, r *http.Request) bool {
	ms := a.list.Load()
	if ms == nil {
		return false
	}
	for _, m := range *ms {
		if m.ServeChallenge(w, r) {
			return true
		}
	}
	return false
}

// httpRunning reports whether a plain HTTP listener of s is serving, so HTTP-01 can be
// answered.
func (s *Server) httpRunning() bool {
	for _, l := range s.Servers() {
		if l.Kind() == KindHTTP && l.Running() {
			return true
		}
	}
	return false
}

// acmeLeaf returns the leaf of the certificate an ACME listener has in service, nil before
// the first one is obtained or for a listener without ACME.
func (l *Listener) acmeLeaf() *x509.Certificate {
	if l.acme == nil {
		return nil
	}
	if c := l.acme.Certificate(); c != nil {
		return c.Leaf
	}
	return nil
}

// runACME runs m until the returned function is called; that function returns once m has
// stopped.
func runACME(m *acmecert.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
