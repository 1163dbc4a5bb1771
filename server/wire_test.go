package server

// Behaviour over the wire: every test reaches the server through real listeners on 127.0.0.1
// (startTargets: plain HTTP/1.1, HTTPS over HTTP/1.1 and HTTP/2, and the HTTP/2 listener),
// and raw requests where a client would normalise what is sent.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/httpskit/httpskit/certs"
)

// --- helpers ---

// startTargetsWith is startTargets with the limits of cfg on every listener (Host and Port
// become 127.0.0.1 and RandomPort).
func startTargetsWith(t *testing.T, s *Server, cfg HTTPConfig) []target {
	t.Helper()
	p := getPKI(t)
	cfg.Host, cfg.Port = "127.0.0.1", RandomPort
	hl, err := s.AddHTTPServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: cfg, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	h2l, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: cfg, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopServer(t, s) })
	plain := &http.Client{Transport: &http.Transport{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	h1, h2 := clientFor(p.pool, false), clientFor(p.pool, true)
	t.Cleanup(func() {
		for _, c := range []*http.Client{plain, h1, h2} {
			c.CloseIdleConnections()
		}
	})
	return []target{
		{"http1.1", wireBase(hl), plain, 1, hl},
		{"https-http1.1", wireBase(sl), h1, 1, sl},
		{"https-http2", wireBase(sl), h2, 2, sl},
		{"http2listener-http2", wireBase(h2l), h2, 2, h2l},
	}
}

// wireBase is the listener's URL with 127.0.0.1 for localhost.
func wireBase(l *Listener) string {
	return strings.Replace(l.URL(), "://localhost", "://127.0.0.1", 1)
}

// rawSend sends a raw HTTP/1.1 request for target (sent exactly as given, like curl
// --path-as-is) and returns the whole raw response.
func rawSend(t *testing.T, l *Listener, method, target, extraHeaders string) string {
	t.Helper()
	return rawRequest(t, l, method+" "+target+" HTTP/1.1\r\nHost: localhost\r\n"+extraHeaders+"Connection: close\r\n\r\n")
}

// rawStatus returns the status code of a raw response, or 0.
func rawStatus(out string) int {
	_, rest, _ := strings.Cut(firstLine(out), " ")
	code, _ := strconv.Atoi(strings.SplitN(rest, " ", 2)[0])
	return code
}

// rawHeaderValues returns the values of every header line named name (any case) in a raw
// response.
func rawHeaderValues(out, name string) []string {
	head, _, _ := strings.Cut(out, "\r\n\r\n")
	var vals []string
	for i, line := range strings.Split(head, "\r\n") {
		if i == 0 {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// waitUntil spins until cond holds; it fails the test after 20s. It waits on a state the
// code under test publishes, not on time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		runtime.Gosched()
	}
}

// --- controllers ---

// wireOrderCtl records the order of its calls in the response body.
type wireOrderCtl struct{ calls atomic.Int32 }

func (c *wireOrderCtl) Before(_ string, req *Request, res *Response) error {
	switch {
	case req.Headers().Get("X-Deny") != "":
		return res.WriteText(http.StatusForbidden, "denied", nil)
	case req.Headers().Get("X-Fail") != "":
		return errors.New("before failed")
	}
	_, err := res.Write([]byte("before;"))
	return err
}

func (c *wireOrderCtl) Get(path string, _ *Request, res *Response) error {
	c.calls.Add(1)
	_, err := res.Write([]byte("get(" + path + ");"))
	return err
}

func (c *wireOrderCtl) Post(path string, req *Request, res *Response) error {
	c.calls.Add(1)
	body, err := req.ReadText()
	if err != nil {
		return err
	}
	_, err = res.Write([]byte("post(" + body + ");"))
	return err
}

func (c *wireOrderCtl) Any(_ string, req *Request, res *Response) error {
	c.calls.Add(1)
	_, err := res.Write([]byte("any(" + req.Method() + ");"))
	return err
}

func (c *wireOrderCtl) After(_ string, _ *Request, res *Response) error {
	return res.End([]byte("after"))
}

// wireGetOnlyCtl has a Get and no Any: other methods fall through.
type wireGetOnlyCtl struct{ before atomic.Int32 }

func (c *wireGetOnlyCtl) Before(string, *Request, *Response) error {
	c.before.Add(1)
	return nil
}

func (c *wireGetOnlyCtl) Get(_ string, _ *Request, res *Response) error {
	return res.WriteText(0, "only get", nil)
}

// wireSpellingCtl uses the other documented spellings of method names.
type wireSpellingCtl struct{}

func (wireSpellingCtl) GET(_ string, _ *Request, res *Response) error {
	return res.WriteText(0, "GET", nil)
}

func (wireSpellingCtl) HandlePost(_ string, _ *Request, res *Response) error {
	return res.WriteText(0, "HandlePost", nil)
}

func TestWireController(t *testing.T) {
	s := New(Config{})
	order, getOnly := &wireOrderCtl{}, &wireGetOnlyCtl{}
	must(t, s.Route("*", "/ctl/*", Controller(order)))
	must(t, s.Route("*", "/only", Controller(getOnly)))
	must(t, s.Route("*", "/spell", Controller(wireSpellingCtl{})))
	tests := []struct {
		name, method, path, body string
		hdr                      http.Header
		status                   int
		want                     string
		calls                    int32 // calls of order's Get/Post/Any
		before                   int32 // calls of getOnly's Before
	}{
		{"Get between Before and After", "GET", "/ctl/x", "", nil, 200, "before;get(x);after", 1, 0},
		{"Post reads the body", "POST", "/ctl/x", "hi", nil, 200, "before;post(hi);after", 1, 0},
		{"Any for PUT", "PUT", "/ctl/y", "", nil, 200, "before;any(PUT);after", 1, 0},
		{"Any for DELETE", "DELETE", "/ctl/z", "", nil, 200, "before;any(DELETE);after", 1, 0},
		{"Before finishing skips the method", "GET", "/ctl/x", "", http.Header{"X-Deny": {"1"}}, 403, "denied", 0, 0},
		{"Before failing skips the method", "GET", "/ctl/x", "", http.Header{"X-Fail": {"1"}}, 500, "Error handling request GET /ctl/x.", 0, 0},
		{"Get only: GET", "GET", "/only", "", nil, 200, "only get", 0, 1},
		{"Get only: POST falls through", "POST", "/only", "x", nil, 404, "Not found POST /only.", 0, 0},
		{"Get only: HEAD is answered by Get", "HEAD", "/only", "", nil, 200, "", 0, 1},
		{"spelled GET", "GET", "/spell", "", nil, 200, "GET", 0, 0},
		{"spelled HandlePost", "POST", "/spell", "", nil, 200, "HandlePost", 0, 0},
		{"spelled: PUT falls through", "PUT", "/spell", "", nil, 404, "Not found PUT /spell.", 0, 0},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			calls, before := order.calls.Load(), getOnly.before.Load()
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp, got := tg.do(t, tt.method, tt.path, body, tt.hdr)
			if resp.StatusCode != tt.status || got != tt.want {
				t.Errorf("%s %s: %s %s = %d %q, want %d %q", tg.name, tt.name, tt.method, tt.path, resp.StatusCode, got, tt.status, tt.want)
			}
			if d := order.calls.Load() - calls; d != tt.calls {
				t.Errorf("%s %s: %d method calls, want %d", tg.name, tt.name, d, tt.calls)
			}
			if d := getOnly.before.Load() - before; d != tt.before {
				t.Errorf("%s %s: %d Before calls, want %d", tg.name, tt.name, d, tt.before)
			}
		}
	}
}

// --- Serve ---

const wireCSS = "body { color: rebeccapurple; }\n"

func TestWireServeFile(t *testing.T) {
	dir := t.TempDir()
	css := filepath.Join(dir, "hello.css")
	writeFile(t, css, wireCSS)
	s := New(Config{})
	must(t, s.Serve("/hello.css", "", css))
	must(t, s.Serve("/typed", "text/x-custom", css))
	tests := []struct {
		name, method, path string
		hdr                http.Header
		status             int
		body               string
		contentType        string
		contentRange       string
	}{
		{"GET guesses the type", "GET", "/hello.css", nil, 200, wireCSS, "text/css; charset=utf-8", ""},
		{"HEAD has no body", "HEAD", "/hello.css", nil, 200, "", "text/css; charset=utf-8", ""},
		{"POST falls through", "POST", "/hello.css", nil, 404, "Not found POST /hello.css.", "text/plain; charset=utf-8", ""},
		{"Range", "GET", "/hello.css", http.Header{"Range": {"bytes=0-3"}}, 206, "body", "text/css; charset=utf-8", fmt.Sprintf("bytes 0-3/%d", len(wireCSS))},
		{"given type", "GET", "/typed", nil, 200, wireCSS, "text/x-custom", ""},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			resp, body := tg.do(t, tt.method, tt.path, nil, tt.hdr)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s %s: %s %s = %d %q, want %d %q", tg.name, tt.name, tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != tt.contentType {
				t.Errorf("%s %s: Content-Type %q, want %q", tg.name, tt.name, ct, tt.contentType)
			}
			if cr := resp.Header.Get("Content-Range"); cr != tt.contentRange {
				t.Errorf("%s %s: Content-Range %q, want %q", tg.name, tt.name, cr, tt.contentRange)
			}
			if tt.method == "HEAD" && resp.Header.Get("Content-Length") != strconv.Itoa(len(wireCSS)) {
				t.Errorf("%s %s: Content-Length %q, want %d", tg.name, tt.name, resp.Header.Get("Content-Length"), len(wireCSS))
			}
		}
	}
}

