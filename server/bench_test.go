package server

// Benchmarks of the server's per-request and per-connection cost, each next to plain
// net/http doing the same work in the same run:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./server/
//
// Allocations per operation are free of noise; compare them first. ns/op moves 2-3x on a
// shared machine: pin with taskset and compare ours against net/http of the same run.
//
//   - BenchmarkServeHTTP: Server.ServeHTTP with a route writing "Hello, World!" through
//     Response.WriteText, against an http.HandlerFunc behind http.ServeMux, both into a
//     reusable ResponseWriter that allocates nothing, so the figures are our overhead only.
//   - BenchmarkRouter: a request through tables of 20 and ~200 routes (GitHub's API), ours
//     against http.ServeMux with the same patterns.
//   - BenchmarkEndToEnd: one keep-alive connection over loopback TLS, HTTP/1.1 and HTTP/2,
//     driven by a raw client that allocates (almost) nothing itself.
//   - BenchmarkHandshake: a new TLS connection per request, full and resumed.
//   - BenchmarkIdleConn: live heap and goroutine stacks per idle TLS connection, measured
//     in a child process that runs only the server.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

const helloBody = "Hello, World!"

// benchWriter is a ResponseWriter that keeps nothing and allocates nothing once its
// header map has grown: reset clears the map and keeps its room.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func newBenchWriter() *benchWriter { return &benchWriter{h: make(http.Header)} }

func (w *benchWriter) Header() http.Header { return w.h }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *benchWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(s)
	return len(s), nil
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// benchRequest is a server-side GET request as net/http hands it to a handler.
func benchRequest(method, path string) *http.Request {
	return &http.Request{
		Method:     method,
		URL:        &url.URL{Path: path},
		RequestURI: path,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"User-Agent": {"bench"}},
		Body:       http.NoBody,
		Host:       "localhost",
		RemoteAddr: "127.0.0.1:40000",
	}
}

func helloRoute(_ string, _ *Request, res *Response) error {
	return res.WriteText(http.StatusOK, helloBody, nil)
}

func helloParamRoute(_ string, req *Request, res *Response) error {
	if req.Param("name") == "" {
		return errors.New("no name")
	}
	return res.WriteText(http.StatusOK, helloBody, nil)
}

// plainHello is the idiomatic net/http handler for the same response.
func plainHello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, helloBody)
}

func plainHelloParam(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("name") == "" {
		panic("no name")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, helloBody)
}

