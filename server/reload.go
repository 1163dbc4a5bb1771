package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// ErrNotReloadable is returned by Listener.ReloadCertificate for a listener with nothing on
// disk to read again: plain HTTP, or a certificate and client CA given as PEM text, as
// CertPEM/KeyPEM bytes or through TLSConfig. Server.ReloadCertificates returns it when no
// listener has a file to reload.
var ErrNotReloadable = errors.New("server: no certificate, key or client CA file to reload")

// reloadInterval is how often a running TLS listener looks at its certificate, key and client
// CA files for a change.
const reloadInterval = time.Second

// certFiles is the reload state of a TLS listener whose certificate and key, or client CA,
// come from files.
//
// Handshakes read only the two atomic pointers. Everything else (stat, read, parse, log) runs
// on the listener's watch goroutine or in ReloadCertificate, under mu, never on a handshake.
type certFiles struct {
	cert, key  string   // HTTPSConfig.Cert and Key (or PFX and "") when the pair is reloaded, else ""
	passphrase string   // HTTPSConfig.Passphrase
	pairFiles  []string // the file names among cert and key (one of them may be PEM text)
	ca         string   // HTTPSConfig.CA when it is a file that is reloaded, else ""
	base       *tls.Config

	pair  atomic.Pointer[tls.Certificate] // in service; read by getCertificate
	caCfg atomic.Pointer[tls.Config]      // base with the client CAs in service; read by configForClient

	mu                   sync.Mutex    // serialises loads; guards the fields below
	pairSeen, caSeen     []os.FileInfo // the files as they were when what is in service was read
	pairFailed, caFailed loadFailure   // the last failure logged, so a change is logged once
}

// loadFailure is a failed load: the files it read and why it failed.
type loadFailure struct {
	seen []os.FileInfo
	err  string
}

// watchFiles makes cfg, the listener configuration made by c.tlsConfig, reload the
// certificate and key and the client CA that c gives as file names. It returns nil when there
// is nothing to reload: cfg is then left as it is.
//
// The pair is handed out by GetCertificate, which loads it from an atomic pointer, in place
// of Certificates. A client CA file makes GetConfigForClient return a clone of cfg with the
// client CAs in service, also from an atomic pointer; the clone has no session ticket keys of
// its own, so crypto/tls keeps using those of cfg and tickets survive every reload.
func (c *HTTPSConfig) watchFiles(cfg *tls.Config) *certFiles {
	f := &certFiles{base: cfg}
	user := c.TLSConfig
	if (user == nil || len(user.Certificates) == 0 && user.GetCertificate == nil && user.GetConfigForClient == nil) &&
		len(c.CertPEM) == 0 && len(c.KeyPEM) == 0 && len(cfg.Certificates) == 1 {
		for _, name := range []string{c.Cert, c.Key, c.PFX} {
			if name != "" && !certs.IsPEM(name) && !slices.Contains(f.pairFiles, name) {
				f.pairFiles = append(f.pairFiles, name)
			}
		}
	}
	if len(f.pairFiles) > 0 {
		f.cert, f.key, f.passphrase = c.Cert, c.Key, c.Passphrase
		if c.PFX != "" {
			f.cert = c.PFX
		}
		f.pair.Store(&cfg.Certificates[0])
		cfg.Certificates = nil
		cfg.GetCertificate = f.getCertificate
	}
	if c.CA != "" && !certs.IsPEM(c.CA) && (user == nil || user.ClientCAs == nil && user.GetConfigForClient == nil) {
		f.ca = c.CA
		f.caCfg.Store(f.withClientCAs(cfg.ClientCAs))
		cfg.GetConfigForClient = f.configForClient
	}
	if f.cert == "" && f.ca == "" {
		return nil
	}
	// pairSeen and caSeen stay nil: the first check reads the files again, so a change made
	// since AddHTTPSServer read them is not missed.
	return f
}

// setTicketKeys puts the session-ticket keys in service in the configuration that
// configForClient hands out (a clone of base carries a copy of base's keys).
func (f *certFiles) setTicketKeys(keys [][32]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.caCfg.Load(); c != nil {
		c.SetSessionTicketKeys(keys)
	}
}

