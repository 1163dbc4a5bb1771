package server

// Hostile clients: slow headers and bodies, idle connections, oversized headers and bodies,
// request smuggling and malformed framing, connection floods, old TLS versions and weak
// ciphers, and stalled handshakes. Every test reaches the server through real listeners on
// 127.0.0.1 with raw connections, so that what is sent is exactly what a hostile client sends.
// Each test's comment states the outcome (docs/security.md lists them).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// hostileTimeout is the timeout the tests give the server: long enough for a TLS handshake
// on a loaded machine (net/http bounds the handshake by the smallest timeout), short enough
// to wait for.
const hostileTimeout = time.Second

// rawDeadline bounds every raw connection of these tests.
const rawDeadline = 20 * time.Second

// --- helpers ---

// hostileDial connects to l from the local address from (nil: any): TLS offering the ALPN
// protocol alpn on a TLS listener, plain TCP otherwise.
func hostileDial(t *testing.T, l *Listener, alpn string, from net.IP) (net.Conn, error) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
	d := &net.Dialer{Timeout: 20 * time.Second}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	if l.TLSConfig() == nil {
		return d.Dial("tcp", addr)
	}
	cfg := &tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost", NextProtos: []string{alpn}}
	return (&tls.Dialer{NetDialer: d, Config: cfg}).Dial("tcp", addr)
}

// rawConn is hostileDial from any address that fails the test on error. The connection has a
// 20s deadline and is closed when the test ends.
func rawConn(t *testing.T, l *Listener, alpn string) net.Conn {
	t.Helper()
	c, err := hostileDial(t, l, alpn, nil)
	if err != nil {
		t.Fatalf("dial %s listener (ALPN %q): %v", l.Kind(), alpn, err)
	}
	c.SetDeadline(time.Now().Add(rawDeadline))
	t.Cleanup(func() { c.Close() })
	return c
}

// tcpConn opens a plain TCP connection to l (no TLS handshake) that the test closes.
func tcpConn(t *testing.T, l *Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port())))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(rawDeadline))
	t.Cleanup(func() { c.Close() })
	return c
}

// readUntilClosed reads c until the server closes it and returns what the server sent. It
// fails the test when the connection is still open at its deadline.
func readUntilClosed(t *testing.T, what string, c net.Conn) string {
	t.Helper()
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: connection still open after %v (read %q), want the server to close it", what, rawDeadline, b)
	}
	return string(b)
}

// rawResponses parses the HTTP/1.x responses in out, bodies included.
func rawResponses(out string) []*http.Response {
	br := bufio.NewReader(strings.NewReader(out))
	var rs []*http.Response
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return rs
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rs = append(rs, resp)
	}
}

// hostileLog records the server's log lines.
type hostileLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *hostileLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *hostileLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *hostileLog) WithGroup(string) slog.Handler            { return h }
func (h *hostileLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// count returns how many records at level have a message starting with prefix and, unless
// kind is "", the attribute kind=kind.
func (h *hostileLog) count(level slog.Level, prefix, kind string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		ok := kind == ""
		r.Attrs(func(a slog.Attr) bool {
			ok = ok || a.Key == "kind" && a.Value.String() == kind
			return !ok
		})
		if ok && r.Level == level && strings.HasPrefix(r.Message, prefix) {
			n++
		}
	}
	return n
}

// h2Conn is a raw HTTP/2 client connection: frames and HPACK by hand, so that a test can
// send what the Go client never would.
type h2Conn struct {
	c   net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	blk bytes.Buffer
	dec *hpack.Decoder
}

// h2Dial opens an HTTP/2 connection to l and sends the preface and SETTINGS.
func h2Dial(t *testing.T, l *Listener) *h2Conn {
	t.Helper()
	c := rawConn(t, l, "h2")
	if p := c.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN chose %q, want h2", p)
	}
	h := &h2Conn{c: c, fr: http2.NewFramer(c, c), dec: hpack.NewDecoder(4096, nil)}
	h.enc = hpack.NewEncoder(&h.blk)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return h
}

// block HPACK-encodes a request for method and path with the extra fields.
func (h *h2Conn) block(method, path string, extra ...hpack.HeaderField) []byte {
	h.blk.Reset()
	for _, f := range append([]hpack.HeaderField{
		{Name: ":method", Value: method}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "localhost"}, {Name: ":path", Value: path},
	}, extra...) {
		h.enc.WriteField(f)
	}
	return bytes.Clone(h.blk.Bytes())
}

// request sends a header block on stream id, split into frames of at most 16 KiB (HEADERS,
// then CONTINUATION).
func (h *h2Conn) request(t *testing.T, id uint32, block []byte, endStream bool) {
	t.Helper()
	const maxFrame = 16 << 10
	first := block[:min(len(block), maxFrame)]
	rest := block[len(first):]
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first,
		EndStream: endStream, EndHeaders: len(rest) == 0}); err != nil {
		t.Fatal(err)
	}
	for len(rest) > 0 {
		n := min(len(rest), maxFrame)
		if err := h.fr.WriteContinuation(id, n == len(rest), rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
}

// h2Outcome is what the server did with a stream: its response, or a reset, and whether it
// sent GOAWAY and closed the connection.
type h2Outcome struct {
	status    string // ":status" of the response
	body      string
	ended     bool          // the response ended (END_STREAM)
	rst       http2.ErrCode // RST_STREAM code, if reset
	reset     bool
	goAway    bool
	goAwayErr http2.ErrCode
	closed    bool // the server closed the connection
	timedOut  bool // nothing more came for 20s
}

// read reads frames, answering SETTINGS and PING, until stream id ended or was reset (when
// untilClosed is false) or until the server closed the connection. It may run on any
// goroutine: it reports problems in the outcome.
func (h *h2Conn) read(id uint32, untilClosed bool) h2Outcome {
	var o h2Outcome
	for untilClosed || !(o.ended || o.reset) {
		f, err := h.fr.ReadFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				o.timedOut = true
			} else {
				o.closed = true
			}
			return o
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				h.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				h.fr.WritePing(true, f.Data)
			}
		case *http2.HeadersFrame:
			if f.StreamID == id {
				fields, err := h.dec.DecodeFull(f.HeaderBlockFragment())
				if err != nil {
					o.status = "undecodable: " + err.Error()
				}
				for _, hf := range fields {
					if hf.Name == ":status" {
						o.status = hf.Value
					}
				}
				o.ended = o.ended || f.StreamEnded()
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				o.body += string(f.Data())
				o.ended = o.ended || f.StreamEnded()
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				o.reset, o.rst = true, f.ErrCode
			}
		case *http2.GoAwayFrame:
			o.goAway, o.goAwayErr = true, f.ErrCode
		}
	}
	return o
}