// runHandler serves r with h b.N times and checks the response once.
func runHandler(b *testing.B, h http.Handler, r *http.Request, wantStatus, wantLen int) {
	b.Helper()
	w := newBenchWriter()
	h.ServeHTTP(w, r)
	if w.status != wantStatus || w.n != wantLen {
		b.Fatalf("%s %s: status %d, %d body bytes; want %d, %d", r.Method, r.URL.Path, w.status, w.n, wantStatus, wantLen)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	ours := New(Config{})
	check(b, ours.RouteFunc("GET", "/hello", helloRoute))
	check(b, ours.RouteFunc("GET", "/hello/:name", helloParamRoute))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", plainHello)
	mux.HandleFunc("GET /hello/{name}", plainHelloParam)

	b.Run("static/ours", func(b *testing.B) {
		runHandler(b, ours, benchRequest("GET", "/hello"), 200, len(helloBody))
	})
	b.Run("static/servemux", func(b *testing.B) {
		runHandler(b, mux, benchRequest("GET", "/hello"), 200, len(helloBody))
	})
	b.Run("static/handlerfunc", func(b *testing.B) {
		runHandler(b, http.HandlerFunc(plainHello), benchRequest("GET", "/hello"), 200, len(helloBody))
	})
	b.Run("param/ours", func(b *testing.B) {
		runHandler(b, ours, benchRequest("GET", "/hello/ann"), 200, len(helloBody))
	})
	b.Run("param/servemux", func(b *testing.B) {
		runHandler(b, mux, benchRequest("GET", "/hello/ann"), 200, len(helloBody))
	})
	b.Run("notfound/ours", func(b *testing.B) {
		runHandler(b, ours, benchRequest("GET", "/nothing"), 404, len("Not found GET /nothing."))
	})
	b.Run("notfound/servemux", func(b *testing.B) {
		runHandler(b, mux, benchRequest("GET", "/nothing"), 404, len("404 page not found\n"))
	})
}

// siteRoutes is a small site: pages, a static prefix and a JSON API.
var siteRoutes = []string{
	"GET /", "GET /index.html", "GET /favicon.ico", "GET /robots.txt", "GET /login",
	"POST /login", "GET /logout", "GET /static/*", "GET /api/health", "GET /api/users",
	"POST /api/users", "GET /api/users/:id", "PUT /api/users/:id", "DELETE /api/users/:id",
	"GET /api/users/:id/posts", "GET /api/users/:id/posts/:post", "GET /api/orders/:id",
	"GET /admin/*", "GET /files/*", "GET /ws",
}

// githubRoutes is GitHub's v3 API as used by the usual Go router benchmarks, without the
// catch-all routes.
var githubRoutes = strings.FieldsFunc(strings.ReplaceAll(`
GET /authorizations|GET /authorizations/:id|POST /authorizations|DELETE /authorizations/:id
GET /applications/:client_id/tokens/:access_token|DELETE /applications/:client_id/tokens
DELETE /applications/:client_id/tokens/:access_token|GET /events|GET /repos/:owner/:repo/events
GET /networks/:owner/:repo/events|GET /orgs/:org/events|GET /users/:user/received_events
GET /users/:user/received_events/public|GET /users/:user/events|GET /users/:user/events/public
GET /users/:user/events/orgs/:org|GET /feeds|GET /notifications|GET /repos/:owner/:repo/notifications
PUT /notifications|PUT /repos/:owner/:repo/notifications|GET /notifications/threads/:id
GET /notifications/threads/:id/subscription|PUT /notifications/threads/:id/subscription
DELETE /notifications/threads/:id/subscription|GET /repos/:owner/:repo/stargazers
GET /users/:user/starred|GET /user/starred|GET /user/starred/:owner/:repo|PUT /user/starred/:owner/:repo
DELETE /user/starred/:owner/:repo|GET /repos/:owner/:repo/subscribers|GET /users/:user/subscriptions
GET /user/subscriptions|GET /repos/:owner/:repo/subscription|PUT /repos/:owner/:repo/subscription
DELETE /repos/:owner/:repo/subscription|GET /user/subscriptions/:owner/:repo
PUT /user/subscriptions/:owner/:repo|DELETE /user/subscriptions/:owner/:repo|GET /users/:user/gists
GET /gists|GET /gists/:id|POST /gists|PUT /gists/:id/star|DELETE /gists/:id/star|GET /gists/:id/star
POST /gists/:id/forks|DELETE /gists/:id|GET /repos/:owner/:repo/git/blobs/:sha
POST /repos/:owner/:repo/git/blobs|GET /repos/:owner/:repo/git/commits/:sha
POST /repos/:owner/:repo/git/commits|GET /repos/:owner/:repo/git/refs|POST /repos/:owner/:repo/git/refs
GET /repos/:owner/:repo/git/tags/:sha|POST /repos/:owner/:repo/git/tags|GET /repos/:owner/:repo/git/trees/:sha
POST /repos/:owner/:repo/git/trees|GET /issues|GET /user/issues|GET /orgs/:org/issues
GET /repos/:owner/:repo/issues|GET /repos/:owner/:repo/issues/:number|POST /repos/:owner/:repo/issues
GET /repos/:owner/:repo/assignees|GET /repos/:owner/:repo/assignees/:assignee
GET /repos/:owner/:repo/issues/:number/comments|POST /repos/:owner/:repo/issues/:number/comments
GET /repos/:owner/:repo/issues/:number/events|GET /repos/:owner/:repo/labels
GET /repos/:owner/:repo/labels/:name|POST /repos/:owner/:repo/labels|DELETE /repos/:owner/:repo/labels/:name
GET /repos/:owner/:repo/issues/:number/labels|POST /repos/:owner/:repo/issues/:number/labels
DELETE /repos/:owner/:repo/issues/:number/labels/:name|PUT /repos/:owner/:repo/issues/:number/labels
DELETE /repos/:owner/:repo/issues/:number/labels|GET /repos/:owner/:repo/milestones/:number/labels
GET /repos/:owner/:repo/milestones|GET /repos/:owner/:repo/milestones/:number
POST /repos/:owner/:repo/milestones|DELETE /repos/:owner/:repo/milestones/:number|GET /emojis
GET /gitignore/templates|GET /gitignore/templates/:name|POST /markdown|POST /markdown/raw|GET /meta
GET /rate_limit|GET /users/:user/orgs|GET /user/orgs|GET /orgs/:org|GET /orgs/:org/members
GET /orgs/:org/members/:user|DELETE /orgs/:org/members/:user|GET /orgs/:org/public_members
GET /orgs/:org/public_members/:user|PUT /orgs/:org/public_members/:user
DELETE /orgs/:org/public_members/:user|GET /orgs/:org/teams|GET /teams/:id|POST /orgs/:org/teams
DELETE /teams/:id|GET /teams/:id/members|GET /teams/:id/members/:user|PUT /teams/:id/members/:user
DELETE /teams/:id/members/:user|GET /teams/:id/repos|GET /teams/:id/repos/:owner/:repo
PUT /teams/:id/repos/:owner/:repo|DELETE /teams/:id/repos/:owner/:repo|GET /user/teams
GET /repos/:owner/:repo/pulls|GET /repos/:owner/:repo/pulls/:number|POST /repos/:owner/:repo/pulls
GET /repos/:owner/:repo/pulls/:number/commits|GET /repos/:owner/:repo/pulls/:number/files
GET /repos/:owner/:repo/pulls/:number/merge|PUT /repos/:owner/:repo/pulls/:number/merge
GET /repos/:owner/:repo/pulls/:number/comments|PUT /repos/:owner/:repo/pulls/:number/comments
GET /user/repos|GET /users/:user/repos|GET /orgs/:org/repos|GET /repositories|POST /user/repos
POST /orgs/:org/repos|GET /repos/:owner/:repo|GET /repos/:owner/:repo/contributors
GET /repos/:owner/:repo/languages|GET /repos/:owner/:repo/teams|GET /repos/:owner/:repo/tags
GET /repos/:owner/:repo/branches|GET /repos/:owner/:repo/branches/:branch|DELETE /repos/:owner/:repo
GET /repos/:owner/:repo/collaborators|GET /repos/:owner/:repo/collaborators/:user
PUT /repos/:owner/:repo/collaborators/:user|DELETE /repos/:owner/:repo/collaborators/:user
GET /repos/:owner/:repo/comments|GET /repos/:owner/:repo/commits/:sha/comments
POST /repos/:owner/:repo/commits/:sha/comments|GET /repos/:owner/:repo/comments/:id
DELETE /repos/:owner/:repo/comments/:id|GET /repos/:owner/:repo/commits|GET /repos/:owner/:repo/commits/:sha
GET /repos/:owner/:repo/readme|GET /repos/:owner/:repo/keys|GET /repos/:owner/:repo/keys/:id
POST /repos/:owner/:repo/keys|DELETE /repos/:owner/:repo/keys/:id|GET /repos/:owner/:repo/downloads
GET /repos/:owner/:repo/downloads/:id|DELETE /repos/:owner/:repo/downloads/:id
GET /repos/:owner/:repo/forks|POST /repos/:owner/:repo/forks|GET /repos/:owner/:repo/hooks
GET /repos/:owner/:repo/hooks/:id|POST /repos/:owner/:repo/hooks|POST /repos/:owner/:repo/hooks/:id/tests
DELETE /repos/:owner/:repo/hooks/:id|POST /repos/:owner/:repo/merges|GET /repos/:owner/:repo/releases
GET /repos/:owner/:repo/releases/:id|POST /repos/:owner/:repo/releases|DELETE /repos/:owner/:repo/releases/:id
GET /repos/:owner/:repo/releases/:id/assets|GET /repos/:owner/:repo/stats/contributors
GET /repos/:owner/:repo/stats/commit_activity|GET /repos/:owner/:repo/stats/code_frequency
GET /repos/:owner/:repo/stats/participation|GET /repos/:owner/:repo/stats/punch_card
GET /repos/:owner/:repo/statuses/:ref|POST /repos/:owner/:repo/statuses/:ref|GET /search/repositories
GET /search/code|GET /search/issues|GET /search/users|GET /legacy/issues/search/:owner/:repository/:state/:keyword
GET /legacy/repos/search/:keyword|GET /legacy/user/search/:keyword|GET /legacy/user/email/:email
GET /users/:user|GET /user|GET /users|GET /user/emails|POST /user/emails|DELETE /user/emails
GET /users/:user/followers|GET /user/followers|GET /users/:user/following|GET /user/following
GET /user/following/:user|GET /users/:user/following/:target_user|PUT /user/following/:user
DELETE /user/following/:user|GET /users/:user/keys|GET /user/keys|GET /user/keys/:id|POST /user/keys
DELETE /user/keys/:id`, " /", "\x00/"), func(r rune) bool { return r == '|' || r == '\n' })

// routeTable turns "METHOD path" lines into our routes, the equivalent ServeMux patterns
// and one request per route that only that route (or an earlier one with the same
// response) answers.
func routeTable(b *testing.B, lines []string) (*Server, *http.ServeMux, []*http.Request) {
	b.Helper()
	ours, mux := New(Config{}), http.NewServeMux()
	ourEnd := func(_ string, _ *Request, res *Response) error {
		if err := res.WriteHead(http.StatusNoContent, nil); err != nil {
			return err
		}
		return res.End()
	}
	plainEnd := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	var reqs []*http.Request
	for _, line := range lines {
		method, pattern, _ := strings.Cut(strings.ReplaceAll(line, "\x00", " "), " ")
		check(b, ours.RouteFunc(method, pattern, ourEnd))
		var muxPattern, path strings.Builder
		for seg := range strings.SplitSeq(pattern[1:], "/") {
			muxPattern.WriteByte('/')
			path.WriteByte('/')
			switch {
			case strings.HasPrefix(seg, ":"):
				muxPattern.WriteString("{" + seg[1:] + "}")
				path.WriteString("v" + strconv.Itoa(len(reqs)))
			case seg == "*":
				path.WriteString("x/y")
			default:
				muxPattern.WriteString(seg)
				path.WriteString(seg)
			}
		}
		mp := muxPattern.String()
		if mp == "/" {
			mp = "/{$}"
		}
		mux.HandleFunc(method+" "+mp, plainEnd)
		reqs = append(reqs, benchRequest(method, path.String()))
	}
	return ours, mux, reqs
}

func BenchmarkRouter(b *testing.B) {
	for _, table := range []struct {
		name  string
		lines []string
	}{{"routes=20", siteRoutes}, {"routes=" + strconv.Itoa(len(githubRoutes)), githubRoutes}} {
		ours, mux, reqs := routeTable(b, table.lines)
		for _, h := range []struct {
			name string
			h    http.Handler
		}{{"ours", ours}, {"servemux", mux}} {
			w := newBenchWriter()
			for _, r := range reqs {
				w.reset()
				h.h.ServeHTTP(w, r)
				if w.status != http.StatusNoContent {
					b.Fatalf("%s %s %s: status %d", h.name, r.Method, r.URL.Path, w.status)
				}
			}
			// all: one request for each route in turn, so ours scans half the table on average.
			b.Run(table.name+"/all/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					w.reset()
					h.h.ServeHTTP(w, reqs[i])
					if i++; i == len(reqs) {
						i = 0
					}
				}
			})
			// last: the last route, the worst case of an ordered router.
			b.Run(table.name+"/last/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				r := reqs[len(reqs)-1]
				for b.Loop() {
					w.reset()
					h.h.ServeHTTP(w, r)
				}
			})
		}
	}
}

