package server

// Ports of upstream's mocha tests (awesome-server test/, described in
// /work/shared/reference/awesome-server.md §6): AwesomeServerTest (§6.2), the
// HTTP/HTTPS/HTTP2ServerTest files (§6.3) and RoutingTest (§6.5). Where our documented design
// differs from upstream, the test asserts our behaviour and says which upstream row it ports.
//
// Upstream routes controllers by file or directory name (route(m, p, "./controllers/one.js"),
// route(m, p, "./controllers")), which require()s JavaScript at registration. Go has no
// run-time loading of code, so those rows are ported with Controller(v) instances.

import (
	"context"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// AwesomeServerTest "static" checks that the class references AwesomeServer exports are the
// classes of their modules. Go has no class references; the equivalent promise is that the
// types implement the interfaces, which the compiler checks here.
var (
	_ Handler      = HandlerFunc(nil)
	_ Handler      = Controller(&upController{})
	_ http.Handler = (*Server)(nil)
)

// upController stands for upstream's fixture controllers test/controllers/{one,two,three,
// three/one}.js, whose get answers "Controller <N> says Hello!".
type upController struct{ n string }

func (c *upController) Get(_ string, _ *Request, res *Response) error {
	return res.WriteText(0, "Controller "+c.n+" says Hello!", nil)
}

// upFixtures writes upstream's test/files fixtures (index.html, hello.css) and returns the
// directory holding them.
func upFixtures(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "index.html"), "<!DOCTYPE html><title>index</title><p>Hello</p>\n")
	writeFile(t, filepath.Join(dir, "hello.css"), "body { color: rebeccapurple; }\n")
	return dir
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pickFreePort returns a port on 127.0.0.1 that was free a moment ago.
func pickFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// portInUse reports whether something listens on 127.0.0.1:port, by trying to bind it.
func portInUse(t *testing.T, port int) bool {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return true
	}
	ln.Close()
	return false
}