// protocolRow is one way to speak to a listener of startTargetsWith.
type protocolRow struct {
	name string
	l    *Listener
	alpn string // "" for plain HTTP, "http/1.1" or "h2"
}

// protocolRows lists every listener of ts with every protocol it speaks.
func protocolRows(ts []target) []protocolRow {
	return []protocolRow{
		{"HTTP", ts[0].l, ""},
		{"HTTPS http/1.1", ts[1].l, "http/1.1"},
		{"HTTP/2 listener http/1.1", ts[3].l, "http/1.1"},
		{"HTTPS h2", ts[1].l, "h2"},
		{"HTTP/2 listener h2", ts[3].l, "h2"},
	}
}

// hostileRoutes routes every request to a handler that counts it by path and answers 200
// "hit PATH"; POST bodies are read first and their length is answered instead. The map
// holds the counts.
type hostileRoutes struct {
	mu   sync.Mutex
	hits map[string]int
}

func newHostileRoutes(t *testing.T, s *Server) *hostileRoutes {
	h := &hostileRoutes{hits: map[string]int{}}
	must(t, s.RouteFunc("*", "*", func(_ string, req *Request, res *Response) error {
		h.mu.Lock()
		h.hits[req.Path()]++
		h.mu.Unlock()
		if req.Method() == "POST" {
			b, err := req.Read()
			if err != nil {
				return err
			}
			return res.WriteText(0, "got "+strconv.Itoa(len(b)), nil)
		}
		return res.WriteText(0, "hit "+req.Path(), nil)
	}))
	return h
}

func (h *hostileRoutes) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func (h *hostileRoutes) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, v := range h.hits {
		n += v
	}
	return n
}

// --- timeouts ---

// TestHostileSlowHeaders (slowloris): a client that trickles header bytes and never ends its
// headers is disconnected by ReadHeaderTimeout over HTTP/1.1 (no response is sent), and by
// IdleTimeout over HTTP/2 (a header block never ended opens no stream: GOAWAY NO_ERROR, then
// close). No route runs.
func TestHostileSlowHeaders(t *testing.T) {
	s := New(Config{})
	routes := newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{ReadHeaderTimeout: hostileTimeout, IdleTimeout: hostileTimeout})
	t.Run("rows", func(t *testing.T) {
		for _, tt := range protocolRows(ts) {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				var start []byte
				var h2c *h2Conn
				c := rawConn(t, tt.l, tt.alpn)
				if tt.alpn == "h2" {
					// A header block of a request with a long header, started in HEADERS
					// without END_HEADERS and continued a byte at a time.
					h2c = &h2Conn{c: c, fr: http2.NewFramer(c, nil)}
					h2c.enc = hpack.NewEncoder(&h2c.blk)
					block := h2c.block("GET", "/slow", hpack.HeaderField{Name: "x-slow", Value: strings.Repeat("a", 4096)})
					io.WriteString(c, http2.ClientPreface)
					h2c.fr.WriteSettings()
					h2c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:64]})
					start = block[64:]
				} else {
					io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
					start = bytes.Repeat([]byte("a"), 4096)
				}
				stop := make(chan struct{})
				trickled := make(chan int)
				go func() { // one byte every 100ms until the server closes or the test ends
					n := 0
					defer func() { trickled <- n }()
					tick := time.NewTicker(100 * time.Millisecond)
					defer tick.Stop()
					for ; n < len(start); n++ {
						select {
						case <-stop:
							return
						case <-tick.C:
						}
						var err error
						if h2c != nil {
							err = h2c.fr.WriteContinuation(1, false, start[n:n+1])
						} else {
							_, err = c.Write(start[n : n+1])
						}
						if err != nil {
							return
						}
					}
				}()
				out := readUntilClosed(t, tt.name+" slow headers", c)
				close(stop)
				t.Logf("%s: disconnected after %d trickled bytes", tt.name, <-trickled)
				if tt.alpn != "h2" && out != "" {
					t.Errorf("%s: server sent %q to a client that never ended its headers, want nothing", tt.name, out)
				}
				if tt.alpn == "h2" {
					if frames := h2FrameTypes(out); !slices.Contains(frames, "GOAWAY NO_ERROR") {
						t.Errorf("%s: server sent frames %v before closing, want a GOAWAY NO_ERROR", tt.name, frames)
					}
				}
			})
		}
	})
	if n := routes.total(); n != 0 {
		t.Errorf("routes ran %d times for requests whose headers never ended, want 0", n)
	}
}

// h2FrameTypes lists the frames in the bytes a server sent ("SETTINGS", "GOAWAY NO_ERROR").
func h2FrameTypes(out string) []string {
	fr := http2.NewFramer(nil, strings.NewReader(out))
	var types []string
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return types
		}
		name := f.Header().Type.String()
		if g, ok := f.(*http2.GoAwayFrame); ok {
			name += " " + g.ErrCode.String()
		}
		types = append(types, name)
	}
}

