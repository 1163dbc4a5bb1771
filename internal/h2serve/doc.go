// Package h2serve is the server side of HTTP/2 connections (RFC 9113) for package server: an
// engine that serves http.Handler over an accepted connection that negotiated "h2", built on
// golang.org/x/net/http2's Framer (frame parsing) and hpack (header compression).
//
// It differs from net/http's HTTP/2 server in how it writes: responses are encoded straight
// into one connection buffer under one lock by the goroutine that produced them, and one
// writer goroutine hands everything queued to the socket in one write, so the responses of
// many streams leave in one TLS record and one system call. One goroutine reads and
// dispatches frames; each stream's handler runs in its own goroutine.
//
// What it implements: flow control on both sides (connection and stream windows, window
// updates batched), SETTINGS (applied in order, acknowledged), PING, GOAWAY (a graceful
// Shutdown lets open streams finish), RST_STREAM, RFC 9113 priorities (PRIORITY frames and
// priority fields are checked and then ignored), trailers in both directions, 1xx responses,
// http.Flusher and the http.ResponseController methods (FlushError, SetReadDeadline,
// SetWriteDeadline, EnableFullDuplex; Hijack is not offered), and http.Pusher (server push,
// for clients that leave it enabled; Push returns http.ErrNotSupported for those that do not,
// as browsers and curl).
//
// The known attacks are bounded: rapid reset (CVE-2023-44487: handlers still running after
// their streams were reset count against the stream limit; past four times the limit the
// connection is closed with ENHANCE_YOUR_CALM), CONTINUATION floods (CVE-2023-45288) and
// HPACK bombs (the Framer stops decoding a header list past MaxHeaderListSize; a list over
// it is answered with 431), and floods of PING, SETTINGS or anything else that makes the
// server queue frames the client does not read (the connection is closed past a bound).
package h2serve
