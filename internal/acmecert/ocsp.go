package acmecert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSP fetching limits.
const (
	ocspTimeout  = 15 * time.Second
	ocspMaxBytes = 64 << 10
	ocspRetryMin = time.Minute
)

// ocspState is the OCSP staple of the certificate in service. Handshakes read only cert;
// the rest belongs to Run's goroutine.
type ocspState struct {
	cert atomic.Pointer[tls.Certificate] // the certificate in service with its staple, or nil

	mu     sync.Mutex
	of     *tls.Certificate // the certificate the fields below are about
	nextAt time.Time        // when to fetch again; zero: nothing to fetch
	retry  time.Duration
}

// reset forgets the staple of the previous certificate.
func (s *ocspState) reset() {
	s.cert.Store(nil)
	s.mu.Lock()
	s.of, s.nextAt, s.retry = nil, time.Time{}, 0
	s.mu.Unlock()
}

// next returns how long until the staple must be fetched again, or 0 when it need not be.
func (s *ocspState) next(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nextAt.IsZero() {
		return 0
	}
	return max(s.nextAt.Sub(now), time.Millisecond)
}

// refreshStaple fetches an OCSP response for c when c names a responder and the staple is
// missing or half-way to its NextUpdate. It runs on Run's goroutine, never in a handshake. A
// failure keeps the previous staple while it is valid and is retried with backoff.
func (m *Manager) refreshStaple(ctx context.Context, c *tls.Certificate) {
	s := &m.staple
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(c.Leaf.OCSPServer) == 0 || len(c.Certificate) < 2 {
		return
	}
	now := m.now()
	if s.of == c && now.Before(s.nextAt) {
		return
	}
	if s.of != c {
		s.of, s.retry = c, 0
	}
	issuer, err := x509.ParseCertificate(c.Certificate[1])
	if err == nil {
		var resp *ocsp.Response
		var raw []byte
		if raw, resp, err = fetchOCSP(ctx, m.client.HTTPClient, c.Leaf, issuer); err == nil {
			if resp.Status != ocsp.Good {
				err = fmt.Errorf("OCSP responder says the certificate is %s", ocspStatus(resp.Status))
			} else {
				stapled := *c
				stapled.OCSPStaple = raw
				s.cert.Store(&stapled)
				s.retry = 0
				// Fetch again half-way to NextUpdate (hourly when the responder gives none).
				life := time.Hour
				if !resp.NextUpdate.IsZero() {
					life = resp.NextUpdate.Sub(resp.ThisUpdate)
				}
				s.nextAt = resp.ThisUpdate.Add(life / 2)
				if !s.nextAt.After(now) {
					s.nextAt = now.Add(max(life/2, ocspRetryMin))
				}
				m.logger.Info("acme: OCSP response stapled", "domains", m.cfg.Domains, "next_update", resp.NextUpdate)
				m.notify(Event{Kind: Stapled})
				return
			}
		}
	}
	s.retry = min(max(s.retry*2, ocspRetryMin), maxRetry)
	s.nextAt = now.Add(s.retry)
	// A staple past its NextUpdate would make clients fail; drop it.
	if old := s.cert.Load(); old != nil {
		if r, perr := ocsp.ParseResponse(old.OCSPStaple, nil); perr != nil || (!r.NextUpdate.IsZero() && now.After(r.NextUpdate)) {
			s.cert.Store(nil)
		}
	}
	m.logger.Warn("acme: OCSP staple not refreshed", "responder", c.Leaf.OCSPServer[0], "err", err, "retry_in", s.retry)
	m.notify(Event{Kind: StapleFailed, Err: fmt.Errorf("OCSP staple from %s: %w", c.Leaf.OCSPServer[0], err), Retry: s.retry})
}

func ocspStatus(st int) string {
	switch st {
	case ocsp.Revoked:
		return "revoked"
	case ocsp.Unknown:
		return "unknown to it"
	}
	return fmt.Sprintf("in status %d", st)
}

// fetchOCSP asks leaf's first OCSP responder about it, bounded in time and size, and checks
// the answer's signature against issuer.
func fetchOCSP(ctx context.Context, hc *http.Client, leaf, issuer *x509.Certificate) ([]byte, *ocsp.Response, error) {
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, ocspTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, leaf.OCSPServer[0], bytes.NewReader(req))
	if err != nil {
		return nil, nil, err
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	res, err := hc.Do(hr)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("OCSP responder %s answered %s", leaf.OCSPServer[0], res.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, ocspMaxBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(raw) > ocspMaxBytes {
		return nil, nil, fmt.Errorf("OCSP response from %s is larger than %d bytes", leaf.OCSPServer[0], ocspMaxBytes)
	}
	resp, err := ocsp.ParseResponseForCert(raw, leaf, issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("OCSP response from %s: %w", leaf.OCSPServer[0], err)
	}
	return raw, resp, nil
}