// TestHostileSlowBody: a client that sends headers and then only part of its body is cut by
// ReadTimeout. The handler's Read fails with an error wrapping os.ErrDeadlineExceeded; the
// router answers 408, and closes an HTTP/1.1 connection (Connection: close). Over HTTP/2 the
// stream gets 408 and the connection stays.
func TestHostileSlowBody(t *testing.T) {
	s := New(Config{})
	rows := []struct {
		name    string
		l       func(ts []target) *Listener
		h2      bool
		headers string // HTTP/1.1: framing headers, then 10 body bytes are sent
	}{
		{"HTTP Content-Length", func(ts []target) *Listener { return ts[0].l }, false, "Content-Length: 1000\r\n\r\n0123456789"},
		{"HTTP chunked", func(ts []target) *Listener { return ts[0].l }, false, "Transfer-Encoding: chunked\r\n\r\n3e8\r\n0123456789"},
		{"HTTPS http/1.1 Content-Length", func(ts []target) *Listener { return ts[1].l }, false, "Content-Length: 1000\r\n\r\n0123456789"},
		{"HTTPS http/1.1 chunked", func(ts []target) *Listener { return ts[1].l }, false, "Transfer-Encoding: chunked\r\n\r\n3e8\r\n0123456789"},
		{"HTTPS h2", func(ts []target) *Listener { return ts[1].l }, true, ""},
		{"HTTP/2 listener h2", func(ts []target) *Listener { return ts[3].l }, true, ""},
	}
	seen := map[string]chan error{}
	for i := range rows {
		seen["/upload/"+strconv.Itoa(i)] = make(chan error, 1)
	}
	must(t, s.RouteFunc("POST", "/upload/:row", func(_ string, req *Request, res *Response) error {
		_, err := req.Read()
		seen[req.Path()] <- err
		if err != nil {
			return err
		}
		return res.WriteText(0, "complete", nil)
	}))
	ts := startTargetsWith(t, s, HTTPConfig{ReadTimeout: hostileTimeout})
	t.Run("rows", func(t *testing.T) {
		for i, tt := range rows {
			path := "/upload/" + strconv.Itoa(i)
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				l := tt.l(ts)
				if tt.h2 {
					h := h2Dial(t, l)
					h.request(t, 1, h.block("POST", path, hpack.HeaderField{Name: "content-length", Value: "1000"}), false)
					h.fr.WriteData(1, false, []byte("0123456789"))
					if o := h.read(1, false); o.status != "408" || o.goAway {
						t.Errorf("%s: slow body: stream outcome %+v, want status 408 and no GOAWAY", tt.name, o)
					}
				} else {
					c := rawConn(t, l, "http/1.1")
					io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: localhost\r\n"+tt.headers)
					out := readUntilClosed(t, tt.name+" slow body", c)
					rs := rawResponses(out)
					if len(rs) != 1 || rs[0].StatusCode != 408 || !rs[0].Close {
						t.Errorf("%s: slow body: server sent %q and closed, want one 408 with Connection: close", tt.name, out)
					}
				}
				if err := <-seen[path]; !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("%s: handler's Read returned %v, want an error wrapping os.ErrDeadlineExceeded", tt.name, err)
				}
			})
		}
	})
}

// TestHostileIdleKeepAlive: a keep-alive connection that sends no further request is closed
// by IdleTimeout: HTTP/1.1 closes it silently, HTTP/2 sends GOAWAY NO_ERROR and closes.
func TestHostileIdleKeepAlive(t *testing.T) {
	s := New(Config{})
	newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{IdleTimeout: hostileTimeout})
	t.Run("rows", func(t *testing.T) {
		for _, tt := range protocolRows(ts) {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				if tt.alpn == "h2" {
					h := h2Dial(t, tt.l)
					h.request(t, 1, h.block("GET", "/ping"), true)
					if o := h.read(1, false); o.status != "200" {
						t.Fatalf("%s: GET /ping: %+v, want 200", tt.name, o)
					}
					if o := h.read(1, true); !o.closed || !o.goAway || o.goAwayErr != http2.ErrCodeNo {
						t.Errorf("%s: idle connection: %+v, want GOAWAY NO_ERROR and close", tt.name, o)
					}
					return
				}
				c := rawConn(t, tt.l, tt.alpn)
				io.WriteString(c, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != 200 || resp.Close {
					t.Fatalf("%s: GET /ping: %v %v, want a keep-alive 200", tt.name, resp, err)
				}
				io.Copy(io.Discard, resp.Body)
				if rest, err := io.ReadAll(br); len(rest) != 0 || err != nil {
					t.Errorf("%s: idle connection: read %q, %v; want the server to close it silently", tt.name, rest, err)
				}
			})
		}
	})
}

// TestHostileStalledHandshake: a client that connects and sends nothing, or only part of a
// ClientHello, is dropped when the handshake timeout (the smallest of ReadHeaderTimeout,
// ReadTimeout and WriteTimeout) passes; the server sends nothing.
func TestHostileStalledHandshake(t *testing.T) {
	s := New(Config{})
	ts := startTargetsWith(t, s, HTTPConfig{ReadHeaderTimeout: hostileTimeout})
	// A TLS record header announcing 512 bytes, then the start of a ClientHello.
	partialHello := "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	t.Run("rows", func(t *testing.T) {
		for _, l := range []*Listener{ts[1].l, ts[3].l} {
			for _, tt := range []struct{ name, send string }{{"nothing", ""}, {"partial ClientHello", partialHello}} {
				name := l.Kind() + " " + tt.name
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					c := tcpConn(t, l)
					io.WriteString(c, tt.send)
					if out := readUntilClosed(t, name, c); out != "" {
						t.Errorf("%s: server sent %q, want nothing", name, out)
					}
				})
			}
		}
	})
}

// --- sizes ---