// wireSite makes a directory to serve: index.html, a.txt, sub/index.html, nosub/b.txt,
// .hidden.
func wireSite(t *testing.T, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "index.html"), "<p>top</p>\n")
	writeFile(t, filepath.Join(dir, "a.txt"), "plain a\n")
	writeFile(t, filepath.Join(dir, "sub", "index.html"), "<p>sub</p>\n")
	writeFile(t, filepath.Join(dir, "nosub", "b.txt"), "plain b\n")
	writeFile(t, filepath.Join(dir, ".hidden"), "hidden\n")
}

func TestWireServeDirectory(t *testing.T) {
	dir := t.TempDir()
	wireSite(t, dir)
	s := New(Config{})
	must(t, s.Serve("/files", "", dir))
	tests := []struct {
		name, method, path string
		status             int
		body               string // "Not found." bodies are compared without the newline
		location           string
	}{
		{"index at /files/", "GET", "/files/", 200, "<p>top</p>\n", ""},
		{"index at /files", "GET", "/files", 200, "<p>top</p>\n", ""},
		{"sub-folder index", "GET", "/files/sub/", 200, "<p>sub</p>\n", ""},
		{"sub-folder index file", "GET", "/files/sub/index.html", 200, "<p>sub</p>\n", ""},
		{"sub-folder without slash", "GET", "/files/sub", 301, "", "/files/sub/"},
		{"file", "GET", "/files/a.txt", 200, "plain a\n", ""},
		{"HEAD of a file", "HEAD", "/files/a.txt", 200, "", ""},
		{"HEAD of the index", "HEAD", "/files/", 200, "", ""},
		{"missing file", "GET", "/files/missing.txt", 404, "Not found.", ""},
		{"folder without index", "GET", "/files/nosub/", 404, "Not found.", ""},
		{"dotfile", "GET", "/files/.hidden", 404, "Not found.", ""},
		{"file with a trailing slash", "GET", "/files/a.txt/", 404, "Not found.", ""},
		{"POST falls through", "POST", "/files/a.txt", 404, "Not found POST /files/a.txt.", ""},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			resp, body := tg.do(t, tt.method, tt.path, nil, nil)
			if tt.body == "Not found." {
				body = strings.TrimSuffix(body, "\n")
			}
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s %s: %s %s = %d %q, want %d %q", tg.name, tt.name, tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if loc := resp.Header.Get("Location"); loc != tt.location {
				t.Errorf("%s %s: Location %q, want %q", tg.name, tt.name, loc, tt.location)
			}
			if strings.Contains(body, dir) {
				t.Errorf("%s %s: body %q holds the directory's path", tg.name, tt.name, body)
			}
		}
	}
}

func TestWireServeDirectoryListing(t *testing.T) {
	dir := t.TempDir()
	name := `<b>x&y".txt`
	writeFile(t, filepath.Join(dir, name), "x\n")
	writeFile(t, filepath.Join(dir, "plain.txt"), "p\n")
	s := New(Config{})
	must(t, s.ServeDirectory("/list", dir, DirectoryOptions{Listing: true}))
	for _, tg := range startTargets(t, s) {
		resp, body := tg.get(t, "/list/")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s GET /list/ = %d %q, want 200 text/html", tg.name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(body, "&lt;b&gt;x&amp;y") || strings.Contains(body, "<b>x") || !strings.Contains(body, "plain.txt") {
			t.Errorf("%s GET /list/ = %q, want the names listed with <, > and & escaped", tg.name, body)
		}
		if strings.Contains(body, dir) {
			t.Errorf("%s GET /list/ = %q holds the directory's path", tg.name, body)
		}
	}
}

// TestWireServeDirectoryUnrouteOne: Unroute of one of the three routes of a served directory
// by its own pattern. Whatever is left in Routes must keep serving.
func TestWireServeDirectoryUnrouteOne(t *testing.T) {
	dir := t.TempDir()
	wireSite(t, dir)
	s := New(Config{})
	must(t, s.Serve("/files", "", dir))
	if !s.Unroute("*", "/files/", nil) {
		t.Fatalf("Unroute(*, /files/) = false, want true; routes %q", s.Routes())
	}
	left := s.Routes()
	for _, tg := range startTargets(t, s) {
		if slices.Contains(left, "*: /files/*") {
			if resp, body := tg.get(t, "/files/a.txt"); resp.StatusCode != 200 || body != "plain a\n" {
				t.Errorf("%s GET %s = %d %q, want %d %q (route \"/files/*\" is still listed)", tg.name, "/files/a.txt", resp.StatusCode, body, 200, "plain a\n")
			}
		}
		if slices.Contains(left, "*: /files") {
			if resp, body := tg.get(t, "/files"); resp.StatusCode != 200 || body != "<p>top</p>\n" {
				t.Errorf("%s GET %s = %d %q, want %d %q (route \"/files\" is still listed)", tg.name, "/files", resp.StatusCode, body, 200, "<p>top</p>\n")
			}
		}
	}
}

// TestWireTraversal: nothing outside a served directory is reachable. secret.txt sits beside
// the served directory; links inside the directory point to it.
func TestWireTraversal(t *testing.T) {
	root := t.TempDir()
	const secret = "TOP-SECRET-7f3a9c"
	writeFile(t, filepath.Join(root, "secret.txt"), secret+"\n")
	pub := filepath.Join(root, "pub")
	wireSite(t, pub)
	for link, to := range map[string]string{
		"link.txt": filepath.Join(root, "secret.txt"), // absolute link to the file
		"rel.txt":  "../secret.txt",                   // relative link to the file
		"up":       root,                              // link to the parent directory
	} {
		if err := os.Symlink(to, filepath.Join(pub, link)); err != nil {
			t.Fatal(err)
		}
	}
	s := New(Config{})
	must(t, s.Serve("/files", "", pub))
	targets := []string{
		"/files/../secret.txt",
		"/files/..%2fsecret.txt",
		"/files/..%2Fsecret.txt",
		"/files/%2e%2e/secret.txt",
		"/files/%2E%2E%2Fsecret.txt",
		"/files/.%2e/secret.txt",
		"/files/sub/../../secret.txt",
		"/files/sub/%2e%2e/%2e%2e/secret.txt",
		"/files/" + root + "/secret.txt", // "/files//tmp/.../secret.txt"
		"/files/" + url.PathEscape(root+"/secret.txt"),
		`/files/..\secret.txt`,
		"/files/..%5csecret.txt",
		"/files/link.txt",
		"/files/rel.txt",
		"/files/up/secret.txt",
		"/files/up/",
		"/files/up/pub/../secret.txt",
	}
	check := func(who, target string, status int, out string) {
		if strings.Contains(out, secret) {
			t.Errorf("%s GET %s = %d, answer holds the secret: %q", who, target, status, out)
		}
		if status == 200 {
			t.Errorf("%s GET %s = %d, want a refusal (404)", who, target, status)
		}
		// The 404 fallback echoes the request target, which may hold the path: that is the
		// client's own input, not a leak.
		if strings.Contains(strings.ReplaceAll(out, target, ""), root) {
			t.Errorf("%s GET %s: answer holds an absolute path: %q", who, target, out)
		}
	}
	ts := startTargets(t, s)
	for _, tg := range ts[:2] { // the raw HTTP/1.1 listeners: plain and TLS
		for _, target := range targets {
			out := rawSend(t, tg.l, "GET", target, "")
			check(tg.name+" raw", target, rawStatus(out), out)
		}
	}
	for _, tg := range ts { // and through a client, over HTTP/1.1 and HTTP/2
		for _, target := range targets {
			resp, body := tg.get(t, target)
			check(tg.name, target, resp.StatusCode, body+resp.Header.Get("Location"))
		}
	}
}