// benchPKI returns the test certificate (ECDSA P-256) as a tls.Certificate and a client
// config trusting it.
func benchPKI(b testing.TB) (tls.Certificate, *tls.Config) {
	p := getPKI(b)
	cert, err := tls.X509KeyPair(p.certPEM, p.keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	return cert, &tls.Config{RootCAs: p.pool, ServerName: "localhost"}
}

// startOurs starts our server with one HTTPS listener on 127.0.0.1 answering GET / with
// helloBody, and returns its address. BenchmarkIdleConn holds more connections from one
// address than DefaultMaxConnsPerIP: that limit is off; MaxConns keeps its default.
func startOurs(b testing.TB) string {
	return startOursWith(b, HTTPConfig{})
}

// startOursWith is startOurs with cfg as the listener's configuration (its Host, Port and
// MaxConnsPerIP are set as startOurs sets them).
func startOursWith(b testing.TB, cfg HTTPConfig) string {
	s := New(Config{})
	check(b, s.RouteFunc("GET", "/", helloRoute))
	p := getPKI(b)
	cfg.Host, cfg.Port, cfg.MaxConnsPerIP = "127.0.0.1", RandomPort, -1
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: cfg, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	check(b, err)
	check(b, s.Start(context.Background()))
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Stop(ctx)
	})
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
}

