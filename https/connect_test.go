package https

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"testing"
)

// get runs a GET with ctx and returns the response and its body.
func getWith(t *testing.T, ctx context.Context, o Options) (*IncomingMessage, string, error) {
	t.Helper()
	r, err := Get(ctx, o, nil)
	if err != nil {
		return nil, "", err
	}
	m, err := r.Response()
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(m)
	return m, string(b), err
}

// TestConnectDial: Connect.Dial decides where a request connects (curl's
// --resolve), while the certificate is still checked against the request's
// host name; the connection is kept for the next request with the same
// Connect, not lent to requests without it; a dial to a name that does not
// resolve is ErrDNS.
func TestConnectDial(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host="+r.Host)
	}), serverConfig{})
	dials := 0
	c := &Connect{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials++
		if addr != "localhost:"+strconv.Itoa(s.Port) {
			t.Errorf("Dial(%q), want localhost:%d", addr, s.Port)
		}
		return (&net.Dialer{}).DialContext(ctx, network, s.Listener.Addr().String())
	}}
	defer c.CloseIdleConnections()
	ctx := WithConnect(context.Background(), c)
	o := s.opts(t, "GET", "/")
	o.Host = "localhost"
	for range 2 {
		_, body, err := getWith(t, ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if want := "host=localhost:" + strconv.Itoa(s.Port); body != want {
			t.Errorf("body %q, want %q", body, want)
		}
	}
	if dials != 1 {
		t.Errorf("%d dials for two requests, want 1 (kept alive)", dials)
	}
	if _, _, err := getWith(t, context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if dials != 1 {
		t.Errorf("a request without the Connect used its dialer")
	}

	nowhere := &Connect{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, "nowhere.invalid:1")
	}}
	_, _, err := getWith(t, WithConnect(context.Background(), nowhere), o)
	wantKind(t, err, ErrDNS)
}

// TestConnectHTTP1Only: a server that speaks HTTP/2 answers over HTTP/1.1
// when the Connect offers only that.
func TestConnectHTTP1Only(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}), serverConfig{})
	for _, tt := range []struct {
		c    *Connect
		want string
	}{
		{nil, "HTTP/2.0"},
		{&Connect{}, "HTTP/2.0"},
		{&Connect{HTTP1Only: true}, "HTTP/1.1"},
	} {
		m, body, err := getWith(t, WithConnect(context.Background(), tt.c), s.opts(t, "GET", "/"))
		if err != nil {
			t.Fatal(err)
		}
		if body != tt.want || "HTTP/"+m.HTTPVersion != tt.want {
			t.Errorf("%+v: server saw %s, client %s; want %s", tt.c, body, m.HTTPVersion, tt.want)
		}
		if tt.c != nil {
			tt.c.CloseIdleConnections()
		}
	}
}

// TestConnectPlain: Plain sends the request without TLS (an http:// URL):
// the URL and Host say http and leave out port 80; a TLS server refuses
// the plain request with its 400.
func TestConnectPlain(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tls := "no"
		if r.TLS != nil {
			tls = "yes"
		}
		io.WriteString(w, r.Method+" "+r.Host+" "+r.URL.RequestURI()+" tls="+tls)
	}))
	defer plain.Close()
	_, port, _ := net.SplitHostPort(plain.Listener.Addr().String())
	c := &Connect{Plain: true}
	defer c.CloseIdleConnections()
	ctx := WithConnect(context.Background(), c)
	o := Options{Host: "127.0.0.1", Path: "/a?b=c"}
	o.Port, _ = strconv.Atoi(port)
	m, body, err := getWith(t, ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := "GET 127.0.0.1:" + port + " /a?b=c tls=no"; body != want {
		t.Errorf("body %q, want %q", body, want)
	}
	if want := "http://127.0.0.1:" + port + "/a?b=c"; m.URL != want {
		t.Errorf("URL %q, want %q", m.URL, want)
	}

	// Port 80 is left out of the URL and the Host header; Dial still gets it.
	var addr string
	c80 := &Connect{Plain: true, Dial: func(ctx context.Context, network, a string) (net.Conn, error) {
		addr = a
		return (&net.Dialer{}).DialContext(ctx, network, plain.Listener.Addr().String())
	}}
	defer c80.CloseIdleConnections()
	m, body, err = getWith(t, WithConnect(context.Background(), c80), Options{Host: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if addr != "example.test:80" || body != "GET example.test / tls=no" || m.URL != "http://example.test/" {
		t.Errorf("dialed %q, body %q, URL %q", addr, body, m.URL)
	}

	s := newServer(t, http.NotFoundHandler(), serverConfig{})
	o.Port = s.Port
	m, _, err = getWith(t, ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.StatusCode != http.StatusBadRequest {
		t.Errorf("plain request to a TLS server: status %d, want 400", m.StatusCode)
	}
}

// TestTraceFromContext: an httptrace.ClientTrace in the caller's context
// sees the request's connection being made (curl's -w time_connect and
// time_appconnect are read so), alongside the request's own hooks.
func TestTraceFromContext(t *testing.T) {
	s := newServer(t, http.NotFoundHandler(), serverConfig{})
	var connected, handshake int
	var state tls.ConnectionState
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		ConnectDone: func(network, addr string, err error) { connected++ },
		TLSHandshakeDone: func(st tls.ConnectionState, err error) {
			handshake++
			state = st
		},
	})
	o := s.opts(t, "GET", "/")
	o.Headers = http.Header{"X-Fresh": {"trace"}} // not a pooled connection's request
	CloseIdleConnections()
	r, err := Get(ctx, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	socket := make(chan net.Conn, 1)
	r.OnSocket(func(c net.Conn) { socket <- c })
	m, err := r.Response()
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	<-socket
	if connected != 1 || handshake != 1 || !state.HandshakeComplete {
		t.Errorf("ConnectDone %d, TLSHandshakeDone %d (complete %v); want 1, 1, true", connected, handshake, state.HandshakeComplete)
	}
}