func (f *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.pair.Load(), nil
}

func (f *certFiles) configForClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	return f.caCfg.Load(), nil
}

// withClientCAs returns the configuration handed to handshakes for the client CAs in pool.
func (f *certFiles) withClientCAs(pool *x509.CertPool) *tls.Config {
	cfg := f.base.Clone()
	cfg.GetConfigForClient = nil
	cfg.ClientCAs = pool
	return cfg
}

// watch checks the files every reloadInterval until the returned function is called; that
// function returns once the checking goroutine has ended.
func (f *certFiles) watch(l *Listener) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(reloadInterval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				f.check(l)
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// check reloads what changed on disk since it was put in service. A load that fails is tried
// again on every check until it succeeds (a renewal may still be writing), and logged once.
func (f *certFiles) check(l *Listener) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cert != "" {
		if seen := statFiles(f.pairFiles); !sameFiles(seen, f.pairSeen) {
			f.loadPair(l, seen, false)
		}
	}
	if f.ca != "" {
		if seen := statFiles([]string{f.ca}); !sameFiles(seen, f.caSeen) {
			f.loadCA(l, seen, false)
		}
	}
}

// loadPair reads the certificate and key and puts them in service; seen is the state of the
// files taken before reading them. A failure keeps the pair in service. Called with f.mu held.
func (f *certFiles) loadPair(l *Listener, seen []os.FileInfo, asked bool) error {
	pair, err := certs.LoadKeyPair(f.cert, f.key, f.passphrase)
	if err != nil {
		err = fmt.Errorf("server: %s listener %s: reload certificate: %w; still serving the previous certificate", l.kind, l.Addr(), err)
		f.pairFailed.log(l, seen, err, asked)
		return err
	}
	f.pairSeen, f.pairFailed = seen, loadFailure{}
	if old := f.pair.Load(); !asked && slices.EqualFunc(old.Certificate, pair.Certificate, bytes.Equal) {
		return nil // the files were touched or rewritten with the same content
	}
	f.pair.Store(&pair)
	leaf := pair.Leaf
	l.srv.logger.Info("reloaded certificate", "kind", l.kind, "addr", l.Addr(), "files", f.pairFiles,
		"serial", leaf.SerialNumber.Text(16), "subject", leaf.Subject.String(), "not_after", leaf.NotAfter.UTC())
	return nil
}

// loadCA reads the client CA file and puts its certificates in service, as loadPair.
func (f *certFiles) loadCA(l *Listener, seen []os.FileInfo, asked bool) error {
	pool, err := certs.LoadCertPool(f.ca)
	if err != nil {
		err = fmt.Errorf("server: %s listener %s: reload client CA: %w; still using the previous client CA", l.kind, l.Addr(), err)
		f.caFailed.log(l, seen, err, asked)
		return err
	}
	f.caSeen, f.caFailed = seen, loadFailure{}
	if !asked && pool.Equal(f.caCfg.Load().ClientCAs) {
		return nil
	}
	f.caCfg.Store(f.withClientCAs(pool))
	l.srv.logger.Info("reloaded client CA", "kind", l.kind, "addr", l.Addr(), "ca", f.ca)
	return nil
}

// log logs err unless it is the failure logged last, on the same files; asked (a call of
// ReloadCertificate) always logs.
func (p *loadFailure) log(l *Listener, seen []os.FileInfo, err error, asked bool) {
	if !asked && sameFiles(seen, p.seen) && err.Error() == p.err {
		return
	}
	p.seen, p.err = seen, err.Error()
	l.srv.logger.Warn("certificate reload failed", "kind", l.kind, "addr", l.Addr(), "err", err)
}

// statFiles returns the state of each file: nil for one that cannot be read.
func statFiles(names []string) []os.FileInfo {
	fis := make([]os.FileInfo, len(names))
	for i, name := range names {
		fis[i], _ = os.Stat(name)
	}
	return fis
}