// --- Redirect ---

func TestWireRedirect(t *testing.T) {
	s := New(Config{})
	must(t, s.Redirect("GET", "/old", "/new", false))
	must(t, s.Redirect("*", "/moved", "https://example.com/there?x=1", true))
	must(t, s.RouteFunc("*", "/new", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "followed", nil)
	}))
	tests := []struct {
		name, method, path string
		status             int
		location, body     string
	}{
		{"permanent", "GET", "/old", 301, "/new", ""},
		{"permanent, other method falls through", "POST", "/old", 404, "", "Not found POST /old."},
		{"temporary", "GET", "/moved", 302, "https://example.com/there?x=1", ""},
		{"temporary HEAD", "HEAD", "/moved", 302, "https://example.com/there?x=1", ""},
		{"temporary DELETE", "DELETE", "/moved", 302, "https://example.com/there?x=1", ""},
		{"query not carried over", "GET", "/old?a=b", 301, "/new", ""},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			resp, body := tg.do(t, tt.method, tt.path, nil, nil)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s %s: %s %s = %d %q, want %d %q", tg.name, tt.name, tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("%s %s: Location %q, want %q", tg.name, tt.name, got, tt.location)
			}
		}
	}
}

// --- Push ---

// h2Stream is one stream as a raw HTTP/2 client saw it.
type h2Stream struct {
	headers map[string]string
	body    bytes.Buffer
	ended   bool
}

// h2Result is what wireH2Get saw: the page, the promised requests and the pushed streams.
type h2Result struct {
	page                  *h2Stream
	promised              map[uint32]map[string]string
	pushed                map[uint32]*h2Stream
	promiseBeforePageBody bool // every PUSH_PROMISE came before any DATA of the page
}

// wireH2Get is a raw HTTP/2 client (framer and HPACK by hand) that sends SETTINGS with
// ENABLE_PUSH as asked, GETs path on stream 1 and reads until the page and every pushed
// stream ended.
func wireH2Get(t *testing.T, l *Listener, path string, push bool) h2Result {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN chose %q, want h2", p)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	enable := uint32(0)
	if push {
		enable = 1
	}
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: enable}); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: addr}, {Name: ":path", Value: path},
	} {
		if err := enc.WriteField(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}

	dec := hpack.NewDecoder(4096, nil) // one decoder: HPACK state spans the connection
	decode := func(what string, frag []byte, ended bool) map[string]string {
		if !ended {
			t.Fatalf("%s split over CONTINUATION frames: not handled by this test client", what)
		}
		fields, err := dec.DecodeFull(frag)
		if err != nil {
			t.Fatalf("%s: hpack: %v", what, err)
		}
		m := map[string]string{}
		for _, f := range fields {
			m[f.Name] = f.Value
		}
		return m
	}
	res := h2Result{page: &h2Stream{}, promised: map[uint32]map[string]string{}, pushed: map[uint32]*h2Stream{}}
	stream := func(id uint32) *h2Stream {
		if id == 1 {
			return res.page
		}
		if st := res.pushed[id]; st != nil {
			return st
		}
		t.Fatalf("frame on unknown stream %d", id)
		return nil
	}
	done := func() bool {
		if !res.page.ended {
			return false
		}
		for _, st := range res.pushed {
			if !st.ended {
				return false
			}
		}
		return true
	}
	for !done() {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("read frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					t.Fatal(err)
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				if err := fr.WritePing(true, f.Data); err != nil {
					t.Fatal(err)
				}
			}
		case *http2.PushPromiseFrame:
			res.promised[f.PromiseID] = decode("PUSH_PROMISE", f.HeaderBlockFragment(), f.HeadersEnded())
			res.pushed[f.PromiseID] = &h2Stream{}
			if len(res.promised) == 1 {
				res.promiseBeforePageBody = res.page.body.Len() == 0
			} else {
				res.promiseBeforePageBody = res.promiseBeforePageBody && res.page.body.Len() == 0
			}
		case *http2.HeadersFrame:
			st := stream(f.StreamID)
			st.headers = decode("HEADERS", f.HeaderBlockFragment(), f.HeadersEnded())
			st.ended = st.ended || f.StreamEnded()
		case *http2.DataFrame:
			st := stream(f.StreamID)
			st.body.Write(f.Data())
			st.ended = st.ended || f.StreamEnded()
		case *http2.RSTStreamFrame:
			t.Fatalf("RST_STREAM on stream %d: %v", f.StreamID, f.ErrCode)
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY: %v", f.ErrCode)
		}
	}
	return res
}

func TestWirePush(t *testing.T) {
	dir := t.TempDir()
	const page = "<!DOCTYPE html><link rel=stylesheet href=/style.css><p>page</p>\n"
	writeFile(t, filepath.Join(dir, "page.html"), page)
	writeFile(t, filepath.Join(dir, "style.css"), wireCSS)
	s := New(Config{})
	must(t, s.Push("/page", "/style.css", "", filepath.Join(dir, "style.css")))
	must(t, s.Serve("/page", "text/html; charset=utf-8", filepath.Join(dir, "page.html")))
	ts := startTargets(t, s)

	// A raw HTTP/2 client that accepts pushes, on both TLS listeners (HTTP/2 by ALPN).
	for _, tg := range []target{ts[3], ts[2]} {
		res := wireH2Get(t, tg.l, "/page", true)
		if st, body := res.page.headers[":status"], res.page.body.String(); st != "200" || body != page {
			t.Errorf("%s GET %s = %s %q, want %d %q", tg.name, "/page", st, body, 200, page)
		}
		if len(res.promised) != 1 {
			t.Fatalf("%s: %d PUSH_PROMISE frames, want 1: %v", tg.name, len(res.promised), res.promised)
		}
		if !res.promiseBeforePageBody {
			t.Errorf("%s: PUSH_PROMISE came after the page's body started", tg.name)
		}
		for id, req := range res.promised {
			if req[":path"] != "/style.css" || req[":method"] != "GET" || req[":scheme"] != "https" {
				t.Errorf("%s: promised request %v, want GET https /style.css", tg.name, req)
			}
			pushed := res.pushed[id]
			if st, body := pushed.headers[":status"], pushed.body.String(); st != "200" || body != wireCSS {
				t.Errorf("%s pushed %s = %s %q, want %d %q", tg.name, "/style.css", st, body, 200, wireCSS)
			}
			if ct := pushed.headers["content-type"]; ct != "text/css; charset=utf-8" {
				t.Errorf("%s pushed /style.css: content-type %q, want %q", tg.name, ct, "text/css; charset=utf-8")
			}
		}
	}

	// A raw client that disabled push gets the page and no promise.
	res := wireH2Get(t, ts[3].l, "/page", false)
	if st, body := res.page.headers[":status"], res.page.body.String(); st != "200" || body != page || len(res.promised) != 0 {
		t.Errorf("push disabled: GET %s = %s %q with %d promises, want %d %q with none", "/page", st, body, len(res.promised), 200, page)
	}

	// The Go client disables push: the page is 200 (upstream: 500), and the pushed path is
	// served when asked for.
	for _, tg := range ts {
		for _, tt := range []struct {
			method, path string
			body         string
		}{
			{"GET", "/page", page},
			{"GET", "/style.css", wireCSS},
			{"HEAD", "/style.css", ""},
		} {
			if resp, body := tg.do(t, tt.method, tt.path, nil, nil); resp.StatusCode != 200 || body != tt.body {
				t.Errorf("%s %s %s = %d %q, want %d %q", tg.name, tt.method, tt.path, resp.StatusCode, body, 200, tt.body)
			}
		}
	}
}

