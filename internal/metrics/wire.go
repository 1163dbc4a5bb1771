package metrics

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"time"
)

// Handler returns next wrapped so that every request it answers is recorded with
// ObserveRequest. It costs one small allocation per request (the writer that counts status and
// bytes); a server with a per-request hook of its own can call ObserveRequest instead and
// save it. Writers are not pooled: a handler that wrongly keeps its writer after it returns
// must never reach another client's response.
func (c *Collector) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		c.ObserveRequest(r.Proto, rec.status, rec.bytes, time.Since(start))
	})
}

// recorder passes calls to the net/http writer and records the status and the body bytes.
// It keeps Flush, Push, ReadFrom (sendfile) and, through Unwrap, http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 && (status >= 200 || status == http.StatusSwitchingProtocols) {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) WriteString(s string) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := io.WriteString(r.ResponseWriter, s)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{r.ResponseWriter}, src)
	}
	r.bytes += n
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

func (r *recorder) Push(target string, opts *http.PushOptions) error {
	if p, ok := r.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the net/http writer, for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