// TestHostileHeaderTooLargeHTTP2: over HTTP/2 a header list past MaxHeaderBytes gets 431 on its
// stream (TestWireHeaderTooLarge shows 431 over HTTP/1.1); a header block more than twice the
// limit is a connection error (GOAWAY PROTOCOL_ERROR, then close), so the server never decodes
// it. No route runs for either.
func TestHostileHeaderTooLargeHTTP2(t *testing.T) {
	const limit = 4 << 10
	s := New(Config{})
	routes := newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{MaxHeaderBytes: limit})
	fields := func(n int) []hpack.HeaderField {
		var fs []hpack.HeaderField
		for i := range n {
			fs = append(fs, hpack.HeaderField{Name: "x-big-" + strconv.Itoa(i), Value: strings.Repeat("a", 1000)})
		}
		return fs
	}
	for _, l := range []*Listener{ts[1].l, ts[3].l} {
		for _, tt := range []struct {
			name   string
			fields []hpack.HeaderField
			want   h2Outcome
		}{
			{"2 KB of headers", fields(2), h2Outcome{status: "200", body: "hit /ok", ended: true}},
			{"6 KB of headers", fields(6), h2Outcome{status: "431", ended: true}},
			{"40 KB of headers", fields(40), h2Outcome{goAway: true, goAwayErr: http2.ErrCodeProtocol, closed: true}},
		} {
			path := "/big"
			if tt.want.status == "200" {
				path = "/ok"
			}
			h := h2Dial(t, l)
			h.request(t, 1, h.block("GET", path, tt.fields...), true)
			got := h.read(1, tt.want.closed)
			got.body = strings.TrimSpace(got.body)
			if tt.want.status == "431" {
				got.body = ""
			}
			if got != tt.want {
				t.Errorf("%s %s: %+v, want %+v", l.Kind(), tt.name, got, tt.want)
			}
		}
	}
	if n := routes.count("/big"); n != 0 {
		t.Errorf("route ran %d times for requests with too large headers, want 0", n)
	}
}

// TestHostileBodyDeclaredTooLarge: a request that declares a body past MaxBodyBytes gets 413
// at once, before the server reads any body byte or runs a route; an HTTP/1.1 connection is
// closed (net/http will not read 10 GiB to find the next request). TestWireBodyLimit covers
// bodies that are sent, with a length and chunked.
func TestHostileBodyDeclaredTooLarge(t *testing.T) {
	s := New(Config{})
	routes := newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{MaxBodyBytes: 1024})
	const declared = "10737418240" // 10 GiB
	for _, l := range []*Listener{ts[0].l, ts[1].l} {
		c := rawConn(t, l, "http/1.1")
		io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: "+declared+"\r\n\r\n")
		out := readUntilClosed(t, l.Kind()+" 10 GiB body", c)
		if rs := rawResponses(out); len(rs) != 1 || rs[0].StatusCode != 413 || !rs[0].Close {
			t.Errorf("%s: POST declaring a 10 GiB body: server sent %q, want one 413 with Connection: close", l.Kind(), out)
		}
	}
	for _, l := range []*Listener{ts[1].l, ts[3].l} {
		h := h2Dial(t, l)
		h.request(t, 1, h.block("POST", "/upload", hpack.HeaderField{Name: "content-length", Value: declared}), false)
		if o := h.read(1, false); o.status != "413" {
			t.Errorf("%s h2: POST declaring a 10 GiB body: %+v, want 413", l.Kind(), o)
		}
	}
	if n := routes.total(); n != 0 {
		t.Errorf("routes ran %d times, want 0", n)
	}
}

// --- framing ---