// --- Response: WriteError and Content-Type ---

func TestWireWriteError(t *testing.T) {
	dir := t.TempDir()
	_, pathErr := os.Open(filepath.Join(dir, "deep", "missing.txt"))
	if pathErr == nil {
		t.Fatal("opening a missing file succeeded")
	}
	s := New(Config{})
	route := func(path string, status int, err error) {
		must(t, s.RouteFunc("GET", path, func(_ string, _ *Request, res *Response) error {
			return res.WriteError(status, err)
		}))
	}
	route("/teapot", 418, errors.New("I'm a teapot, short and stout"))
	route("/path", 404, pathErr)
	route("/wrapped", 500, fmt.Errorf("loading page: %w", pathErr))
	route("/nil", 503, nil)
	route("/zero", 0, errors.New("zero means 500"))
	enoent := errors.Unwrap(pathErr).Error()
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/teapot", 418, "I'm a teapot, short and stout"},
		{"/path", 404, "open missing.txt: " + enoent},
		{"/wrapped", 500, "open missing.txt: " + enoent},
		{"/nil", 503, "Service Unavailable"},
		{"/zero", 500, "zero means 500"},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			resp, body := tg.get(t, tt.path)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s GET %s = %d %q, want %d %q", tg.name, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "text/plain; charset=utf-8" {
				t.Errorf("%s GET %s: Content-Type %q, want one text/plain; charset=utf-8", tg.name, tt.path, ct)
			}
			if strings.Contains(body, dir) {
				t.Errorf("%s GET %s = %q holds an absolute path", tg.name, tt.path, body)
			}
		}
	}
}

// TestWireOneContentType: header names given in any case reach the wire once, and the given
// Content-Type replaces the writer's default.
func TestWireOneContentType(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	writeFile(t, file, "file\n")
	s := New(Config{})
	tests := []struct {
		path, want string
		h          HandlerFunc
	}{
		{"/text", "text/x-custom", func(_ string, _ *Request, res *Response) error {
			return res.WriteText(0, "t", http.Header{"content-type": {"text/x-custom"}})
		}},
		{"/html", "text/x-html", func(_ string, _ *Request, res *Response) error {
			return res.WriteHTML(201, "h", http.Header{"CONTENT-TYPE": {"text/x-html"}})
		}},
		{"/json", "application/x-custom+json", func(_ string, _ *Request, res *Response) error {
			return res.WriteJSON(0, []int{1}, http.Header{"content-type": {"application/x-custom+json"}})
		}},
		{"/head", "text/x-head", func(_ string, _ *Request, res *Response) error {
			if err := res.WriteHead(200, http.Header{"content-type": {"text/x-head"}}); err != nil {
				return err
			}
			return res.End([]byte("h"))
		}},
		{"/map", "text/x-map", func(_ string, _ *Request, res *Response) error {
			res.Headers()["content-type"] = []string{"text/x-map"}
			return res.End([]byte("m"))
		}},
		{"/serve", "text/x-served", func(_ string, _ *Request, res *Response) error {
			return res.Serve(0, "", file, http.Header{"content-type": {"text/x-served"}})
		}},
	}
	for _, tt := range tests {
		must(t, s.RouteFunc("GET", tt.path, tt.h))
	}
	ts := startTargets(t, s)
	for _, tt := range tests {
		out := rawSend(t, ts[0].l, "GET", tt.path, "")
		if ct := rawHeaderValues(out, "Content-Type"); len(ct) != 1 || ct[0] != tt.want {
			t.Errorf("raw GET %s: Content-Type lines %q, want exactly [%q]", tt.path, ct, tt.want)
		}
	}
	for _, tg := range ts {
		for _, tt := range tests {
			resp, _ := tg.get(t, tt.path)
			if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != tt.want {
				t.Errorf("%s GET %s: Content-Type %q, want exactly [%q]", tg.name, tt.path, ct, tt.want)
			}
		}
	}
}

// TestWireContentLength: the whole-response writers frame every body with a
// Content-Length, never chunked, on every listener and protocol, whether the
// length comes from net/http (small bodies) or from the writer (larger ones),
// and a HEAD answer has the length of the GET body.
func TestWireContentLength(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("*", "/text/:n", func(_ string, req *Request, res *Response) error {
		n, _ := strconv.Atoi(req.Param("n"))
		return res.WriteText(0, strings.Repeat("x", n), http.Header{"Content-Length": {"1"}})
	}))
	ts := startTargets(t, s)
	for _, n := range []int{0, 13, autoLengthMax, autoLengthMax + 1, 100 << 10} {
		path := "/text/" + strconv.Itoa(n)
		for _, method := range []string{"GET", "HEAD"} {
			out := rawSend(t, ts[0].l, method, path, "")
			if cl := rawHeaderValues(out, "Content-Length"); len(cl) != 1 || cl[0] != strconv.Itoa(n) {
				t.Errorf("raw %s %s: Content-Length lines %q, want [%d]", method, path, cl, n)
			}
			if te := rawHeaderValues(out, "Transfer-Encoding"); len(te) != 0 {
				t.Errorf("raw %s %s: Transfer-Encoding %q, want none", method, path, te)
			}
		}
		for _, tg := range ts {
			resp, body := tg.get(t, path)
			if resp.ContentLength != int64(n) || len(body) != n || len(resp.TransferEncoding) != 0 {
				t.Errorf("%s GET %s: ContentLength %d, %d bytes, Transfer-Encoding %q; want %d, %d, none",
					tg.name, path, resp.ContentLength, len(body), resp.TransferEncoding, n, n)
			}
		}
	}
}

// --- Request ---

// wireReqInfo is what the echo route reports about its Request.
type wireReqInfo struct {
	Method, Path, URL, QueryString, ContentType, Charset, UserAgent, Origin, XTest, Body string
	Query                                                                                url.Values
}

func TestWireRequest(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("*", "/echo*", func(_ string, req *Request, res *Response) error {
		body, err := req.ReadText()
		if err != nil {
			return err
		}
		return res.WriteJSON(0, wireReqInfo{
			Method: req.Method(), Path: req.Path(), URL: req.URL().String(), QueryString: req.QueryString(),
			ContentType: req.ContentType(), Charset: req.Charset(), UserAgent: req.UserAgent(),
			Origin: req.Origin(), XTest: req.Headers().Get("x-test"), Body: body, Query: req.Query(),
		}, nil)
	}))
	tests := []struct {
		name, method, path, body string
		hdr                      http.Header
		want                     wireReqInfo // Origin is checked on its own
	}{
		{"no query", "GET", "/echo", "", http.Header{"User-Agent": {"httpskit-test/1.0"}}, wireReqInfo{
			Method: "GET", Path: "/echo", URL: "/echo", QueryString: "", Query: url.Values{},
			ContentType: "application/octet-stream", Charset: "utf-8", UserAgent: "httpskit-test/1.0"}},
		{"decoded path, repeated keys", "GET", "/echo/a%20b/%C3%A9?x=1&x=2&y=z%20w", "", nil, wireReqInfo{
			Method: "GET", Path: "/echo/a b/é", URL: "/echo/a%20b/%C3%A9?x=1&x=2&y=z%20w",
			QueryString: "x=1&x=2&y=z%20w", Query: url.Values{"x": {"1", "2"}, "y": {"z w"}},
			ContentType: "application/octet-stream", Charset: "utf-8"}},
		{"empty query", "GET", "/echo?", "", nil, wireReqInfo{
			Method: "GET", Path: "/echo", URL: "/echo?", QueryString: "", Query: url.Values{},
			ContentType: "application/octet-stream", Charset: "utf-8"}},
		{"charset kept", "POST", "/echo", "cafe", http.Header{"Content-Type": {"Text/Plain; charset=ISO-8859-1"}}, wireReqInfo{
			Method: "POST", Path: "/echo", URL: "/echo", Query: url.Values{},
			ContentType: "text/plain", Charset: "ISO-8859-1", Body: "cafe"}},
		{"params stripped, default charset", "PUT", "/echo", `{"a":1}`, http.Header{"Content-Type": {"application/json; v=2"}}, wireReqInfo{
			Method: "PUT", Path: "/echo", URL: "/echo", Query: url.Values{},
			ContentType: "application/json", Charset: "utf-8", Body: `{"a":1}`}},
		{"headers", "GET", "/echo", "", http.Header{"X-Test": {"hello"}, "User-Agent": {""}}, wireReqInfo{
			Method: "GET", Path: "/echo", URL: "/echo", Query: url.Values{},
			ContentType: "application/octet-stream", Charset: "utf-8", XTest: "hello"}},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp, raw := tg.do(t, tt.method, tt.path, body, tt.hdr)
			var got wireReqInfo
			if err := json.Unmarshal([]byte(raw), &got); resp.StatusCode != 200 || err != nil {
				t.Errorf("%s %s: %s %s = %d %q, want 200 and JSON", tg.name, tt.name, tt.method, tt.path, resp.StatusCode, raw)
				continue
			}
			host, port, err := net.SplitHostPort(got.Origin)
			if n, _ := strconv.Atoi(port); err != nil || host != "127.0.0.1" || n <= 0 {
				t.Errorf("%s %s: Origin() = %q, want 127.0.0.1:<port>", tg.name, tt.name, got.Origin)
			}
			got.Origin = ""
			if tt.hdr.Get("User-Agent") == "" && tt.hdr["User-Agent"] == nil {
				got.UserAgent = "" // the client's default
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s %s: %s %s saw\n%+v, want\n%+v", tg.name, tt.name, tt.method, tt.path, got, tt.want)
			}
		}
	}
}