// startPlain starts a net/http server with its defaults (ServeTLS, the same certificate)
// and the same handler behind a ServeMux, and returns its address.
func startPlain(b testing.TB) string {
	cert, _ := benchPKI(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(b, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", plainHello)
	hs := &http.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.ServeTLS(ln, "", "")
	}()
	b.Cleanup(func() {
		hs.Close()
		<-done
	})
	return ln.Addr().String()
}

// h1Client speaks HTTP/1.1 over one TLS connection with fixed request bytes, reading only
// the status line, Content-Length and the body: no allocation per request.
type h1Client struct {
	conn *tls.Conn
	br   *bufio.Reader
	req  []byte
}

func dialH1(addr string, cfg *tls.Config) (*h1Client, error) {
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	return &h1Client{conn: conn, br: bufio.NewReader(conn), req: []byte("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n\r\n")}, nil
}

func (c *h1Client) get() error {
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q", line)
	}
	clen := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.ToLower(name)) == "content-length" {
			clen, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
		}
	}
	if clen != len(helloBody) {
		return fmt.Errorf("content-length %d", clen)
	}
	_, err = c.br.Discard(clen)
	return err
}

// h2Client speaks HTTP/2 over one TLS connection with a raw framer: it sends GET / on a new
// stream each time and reads frames until the stream ends. It decodes the first response's
// headers only, so per request it allocates (almost) nothing itself.
type h2Client struct {
	conn    *tls.Conn
	bw      *bufio.Writer
	fr      *http2.Framer
	enc     *hpack.Encoder
	hbuf    bytes.Buffer
	id      uint32
	unacked uint32 // connection-level DATA bytes not yet returned with WINDOW_UPDATE
	checked bool
}