func stopServer(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// --- AwesomeServerTest.js (§6.2) ---

// TestUpstreamConstructor ports "constructor": a new server has no servers, no routes, is not
// running, and has the methods of upstream's class (a compile-time check in Go).
func TestUpstreamConstructor(t *testing.T) {
	s := New(Config{})
	if got := s.Servers(); len(got) != 0 {
		t.Errorf("New().Servers() = %v, want none", got)
	}
	if got := s.Routes(); len(got) != 0 {
		t.Errorf("New().Routes() = %q, want none", got)
	}
	if s.Running() {
		t.Error("New().Running() = true, want false")
	}
	// start, stop, addServer (AddHTTP*Server), removeServer, handler (ServeHTTP), route,
	// unroute, redirect, serve, push.
	_ = []any{s.Start, s.Stop, s.AddHTTPServer, s.AddHTTPSServer, s.AddHTTP2Server,
		s.RemoveServer, s.ServeHTTP, s.Route, s.Unroute, s.Redirect, s.Serve, s.Push}
}

// TestUpstreamHandler ports "handler": upstream calls the dispatcher with a fake GET for
// /index.html and no routes, and only checks that nothing throws. Ours answers the 404.
func TestUpstreamHandler(t *testing.T) {
	s := New(Config{})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/index.html", nil))
	if got, want := rec.Body.String(), "Not found GET /index.html."; rec.Code != 404 || got != want {
		t.Errorf("GET /index.html = %d %q, want %d %q", rec.Code, got, 404, want)
	}
}

// TestUpstreamStartStopNoServers ports "start/stop": with no servers, Start makes Running true
// and Stop makes it false.
func TestUpstreamStartStopNoServers(t *testing.T) {
	s := New(Config{})
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start with no servers: %v", err)
	}
	if !s.Running() {
		t.Error("Running() = false after Start, want true")
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if s.Running() {
		t.Error("Running() = true after Stop, want false")
	}
}

// upAdd adds a listener of the given kind with a valid certificate for the TLS kinds.
func upAdd(t *testing.T, s *Server, kind string, cfg HTTPConfig) (*Listener, error) {
	t.Helper()
	p := getPKI(t)
	tc := HTTPSConfig{HTTPConfig: cfg, CertPEM: p.certPEM, KeyPEM: p.keyPEM}
	switch kind {
	case KindHTTP:
		return s.AddHTTPServer(cfg)
	case KindHTTPS:
		return s.AddHTTPSServer(tc)
	case KindHTTP2:
		return s.AddHTTP2Server(tc)
	}
	t.Fatalf("unknown kind %q", kind)
	return nil, nil
}

var upKinds = []string{KindHTTP, KindHTTPS, KindHTTP2}

// TestUpstreamAddServer ports "addHTTPServer", "addHTTPSServer" and "addHTTP2Server": adding
// one server (127.0.0.1, port 1234, not started) takes the count from 0 to 1.
func TestUpstreamAddServer(t *testing.T) {
	for _, kind := range upKinds {
		t.Run(kind, func(t *testing.T) {
			s := New(Config{})
			if n := len(s.Servers()); n != 0 {
				t.Fatalf("len(Servers()) = %d before adding, want 0", n)
			}
			l, err := upAdd(t, s, kind, HTTPConfig{Host: "127.0.0.1", Port: 1234})
			if err != nil {
				t.Fatalf("Add %s server: %v", kind, err)
			}
			if got := s.Servers(); len(got) != 1 || got[0] != l {
				t.Errorf("Servers() = %v, want [the new listener]", got)
			}
			if l.Kind() != kind || l.Host() != "127.0.0.1" || l.Port() != 1234 || l.Running() {
				t.Errorf("listener = %s %s:%d running=%v, want %s 127.0.0.1:1234 running=false",
					l.Kind(), l.Host(), l.Port(), l.Running(), kind)
			}
		})
	}
}

// TestUpstreamRemoveServer ports "removeServer": one server of each kind, then removing
// Servers()[0] three times gives 2, 1, 0.
func TestUpstreamRemoveServer(t *testing.T) {
	s := New(Config{})
	for _, kind := range upKinds {
		if _, err := upAdd(t, s, kind, HTTPConfig{Host: "127.0.0.1", Port: 1234}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.Servers()); n != 3 {
		t.Fatalf("len(Servers()) = %d, want 3", n)
	}
	for i, kind := range upKinds {
		first := s.Servers()[0]
		if first.Kind() != kind {
			t.Errorf("Servers()[0].Kind() = %q, want %q (insertion order)", first.Kind(), kind)
		}
		if err := s.RemoveServer(first); err != nil {
			t.Fatalf("RemoveServer(%s): %v", kind, err)
		}
		if got, want := len(s.Servers()), 2-i; got != want {
			t.Errorf("len(Servers()) after removing %s = %d, want %d", kind, got, want)
		}
	}
}

// TestUpstreamBasicServer ports "Create Basic HTTP/HTTPS/HTTP2 Server": a free port is not in
// use before Start and is after; Stop frees it. Upstream starts its HTTPS and HTTP2 servers
// without certificate or key and every handshake then fails; ours refuses them when added.
func TestUpstreamBasicServer(t *testing.T) {
	for _, kind := range upKinds {
		t.Run(kind, func(t *testing.T) {
			s := New(Config{})
			if kind != KindHTTP {
				cfg := HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}}
				add := s.AddHTTPSServer
				if kind == KindHTTP2 {
					add = s.AddHTTP2Server
				}
				if l, err := add(cfg); err == nil || l != nil {
					t.Errorf("Add %s server without certificate = %v, %v; want an error", kind, l, err)
				}
			}
			port := pickFreePort(t)
			if portInUse(t, port) {
				t.Fatalf("port %d in use before Start", port)
			}
			l, err := upAdd(t, s, kind, HTTPConfig{Host: "127.0.0.1", Port: port})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				t.Fatalf("Start: %v", err)
			}
			if !portInUse(t, port) || !l.Running() || l.Port() != port {
				t.Errorf("after Start: port %d in use = %v, Running = %v, Port = %d; want true, true, %d",
					port, portInUse(t, port), l.Running(), l.Port(), port)
			}
			stopServer(t, s)
			if portInUse(t, port) || l.Running() {
				t.Errorf("after Stop: port %d in use = %v, Running = %v; want false, false", port, portInUse(t, port), l.Running())
			}
		})
	}
}

// --- HTTPServerTest.js / HTTPSServerTest.js / HTTP2ServerTest.js (§6.3) ---

const (
	upGetBody = "the quick brown fox jumped over the lazy dog."
	// upPostBody is Tennyson (In Memoriam A.H.H. and Ulysses), with "/" marking line
	// breaks and "'" in "'Tis" and "tho'".
	upPostBody = "'Tis better to have loved and lost / Than never to have loved at all. " +
		"Tho' much is taken, much abides; and tho' / We are not now that strength which in old days / " +
		"Moved earth and heaven, that which we are, we are. " +
		"One equal temper of heroic hearts, / Made weak by time and fate, but strong in will / " +
		"To strive, to seek, to find, and not to yield."
)