func TestWireParams(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/users/:id/posts/:post", func(rest string, req *Request, res *Response) error {
		return res.WriteText(0, req.Param("id")+"|"+req.Param("post")+"|"+req.Param("nope")+"|"+rest, nil)
	}))
	must(t, s.RouteRegexp("GET", regexp.MustCompile(`^/re/(?P<year>\d{4})/(\d+)`), HandlerFunc(func(rest string, req *Request, res *Response) error {
		return res.WriteText(0, req.Param("year")+"|"+req.Param("1")+"|"+req.Param("2")+"|"+rest, nil)
	})))
	must(t, s.RouteFunc("GET", "/a/:id|/b/:id", func(_ string, req *Request, res *Response) error {
		return res.WriteText(0, "or "+req.Param("id"), nil)
	}))
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/users/42/posts/a%20b", 200, "42|a b||"},
		{"/users/42/posts", 404, "Not found GET /users/42/posts."},
		{"/re/2024/7", 200, "2024|2024|7|"},
		{"/re/2024/7/rest", 200, "2024|2024|7|/rest"},
		{"/b/9", 200, "or 9"},
		{"/a/x%20y", 200, "or x y"},
		{"/a/x%2Fy", 404, "Not found GET /a/x%2Fy."}, // matching runs on the decoded path: two segments
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			if resp, body := tg.get(t, tt.path); resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s GET %s = %d %q, want %d %q", tg.name, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
		}
	}
}

func TestWireReadBody(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("POST", "/json", func(_ string, req *Request, res *Response) error {
		var v any
		if err := req.ReadJSON(&v); err != nil {
			return err
		}
		return res.WriteText(0, fmt.Sprintf("%T %v", v, v), nil)
	}))
	must(t, s.RouteFunc("POST", "/bool", func(_ string, req *Request, res *Response) error {
		v := true
		if err := req.ReadJSON(&v); err != nil {
			return err
		}
		return res.WriteText(0, strconv.FormatBool(v), nil)
	}))
	must(t, s.RouteFunc("POST", "/bytes", func(_ string, req *Request, res *Response) error {
		b, err := req.Read()
		if err != nil {
			return err
		}
		again, err := req.Read()
		if err != nil || !bytes.Equal(b, again) {
			return fmt.Errorf("second Read = %q, %v; want the same bytes", again, err)
		}
		return res.End(b)
	}))
	must(t, s.RouteFunc("POST", "/text", func(_ string, req *Request, res *Response) error {
		text, err := req.ReadText()
		if err != nil {
			return err
		}
		return res.WriteText(0, text, nil)
	}))
	tests := []struct {
		name, path, body string
		status           int
		want             string // for 400: the start of the body
	}{
		{"JSON false", "/json", "false", 200, "bool false"},
		{"JSON 0", "/json", "0", 200, "float64 0"},
		{"JSON null", "/json", "null", 200, "<nil> <nil>"},
		{"JSON empty string", "/json", `""`, 200, "string "},
		{"JSON object", "/json", `{"a":[1,true]}`, 200, "map[string]interface {} map[a:[1 true]]"},
		{"JSON false into a true bool", "/bool", "false", 200, "false"},
		{"invalid JSON", "/json", "{", 400, "Bad request POST /json."},
		{"empty JSON body", "/json", "", 400, "Bad request POST /json."},
		{"binary bytes, read twice", "/bytes", "\x00\xff\x01binary\r\n", 200, "\x00\xff\x01binary\r\n"},
		{"text", "/text", upPostBody, 200, upPostBody},
		{"empty text", "/text", "", 200, ""},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			resp, body := tg.do(t, "POST", tt.path, strings.NewReader(tt.body), nil)
			if resp.StatusCode != tt.status || body != tt.want {
				t.Errorf("%s %s: POST %s = %d %q, want %d %q", tg.name, tt.name, tt.path, resp.StatusCode, body, tt.status, tt.want)
			}
		}
	}
}

// TestWireBodyLimit: MaxBodyBytes bounds bodies with and without a declared length.
func TestWireBodyLimit(t *testing.T) {
	const limit = 1024
	s := New(Config{})
	must(t, s.RouteFunc("POST", "/read", func(_ string, req *Request, res *Response) error {
		b, err := req.Read()
		if err != nil {
			return err
		}
		return res.WriteText(0, strconv.Itoa(len(b)), nil)
	}))
	must(t, s.RouteFunc("POST", "/json", func(_ string, req *Request, res *Response) error {
		var v any
		if err := req.ReadJSON(&v); err != nil {
			return err
		}
		return res.WriteText(0, "json", nil)
	}))
	must(t, s.RouteFunc("POST", "/original", func(_ string, req *Request, res *Response) error {
		b, err := io.ReadAll(req.Original().Body)
		if err != nil {
			return err
		}
		return res.WriteText(0, strconv.Itoa(len(b)), nil)
	}))
	tests := []struct {
		name, path string
		size       int
		chunked    bool // unknown length: a reader that is not a *bytes.Reader or *strings.Reader
		status     int
		body       string
	}{
		{"2 KiB with Content-Length", "/read", 2048, false, 413, ""},
		{"2 KiB chunked", "/read", 2048, true, 413, ""},
		{"limit+1 chunked", "/read", limit + 1, true, 413, ""},
		{"limit+1 with Content-Length", "/read", limit + 1, false, 413, ""},
		{"limit with Content-Length", "/read", limit, false, 200, "1024"},
		{"limit chunked", "/read", limit, true, 200, "1024"},
		{"small chunked", "/read", 10, true, 200, "10"},
		{"2 KiB chunked through ReadJSON", "/json", 2048, true, 413, ""},
		{"2 KiB chunked through Original().Body", "/original", 2048, true, 413, ""},
	}
	for _, tg := range startTargetsWith(t, s, HTTPConfig{MaxBodyBytes: limit}) {
		for _, tt := range tests {
			data := bytes.Repeat([]byte("a"), tt.size)
			var body io.Reader = bytes.NewReader(data)
			if tt.chunked {
				body = io.MultiReader(bytes.NewReader(data))
			}
			resp, got := tg.do(t, "POST", tt.path, body, nil)
			if resp.StatusCode != tt.status || (tt.status == 200 && got != tt.body) {
				t.Errorf("%s %s: POST %s = %d %q, want %d %q", tg.name, tt.name, tt.path, resp.StatusCode, got, tt.status, tt.body)
			}
		}
	}
}

// --- lifecycle ---

// wirePing routes GET /ping to "pong".
func wirePing(t *testing.T, s *Server) {
	t.Helper()
	must(t, s.RouteFunc("GET", "/ping", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "pong", nil)
	}))
}

func wireWantPong(t *testing.T, tg target, when string) {
	t.Helper()
	if resp, body := tg.get(t, "/ping"); resp.StatusCode != 200 || body != "pong" {
		t.Errorf("%s %s: GET %s = %d %q, want %d %q", when, tg.name, "/ping", resp.StatusCode, body, 200, "pong")
	}
}