func dialH2(addr string, cfg *tls.Config) (*h2Client, error) {
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		conn.Close()
		return nil, fmt.Errorf("negotiated %q, want h2", p)
	}
	c := &h2Client{conn: conn, bw: bufio.NewWriter(conn), id: 1}
	c.fr = http2.NewFramer(c.bw, bufio.NewReader(conn))
	c.fr.SetReuseFrames()
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.bw.WriteString(http2.ClientPreface)
	if err := c.fr.WriteSettings(); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *h2Client) get() error {
	c.hbuf.Reset()
	for _, f := range [...]hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "localhost"}, {Name: ":path", Value: "/"},
		{Name: "user-agent", Value: "bench"},
	} {
		c.enc.WriteField(f)
	}
	id := c.id
	c.id += 2
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndStream: true, EndHeaders: true})
	if err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	body := 0
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := c.fr.WriteSettingsAck(); err != nil {
					return err
				}
				if err := c.bw.Flush(); err != nil {
					return err
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.fr.WritePing(true, f.Data)
				c.bw.Flush()
			}
		case *http2.GoAwayFrame:
			return fmt.Errorf("GOAWAY %v", f.ErrCode)
		case *http2.RSTStreamFrame:
			return fmt.Errorf("RST_STREAM %v", f.ErrCode)
		case *http2.HeadersFrame:
			if f.StreamID != id {
				return fmt.Errorf("HEADERS on stream %d, want %d", f.StreamID, id)
			}
			if !c.checked {
				// Only the first block is decoded: later ones would need the decoder's
				// dynamic table, which is only kept in step by decoding every block.
				fields, err := hpack.NewDecoder(4096, nil).DecodeFull(f.HeaderBlockFragment())
				if err != nil {
					return err
				}
				if len(fields) == 0 || fields[0].Name != ":status" || fields[0].Value != "200" {
					return fmt.Errorf("response headers %v", fields)
				}
				c.checked = true
			}
			if f.StreamEnded() {
				return fmt.Errorf("stream %d ended without a body", id)
			}
		case *http2.DataFrame:
			body += len(f.Data())
			c.unacked += f.Length
			if c.unacked >= 1<<14 {
				if err := c.fr.WriteWindowUpdate(0, c.unacked); err != nil {
					return err
				}
				c.unacked = 0
				if err := c.bw.Flush(); err != nil {
					return err
				}
			}
			if f.StreamEnded() {
				if body != len(helloBody) {
					return fmt.Errorf("body of %d bytes", body)
				}
				return nil
			}
		}
	}
}