// upClient is one way upstream's test client reaches a listener.
type upClient struct {
	name   string
	client *http.Client
	proto  int
}

// upStart is the beforeEach of §6.3: a new server with one listener of kind on a random port
// of 127.0.0.1, started; the afterEach stops it and removes the routes. It returns the
// clients that reach the listener: HTTP/1.1, plus HTTP/2 for the TLS kinds (upstream's
// HTTP2 test uses an HTTP/1.1 client, the allowHTTP1 fallback: both are covered).
func upStart(t *testing.T, kind string, routes func(s *Server)) (*Server, *Listener, string, []upClient) {
	t.Helper()
	s := New(Config{})
	l, err := upAdd(t, s, kind, HTTPConfig{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	routes(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var clients []upClient
	if kind == KindHTTP {
		clients = []upClient{{"http1.1", &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}, 1}}
	} else {
		p := getPKI(t)
		clients = []upClient{{"http1.1", clientFor(p.pool, false), 1}, {"http2", clientFor(p.pool, true), 2}}
	}
	t.Cleanup(func() {
		// Close the clients' idle connections first: a graceful HTTP/2 shutdown otherwise
		// waits for the client to hang up after GOAWAY.
		for _, c := range clients {
			c.client.CloseIdleConnections()
		}
		stopServer(t, s)
		s.RemoveAllRoutes()
	})
	base := strings.Replace(l.URL(), "://localhost", "://127.0.0.1", 1)
	return s, l, base, clients
}

// upFetch sends one request and returns the response and its body.
func upFetch(t *testing.T, c upClient, method, url, contentType, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", c.name, method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s %s: read body: %v", c.name, method, url, err)
	}
	if resp.ProtoMajor != c.proto {
		t.Errorf("%s %s %s: protocol %s, want major %d", c.name, method, url, resp.Proto, c.proto)
	}
	return resp, string(b)
}

// upSeen is what a handler saw, sent back to the test over a channel (the network is not a
// synchronisation the race detector knows).
type upSeen struct {
	method, url, path string
	protoMajor        int
	tls               bool
	statusBefore      int
	finishedBefore    bool
	finishedAfter     bool
	pushSupported     bool
	original          bool
}