// TestWireStartBindsAllOrNone: a busy port makes Start fail with the address, leave nothing
// bound, and not hang; once the port is free, Start works.
func TestWireStartBindsAllOrNone(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := pickFreePort(t)
	p := getPKI(t)
	s := New(Config{})
	wirePing(t, s)
	l1, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: free})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: busyPort}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}

	start := func() error {
		done := make(chan error, 1)
		go func() { done <- s.Start(context.Background()) }()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("Start hung")
			return nil
		}
	}
	err = start()
	busyAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(busyPort))
	if err == nil || !strings.Contains(err.Error(), busyAddr) {
		t.Fatalf("Start with %s busy = %v, want an error naming %s", busyAddr, err, busyAddr)
	}
	if s.Running() || l1.Running() || l2.Running() {
		t.Errorf("after a failed Start: Running = %v, %v, %v; want all false", s.Running(), l1.Running(), l2.Running())
	}
	if portInUse(t, free) {
		t.Errorf("after a failed Start, port %d of the first listener is still bound", free)
	}

	busy.Close()
	if err := start(); err != nil {
		t.Fatalf("Start after freeing the port: %v", err)
	}
	defer stopServer(t, s)
	if !s.Running() || !l1.Running() || !l2.Running() || l1.Port() != free || l2.Port() != busyPort {
		t.Errorf("after Start: Running = %v, %v, %v, ports %d, %d; want true, true, true, %d, %d",
			s.Running(), l1.Running(), l2.Running(), l1.Port(), l2.Port(), free, busyPort)
	}
	plain := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	h1 := clientFor(p.pool, false)
	h1.Transport.(*http.Transport).DisableKeepAlives = true
	wireWantPong(t, target{"http1.1", wireBase(l1), plain, 1, l1}, "after freeing the port")
	wireWantPong(t, target{"https-http1.1", wireBase(l2), h1, 1, l2}, "after freeing the port")
}

// TestWireRestart: Stop then Start serves again, on every listener.
func TestWireRestart(t *testing.T) {
	s := New(Config{})
	wirePing(t, s)
	ts := startTargets(t, s)
	for _, tg := range ts {
		wireWantPong(t, tg, "first start")
	}
	oldBase := ts[0].base
	for _, tg := range ts {
		tg.client.CloseIdleConnections()
	}
	stopServer(t, s)
	if s.Running() {
		t.Error("Running() = true after Stop")
	}
	for _, tg := range ts {
		if tg.l.Running() {
			t.Errorf("%s: listener Running() = true after Stop", tg.name)
		}
	}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	if resp, err := fresh.Get(oldBase + "/ping"); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s/ping after Stop = %d, want a connection error", oldBase, resp.StatusCode)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if !s.Running() {
		t.Error("Running() = false after the second Start")
	}
	for _, tg := range ts {
		if !tg.l.Running() {
			t.Errorf("%s: listener Running() = false after the second Start", tg.name)
		}
		tg.base = wireBase(tg.l) // RandomPort: a new port
		wireWantPong(t, tg, "after restart")
	}
}

// TestWireRemoveServer: removing a running listener closes its port; the others keep serving.
func TestWireRemoveServer(t *testing.T) {
	s := New(Config{})
	wirePing(t, s)
	ts := startTargets(t, s)
	for _, tg := range ts {
		wireWantPong(t, tg, "before RemoveServer")
	}
	for _, gone := range []target{ts[0], ts[3]} {
		port := gone.l.Port()
		gone.client.CloseIdleConnections()
		if err := s.RemoveServer(gone.l); err != nil {
			t.Fatalf("RemoveServer(%s): %v", gone.name, err)
		}
		if gone.l.Running() || slices.Contains(s.Servers(), gone.l) {
			t.Errorf("after RemoveServer(%s): Running = %v, still listed = %v", gone.name, gone.l.Running(), slices.Contains(s.Servers(), gone.l))
		}
		if portInUse(t, port) {
			t.Errorf("after RemoveServer(%s): port %d still bound", gone.name, port)
		}
		if err := s.RemoveServer(gone.l); !errors.Is(err, ErrNotListener) {
			t.Errorf("second RemoveServer(%s) = %v, want ErrNotListener", gone.name, err)
		}
	}
	if n := len(s.Servers()); n != 1 {
		t.Errorf("%d listeners left, want 1", n)
	}
	for _, tg := range ts[1:3] {
		wireWantPong(t, tg, "after RemoveServer")
	}
}

// TestWireAddWhileRunning: a listener added to a running server serves at once.
func TestWireAddWhileRunning(t *testing.T) {
	s := New(Config{})
	wirePing(t, s)
	ts := startTargets(t, s)
	p := getPKI(t)
	hl, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	h2l, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	added := []target{
		{"added http1.1", wireBase(hl), ts[0].client, 1, hl},
		{"added http2listener-http2", wireBase(h2l), ts[3].client, 2, h2l},
	}
	for _, tg := range added {
		if !tg.l.Running() || tg.l.Port() <= 0 {
			t.Errorf("%s: Running = %v, Port = %d right after adding, want true and a port", tg.name, tg.l.Running(), tg.l.Port())
		}
		wireWantPong(t, tg, "added while running")
		tg.client.CloseIdleConnections()
	}

	// A listener that cannot bind while the server runs is an error, and is not added.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyAddr := busy.Addr().String()
	bl, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: busy.Addr().(*net.TCPAddr).Port})
	if err == nil || !strings.Contains(err.Error(), busyAddr) {
		t.Errorf("AddHTTPServer on busy %s while running = %v, want an error naming it", busyAddr, err)
	}
	if bl != nil {
		t.Errorf("AddHTTPServer on busy %s while running returned a listener (%s) with its error, want nil", busyAddr, bl.Addr())
	}
	if n := len(s.Servers()); n != 5 {
		t.Errorf("%d listeners after a failed AddHTTPServer, want 5", n)
	}

	stopServer(t, s)
	for _, tg := range added {
		if tg.l.Running() {
			t.Errorf("%s: Running() = true after Stop", tg.name)
		}
	}
}

// TestWireStopWaitsForInFlight: Stop lets a request in flight finish, on every target.
func TestWireStopWaitsForInFlight(t *testing.T) {
	for i, name := range []string{"http1.1", "https-http1.1", "https-http2", "http2listener-http2"} {
		t.Run(name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			s := New(Config{})
			must(t, s.RouteFunc("GET", "/slow", func(_ string, _ *Request, res *Response) error {
				close(entered)
				<-release
				return res.WriteText(0, "done", nil)
			}))
			tg := startTargets(t, s)[i]
			got := getAsync(tg.client, tg.base+"/slow")
			select {
			case <-entered:
			case r := <-got:
				t.Fatalf("GET /slow ended before the handler ran: %+v", r)
			}
			stopped := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				stopped <- s.Stop(ctx)
			}()
			waitUntil(t, "the listener stops accepting", func() bool { return !tg.l.Running() })
			select {
			case err := <-stopped:
				t.Errorf("Stop returned %v while a handler was in flight", err)
			default:
			}
			close(release)
			if r := <-got; r.err != nil || r.status != 200 || r.body != "done" {
				t.Errorf("%s GET /slow during Stop = %d %q, %v; want %d %q", tg.name, r.status, r.body, r.err, 200, "done")
			}
			if err := <-stopped; err != nil {
				t.Errorf("Stop = %v, want nil", err)
			}
			if s.Running() {
				t.Error("Running() = true after Stop")
			}
		})
	}
}

// TestWireHandlerDuringStop: a handler that Stop waits for may still ask the server about
// itself (a health or status page): Running and Servers must not wait for Stop.
func TestWireHandlerDuringStop(t *testing.T) {
	for i, name := range []string{"http1.1", "https-http1.1", "https-http2", "http2listener-http2"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			entered, release := make(chan struct{}), make(chan struct{})
			s := New(Config{})
			must(t, s.RouteFunc("GET", "/status", func(_ string, _ *Request, res *Response) error {
				close(entered)
				<-release
				return res.WriteText(0, fmt.Sprintf("running=%v listeners=%d", s.Running(), len(s.Servers())), nil)
			}))
			tg := startTargets(t, s)[i]
			got := getAsync(tg.client, tg.base+"/status")
			<-entered
			stopped := make(chan error, 1)
			go func() {
				// A deadlock between Stop and the handler shows as this deadline.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				stopped <- s.Stop(ctx)
			}()
			waitUntil(t, "the listener stops accepting", func() bool { return !tg.l.Running() })
			close(release)
			if r := <-got; r.err != nil || r.status != 200 || r.body != "running=false listeners=3" {
				t.Errorf("%s GET /status during Stop = %d %q, %v; want %d %q", tg.name, r.status, r.body, r.err, 200, "running=false listeners=3")
			}
			if err := <-stopped; err != nil {
				t.Errorf("Stop = %v, want nil", err)
			}
		})
	}
}

