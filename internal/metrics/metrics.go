// Package metrics counts what `httpskit serve` does (requests by protocol and status class, a
// latency histogram, response bytes, TLS handshakes, open connections, certificate expiry) and
// writes the counts in the Prometheus text exposition format (version 0.0.4).
//
// A [Collector] is a fixed set of atomic counters: recording a request is a few atomic adds,
// with no lock and no allocation, so it can sit on every request of a busy server. Scraping
// reads the counters one by one, so a scrape taken while requests run may see one request in
// one series and not yet in another; each series on its own only grows.
//
// How the counts reach a Collector is up to its owner:
//
//	c := metrics.New(certsFn)
//	hc.Observer = server.Observers(hc.Observer, c) // requests, latency, bytes (server.HTTPConfig; wire.go)
//	hs := l.Original()                              // the listener's http.Server, before Start
//	hs.ConnState = c.ConnState                      // connections; full and resumed handshakes
//	hs.ErrorLog = c.ErrorLog(hs.ErrorLog)           // failed TLS handshakes, by reason
//	http.Handle("/metrics", c)                      // the exposition
//
// A server other than package server's calls [Collector.ObserveRequest] from its own
// per-request hook.
package metrics

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocols counted apart in httpskit_http_requests_total; any other is "other".
var protocols = [...]string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "other"}

// Status classes of httpskit_http_requests_total, by the first digit of the status.
var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}

// DurationBuckets are the upper bounds of the latency histogram
// (httpskit_http_request_duration_seconds): from 100 µs, which a small file on loopback
// takes, to 10 s, which a large download may.
var DurationBuckets = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Reasons for which a TLS handshake failed, the "reason" label of
// httpskit_tls_handshake_failures_total (see [Collector.HandshakeFailed]).
const (
	ReasonNotTLS            = "not_tls"            // plain HTTP, or other bytes that are not TLS
	ReasonClientClosed      = "client_closed"      // EOF or reset before the handshake ended
	ReasonTimeout           = "timeout"            // the handshake took too long
	ReasonCertRejected      = "cert_rejected"      // the client refused our certificate (not trusted, wrong name, expired)
	ReasonClientCertificate = "client_certificate" // mutual TLS: the client sent no certificate, or one we do not trust
	ReasonProtocolVersion   = "protocol_version"   // no TLS version in common (the client offered only TLS 1.0 or 1.1)
	ReasonNoSharedCipher    = "no_shared_cipher"   // no cipher suite, curve or signature scheme in common
	ReasonOther             = "other"
)

var reasons = [...]string{ReasonNotTLS, ReasonClientClosed, ReasonTimeout, ReasonCertRejected,
	ReasonClientCertificate, ReasonProtocolVersion, ReasonNoSharedCipher, ReasonOther}

// Certificate is a certificate in service, for httpskit_tls_certificate_expiry_timestamp_seconds.
type Certificate struct {
	Listener string    // the listener's URL, such as "https://localhost:7080"
	Serial   string    // the serial number in hexadecimal
	NotAfter time.Time // when it expires
}

// Collector holds the counters. Create one with New; its methods are safe for concurrent use.
type Collector struct {
	requests [len(protocols)][len(classes)]atomic.Uint64
	buckets  [len(DurationBuckets) + 1]atomic.Uint64 // not cumulative; the last is +Inf
	durSum   atomic.Int64                            // nanoseconds
	bytes    atomic.Uint64

	full, resumed atomic.Uint64
	failed        [len(reasons)]atomic.Uint64

	open     atomic.Int64
	accepted atomic.Uint64
	active   sync.Map // *tls.Conn seen active, until it closes

	certs func() []Certificate
}

// New returns a Collector with every count at zero. certs, called on each scrape, lists the
// certificates in service (nil: none), so that a reloaded certificate shows at once.
func New(certs func() []Certificate) *Collector {
	return &Collector{certs: certs}
}

// ObserveRequest records one answered request: proto is r.Proto ("HTTP/1.1", "HTTP/2.0"),
// status the status sent (0: none was, the request was aborted; counted under code "other"),
// bytes the body bytes written, d the time from the request's arrival to the end of
// its handler. It takes no lock and allocates nothing.
func (c *Collector) ObserveRequest(proto string, status int, bytes int64, d time.Duration) {
	p := len(protocols) - 1
	switch proto {
	case "HTTP/1.1":
		p = 1
	case "HTTP/2.0":
		p = 2
	case "HTTP/1.0":
		p = 0
	}
	k := len(classes) - 1
	if status >= 100 && status < 600 {
		k = status/100 - 1
	}
	c.requests[p][k].Add(1)
	b := len(DurationBuckets)
	for i, le := range DurationBuckets {
		if d <= le {
			b = i
			break
		}
	}
	c.buckets[b].Add(1)
	c.durSum.Add(int64(d))
	if bytes > 0 {
		c.bytes.Add(uint64(bytes))
	}
}

// ConnState counts connections opened and closed, and the TLS handshakes of those that
// completed one, full or resumed; it has the signature of http.Server.ConnState.
//
// A handshake is counted when its connection first turns active (its first request), or at
// its close when it never did, so one that fails half-way, after crypto/tls has checked its
// side (TLS 1.3 checks before the client's Finished), is counted only as failed. The
// connections seen active are kept in a sync.Map until they close: one entry per
// connection, and one lock-free look-up each time a connection turns active again.
func (c *Collector) ConnState(conn net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.open.Add(1)
		c.accepted.Add(1)
	case http.StateActive:
		if tc, ok := conn.(*tls.Conn); ok {
			if _, seen := c.active.Load(tc); !seen {
				c.active.Store(tc, struct{}{})
				c.handshake(tc)
			}
		}
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
		if tc, ok := conn.(*tls.Conn); ok {
			if _, seen := c.active.LoadAndDelete(tc); !seen {
				c.handshake(tc)
			}
		}
	}
}

// handshake counts the handshake of tc when it completed.
func (c *Collector) handshake(tc *tls.Conn) {
	cs := tc.ConnectionState()
	switch {
	case !cs.HandshakeComplete:
	case cs.DidResume:
		c.resumed.Add(1)
	default:
		c.full.Add(1)
	}
}

// HandshakeFailed counts a failed TLS handshake under the reason its error text gives (one of
// the Reason constants).
func (c *Collector) HandshakeFailed(errText string) {
	r := FailureReason(errText)
	for i, name := range reasons {
		if name == r {
			c.failed[i].Add(1)
			return
		}
	}
}

// FailureReason maps the error text of a failed server-side handshake, as crypto/tls and
// net/http word it, to one of the Reason constants.
func FailureReason(errText string) string {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(errText, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("HTTP request to an HTTPS server", "does not look like a TLS handshake", "oversized record", "unsupported SSLv2"):
		return ReasonNotTLS
	case has("i/o timeout", "deadline exceeded"):
		return ReasonTimeout
	case has("client didn't provide a certificate", "client certificate", "failed to verify certificate"):
		return ReasonClientCertificate
	case has("remote error: tls: bad certificate", "unknown certificate authority", "certificate unknown",
		"remote error: tls: certificate expired", "unsupported certificate", "certificate revoked"):
		return ReasonCertRejected
	case has("unsupported versions", "protocol version"):
		return ReasonProtocolVersion
	case has("no cipher suite", "no mutually supported", "no ECDHE curve", "handshake failure", "insufficient security"):
		return ReasonNoSharedCipher
	case has("EOF", "connection reset", "broken pipe", "use of closed network connection"):
		return ReasonClientClosed
	}
	return ReasonOther
}
