package https

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// seen is what the inspect handler reports about a request.
type seen struct {
	Method, Host, Proto, RequestURI string
	ContentLength                   int64
	TransferEncoding                []string
	Header                          http.Header
	Body                            string
	User, Password                  string
	BasicOK                         bool
}

var inspect = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s := seen{Method: r.Method, Host: r.Host, Proto: r.Proto, RequestURI: r.RequestURI,
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding, Header: r.Header, Body: string(b)}
	s.User, s.Password, s.BasicOK = r.BasicAuth()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s)
})

// inspectRequest sends a request to an inspect server and decodes what the
// server saw. write, if not nil, writes the body; else End(body...) is used.
func inspectRequest(t *testing.T, s *server, o Options, write func(*ClientRequest) error) (seen, *IncomingMessage) {
	t.Helper()
	r, err := Request(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if write != nil {
		if err := write(r); err != nil {
			t.Fatal(err)
		}
	} else if err := r.End(); err != nil {
		t.Fatal(err)
	}
	m, err := r.Response()
	if err != nil {
		t.Fatal(err)
	}
	var got seen
	if err := json.NewDecoder(m).Decode(&got); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, m)
	return got, m
}

func forBothProtocols(t *testing.T, h http.Handler, f func(t *testing.T, s *server, h2 bool)) {
	for _, p := range []struct {
		name string
		h2   bool
	}{{"HTTP1.1", false}, {"HTTP2", true}} {
		t.Run(p.name, func(t *testing.T) {
			s := newServer(t, h, serverConfig{h1Only: !p.h2})
			f(t, s, p.h2)
		})
	}
}

func TestWire(t *testing.T) {
	checkGoroutines(t)
	forBothProtocols(t, inspect, func(t *testing.T, s *server, h2 bool) {
		t.Run("version", func(t *testing.T) {
			got, m := inspectRequest(t, s, s.opts(t, "GET", "/"), nil)
			want := "1.1"
			if h2 {
				want = "2.0"
			}
			if m.HTTPVersion != want || got.Proto != "HTTP/"+map[bool]string{true: "2.0", false: "1.1"}[h2] {
				t.Errorf("HTTPVersion = %q (server saw %s), want %s", m.HTTPVersion, got.Proto, want)
			}
			if m.StatusCode != 200 || m.StatusMessage != "OK" || m.Method != "GET" {
				t.Errorf("message = %d %q %s", m.StatusCode, m.StatusMessage, m.Method)
			}
			if wantURL := fmt.Sprintf("https://127.0.0.1:%d/", s.Port); m.URL != wantURL {
				t.Errorf("URL = %q, want %q", m.URL, wantURL)
			}
			if m.Headers.Get("content-type") != "application/json" {
				t.Errorf("case-insensitive header lookup failed: %v", m.Headers)
			}
		})
		t.Run("Host carries the port", func(t *testing.T) {
			got, _ := inspectRequest(t, s, s.opts(t, "GET", "/"), nil)
			if want := "127.0.0.1:" + strconv.Itoa(s.Port); got.Host != want {
				t.Errorf("Host = %q, want %q", got.Host, want)
			}
		})
		t.Run("Basic auth", func(t *testing.T) {
			o := s.opts(t, "GET", "/")
			o.Auth = "aladdin:open sesame"
			got, _ := inspectRequest(t, s, o, nil)
			if !got.BasicOK || got.User != "aladdin" || got.Password != "open sesame" {
				t.Errorf("server saw auth %q %q %v", got.User, got.Password, got.BasicOK)
			}
			o.Auth = "justuser"
			got, _ = inspectRequest(t, s, o, nil)
			if !got.BasicOK || got.User != "justuser" || got.Password != "" {
				t.Errorf("server saw auth %q %q %v", got.User, got.Password, got.BasicOK)
			}
			o.Headers = http.Header{"Authorization": {"Bearer token"}}
			got, _ = inspectRequest(t, s, o, nil)
			if a := got.Header.Get("Authorization"); a != "Bearer token" {
				t.Errorf("Authorization = %q, want the header given", a)
			}
		})
		t.Run("headers as given, nothing added", func(t *testing.T) {
			o := s.opts(t, "GET", "/p?q=1&r=%20")
			o.Headers = http.Header{"x-lower": {"v1"}, "X-Multi": {"a", "b"}}
			got, _ := inspectRequest(t, s, o, nil)
			if got.Header.Get("X-Lower") != "v1" || strings.Join(got.Header["X-Multi"], ",") != "a,b" {
				t.Errorf("headers = %v", got.Header)
			}
			for _, h := range []string{"User-Agent", "Accept-Encoding", "Authorization"} {
				if v, ok := got.Header[h]; ok {
					t.Errorf("%s added: %q", h, v)
				}
			}
			if got.RequestURI != "/p?q=1&r=%20" {
				t.Errorf("RequestURI = %q", got.RequestURI)
			}
		})
		t.Run("no Write sends no body", func(t *testing.T) {
			got, _ := inspectRequest(t, s, s.opts(t, "POST", "/"), nil)
			if got.ContentLength != 0 || len(got.TransferEncoding) != 0 || got.Body != "" {
				t.Errorf("server saw length %d, TE %v, body %q", got.ContentLength, got.TransferEncoding, got.Body)
			}
		})
		t.Run("chunked without Content-Length", func(t *testing.T) {
			got, _ := inspectRequest(t, s, s.opts(t, "POST", "/"), func(r *ClientRequest) error {
				r.Write([]byte("part one, "))
				return r.End([]byte("part two"))
			})
			if got.Body != "part one, part two" || got.ContentLength != -1 {
				t.Errorf("server saw body %q length %d", got.Body, got.ContentLength)
			}
			if !h2 && (len(got.TransferEncoding) != 1 || got.TransferEncoding[0] != "chunked") {
				t.Errorf("Transfer-Encoding = %v, want chunked", got.TransferEncoding)
			}
		})
		t.Run("Content-Length given", func(t *testing.T) {
			o := s.opts(t, "PUT", "/")
			o.Headers = http.Header{"Content-Length": {"11"}}
			got, _ := inspectRequest(t, s, o, func(r *ClientRequest) error {
				r.Write([]byte("hello "))
				return r.End([]byte("world"))
			})
			if got.Body != "hello world" || got.ContentLength != 11 || len(got.TransferEncoding) != 0 {
				t.Errorf("server saw body %q length %d TE %v", got.Body, got.ContentLength, got.TransferEncoding)
			}
		})
		t.Run("PATCH and extension methods are sent", func(t *testing.T) {
			for _, m := range []string{"PATCH", "BREW", "get"} {
				got, _ := inspectRequest(t, s, s.opts(t, m, "/"), nil)
				if got.Method != m {
					t.Errorf("server saw method %q, want %q", got.Method, m)
				}
			}
		})
	})
}