func TestUpstreamServerKinds(t *testing.T) {
	for _, kind := range upKinds {
		t.Run(kind, func(t *testing.T) {
			// "Started": running, exactly one server of the kind, running, its port in use.
			t.Run("Started", func(t *testing.T) {
				s, l, _, _ := upStart(t, kind, func(*Server) {})
				if !s.Running() {
					t.Error("Running() = false after Start")
				}
				if got := s.Servers(); len(got) != 1 || got[0] != l {
					t.Errorf("Servers() = %v, want exactly the one listener", got)
				}
				if l.Kind() != kind || !l.Running() || l.Port() <= 0 {
					t.Errorf("listener = %s running=%v port=%d, want %s running=true port>0", l.Kind(), l.Running(), l.Port(), kind)
				}
				if !portInUse(t, l.Port()) {
					t.Errorf("port %d not in use after Start", l.Port())
				}
			})

			// "Request" and "Response": the handler gets the wrappers of this listener's
			// request (upstream checks instanceof HTTPRequest/HTTPSRequest/HTTP2Request).
			t.Run("Request and Response", func(t *testing.T) {
				seen := make(chan upSeen, 1)
				_, _, base, clients := upStart(t, kind, func(s *Server) {
					must(t, s.RouteFunc("*", "/test", func(_ string, req *Request, res *Response) error {
						v := upSeen{
							protoMajor:     req.Original().ProtoMajor,
							tls:            req.Original().TLS != nil,
							statusBefore:   res.StatusCode(),
							finishedBefore: res.Finished(),
							pushSupported:  res.PushSupported(),
							original:       res.Original() != nil,
						}
						err := res.WriteText(0, "ok", nil)
						v.finishedAfter = res.Finished()
						seen <- v
						return err
					}))
				})
				for _, c := range clients {
					resp, body := upFetch(t, c, "GET", base+"/test", "", "")
					if resp.StatusCode != 200 || body != "ok" {
						t.Errorf("%s GET /test = %d %q, want 200 %q", c.name, resp.StatusCode, body, "ok")
					}
					got := <-seen
					want := upSeen{protoMajor: c.proto, tls: kind != KindHTTP, statusBefore: 200,
						finishedAfter: true, pushSupported: c.proto == 2, original: true}
					if got != want {
						t.Errorf("%s: handler saw %+v, want %+v", c.name, got, want)
					}
				}
			})

			// "get request": server side method GET, url and path /test; client side 200,
			// text/plain, utf-8 and the exact body.
			t.Run("get request", func(t *testing.T) {
				seen := make(chan upSeen, 1)
				_, _, base, clients := upStart(t, kind, func(s *Server) {
					must(t, s.RouteFunc("*", "/test", func(_ string, req *Request, res *Response) error {
						seen <- upSeen{method: req.Method(), url: req.URL().String(), path: req.Path()}
						return res.WriteText(0, upGetBody, nil)
					}))
				})
				for _, c := range clients {
					resp, body := upFetch(t, c, "GET", base+"/test", "", "")
					upCheckText(t, c.name+" GET /test", resp, body, upGetBody)
					if got, want := <-seen, (upSeen{method: "GET", url: "/test", path: "/test"}); got != want {
						t.Errorf("%s: handler saw %+v, want %+v", c.name, got, want)
					}
				}
			})

			// "post request": the body, with "/" and "'", is echoed byte for byte.
			t.Run("post request", func(t *testing.T) {
				seen := make(chan upSeen, 1)
				_, _, base, clients := upStart(t, kind, func(s *Server) {
					must(t, s.RouteFunc("*", "/test", func(_ string, req *Request, res *Response) error {
						seen <- upSeen{method: req.Method(), url: req.URL().String(), path: req.Path()}
						text, err := req.ReadText()
						if err != nil {
							return err
						}
						return res.WriteText(0, text, nil)
					}))
				})
				for _, c := range clients {
					resp, body := upFetch(t, c, "POST", base+"/test", "text/plain", upPostBody)
					upCheckText(t, c.name+" POST /test", resp, body, upPostBody)
					if got, want := <-seen, (upSeen{method: "POST", url: "/test", path: "/test"}); got != want {
						t.Errorf("%s: handler saw %+v, want %+v", c.name, got, want)
					}
				}
			})
		})
	}
}