// TestWireStopContextEnds: when Stop's context ends before a request finishes, Stop returns
// the context's error and cuts the connection; the server is stopped.
func TestWireStopContextEnds(t *testing.T) {
	for i, name := range []string{"http1.1", "https-http1.1", "https-http2", "http2listener-http2"} {
		t.Run(name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			defer close(release)
			s := New(Config{})
			must(t, s.RouteFunc("GET", "/stuck", func(_ string, _ *Request, res *Response) error {
				close(entered)
				<-release
				return res.WriteText(0, "too late", nil)
			}))
			tg := startTargets(t, s)[i]
			got := make(chan error, 1)
			go func() {
				resp, err := tg.client.Get(tg.base + "/stuck")
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil {
						err = fmt.Errorf("got a whole response: %d", resp.StatusCode)
					}
				}
				got <- err
			}()
			<-entered
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Stop(cancelled ctx) with a request in flight = %v, want context.Canceled", err)
			}
			if s.Running() || tg.l.Running() {
				t.Errorf("after Stop: Running = %v, listener Running = %v; want false, false", s.Running(), tg.l.Running())
			}
			if err := <-got; err == nil {
				t.Errorf("%s GET /stuck: no error after Stop cut the connection", tg.name)
			}
		})
	}
}

// --- certificates and TLS ---

func TestWireCertificateSources(t *testing.T) {
	p := getPKI(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(p.certPEM))
	writeFile(t, keyFile, string(p.keyPEM))
	base := HTTPConfig{Host: "127.0.0.1", Port: RandomPort}
	sources := []struct {
		name string
		cfg  HTTPSConfig
	}{
		{"PEM text", HTTPSConfig{HTTPConfig: base, Cert: string(p.certPEM), Key: string(p.keyPEM)}},
		{"PEM text after white space", HTTPSConfig{HTTPConfig: base, Cert: "\n  " + string(p.certPEM), Key: "\n" + string(p.keyPEM)}},
		{"PEM bytes", HTTPSConfig{HTTPConfig: base, CertPEM: p.certPEM, KeyPEM: p.keyPEM}},
		{"file names", HTTPSConfig{HTTPConfig: base, Cert: certFile, Key: keyFile}},
	}
	s := New(Config{})
	wirePing(t, s)
	var (
		ls    []*Listener
		names []string
	)
	for _, src := range sources {
		for _, add := range []func(HTTPSConfig) (*Listener, error){s.AddHTTPSServer, s.AddHTTP2Server} {
			l, err := add(src.cfg)
			if err != nil {
				t.Errorf("%s: %v", src.name, err)
				continue
			}
			ls = append(ls, l)
			names = append(names, src.name)
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h1, h2 := clientFor(p.pool, false), clientFor(p.pool, true)
	defer func() {
		h1.CloseIdleConnections()
		h2.CloseIdleConnections()
		stopServer(t, s)
	}()
	for i, l := range ls {
		for _, c := range []struct {
			name   string
			client *http.Client
			proto  int
		}{{"http1.1", h1, 1}, {"http2", h2, 2}} {
			wireWantPong(t, target{fmt.Sprintf("%s %s %s", names[i], l.Kind(), c.name), wireBase(l), c.client, c.proto, l}, "certificate source")
		}
	}
}

func TestWireCertificateErrors(t *testing.T) {
	p := getPKI(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	junk := filepath.Join(dir, "junk.pem")
	writeFile(t, certFile, string(p.certPEM))
	writeFile(t, keyFile, string(p.keyPEM))
	writeFile(t, junk, "this is not PEM\n")
	_, otherKey, err := p.ca.Issue(certs.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expCert, expKey, err := p.ca.Issue(certs.LeafOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	base := HTTPConfig{Host: "127.0.0.1", Port: RandomPort}
	good := func(c HTTPSConfig) HTTPSConfig {
		c.HTTPConfig, c.CertPEM, c.KeyPEM = base, p.certPEM, p.keyPEM
		return c
	}
	tests := []struct {
		name string
		cfg  HTTPSConfig
		is   error  // when not nil, errors.Is must hold
		want string // part of the error text
	}{
		{"missing cert file", HTTPSConfig{Cert: filepath.Join(dir, "missing-cert.pem"), Key: keyFile}, certs.ErrNotFound, "missing-cert.pem"},
		{"missing key file", HTTPSConfig{Cert: certFile, Key: filepath.Join(dir, "missing-key.pem")}, certs.ErrNotFound, "missing-key.pem"},
		{"cert file without a PEM block", HTTPSConfig{Cert: junk, Key: keyFile}, certs.ErrNoPEM, "junk.pem"},
		{"key file without a PEM block", HTTPSConfig{Cert: certFile, Key: junk}, certs.ErrNoPEM, "junk.pem"},
		{"CertPEM without a PEM block", HTTPSConfig{CertPEM: []byte("junk"), KeyPEM: p.keyPEM}, certs.ErrNoPEM, "certificate"},
		{"key that does not match", HTTPSConfig{Cert: string(p.certPEM), Key: string(otherKey)}, certs.ErrKeyMismatch, "key"},
		{"key bytes that do not match", HTTPSConfig{CertPEM: p.certPEM, KeyPEM: otherKey}, certs.ErrKeyMismatch, "key"},
		{"expired certificate", HTTPSConfig{CertPEM: expCert, KeyPEM: expKey}, certs.ErrExpired, "expired"},
		{"cert and key swapped", HTTPSConfig{Cert: keyFile, Key: certFile}, certs.ErrBlockType, "cert"},
		{"Cert without Key", HTTPSConfig{Cert: string(p.certPEM)}, nil, "Key"},
		{"Key without Cert", HTTPSConfig{Key: string(p.keyPEM)}, nil, "Cert"},
		{"CertPEM without KeyPEM", HTTPSConfig{CertPEM: p.certPEM}, nil, "KeyPEM"},
		{"no certificate", HTTPSConfig{}, nil, "certificate"},
		{"MinVersion TLS 1.0", good(HTTPSConfig{MinVersion: tls.VersionTLS10}), nil, "TLS 1.0"},
		{"TLSConfig MinVersion TLS 1.1", good(HTTPSConfig{TLSConfig: &tls.Config{MinVersion: tls.VersionTLS11}}), nil, "TLS 1.1"},
		{"MaxVersion below MinVersion", good(HTTPSConfig{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS12}), nil, "TLS 1.2"},
		{"CA with ClientAuth zero", good(HTTPSConfig{CA: string(p.clientCA.CertPEM)}), nil, "ClientAuth"},
		{"CA file without a PEM block", good(HTTPSConfig{CA: junk, ClientAuth: tls.RequireAndVerifyClientCert}), certs.ErrNoPEM, "junk.pem"},
		{"missing CA file", good(HTTPSConfig{CA: filepath.Join(dir, "missing-ca.pem"), ClientAuth: tls.RequireAndVerifyClientCert}), certs.ErrNotFound, "missing-ca.pem"},
	}
	for _, tt := range tests {
		if tt.cfg.HTTPConfig == (HTTPConfig{}) {
			tt.cfg.HTTPConfig = base
		}
		s := New(Config{})
		for _, add := range []struct {
			name string
			f    func(HTTPSConfig) (*Listener, error)
		}{{"AddHTTPSServer", s.AddHTTPSServer}, {"AddHTTP2Server", s.AddHTTP2Server}} {
			l, err := add.f(tt.cfg)
			switch {
			case err == nil || l != nil:
				t.Errorf("%s(%s) = %v, %v; want an error", add.name, tt.name, l, err)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("%s(%s) = %q, want an error matching %q", add.name, tt.name, err, tt.is)
			case !strings.HasPrefix(err.Error(), "server: ") || !strings.Contains(err.Error(), tt.want):
				t.Errorf("%s(%s) = %q, want the prefix %q and %q", add.name, tt.name, err, "server: ", tt.want)
			}
		}
		if n := len(s.Servers()); n != 0 {
			t.Errorf("%s: %d listeners added despite the error", tt.name, n)
		}
	}
}

// TestWireTLSVersions: a TLS 1.1 client fails the handshake; TLS 1.2 works.
func TestWireTLSVersions(t *testing.T) {
	s := New(Config{})
	ts := startTargets(t, s)
	for _, tg := range []target{ts[1], ts[3]} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tg.l.Port()))
		for _, tt := range []struct {
			name    string
			max     uint16
			wantErr bool
		}{{"TLS 1.1", tls.VersionTLS11, true}, {"TLS 1.2", tls.VersionTLS12, false}} {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost",
				MinVersion: tls.VersionTLS10, MaxVersion: tt.max})
			if err == nil {
				conn.Close()
			}
			switch {
			case tt.wantErr && err == nil:
				t.Errorf("%s %s client: handshake succeeded, want it to fail", tg.l.Kind(), tt.name)
			case tt.wantErr && !strings.Contains(err.Error(), "protocol version"):
				t.Errorf("%s %s client: %v, want the server to refuse the version", tg.l.Kind(), tt.name, err)
			case !tt.wantErr && err != nil:
				t.Errorf("%s %s client: %v, want a handshake", tg.l.Kind(), tt.name, err)
			}
		}
	}
}