func BenchmarkEndToEnd(b *testing.B) {
	_, clientCfg := benchPKI(b)
	// ours-log: with an access log (text lines to io.Discard), to weigh its cost.
	accessLog := slog.New(slog.NewTextHandler(io.Discard, nil))
	servers := []struct{ name, addr string }{{"ours", startOurs(b)}, {"ours-log", startOursWith(b, HTTPConfig{AccessLog: accessLog})}, {"nethttp", startPlain(b)}}
	for _, proto := range []string{"h1", "h2"} {
		for _, srv := range servers {
			b.Run(proto+"/"+srv.name, func(b *testing.B) {
				var get func() error
				var closer io.Closer
				if proto == "h1" {
					c, err := dialH1(srv.addr, clientCfg)
					check(b, err)
					get, closer = c.get, c.conn
				} else {
					c, err := dialH2(srv.addr, clientCfg)
					check(b, err)
					get, closer = c.get, c.conn
				}
				defer closer.Close()
				for range 10 { // settle: settings exchange, buffers, window
					check(b, get())
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := get(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkHandshake opens a new TLS connection per operation and makes one HTTP/1.1
// request on it (Connection: close), so the session ticket is read and the next
// connection can resume. full has no client session cache; resumed has one and fails if
// the server does not resume. Client and server run in this process: ns/op is the cost
// of both sides, and so is allocs/op.
func BenchmarkHandshake(b *testing.B) {
	_, clientCfg := benchPKI(b)
	// ours-log: with an access log (text lines to io.Discard), to weigh its cost.
	accessLog := slog.New(slog.NewTextHandler(io.Discard, nil))
	servers := []struct{ name, addr string }{{"ours", startOurs(b)}, {"ours-log", startOursWith(b, HTTPConfig{AccessLog: accessLog})}, {"nethttp", startPlain(b)}}
	req := []byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	for _, mode := range []string{"full", "resumed"} {
		for _, srv := range servers {
			b.Run(mode+"/"+srv.name, func(b *testing.B) {
				cfg := clientCfg.Clone()
				cfg.NextProtos = []string{"http/1.1"}
				if mode == "resumed" {
					cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
				}
				connect := func() bool {
					conn, err := tls.Dial("tcp", srv.addr, cfg)
					if err != nil {
						b.Fatal(err)
					}
					defer conn.Close()
					if _, err := conn.Write(req); err != nil {
						b.Fatal(err)
					}
					n := 0
					for {
						m, err := conn.Read(buf[n:])
						n += m
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(buf[:n], []byte(helloBody)) {
						b.Fatalf("response %q", buf[:n])
					}
					return conn.ConnectionState().DidResume
				}
				connect() // fills the session cache
				b.ReportAllocs()
				for b.Loop() {
					if resumed := connect(); resumed != (mode == "resumed") {
						b.Fatalf("DidResume = %v in mode %s", resumed, mode)
					}
				}
			})
		}
	}
}

// idleHelperEnv makes the test binary a server for BenchmarkIdleConn (see
// TestIdleConnHelperProcess).
const idleHelperEnv = "HTTPSKIT_IDLE_CONN_SERVER"

// idleConns is how many idle connections BenchmarkIdleConn opens.
const idleConns = 500

// BenchmarkIdleConn measures the memory one idle TLS connection costs the server: N
// connections each make one GET and then stay open while the server (a child process
// running only the server, so the client's own buffers are not counted) forces garbage
// collection and reads runtime/metrics. Reported per connection: heap-B/conn (live heap
// objects), stack-B/conn (goroutine stacks), total-B/conn (both), rss-B/conn (resident set,
// which also counts garbage and free memory not yet returned), goroutines/conn. With
// HTTPSKIT_IDLE_CONN_SERVER_HEAPPROFILE=FILE in the environment the server process writes its
// heap profile to FILE at each measurement (the last one has the idle connections).
func BenchmarkIdleConn(b *testing.B) {
	if testing.Short() {
		b.Skip("opens hundreds of TLS connections")
	}
	_, clientCfg := benchPKI(b)
	for _, proto := range []string{"h1", "h2"} {
		for _, kind := range []string{"ours", "nethttp"} {
			b.Run(proto+"/"+kind, func(b *testing.B) {
				var sum idleSample
				for range b.N {
					s, err := measureIdle(b, kind, proto, clientCfg, idleConns)
					if err != nil {
						b.Fatal(err)
					}
					sum.heap += s.heap
					sum.stack += s.stack
					sum.rss += s.rss
					sum.goroutines += s.goroutines
				}
				n := float64(b.N) * idleConns
				b.ReportMetric(sum.heap/n, "heap-B/conn")
				b.ReportMetric(sum.stack/n, "stack-B/conn")
				b.ReportMetric((sum.heap+sum.stack)/n, "total-B/conn")
				b.ReportMetric(sum.rss/n, "rss-B/conn")
				b.ReportMetric(sum.goroutines/n, "goroutines/conn")
			})
		}
	}
}

// idleSample is a difference of server memory figures, in bytes (goroutines: a count).
type idleSample struct{ heap, stack, rss, goroutines float64 }

// measureIdle starts a server process, measures it, opens n connections with one GET each
// and measures again; it returns the difference.
func measureIdle(tb testing.TB, kind, proto string, clientCfg *tls.Config, n int) (idleSample, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleConnHelperProcess$", "-test.count=1")
	p := getPKI(tb)
	cmd.Env = append(os.Environ(), idleHelperEnv+"="+kind, idleHelperEnv+"_CERT="+string(p.certPEM), idleHelperEnv+"_KEY="+string(p.keyPEM))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return idleSample{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return idleSample{}, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return idleSample{}, err
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	next := func() ([]string, error) {
		for lines.Scan() {
			if f := strings.Fields(lines.Text()); len(f) > 0 && f[0] == "idle:" {
				return f[1:], nil
			}
		}
		return nil, fmt.Errorf("server process: %v", lines.Err())
	}
	measure := func() (idleSample, error) {
		io.WriteString(stdin, "measure\n")
		f, err := next()
		if err != nil {
			return idleSample{}, err
		}
		var v [4]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(f[i], 64); err != nil {
				return idleSample{}, err
			}
		}
		return idleSample{heap: v[0], stack: v[1], rss: v[2], goroutines: v[3]}, nil
	}
	f, err := next()
	if err != nil {
		return idleSample{}, err
	}
	addr := f[0]
	get := func() (io.Closer, error) {
		if proto == "h1" {
			c, err := dialH1(addr, clientCfg)
			if err != nil {
				return nil, err
			}
			return c.conn, c.get()
		}
		c, err := dialH2(addr, clientCfg)
		if err != nil {
			return nil, err
		}
		return c.conn, c.get()
	}
	// Warm up: the first connection creates what every later one shares (session ticket
	// keys, pools, the handler's first allocations).
	for range 3 {
		c, err := get()
		if err != nil {
			return idleSample{}, err
		}
		c.Close()
	}
	before, err := measure()
	if err != nil {
		return idleSample{}, err
	}
	conns := make([]io.Closer, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := get()
		if c != nil {
			conns = append(conns, c)
		}
		if err != nil {
			return idleSample{}, err
		}
	}
	after, err := measure()
	if err != nil {
		return idleSample{}, err
	}
	return idleSample{
		heap:       after.heap - before.heap,
		stack:      after.stack - before.stack,
		rss:        after.rss - before.rss,
		goroutines: after.goroutines - before.goroutines,
	}, nil
}

// TestIdleConnHelperProcess is the server process of BenchmarkIdleConn; it does nothing in
// a normal test run. It prints "idle: ADDR", then answers each "measure" line on stdin with
// "idle: HEAP STACKS RSS GOROUTINES" after forcing garbage collection, until stdin closes.
func TestIdleConnHelperProcess(t *testing.T) {
	kind := os.Getenv(idleHelperEnv)
	if kind == "" {
		t.Skip("server process of BenchmarkIdleConn only")
	}
	// Serve the parent's certificate, which its client trusts.
	pkiOnce.Do(func() {
		pki = testPKI{certPEM: []byte(os.Getenv(idleHelperEnv + "_CERT")), keyPEM: []byte(os.Getenv(idleHelperEnv + "_KEY"))}
	})
	if os.Getenv(idleHelperEnv+"_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	var addr string
	switch kind {
	case "ours":
		addr = startOurs(t)
	case "nethttp":
		addr = startPlain(t)
	default:
		t.Fatalf("unknown server %q", kind)
	}
	fmt.Printf("idle: %s\n", addr)
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "measure" {
			continue
		}
		// Several cycles: each GC can only halve a goroutine stack that uses under a
		// quarter of it, and the TLS handshake grows the connection goroutines' stacks.
		for range 4 {
			runtime.GC()
		}
		debug.FreeOSMemory()
		metrics.Read(samples)
		if name := os.Getenv(idleHelperEnv + "_HEAPPROFILE"); name != "" {
			// The last measurement's profile stays: go tool pprof -sample_index=inuse_space.
			if f, err := os.Create(name); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		fmt.Printf("idle: %d %d %d %d\n", samples[0].Value.Uint64(), samples[1].Value.Uint64(), rssBytes(), samples[2].Value.Uint64())
	}
}

// rssBytes returns the resident set size of this process, or 0 where /proc is missing.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// check fails the benchmark or test on an error.
func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestServeHTTPAllocs pins the router's allocations: a route answering with WriteText costs
// one allocation (its two header values), the same count as an http.HandlerFunc that sets
// Content-Type.
func TestServeHTTPAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	s := New(Config{})
	check(t, s.RouteFunc("GET", "/hello/:name", helloParamRoute))
	w, r := newBenchWriter(), benchRequest("GET", "/hello/ann")
	got := testing.AllocsPerRun(100, func() {
		w.reset()
		s.ServeHTTP(w, r)
	})
	if w.status != http.StatusOK || w.n != len(helloBody) {
		t.Fatalf("status %d, %d body bytes", w.status, w.n)
	}
	if got > 1 {
		t.Errorf("ServeHTTP allocates %v times per request, want at most 1", got)
	}
}

// TestWrappersNotReused: a Request or Response a handler wrongly keeps past its return is
// never handed to a later request, so such a bug cannot write into another client's answer.
func TestWrappersNotReused(t *testing.T) {
	s := New(Config{})
	seen := map[*Response]bool{}
	var kept []*Request
	check(t, s.RouteFunc("GET", "/", func(_ string, req *Request, res *Response) error {
		if seen[res] {
			t.Error("a Response was handed to a second request")
		}
		seen[res] = true
		kept = append(kept, req)
		return res.WriteText(0, "ok", nil)
	}))
	for range 100 {
		s.ServeHTTP(newBenchWriter(), benchRequest("GET", "/"))
	}
	for i, req := range kept {
		if req.Original() == nil {
			t.Fatalf("request %d: its wrapper was cleared after the handler returned", i)
		}
	}
}

// TestHeaderValuesOutliveExchange checks that the header map keeps its values after the
// handler returned, as middleware around ServeHTTP may read it then (run with -race).
func TestHeaderValuesOutliveExchange(t *testing.T) {
	s := New(Config{})
	check(t, s.RouteFunc("GET", "/:n", func(_ string, req *Request, res *Response) error {
		return res.WriteText(0, strings.Repeat("x", len(req.Param("n"))*1000), nil)
	}))
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 300 {
				n := 1 + (g+i)%5
				w := newBenchWriter()
				s.ServeHTTP(w, benchRequest("GET", "/"+strings.Repeat("a", n)))
				want := strconv.Itoa(n * 1000)
				if n*1000 <= autoLengthMax { // and not 0
					want = "" // net/http adds it on the wire
				}
				if got := w.h.Get("Content-Length"); got != want || w.n != n*1000 {
					t.Errorf("Content-Length %q, %d bytes written; want %q", got, w.n, want)
					return
				}
				if got := w.h.Get("Content-Type"); got != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type %q", got)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// processCPU is the user and system CPU time of this process: on a shared machine, where a
// benchmark's wall time includes waiting for a core, its CPU time per operation is the
// steadier figure.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAccessLog is the cost of one access log line (HTTPConfig.AccessLog) for a TLS
// request, with slog's text and JSON handlers and AccessLogHandler's writing to io.Discard:
// what the access log adds to a request's server CPU, beside BenchmarkEndToEnd's figures.
func BenchmarkAccessLog(b *testing.B) {
	r := benchRequest("GET", "/index.html?x=1")
	r.RemoteAddr = "127.0.0.1:54321"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, DidResume: true}
	info := RequestInfo{Request: r, Start: time.Now(), Duration: 12345 * time.Nanosecond, Status: 200, Bytes: 1234}
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{{"text", slog.NewTextHandler(io.Discard, nil)}, {"json", slog.NewJSONHandler(io.Discard, nil)},
		{"accesslog-text", AccessLogHandler(io.Discard, false)}, {"accesslog-json", AccessLogHandler(io.Discard, true)}} {
		b.Run(h.name, func(b *testing.B) {
			o := AccessLogObserver(slog.New(h.h))
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				o.RequestDone(info)
			}
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkServeFile serves a 13-byte file through a directory route, as `httpskit serve`
// does, beside http.FileServer: with no options, with compression (the client accepts gzip;
// the file is below MinCompressSize), and with an access log (AccessLogHandler to
// io.Discard). cpu-ns/op is process CPU per request.
func BenchmarkServeFile(b *testing.B) {
	dir := b.TempDir()
	check(b, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(helloBody), 0o644))
	plain := New(Config{})
	check(b, plain.ServeDirectory("/", dir, DirectoryOptions{Listing: true}))
	compress := New(Config{})
	check(b, compress.ServeDirectory("/", dir, DirectoryOptions{Listing: true, Compress: true}))
	accessLog := AccessLogObserver(slog.New(AccessLogHandler(io.Discard, false)))
	type row struct {
		name string
		h    http.Handler
		log  Observer
	}
	rows := []row{
		{"nethttp-fileserver", http.FileServer(http.Dir(dir)), nil},
		{"ours", plain, nil},
		{"ours-compress", compress, nil},
		{"ours-compress-log", compress, accessLog},
	}
	for _, name := range slices.Sorted(maps.Keys(benchObservers)) { // metrics_bench_test.go
		rows = append(rows, row{"ours-compress-log-" + name, compress, Observers(accessLog, benchObservers[name])})
	}
	for _, tt := range rows {
		b.Run(tt.name, func(b *testing.B) {
			r := benchRequest("GET", "/hello.txt")
			r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
			w := newBenchWriter()
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				w.reset()
				t0 := time.Now()
				tt.h.ServeHTTP(w, r)
				if tt.log != nil {
					tt.log.RequestDone(RequestInfo{Request: r, Start: t0, Duration: time.Since(t0), Status: w.status, Bytes: int64(w.n)})
				}
				if w.status != 200 || w.n != len(helloBody) {
					b.Fatalf("status %d, %d bytes", w.status, w.n)
				}
			}
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
