// Package loadgen is the engine of "httpskit bench": an HTTPS load generator
// written on crypto/tls directly, so that it is cheap per request and every
// TLS choice (resumption, key-exchange group, ALPN) is explicit.
//
// [Run] drives one of four modes against one URL:
//
//	KeepAlive  HTTP/1.1 keep-alive: one request at a time per connection,
//	           pre-built request bytes and a small bounded response parser
//	H2         HTTP/2 (net/http's ClientConn on our own TLS connections),
//	           several streams in flight per connection
//	New        a new connection (TCP + TLS handshake) per request, with
//	           session resumption on or off
//	Idle       open N connections, one request each, then hold them idle
//
// A run always ends by itself: after Config.Duration, after Config.Requests
// measured requests, or when its context is cancelled, whichever comes first;
// every request has its own timeout. It connects only to the URL's host and
// port and never follows redirects.
//
// The [Result] carries request counts, latency percentiles from a fixed-size
// log-bucket histogram (memory does not grow with the number of requests),
// errors by kind, bytes on the wire, the negotiated protocol, TLS version,
// cipher and key-exchange group, handshake and resumption counts, the CPU
// time this process spent, and a line in Go benchmark format for benchstat.
package loadgen