// upCheckText checks a 200 text/plain; charset=utf-8 response with the given body.
func upCheckText(t *testing.T, what string, resp *http.Response, body, want string) {
	t.Helper()
	if resp.StatusCode != 200 || body != want {
		t.Errorf("%s = %d %q, want %d %q", what, resp.StatusCode, body, 200, want)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || params["charset"] != "utf-8" {
		t.Errorf("%s: Content-Type %q, want text/plain with charset utf-8", what, resp.Header.Get("Content-Type"))
	}
}

// --- RoutingTest.js (§6.5): these only inspect Routes and never start a server ---

// upWantRoutes checks the whole route list.
func upWantRoutes(t *testing.T, s *Server, step string, want ...string) {
	t.Helper()
	if got := s.Routes(); !slices.Equal(got, want) {
		t.Errorf("%s: Routes() = %q, want %q", step, got, want)
	}
}

// upUnroute calls Unroute and checks its result and the route count.
func upUnroute(t *testing.T, s *Server, method, path string, h Handler, wantRemoved bool, wantCount int) {
	t.Helper()
	if got := s.Unroute(method, path, h); got != wantRemoved {
		t.Errorf("Unroute(%q, %q) = %v, want %v", method, path, got, wantRemoved)
	}
	if got := len(s.Routes()); got != wantCount {
		t.Errorf("after Unroute(%q, %q): %d routes %q, want %d", method, path, got, s.Routes(), wantCount)
	}
}

func upNop(string, *Request, *Response) error { return nil }

func TestUpstreamRouting(t *testing.T) {
	t.Run("route function", func(t *testing.T) {
		// Method names given in lower case appear upper-cased. Upstream's RegExp /\/test/
		// appears as "*: /\/test/"; ours lists a regexp route as "METHOD: /expr/" too.
		s := New(Config{})
		var want []string
		for _, m := range []string{"get", "post", "put", "delete", "head", "options", "patch", "connect", "trace", "*"} {
			must(t, s.RouteFunc(m, "/test", upNop))
			want = append(want, strings.ToUpper(m)+": /test")
		}
		must(t, s.RouteRegexp("*", regexp.MustCompile(`\/test`), HandlerFunc(upNop)))
		want = append(want, `*: /\/test/`)
		upWantRoutes(t, s, "after routing", want...)
	})

	t.Run("unroute function", func(t *testing.T) {
		// Upstream's last route is the RegExp /asdf/g; Go regexps carry their flags inside
		// the expression, so the port uses (?i)asdf: unrouting "/asdf/" (flags differ) leaves
		// it, "/(?i)asdf/" removes it. A string never names a regexp route.
		s := New(Config{})
		must(t, s.RouteFunc("GET", "/test", upNop))
		must(t, s.RouteFunc("POST", "/test", upNop))
		must(t, s.RouteFunc("GET", "/test1", upNop))
		must(t, s.RouteFunc("GET", "/test/abc/xyz", upNop))
		must(t, s.RouteFunc("POST", "/monkey", upNop))
		must(t, s.RouteRegexp("*", regexp.MustCompile(`(?i)asdf`), HandlerFunc(upNop)))
		upWantRoutes(t, s, "start", "GET: /test", "POST: /test", "GET: /test1", "GET: /test/abc/xyz", "POST: /monkey", "*: /(?i)asdf/")
		upUnroute(t, s, "get", "/test", nil, true, 5)
		upUnroute(t, s, "delete", "/test", nil, false, 5)
		upUnroute(t, s, "post", "/monkey", nil, true, 4)
		upUnroute(t, s, "*", "asdf", nil, false, 4)
		upUnroute(t, s, "*", "/asdf/", nil, false, 4)
		upUnroute(t, s, "*", "/(?i)asdf/", nil, true, 3)
		upWantRoutes(t, s, "end", "POST: /test", "GET: /test1", "GET: /test/abc/xyz")
	})

	t.Run("route controller", func(t *testing.T) {
		// Upstream's two-argument route(path, controller) means method "*".
		s := New(Config{})
		must(t, s.Route("*", "/test", Controller(&upController{n: "1"})))
		upWantRoutes(t, s, "after routing", "*: /test")
	})

	t.Run("unroute controller", func(t *testing.T) {
		s := New(Config{})
		ctl := &upController{n: "1"}
		h := Controller(ctl)
		for _, p := range []string{"/test1", "/test2", "/test3"} {
			must(t, s.Route("*", p, h))
		}
		if n := len(s.Routes()); n != 3 {
			t.Fatalf("%d routes, want 3", n)
		}
		upUnroute(t, s, "*", "/test", h, false, 3)
		upUnroute(t, s, "*", "/test1", h, true, 2)
		// A second Controller of the same instance names the same handler.
		upUnroute(t, s, "*", "/test2", Controller(ctl), true, 1)
		upWantRoutes(t, s, "end", "*: /test3")
	})

	// Upstream's "route controller file" routes 4 controllers by file name
	// (./controllers/one.js, two.js, three.js, three/one.js). Ported with instances.
	upFileControllers := func(s *Server) (paths []string, hs []Handler) {
		for _, n := range []string{"one", "two", "three", "three/one"} {
			h := Controller(&upController{n: n})
			must(t, s.Route("*", "/"+n, h))
			paths = append(paths, "/"+n)
			hs = append(hs, h)
		}
		return paths, hs
	}

	t.Run("route controller file", func(t *testing.T) {
		s := New(Config{})
		upFileControllers(s)
		upWantRoutes(t, s, "after routing", "*: /one", "*: /two", "*: /three", "*: /three/one")
	})

	t.Run("unroute controller file", func(t *testing.T) {
		// Upstream unroutes by the same (method, path, filename string); ours by the same
		// handler value.
		s := New(Config{})
		paths, hs := upFileControllers(s)
		for i := range 3 {
			upUnroute(t, s, "*", paths[i], hs[i], true, 3-i)
		}
		upWantRoutes(t, s, "end", "*: /three/one")
	})

	// Upstream's "route controller directory" routes ./controllers under "/" and gets 9 routes:
	// <name> and <name>/* for each of the 4 files, plus a parent route that never matches.
	// Ported as those 8 routes of controller instances (there is no parent entry).
	upDirControllers := func(s *Server) []string {
		var paths []string
		for _, n := range []string{"one", "three/one", "three", "two"} {
			h := Controller(&upController{n: n})
			for _, p := range []string{"/" + n, "/" + n + "/*"} {
				must(t, s.Route("*", p, h))
				paths = append(paths, p)
			}
		}
		return paths
	}

	t.Run("route controller directory", func(t *testing.T) {
		s := New(Config{})
		upDirControllers(s)
		upWantRoutes(t, s, "after routing", "*: /one", "*: /one/*", "*: /three/one", "*: /three/one/*",
			"*: /three", "*: /three/*", "*: /two", "*: /two/*")
	})

	t.Run("unroute controller directory", func(t *testing.T) {
		// Upstream removes the directory's children with one unroute of the parent; ours has
		// no parent entry, so each route is unrouted, ending at 0 as upstream does.
		s := New(Config{})
		paths := upDirControllers(s)
		for i, p := range paths {
			upUnroute(t, s, "*", p, nil, true, len(paths)-1-i)
		}
	})

	t.Run("route redirect", func(t *testing.T) {
		s := New(Config{})
		must(t, s.Redirect("*", "/blah1", "/test1", false))
		must(t, s.Redirect("GET", "/blah2", "/test2", true))
		must(t, s.Redirect("HEAD", "/blah3", "/test3", false))
		upWantRoutes(t, s, "after routing", "*: /blah1", "GET: /blah2", "HEAD: /blah3")
	})

	t.Run("unroute redirect", func(t *testing.T) {
		s := New(Config{})
		must(t, s.Redirect("*", "/blah1", "/test1", false))
		must(t, s.Redirect("GET", "/blah2", "/test2", true))
		must(t, s.Redirect("HEAD", "/blah3", "/test3", false))
		upUnroute(t, s, "*", "/blah1", nil, true, 2)
		// The method must match exactly: "*" does not name a HEAD route.
		upUnroute(t, s, "*", "/blah3", nil, false, 2)
		// Not in upstream: method names are upper-cased for Unroute too.
		upUnroute(t, s, "head", "/blah3", nil, true, 1)
	})

	t.Run("route serve file", func(t *testing.T) {
		// Upstream passes the type "test/css" (sic); the port uses text/css.
		dir := upFixtures(t)
		s := New(Config{})
		must(t, s.Serve("/index.html", "", filepath.Join(dir, "index.html")))
		must(t, s.Serve("/hello.css", "text/css", filepath.Join(dir, "hello.css")))
		upWantRoutes(t, s, "after routing", "*: /index.html", "*: /hello.css")
	})

	t.Run("unroute serve file", func(t *testing.T) {
		dir := upFixtures(t)
		s := New(Config{})
		must(t, s.Serve("/index.html", "", filepath.Join(dir, "index.html")))
		must(t, s.Serve("/hello.css", "text/css", filepath.Join(dir, "hello.css")))
		upUnroute(t, s, "*", "/hello.css", nil, true, 1)
		upUnroute(t, s, "*", "/index.html", nil, true, 0)
	})

	t.Run("route serve directory", func(t *testing.T) {
		// A directory registers 3 routes; §3.5 also gives the patterns for "/" and "/static/*".
		dir := upFixtures(t)
		for _, tt := range []struct {
			path string
			want []string
		}{
			{"/test", []string{"*: /test", "*: /test/", "*: /test/*"}},
			{"/", []string{"*: /", "*: /*"}},
			{"/static/*", []string{"*: /static/*", "*: /static/"}},
		} {
			s := New(Config{})
			must(t, s.Serve(tt.path, "", dir))
			upWantRoutes(t, s, "Serve("+tt.path+", dir)", tt.want...)
		}
	})

	t.Run("unroute serve directory", func(t *testing.T) {
		// Unroute of the served path removes the three routes together.
		dir := upFixtures(t)
		s := New(Config{})
		must(t, s.Serve("/test", "", dir))
		upUnroute(t, s, "*", "/test", nil, true, 0)
	})

	t.Run("route push", func(t *testing.T) {
		// Upstream's types "test/html" and "test/css" (sic) become text/html and text/css.
		dir := upFixtures(t)
		s := New(Config{})
		must(t, s.Serve("/index.html", "text/html", filepath.Join(dir, "index.html")))
		must(t, s.Push("/hello.css", "/hello.css", "text/css", filepath.Join(dir, "hello.css")))
		upWantRoutes(t, s, "after routing", "*: /index.html", "*: /hello.css")
	})

	t.Run("unroute PushServe", func(t *testing.T) {
		dir := upFixtures(t)
		s := New(Config{})
		must(t, s.Serve("/index.html", "text/html", filepath.Join(dir, "index.html")))
		must(t, s.Push("/hello.css", "/hello.css", "text/css", filepath.Join(dir, "hello.css")))
		upUnroute(t, s, "*", "/index.html", nil, true, 1)
		upUnroute(t, s, "*", "/hello.css", nil, true, 0)
	})
}
