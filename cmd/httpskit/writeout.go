package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httpskit/httpskit/https"
)

// stats are the figures of one attempt that -w prints. The trace hooks run
// on the transport's goroutines, hence the mutex.
type stats struct {
	size atomic.Int64 // body bytes received

	mu                                     sync.Mutex
	start                                  time.Time
	dnsDone, connected, tlsDone, firstByte time.Time
	total                                  time.Duration
	remote                                 net.Addr
	code, redirects                        int
	version, contentType                   string
	headerSize                             int64
}

func (s *stats) reset() {
	s.size.Store(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start = time.Now()
	s.dnsDone, s.connected, s.tlsDone, s.firstByte = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	s.total, s.remote, s.code, s.redirects = 0, nil, 0, 0
	s.version, s.contentType, s.headerSize = "", "", 0
}

func (s *stats) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total = time.Since(s.start)
}

// trace returns ctx with hooks that note when the name was resolved, the
// connection made and the TLS handshake done.
func (s *stats) trace(ctx context.Context) context.Context {
	at := func(t *time.Time) {
		s.mu.Lock()
		defer s.mu.Unlock()
		*t = time.Now()
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		DNSDone:              func(httptrace.DNSDoneInfo) { at(&s.dnsDone) },
		ConnectDone:          func(_, _ string, err error) { at(&s.connected) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { at(&s.tlsDone) },
		GotFirstResponseByte: func() { at(&s.firstByte) },
	})
}

// socket notes the peer's address ('socket' event).
func (s *stats) socket(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote = c.RemoteAddr()
}

// response notes the status, version and size of res's head.
func (s *stats) response(res *https.IncomingMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code = res.StatusCode
	s.version = strings.TrimSuffix(res.HTTPVersion, ".0") // curl's "2", "1.1"
	s.contentType = res.Headers.Get("Content-Type")
	var b strings.Builder
	writeHead(&b, res, "")
	s.headerSize += int64(b.Len())
}

func (s *stats) redirected() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirects++
}

// since formats the time from the start to t in seconds, as curl: 0 when t
// never happened.
func (s *stats) since(t time.Time) string {
	if t.IsZero() {
		return "0.000000"
	}
	return strconv.FormatFloat(t.Sub(s.start).Seconds(), 'f', 6, 64)
}

// writeOut prints -w FORMAT after the transfer, failed or not (http_code is
// 000 when no response came).
func (tr *transfer) writeOut(err error) {
	format := tr.f.writeOut
	if format == "" {
		return
	}
	s := &tr.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	var w io.Writer = tr.stdout
	var b strings.Builder
	flush := func() {
		io.WriteString(w, b.String())
		b.Reset()
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '\\' && i+1 < len(format):
			i++
			switch format[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(format[i])
			}
		case c == '%' && strings.HasPrefix(format[i:], "%%"):
			b.WriteByte('%')
			i++
		case c == '%' && strings.HasPrefix(format[i:], "%{"):
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				b.WriteString(format[i:])
				i = len(format)
				continue
			}
			name := format[i+2 : i+end]
			i += end
			switch name {
			case "stdout":
				flush()
				w = tr.stdout
			case "stderr":
				flush()
				w = tr.stderr
			default:
				v, ok := tr.variable(name, err)
				if !ok {
					fmt.Fprintf(tr.stderr, "httpskit: unknown -w variable %q\n", name)
				}
				b.WriteString(v)
			}
		default:
			b.WriteByte(c)
		}
	}
	flush()
}

// variable is the value of -w's %{name}; s.mu is held.
func (tr *transfer) variable(name string, err error) (string, bool) {
	s := &tr.stats
	switch name {
	case "http_code", "response_code":
		return fmt.Sprintf("%03d", s.code), true
	case "http_version":
		if s.version == "" {
			return "0", true
		}
		return s.version, true
	case "size_download":
		return strconv.FormatInt(s.size.Load(), 10), true
	case "size_header":
		return strconv.FormatInt(s.headerSize, 10), true
	case "content_type":
		return s.contentType, true
	case "num_redirects":
		return strconv.Itoa(s.redirects), true
	case "time_namelookup":
		return s.since(s.dnsDone), true
	case "time_connect":
		return s.since(s.connected), true
	case "time_appconnect":
		return s.since(s.tlsDone), true
	case "time_starttransfer":
		return s.since(s.firstByte), true
	case "time_total":
		return strconv.FormatFloat(s.total.Seconds(), 'f', 6, 64), true
	case "url_effective":
		return tr.last.url(), true
	case "remote_ip", "remote_port":
		if s.remote == nil {
			return "", true
		}
		host, port, _ := net.SplitHostPort(s.remote.String())
		if name == "remote_ip" {
			return host, true
		}
		return port, true
	case "exitcode":
		code := 0
		switch {
		case errors.As(err, new(usageError)):
			code = 2
		case err != nil:
			code = fetchExitCode(err)
		}
		return strconv.Itoa(code), true
	case "errormsg":
		if err == nil {
			return "", true
		}
		return err.Error(), true
	}
	return "", false
}
