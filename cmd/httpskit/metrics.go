package main

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/httpskit/httpskit/internal/metrics"
	"github.com/httpskit/httpskit/server"
)

// The metrics endpoint of `serve --metrics-addr`: GET /metrics in the Prometheus text format
// (internal/metrics), over plain HTTP on a loopback address unless --metrics-public is given.
//
// How the counts are taken:
//
//	requests, latency, bytes   HTTPConfig.Observer of each listener (the Collector, set by tune)
//	connections, handshakes    ConnState of Listener.Original (Collector.ConnState), chained with any hook set before
//	failed handshakes          ErrorLog of Listener.Original, whose "TLS handshake error" lines are counted
//	certificate expiry         Listener.Certificate of each TLS listener, read on each scrape
//
// The http.Server fields are set before Start; a restart carries them over.

// metricsWriteTimeout bounds one scrape's response.
const metricsWriteTimeout = 10 * time.Second

// checkMetricsAddr accepts HOST:PORT on loopback, or on any host when public is set, and
// returns the address to listen on.
func checkMetricsAddr(addr string, public bool) (string, error) {
	if !public {
		return checkSideAddr("--metrics-addr", addr, "the metrics show traffic and certificate details, so they listen on loopback only (127.0.0.1, ::1 or localhost); add --metrics-public to listen on another address")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usagef("--metrics-addr %q: want HOST:PORT, such as 127.0.0.1:9100", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", usagef("--metrics-addr %q: bad port %q", addr, port)
	}
	return net.JoinHostPort(host, port), nil
}

// newMetrics returns a Collector whose certificate expiry series come from the TLS
// listeners of s.
func newMetrics(s *server.Server) *metrics.Collector {
	return metrics.New(func() []metrics.Certificate {
		var out []metrics.Certificate
		for _, l := range s.Servers() {
			if c := l.Certificate(); c != nil {
				out = append(out, metrics.Certificate{Listener: l.URL(), Serial: c.SerialNumber.Text(16), NotAfter: c.NotAfter})
			}
		}
		return out
	})
}

// startMetrics counts the connections and handshakes of every listener of s (it must be
// called before s starts; the listeners' configs already carry c as their Observer) and
// serves c's GET /metrics at addr (checked by checkMetricsAddr).
func startMetrics(addr string, s *server.Server, c *metrics.Collector) (*sideServer, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", c)
	side, err := startSide("metrics endpoint", addr, mux, metricsWriteTimeout)
	if err != nil {
		return nil, err
	}
	for _, l := range s.Servers() {
		hs := l.Original()
		hs.ErrorLog = c.ErrorLog(hs.ErrorLog)
		addConnState(hs, c.ConnState)
	}
	return side, nil
}

// addConnState makes hs call f on each connection state change, then any hook set before.
func addConnState(hs *http.Server, f func(net.Conn, http.ConnState)) {
	prev := hs.ConnState
	hs.ConnState = func(conn net.Conn, st http.ConnState) {
		f(conn, st)
		if prev != nil {
			prev(conn, st)
		}
	}
}
