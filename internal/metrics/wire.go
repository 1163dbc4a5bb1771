package metrics

import (
	"bytes"
	"log"

	"github.com/httpskit/httpskit/server"
)

var _ server.Observer = (*Collector)(nil)

// RequestDone records a request a package server listener finished (a Collector is a
// server.Observer: set it as HTTPConfig.Observer, or beside the access log with
// server.Observers). Status, bytes and duration come from server's own response writer, so
// nothing wraps the writer and nothing is allocated. A request aborted before any status went
// out (Status 0) is counted under code "other".
func (c *Collector) RequestDone(info server.RequestInfo) {
	c.ObserveRequest(info.Request.Proto, info.Status, info.Bytes, info.Duration)
}

// handshakeErrorPrefix starts the line net/http logs for a failed TLS handshake
// (conn.serve in net/http/server.go): "http: TLS handshake error from ADDR: REASON".
var handshakeErrorPrefix = []byte("http: TLS handshake error from ")

// ErrorLog returns a logger for http.Server.ErrorLog that counts the failed TLS handshakes
// net/http reports there, by reason (HandshakeFailed), and passes every line on to next (nil:
// nowhere). net/http has no other way to tell a server why a handshake failed.
func (c *Collector) ErrorLog(next *log.Logger) *log.Logger {
	return log.New(errorLogWriter{c, next}, "", 0)
}

type errorLogWriter struct {
	c    *Collector
	next *log.Logger
}

func (e errorLogWriter) Write(p []byte) (int, error) {
	if rest, ok := bytes.CutPrefix(p, handshakeErrorPrefix); ok {
		// The remote address holds colons; the reason follows the first ": " after it.
		if _, reason, ok := bytes.Cut(rest, []byte(": ")); ok {
			e.c.HandshakeFailed(string(reason))
		} else {
			e.c.HandshakeFailed("")
		}
	}
	if e.next != nil {
		e.next.Output(2, string(p))
	}
	return len(p), nil
}