func TestContentLengthMismatch(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, inspect, serverConfig{})
	o := s.opts(t, "POST", "/")
	o.Headers = http.Header{"Content-Length": {"5"}}

	t.Run("too many bytes", func(t *testing.T) {
		r, err := Request(context.Background(), o, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(r, true)
		if _, err := r.Write([]byte("hello!")); err == nil {
			t.Fatal("Write of 6 bytes with Content-Length 5 succeeded")
		} else {
			wantKind(t, err, ErrContentLength)
		}
		got := rec.wait(t)
		if !strings.HasSuffix(got, "error,close") {
			t.Errorf("events = %s, want ...error,close", got)
		}
		wantKind(t, rec.Err(), ErrContentLength)
	})
	t.Run("too few bytes", func(t *testing.T) {
		r, err := Request(context.Background(), o, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(r, true)
		err = r.End([]byte("hey"))
		wantKind(t, err, ErrContentLength)
		rec.wait(t)
		wantKind(t, rec.Err(), ErrContentLength)
	})
	t.Run("Get with a Content-Length and no body", func(t *testing.T) {
		_, err := Get(context.Background(), o, nil)
		wantKind(t, err, ErrContentLength)
	})
}

// TestKeepAlive: two sequential requests with the same TLS settings share
// one connection; OnSocket reports it.
func TestKeepAlive(t *testing.T) {
	checkGoroutines(t)
	forBothProtocols(t, inspect, func(t *testing.T, s *server, h2 bool) {
		var conns []net.Conn
		for i := 0; i < 2; i++ {
			r, err := Request(context.Background(), s.opts(t, "GET", "/"), nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := record(r, true)
			r.End()
			rec.wait(t)
			conns = append(conns, rec.conn)
		}
		if conns[0] != conns[1] {
			t.Errorf("OnSocket gave %p then %p, want the same connection", conns[0], conns[1])
		}
		if _, ok := conns[0].(*tls.Conn); !ok {
			t.Errorf("OnSocket gave a %T, want *tls.Conn", conns[0])
		}
		if n := s.conns.Load(); n != 1 {
			t.Errorf("server saw %d connections, want 1", n)
		}
		CloseIdleConnections()
	})
}

// TestNoRedirect: a 302 is delivered like any other response.
func TestNoRedirect(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.RedirectHandler("/elsewhere", http.StatusFound), serverConfig{})
	m, _ := mustDo(t, s.opts(t, "GET", "/"), nil)
	if m.StatusCode != 302 || m.Headers.Get("Location") != "/elsewhere" {
		t.Errorf("got %d Location %q, want 302 /elsewhere", m.StatusCode, m.Headers.Get("Location"))
	}
}

// TestReasonPhrase: the reason phrase is what follows the code in net/http's
// Response.Status, trimmed, whatever the server sent (or nothing).
func TestReasonPhrase(t *testing.T) {
	for _, c := range []struct {
		status string
		code   int
		want   string
	}{
		{"200 OK", 200, "OK"},
		{"201 Created Nicely", 201, "Created Nicely"},
		{"404", 404, ""},
		{"599  spaced  ", 599, "spaced"},
		{"204 No Content", 200, "204 No Content"}, // a code that does not match is kept
		{"", 200, ""},
		{"42 odd", 42, "odd"},
	} {
		if got := reasonPhrase(c.status, c.code); got != c.want {
			t.Errorf("reasonPhrase(%q, %d) = %q, want %q", c.status, c.code, got, c.want)
		}
		if n := testing.AllocsPerRun(10, func() { reasonPhrase(c.status, c.code) }); n != 0 && c.code >= 100 {
			t.Errorf("reasonPhrase(%q, %d) allocates %v times", c.status, c.code, n)
		}
	}
}