// TestHostileSmuggling: bytes after a chunked body are never parsed as another request. A
// request with Content-Length and Transfer-Encoding: chunked, whose chunked body ends early
// and is followed by a second request (what a proxy that trusts Content-Length forwards as
// one body), gets exactly one response, with Connection: close, and the connection is
// closed: the smuggled request's route never runs. So does any chunked request, and any
// HTTP/1.0 request (net/http hides an HTTP/1.0 Transfer-Encoding). A keep-alive request with a
// Content-Length still gets its pipelined successor answered.
func TestHostileSmuggling(t *testing.T) {
	s := New(Config{})
	routes := newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{})
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
	clte := "0\r\n\r\n" + smuggled
	for _, tt := range []struct {
		name      string
		request   string
		responses int
	}{
		{"Content-Length and chunked, smuggled request",
			"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + strconv.Itoa(len(clte)) +
				"\r\nTransfer-Encoding: chunked\r\n\r\n" + clte, 1},
		{"Transfer-Encoding before Content-Length, smuggled request",
			"POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" +
				"5\r\nhello\r\n0\r\n\r\n" + smuggled, 1},
		{"chunked, pipelined request",
			"POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 1},
		{"HTTP/1.0 keep-alive with Transfer-Encoding, smuggled request",
			"POST /upload HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled, 1},
		{"HTTP/1.0 keep-alive, pipelined request",
			"GET /ping HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n" + smuggled, 1},
		// The control row: the test sees a second request when there is one.
		{"Content-Length, pipelined request",
			"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc" +
				"GET /smuggled HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 2},
	} {
		for _, l := range []*Listener{ts[0].l, ts[1].l} {
			before := routes.count("/smuggled")
			c := rawConn(t, l, "http/1.1")
			io.WriteString(c, tt.request)
			out := readUntilClosed(t, l.Kind()+" "+tt.name, c)
			rs := rawResponses(out)
			ran := routes.count("/smuggled") - before
			if len(rs) != tt.responses || ran != tt.responses-1 || rs[0].StatusCode != 200 || !rs[len(rs)-1].Close {
				t.Errorf("%s %s: server sent %q and closed, and ran the second request %d times; want %d responses, the first 200, the last with Connection: close",
					l.Kind(), tt.name, out, ran, tt.responses)
			}
		}
	}
}

// TestHostileMalformedFraming: request framing that proxies may read differently is refused
// by net/http before any route runs, with 400 (501 for a transfer coding other than a single
// "chunked"), and the connection is closed. The rows net/http accepts are harmless, as each
// row's comment says; those with Transfer-Encoding close the connection after the response.
func TestHostileMalformedFraming(t *testing.T) {
	s := New(Config{})
	routes := newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{})
	const post = "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
	tests := []struct {
		name    string
		request string
		status  int  // the response's status
		routed  bool // a route ran (net/http accepted the request)
		closed  bool // the server closed the connection after the response
	}{
		{"differing Content-Length", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, false, true},
		{"differing Content-Length in one line", post + "Content-Length: 5, 6\r\n\r\nhello!", 400, false, true},
		// RFC 9110 section 8.6 lets a recipient take identical repeated values as one.
		{"identical Content-Length twice", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 200, true, false},
		{"Content-Length not a number", post + "Content-Length: abc\r\n\r\n", 400, false, true},
		{"Content-Length negative", post + "Content-Length: -5\r\n\r\n", 400, false, true},
		{"Content-Length with a plus sign", post + "Content-Length: +5\r\n\r\nhello", 400, false, true},
		{"Content-Length in hexadecimal", post + "Content-Length: 0x5\r\n\r\nhello", 400, false, true},
		{"Transfer-Encoding chunked twice", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, false, true},
		{"Transfer-Encoding chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 501, false, true},
		{"Transfer-Encoding gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, false, true},
		{"Transfer-Encoding chunked, gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 501, false, true},
		{"Transfer-Encoding identity", post + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello", 501, false, true},
		{"Transfer-Encoding unknown", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501, false, true},
		// Case does not matter in a transfer coding (RFC 9112 section 7); the connection is
		// closed after the response, as after any chunked request.
		{"Transfer-Encoding Chunked", post + "Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, true, true},
		{"space before the colon of Content-Length", post + "Content-Length : 5\r\n\r\nhello", 400, false, true},
		{"space before the colon of Transfer-Encoding", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, false, true},
		{"tab before the colon", post + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", 400, false, true},
		// net/http replaces obs-fold with a space, as RFC 9112 section 5.2 allows; a proxy
		// must reject or unfold it too, so both read the same value.
		{"obs-fold", post + "Content-Length: 0\r\nX-Folded: a\r\n b\r\n\r\n", 200, true, false},
		// Unfolded, this is chunked: the connection is closed after the response.
		{"obs-fold of Transfer-Encoding", post + "Content-Length: 0\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 200, true, true},
		// RFC 9112 section 2.2 lets a recipient take a bare LF as a line end in the request
		// line and headers; every parser that does agrees on where the headers end.
		{"bare LF line ends", "GET /bare HTTP/1.1\nHost: localhost\n\n", 200, true, false},
		{"NUL in a header value", post + "Content-Length: 0\r\nX-A: a\x00b\r\n\r\n", 400, false, true},
		{"CR in a header value", post + "Content-Length: 0\r\nX-A: a\rb\r\n\r\n", 400, false, true},
		{"NUL in a header name", post + "Content-Length: 0\r\nX\x00A: b\r\n\r\n", 400, false, true},
		// net/http ignores, and hides, an HTTP/1.0 Transfer-Encoding and reads the body by
		// Content-Length; the connection is closed after the response (framing.go).
		{"HTTP/1.0 with Transfer-Encoding", "POST /upload HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello", 200, true, true},
		// net/http hands "PRI * HTTP/2.0" to the handler (for an h2c upgrade) and closes the
		// connection after the response; only a route for any method and path sees it.
		{"HTTP/2 preface over HTTP/1.1", http2.ClientPreface, 200, true, true},
	}
	for _, l := range []*Listener{ts[0].l, ts[1].l} {
		for _, tt := range tests {
			before := routes.total()
			c := rawConn(t, l, "http/1.1")
			io.WriteString(c, tt.request)
			var status int
			var closedConn bool
			if tt.closed {
				out := readUntilClosed(t, l.Kind()+" "+tt.name, c)
				rs := rawResponses(out)
				if len(rs) != 1 {
					t.Errorf("%s %s: server sent %q, want one response", l.Kind(), tt.name, out)
					continue
				}
				status, closedConn = rs[0].StatusCode, true
			} else {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Errorf("%s %s: %v, want a response", l.Kind(), tt.name, err)
					continue
				}
				status, closedConn = resp.StatusCode, resp.Close
			}
			routed := routes.total() > before
			if status != tt.status || routed != tt.routed || closedConn != tt.closed {
				t.Errorf("%s %s: status %d, route ran %v, connection closed %v; want %d, %v, %v",
					l.Kind(), tt.name, status, routed, closedConn, tt.status, tt.routed, tt.closed)
			}
		}
	}
}

// TestHostileMalformedChunks: a chunked body that breaks the chunked syntax fails the
// handler's Read; the router answers 400 (ErrBadRequest), and the connection is closed:
// nothing after the broken chunk is parsed as a request.
func TestHostileMalformedChunks(t *testing.T) {
	s := New(Config{})
	routes := newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{})
	const post = "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
	for _, tt := range []struct{ name, body string }{
		{"bare LF after the chunk size", "5\nhello\r\n0\r\n\r\n"},
		{"bare LF after the chunk data", "5\r\nhello\n0\r\n\r\n"},
		{"chunk size not hexadecimal", "zz\r\nhello\r\n0\r\n\r\n"},
		{"chunk longer than its size", "2\r\nhello\r\n0\r\n\r\n"},
		{"chunk size overflowing 64 bits", "10000000000000000\r\nhello\r\n0\r\n\r\n"},
	} {
		for _, l := range []*Listener{ts[0].l, ts[1].l} {
			c := rawConn(t, l, "http/1.1")
			io.WriteString(c, post+tt.body+smuggled)
			out := readUntilClosed(t, l.Kind()+" "+tt.name, c)
			if rs := rawResponses(out); len(rs) != 1 || rs[0].StatusCode != 400 || !rs[0].Close {
				t.Errorf("%s %s: server sent %q, want one 400 with Connection: close", l.Kind(), tt.name, out)
			}
		}
	}
	if n := routes.count("/smuggled"); n != 0 {
		t.Errorf("the request after a broken chunked body ran %d times, want 0", n)
	}
}

// --- connection limits ---

// TestHostileConnLimitPerIP: with MaxConnsPerIP 8, a flood of connections from 127.0.0.1 that
// stall before the TLS handshake holds 8 places; the others are closed at once. A client
// from 127.0.0.2 still gets 200 at once, a new client from 127.0.0.1 is refused, and once the
// flood goes away 127.0.0.1 is served again. The server logs a warning at most once a second.
func TestHostileConnLimitPerIP(t *testing.T) {
	const perIP, flood = 8, 20
	logs := &hostileLog{}
	s := New(Config{Logger: slog.New(logs)})
	newHostileRoutes(t, s)
	ts := startTargetsWith(t, s, HTTPConfig{MaxConnsPerIP: perIP, ReadHeaderTimeout: time.Minute})
	local, other := netip.MustParseAddr("127.0.0.1"), net.ParseIP("127.0.0.2")
	// The plain HTTP listener over HTTP/1.1, the HTTPS one over HTTP/1.1 and HTTP/2.
	for _, tgs := range [][]target{{ts[0]}, {ts[1], ts[2]}} {
		start := time.Now()
		l := tgs[0].l
		var closed atomic.Int32
		var conns []net.Conn
		for range flood {
			c := tcpConn(t, l)
			conns = append(conns, c)
			go func() {
				io.Copy(io.Discard, c) // returns when the server (or the test) closes c
				closed.Add(1)
			}()
		}
		waitUntil(t, "the server closed the flood past the limit", func() bool { return closed.Load() >= flood-perIP })
		cl := l.conns.cur
		if _, fromIP, _ := cl.counts(local); fromIP != perIP {
			t.Errorf("%s: %d connections counted from 127.0.0.1, want %d", l.Kind(), fromIP, perIP)
		}

		// Another address is served at once; this one is refused.
		for _, tg := range tgs {
			for _, from := range []net.IP{other, local.AsSlice()} {
				c := wireFrom(tg, from)
				resp, err := c.Get(tg.base + "/ping")
				if err == nil {
					resp.Body.Close()
				}
				switch {
				case from.Equal(other) && (err != nil || resp.StatusCode != 200):
					t.Errorf("%s: GET /ping from 127.0.0.2 during the flood: %v %v, want 200", tg.name, resp, err)
				case !from.Equal(other) && err == nil:
					t.Errorf("%s: GET /ping from 127.0.0.1 past MaxConnsPerIP = %d: %d, want the connection refused", tg.name, perIP, resp.StatusCode)
				}
				c.CloseIdleConnections()
			}
		}
		if n := closed.Load(); n != flood-perIP {
			t.Errorf("%s: %d flood connections closed by the server, want %d", l.Kind(), n, flood-perIP)
		}

		for _, c := range conns {
			c.Close()
		}
		waitUntil(t, "the flood's places are free", func() bool { _, n, _ := cl.counts(local); return n == 0 })
		for _, tg := range tgs {
			c := wireFrom(tg, local.AsSlice())
			if resp, err := c.Get(tg.base + "/ping"); err != nil || resp.StatusCode != 200 {
				t.Errorf("%s: GET /ping from 127.0.0.1 after the flood: %v %v, want 200", tg.name, resp, err)
			} else {
				resp.Body.Close()
			}
			c.CloseIdleConnections()
		}
		elapsed := time.Since(start)
		if n, most := logs.count(slog.LevelWarn, "connection limit reached", l.Kind()), 1+int(elapsed/shedLogInterval); n < 1 || n > most {
			t.Errorf("%s: %d warnings in %v for %d refused connections, want 1 to %d", l.Kind(), n, elapsed, cl.shedEver.Load(), most)
		}
	}
}

// wireFrom returns a client like tg.client whose connections come from the address from.
func wireFrom(tg target, from net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 20 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	if t0, ok := tg.client.Transport.(*http.Transport); ok && t0.TLSClientConfig != nil {
		tr.TLSClientConfig = t0.TLSClientConfig.Clone()
		tr.Protocols = t0.Protocols
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// TestHostileConnLimitTotal: with MaxConns 4, a fifth connection makes the listener close the
// connection idle the longest (HTTP/1.1 between requests, HTTP/2 with no stream open), and
// the fifth client gets 200. When no connection is idle (each has a request in flight, or is
// still in its TLS handshake), the fifth connection is closed at once, and the requests in
// flight still complete.
func TestHostileConnLimitTotal(t *testing.T) {
	const max = 4
	for _, tt := range []struct {
		name string
		tls  bool
		alpn string
	}{{"HTTP", false, ""}, {"HTTPS http/1.1", true, "http/1.1"}, {"HTTPS h2", true, "h2"}} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &hostileLog{}
			s := New(Config{Logger: slog.New(logs)})
			release := make(chan struct{})
			var blocked atomic.Int32
			must(t, s.RouteFunc("GET", "/block", func(_ string, _ *Request, res *Response) error {
				blocked.Add(1)
				<-release
				return res.WriteText(0, "released", nil)
			}))
			newHostileRoutes(t, s)
			cfg := HTTPConfig{Host: "127.0.0.1", Port: RandomPort, MaxConns: max, MaxConnsPerIP: -1, ReadHeaderTimeout: time.Minute}
			var l *Listener
			var err error
			if tt.tls {
				l, err = s.AddHTTPSServer(HTTPSConfig{HTTPConfig: cfg, CertPEM: getPKI(t).certPEM, KeyPEM: getPKI(t).keyPEM})
			} else {
				l, err = s.AddHTTPServer(cfg)
			}
			if err != nil {
				t.Fatal(err)
			}
			must(t, s.Start(context.Background()))
			t.Cleanup(func() { stopServer(t, s) })
			cl := l.conns.cur

			// send opens a connection and sends a request for path on it; the function it
			// returns (safe on any goroutine) reads the response status.
			send := func(path string) (net.Conn, func() string) {
				if tt.alpn == "h2" {
					h := h2Dial(t, l)
					h.request(t, 1, h.block("GET", path), true)
					return h.c, func() string { return h.read(1, false).status }
				}
				c := rawConn(t, l, tt.alpn)
				io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
				return c, func() string {
					resp, err := http.ReadResponse(bufio.NewReader(c), nil)
					if err != nil {
						return err.Error()
					}
					return strconv.Itoa(resp.StatusCode)
				}
			}
			get := func(path string) (net.Conn, string) {
				c, status := send(path)
				return c, status()
			}

			// Idle shedding: four idle connections, then a fifth client.
			// The server lists a connection as idle just after it sends the response, so the
			// next one opens only once it is listed: "idle the longest" is then idle[0].
			var idle []net.Conn
			for i := range max {
				c, status := get("/ping")
				if status != "200" {
					t.Fatalf("GET /ping on connection %d: %s, want 200", i, status)
				}
				idle = append(idle, c)
				waitUntil(t, strconv.Itoa(i+1)+" idle connections", func() bool { _, _, n := cl.counts(netip.Addr{}); return n == i+1 })
			}
			if c, status := get("/ping"); status != "200" {
				t.Errorf("GET /ping on a fifth connection: %s, want 200", status)
			} else {
				c.Close()
			}
			readUntilClosed(t, "the connection idle the longest", idle[0])
			if open, _, _ := cl.counts(netip.Addr{}); open > max {
				t.Errorf("%d connections open, want at most %d", open, max)
			}
			for _, c := range idle {
				c.Close()
			}
			waitUntil(t, "no connection open", func() bool { open, _, _ := cl.counts(netip.Addr{}); return open == 0 })

			// No idle connection: four requests in flight, then a fifth connection.
			results := make(chan string, max)
			for range max {
				_, status := send("/block")
				go func() { results <- status() }()
			}
			waitUntil(t, "four requests in flight", func() bool { return blocked.Load() == max })
			fifth := tcpConn(t, l)
			if tt.tls {
				io.WriteString(fifth, "\x16\x03\x01\x02\x00") // start a handshake
			} else {
				io.WriteString(fifth, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
			}
			if out := readUntilClosed(t, "a fifth connection with four requests in flight", fifth); out != "" {
				t.Errorf("fifth connection with four requests in flight: server sent %q, want it closed at once", out)
			}
			close(release)
			for range max {
				if status := <-results; status != "200" {
					t.Errorf("request in flight while a connection was refused: %s, want 200", status)
				}
			}
			if logs.count(slog.LevelWarn, "connection limit reached", "") == 0 {
				t.Error("no warning logged for refused connections")
			}
		})
	}
}

// TestHostileConnLimitStalledHandshakes: connections stalled in the TLS handshake count
// against MaxConns and are not idle, so they are not closed to make room: a new connection is
// refused until the handshake timeout drops them.
func TestHostileConnLimitStalledHandshakes(t *testing.T) {
	const max = 4
	s := New(Config{})
	newHostileRoutes(t, s)
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort, MaxConns: max,
		MaxConnsPerIP: -1, ReadHeaderTimeout: hostileTimeout}, CertPEM: getPKI(t).certPEM, KeyPEM: getPKI(t).keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Start(context.Background()))
	t.Cleanup(func() { stopServer(t, s) })
	for range max {
		tcpConn(t, l)
	}
	waitUntil(t, "four connections in their handshake", func() bool {
		open, _, _ := l.conns.cur.counts(netip.Addr{})
		return open == max
	})
	if _, err := hostileDial(t, l, "http/1.1", nil); err == nil {
		t.Error("handshake of a fifth connection succeeded, want it refused")
	}
	waitUntil(t, "the stalled handshakes dropped", func() bool {
		open, _, _ := l.conns.cur.counts(netip.Addr{})
		return open == 0
	})
	tg := target{name: "after the stalled handshakes", base: wireBase(l), client: clientFor(getPKI(t).pool, false), proto: 1, l: l}
	defer tg.client.CloseIdleConnections()
	if resp, body := tg.get(t, "/ping"); resp.StatusCode != 200 {
		t.Errorf("GET /ping after the stalled handshakes: %d %q, want 200", resp.StatusCode, body)
	}
}

// TestHostileConnLimitConfig: zero limits mean the defaults, negative ones none, and a
// listener with both limits off accepts through the bare socket.
func TestHostileConnLimitConfig(t *testing.T) {
	for _, tt := range []struct {
		name               string
		cfg                HTTPConfig
		maxConns, maxPerIP int
	}{
		{"zero", HTTPConfig{}, DefaultMaxConns, DefaultMaxConnsPerIP},
		{"set", HTTPConfig{MaxConns: 10, MaxConnsPerIP: 2}, 10, 2},
		{"negative", HTTPConfig{MaxConns: -1, MaxConnsPerIP: -5}, 0, 0},
	} {
		if l := tt.cfg.limits(); l.maxConns != tt.maxConns || l.maxConnsPerIP != tt.maxPerIP {
			t.Errorf("%s: limits() = MaxConns %d, MaxConnsPerIP %d; want %d, %d", tt.name, l.maxConns, l.maxConnsPerIP, tt.maxConns, tt.maxPerIP)
		}
	}
	s := New(Config{})
	wirePing(t, s)
	off := startTargetsWith(t, s, HTTPConfig{MaxConns: -1, MaxConnsPerIP: -1})
	for _, tg := range off {
		if cl := tg.l.conns.cur; cl == nil || cl.max != 0 || cl.perIP != 0 || tg.l.Original().ConnState != nil {
			t.Errorf("%s with no connection limits: limiter %+v, ConnState set %v; want one with no limits and no hook", tg.name, cl, tg.l.Original().ConnState != nil)
		}
		wireWantPong(t, tg, "with no connection limits")
	}
}

// TestHostileConnStateChained: a ConnState hook set through Original before Start is called
// once per change, with the idle tracking of MaxConns, on the first run and after a restart;
// one set between runs replaces it.
func TestHostileConnStateChained(t *testing.T) {
	s := New(Config{})
	wirePing(t, s)
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}, CertPEM: getPKI(t).certPEM, KeyPEM: getPKI(t).keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var first, second []http.ConnState
	record := func(into *[]http.ConnState) func(net.Conn, http.ConnState) {
		return func(_ net.Conn, st http.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			*into = append(*into, st)
		}
	}
	states := func(of *[]http.ConnState) []http.ConnState {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(*of)
	}
	l.Original().ConnState = record(&first)
	want := []http.ConnState{http.StateNew, http.StateActive, http.StateIdle, http.StateClosed}
	for _, run := range []struct {
		name string
		hook *[]http.ConnState // the hook set before the run, nil: none set
		into *[]http.ConnState // the hook that sees this run
	}{{"first run", nil, &first}, {"restart", nil, &first}, {"restart with a new hook", &second, &second}} {
		if run.hook != nil {
			l.Original().ConnState = record(run.hook)
		}
		before := len(states(run.into))
		must(t, s.Start(context.Background()))
		c := rawConn(t, l, "http/1.1")
		io.WriteString(c, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: GET /ping: %v %v", run.name, resp, err)
		}
		waitUntil(t, "the connection idle", func() bool { _, _, n := l.conns.cur.counts(netip.Addr{}); return n == 1 })
		c.Close()
		waitUntil(t, "the connection closed", func() bool { got := states(run.into); return len(got) >= before+len(want) })
		stopServer(t, s)
		if got := states(run.into)[before:]; !slices.Equal(got, want) {
			t.Errorf("%s: the user's ConnState hook saw %v, want %v", run.name, got, want)
		}
	}
	if got := states(&first); len(got) != 2*len(want) {
		t.Errorf("the replaced hook saw %d changes in all, want %d (none in the last run)", len(got), 2*len(want))
	}
}

// --- TLS ---

// TestHostileTLS: TLS 1.0 is refused with a protocol_version alert (TestWireTLSVersions shows
// TLS 1.1), and so is a TLS 1.2 client that offers only weak cipher suites (CBC, 3DES, RC4 or
// RSA key exchange), with a handshake_failure alert; default clients connect with TLS 1.2
// (an ECDHE AEAD suite) and TLS 1.3.
func TestHostileTLS(t *testing.T) {
	s := New(Config{})
	wirePing(t, s)
	ts := startTargets(t, s)
	// Suites for RSA certificates are refused by any server with an ECDSA one: a listener
	// with an RSA certificate shows that the list refuses them too.
	rsaCert, rsaPool := rsaCertificate(t)
	rl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort},
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{rsaCert}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Listener{ts[1].l, ts[3].l, rl} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
		name, pool := l.Kind()+" ECDSA", getPKI(t).pool
		if l == rl {
			name, pool = l.Kind()+" RSA", rsaPool
		}
		for _, tt := range []struct {
			name     string
			min, max uint16
			suites   []uint16
			wantErr  string // in the client's handshake error; "" for a handshake
		}{
			{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, nil, "protocol version"},
			{"CBC-SHA suites", tls.VersionTLS12, tls.VersionTLS12, []uint16{
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
				tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}, "handshake failure"},
			{"3DES suites", tls.VersionTLS12, tls.VersionTLS12, []uint16{
				tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}, "handshake failure"},
			{"RC4 suites", tls.VersionTLS12, tls.VersionTLS12, []uint16{
				tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_RC4_128_SHA}, "handshake failure"},
			{"RSA key exchange suites", tls.VersionTLS12, tls.VersionTLS12, []uint16{
				tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
				tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA}, "handshake failure"},
			{"default TLS 1.2 client", 0, tls.VersionTLS12, nil, ""},
			{"default client", 0, 0, nil, ""},
		} {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost",
				MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites})
			if tt.wantErr != "" {
				if err == nil {
					conn.Close()
					t.Errorf("%s %s client: handshake succeeded, want it refused", name, tt.name)
				} else if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s %s client: %v, want an alert containing %q", name, tt.name, err, tt.wantErr)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s client: %v, want a handshake", name, tt.name, err)
				continue
			}
			st := conn.ConnectionState()
			conn.Close()
			wantVersion := uint16(tls.VersionTLS13)
			if tt.max != 0 {
				wantVersion = tt.max
			}
			if st.Version != wantVersion || st.Version == tls.VersionTLS12 && !slices.Contains(defaultCipherSuites, st.CipherSuite) {
				t.Errorf("%s %s client: %s with %s, want %s with an ECDHE AEAD suite", name, tt.name,
					tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), tls.VersionName(wantVersion))
			}
		}
	}
}

// TestHostileCipherSuitesKept: cipher suites set in TLSConfig are kept as they are; without
// them a listener gets the ECDHE AEAD list, a copy of its own.
func TestHostileCipherSuitesKept(t *testing.T) {
	p := getPKI(t)
	own := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
	for _, tt := range []struct {
		name string
		cfg  *tls.Config
		want []uint16
	}{
		{"no TLSConfig", nil, defaultCipherSuites},
		{"TLSConfig without suites", &tls.Config{}, defaultCipherSuites},
		{"TLSConfig with suites", &tls.Config{CipherSuites: own}, own},
	} {
		c := HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM, TLSConfig: tt.cfg}
		got, err := c.tlsConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.CipherSuites, tt.want) {
			t.Errorf("%s: CipherSuites = %v, want %v", tt.name, got.CipherSuites, tt.want)
		}
		if len(got.CipherSuites) > 0 && &got.CipherSuites[0] == &defaultCipherSuites[0] {
			t.Errorf("%s: CipherSuites shares defaultCipherSuites' array", tt.name)
		}
	}
}

// rsaCertificate makes a self-signed RSA certificate for localhost and a pool that trusts it.
func rsaCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