// sameFiles reports whether a and b show the same files, unchanged: same inode (a rename
// over the file changes it, as renewal tools do), size and modification time.
func sameFiles(a, b []os.FileInfo) bool {
	return slices.EqualFunc(a, b, func(x, y os.FileInfo) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		return os.SameFile(x, y) && x.Size() == y.Size() && x.ModTime().Equal(y.ModTime())
	})
}

// ReloadCertificate reads the listener's certificate and key files, and its client CA file,
// again and puts them in service for the handshakes that follow; connections already open
// keep what they were made with, and session tickets issued before stay valid.
//
// A running TLS listener also does this by itself: once a second it compares the files' inode,
// size and modification time with those it read, and reloads what changed, so a renewal that
// writes a temporary file and renames it over the old one, or rewrites the certificate and
// then the key, is picked up within a second or two. Only the certificate and client CA given
// as file names are reloaded (Cert and Key, or PFX, in any format package certs reads; an
// encrypted key or PKCS #12 file is opened again with Passphrase, so a renewal must keep
// it); PEM text, CertPEM/KeyPEM and a TLSConfig with its own Certificates, GetCertificate,
// ClientCAs or GetConfigForClient have nothing on disk, and
// for a listener with nothing to reload ReloadCertificate returns an error wrapping
// ErrNotReloadable.
//
// The new pair goes through the checks of AddHTTPSServer (both files present and whole, the
// key matching the certificate, the certificate valid now). When it fails them, or the client
// CA file holds no certificate, the listener keeps what it was serving, the server's logger
// gets a warning saying why (once per change of the files when found by the listener itself),
// and ReloadCertificate returns the error, naming the listener. Each success is logged with
// the new serial number. Safe for concurrent use.
func (l *Listener) ReloadCertificate() error {
	f := l.files
	if f == nil {
		if l.tlsCfg == nil {
			return fmt.Errorf("%w: %s listener %s has no certificate", ErrNotReloadable, l.kind, l.Addr())
		}
		if l.acme != nil {
			return fmt.Errorf("%w: %s listener %s gets its certificate from ACME and renews it itself", ErrNotReloadable, l.kind, l.Addr())
		}
		return fmt.Errorf("%w: %s listener %s was given its certificate as PEM text, bytes or a tls.Config", ErrNotReloadable, l.kind, l.Addr())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	if f.cert != "" {
		errs = append(errs, f.loadPair(l, statFiles(f.pairFiles), true))
	}
	if f.ca != "" {
		errs = append(errs, f.loadCA(l, statFiles([]string{f.ca}), true))
	}
	return errors.Join(errs...)
}

// ReloadCertificates calls ReloadCertificate on every listener that has a certificate, key
// or client CA file, for example when the process receives SIGHUP. The errors of the
// listeners that failed are joined, each naming its listener; those listeners keep serving
// their previous certificate. With no such listener it returns ErrNotReloadable.
func (s *Server) ReloadCertificates() error {
	var errs []error
	reloadable := false
	for _, l := range s.Servers() {
		if l.files == nil {
			continue
		}
		reloadable = true
		errs = append(errs, l.ReloadCertificate())
	}
	if !reloadable {
		return ErrNotReloadable
	}
	return errors.Join(errs...)
}

// Certificate returns the leaf of the certificate the listener serves now (after the last
// successful reload, or the last ACME certificate put in service); nil for plain HTTP, for an
// ACME listener before its first certificate, or when TLSConfig supplies certificates through
// GetCertificate or GetConfigForClient. Do not modify it.
func (l *Listener) Certificate() *x509.Certificate {
	var cert *tls.Certificate
	switch {
	case l.files != nil && l.files.cert != "":
		cert = l.files.pair.Load()
	case l.acme != nil:
		return l.acmeLeaf()
	case l.tlsCfg != nil && len(l.tlsCfg.Certificates) > 0:
		cert = &l.tlsCfg.Certificates[0]
	default:
		return nil
	}
	if cert.Leaf != nil {
		return cert.Leaf
	}
	if len(cert.Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}