// wireTLSClient is clientFor with an optional client certificate.
func wireTLSClient(t *testing.T, h2 bool, cert *tls.Certificate) *http.Client {
	c := clientFor(getPKI(t).pool, h2)
	tr := c.Transport.(*http.Transport)
	if cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestWireMutualTLS(t *testing.T) {
	p := getPKI(t)
	clientCert, err := tls.X509KeyPair(p.clientCertPEM, p.clientKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	wrongPEM, wrongKey, err := p.ca.Issue(certs.LeafOptions{Client: true, CommonName: "wrong CA"})
	if err != nil {
		t.Fatal(err)
	}
	wrongCert, err := tls.X509KeyPair(wrongPEM, wrongKey)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/who", func(_ string, req *Request, res *Response) error {
		return res.WriteText(0, req.Original().TLS.PeerCertificates[0].Subject.CommonName, nil)
	}))
	cfg := HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}, CertPEM: p.certPEM, KeyPEM: p.keyPEM,
		CA: string(p.clientCA.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert}
	sl, err := s.AddHTTPSServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h2l, err := s.AddHTTP2Server(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopServer(t, s) })
	for _, l := range []*Listener{sl, h2l} {
		for _, h2 := range []bool{false, true} {
			name := fmt.Sprintf("%s h2=%v", l.Kind(), h2)
			ok := wireTLSClient(t, h2, &clientCert)
			proto := 1
			if h2 {
				proto = 2
			}
			tg := target{name + " with client certificate", wireBase(l), ok, proto, l}
			if resp, body := tg.get(t, "/who"); resp.StatusCode != 200 || body != "client one" {
				t.Errorf("%s GET %s = %d %q, want %d %q", tg.name, "/who", resp.StatusCode, body, 200, "client one")
			}
			for what, c := range map[string]*http.Client{
				"without a client certificate":     wireTLSClient(t, h2, nil),
				"with a certificate of another CA": wireTLSClient(t, h2, &wrongCert),
			} {
				if resp, err := c.Get(wireBase(l) + "/who"); err == nil {
					resp.Body.Close()
					t.Errorf("%s %s: GET /who = %d, want a TLS error", name, what, resp.StatusCode)
				}
			}
		}
	}
}

// --- defaults ---

func TestWireDefaults(t *testing.T) {
	p := getPKI(t)
	s := New(Config{})
	hl, err := s.AddHTTPServer(HTTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sl, err := s.AddHTTPSServer(HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	h2l, err := s.AddHTTP2Server(HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		l    *Listener
		kind string
		url  string
	}{{hl, "HTTP", "http://localhost:0"}, {sl, "HTTPS", "https://localhost:0"}, {h2l, "HTTP/2", "https://localhost:0"}} {
		l := tt.l
		// A zero Port is any free port, reported as 0 until Start binds one.
		if l.Kind() != tt.kind || l.Host() != "localhost" || l.Port() != 0 || l.Running() || l.URL() != tt.url {
			t.Errorf("%s defaults: Kind %q Host %q Port %d Running %v URL %q; want %q localhost 0 false %q",
				tt.kind, l.Kind(), l.Host(), l.Port(), l.Running(), l.URL(), tt.kind, tt.url)
		}
		o := l.Original()
		got := []any{o.ReadHeaderTimeout, o.ReadTimeout, o.WriteTimeout, o.IdleTimeout, o.MaxHeaderBytes}
		want := []any{10 * time.Second, 2 * time.Minute, 10 * time.Minute, 2 * time.Minute, 64 << 10}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s Original() ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, MaxHeaderBytes = %v, want %v", tt.kind, got, want)
		}
		if tc := l.TLSConfig(); tt.kind != "HTTP" && (tc == nil || tc.MinVersion != tls.VersionTLS12 ||
			!slices.Contains(tc.NextProtos, "h2") || !slices.Contains(tc.NextProtos, "http/1.1")) {
			t.Errorf("%s TLSConfig() = %+v, want MinVersion TLS 1.2 and ALPN h2, http/1.1", tt.kind, tc)
		}
	}
	if tc := hl.TLSConfig(); tc != nil {
		t.Errorf("HTTP listener TLSConfig() = %+v, want nil", tc)
	}

	// A negative port is any free port too, reported as 0 before Start; negative limits mean none.
	l, err := s.AddHTTPServer(HTTPConfig{Port: -1, ReadTimeout: -1, WriteTimeout: -1, ReadHeaderTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if o := l.Original(); l.Port() != 0 || o.ReadTimeout != 0 || o.WriteTimeout != 0 || o.ReadHeaderTimeout != 3*time.Second {
		t.Errorf("Port -1 listener: Port %d, ReadTimeout %v, WriteTimeout %v, ReadHeaderTimeout %v; want 0, 0, 0, 3s",
			l.Port(), o.ReadTimeout, o.WriteTimeout, o.ReadHeaderTimeout)
	}
	// DefaultPort is written out to get 7080.
	if l, err := s.AddHTTPServer(HTTPConfig{Port: DefaultPort}); err != nil {
		t.Errorf("AddHTTPServer(Port DefaultPort): %v", err)
	} else if l.Port() != 7080 || l.URL() != "http://localhost:7080" {
		t.Errorf("AddHTTPServer(Port DefaultPort): Port %d URL %q; want 7080 http://localhost:7080", l.Port(), l.URL())
	}
	for _, port := range []int{65536, 1 << 20} {
		if l, err := s.AddHTTPServer(HTTPConfig{Port: port}); err == nil || l != nil {
			t.Errorf("AddHTTPServer(Port %d) = %v, %v; want an error", port, l, err)
		}
	}
}

// TestWireHeaderTooLarge: a 100 KiB header is refused with 431 on HTTP/1.1 (the default limit
// is 64 KiB). Over HTTP/2 the limit is advertised in SETTINGS and the Go client refuses to
// send such a request itself.
func TestWireHeaderTooLarge(t *testing.T) {
	s := New(Config{})
	wirePing(t, s)
	ts := startTargets(t, s)
	big := strings.Repeat("a", 100<<10)
	for _, tg := range ts[:2] {
		out := rawSend(t, tg.l, "GET", "/ping", "X-Big: "+big+"\r\n")
		if code := rawStatus(out); code != 431 {
			t.Errorf("%s raw GET /ping with a 100 KiB header = %q, want 431", tg.name, firstLine(out))
		}
		resp, _ := tg.do(t, "GET", "/ping", nil, http.Header{"X-Big": {big}})
		if resp.StatusCode != 431 {
			t.Errorf("%s GET /ping with a 100 KiB header = %d, want 431", tg.name, resp.StatusCode)
		}
		// A header below the limit is fine.
		if resp, body := tg.do(t, "GET", "/ping", nil, http.Header{"X-Big": {big[:32<<10]}}); resp.StatusCode != 200 || body != "pong" {
			t.Errorf("%s GET /ping with a 32 KiB header = %d %q, want 200 %q", tg.name, resp.StatusCode, body, "pong")
		}
	}
}
