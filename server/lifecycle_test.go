package server

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
	"golang.org/x/net/http2"
)

// TestStartRefusesUnservableTLS: a TLSConfig whose CipherSuites lacks the suites HTTP/2
// requires made net/http's Serve fail at once while Start returned nil and Running reported
// true (audit finding). Start must now fail, name the problem, and leave nothing listening;
// with HTTP/2 turned off the same listener serves HTTP/1.1.
func TestStartRefusesUnservableTLS(t *testing.T) {
	p := getPKI(t)
	s := New(Config{})
	hl, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	noH2 := &tls.Config{CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}
	tl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1"}, CertPEM: p.certPEM, KeyPEM: p.keyPEM, TLSConfig: noH2})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot serve HTTP/2") || !strings.Contains(err.Error(), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") {
		t.Fatalf("Start = %v, want an error naming the missing HTTP/2 cipher suite", err)
	}
	if s.Running() || hl.Running() || tl.Running() || hl.Port() != 0 || tl.Port() != 0 {
		t.Errorf("after a failed Start: Running %v, HTTP listener running %v port %d, HTTPS listener running %v port %d; want nothing running",
			s.Running(), hl.Running(), hl.Port(), tl.Running(), tl.Port())
	}

	// HTTP/1.1 only: the same suites serve.
	tl.Original().Protocols = new(http.Protocols)
	tl.Original().Protocols.SetHTTP1(true)
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start with HTTP/2 off = %v", err)
	}
	defer s.Stop(context.Background())
	s.RouteFunc("GET", "/", func(_ string, _ *Request, res *Response) error { return res.WriteText(0, "ok", nil) })
	c := clientFor(p.pool, false)
	c.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS12 // where the suites apply
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://127.0.0.1:" + strconv.Itoa(tl.Port()) + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" || resp.TLS.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Errorf("GET over HTTP/1.1 = %d %q suite %s", resp.StatusCode, b, tls.CipherSuiteName(resp.TLS.CipherSuite))
	}

	// Added while running: the same check, the same error, nothing added.
	if l, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1"}, CertPEM: p.certPEM, KeyPEM: p.keyPEM, TLSConfig: noH2}); err == nil || l != nil {
		t.Errorf("AddHTTP2Server while running = %v, %v; want the HTTP/2 cipher error", l, err)
	}
	if n := len(s.Servers()); n != 2 {
		t.Errorf("Servers() has %d listeners, want 2", n)
	}
}

// fillExported sets every exported field of v (a struct pointer) to a non-zero value of its
// type, and reports a field it cannot fill, so a field added in a later Go is never skipped.
func fillExported(t *testing.T, v any) {
	t.Helper()
	sv := reflect.ValueOf(v).Elem()
	for i := range sv.NumField() {
		f := sv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		fv := sv.Field(i)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString("x" + f.Name)
		case reflect.Bool:
			fv.SetBool(true)
		case reflect.Int, reflect.Int64:
			fv.SetInt(int64(1000 + i))
		case reflect.Pointer:
			fv.Set(reflect.New(f.Type.Elem()))
		case reflect.Map:
			fv.Set(reflect.MakeMap(f.Type))
		case reflect.Func:
			fv.Set(reflect.MakeFunc(f.Type, func([]reflect.Value) []reflect.Value { return nil }))
		case reflect.Interface:
			fv.Set(reflect.ValueOf(http.NotFoundHandler()))
		default:
			t.Fatalf("cannot fill http.Server.%s of kind %s: teach fillExported", f.Name, fv.Kind())
		}
	}
}

// TestRestartCopiesEveryField: the http.Server of a restarted listener carries every exported
// field of the one before (by reflection, so this fails only if copying misses a field),
// except TLSNextProto, which is what it was before net/http added its own "h2" handler, and
// TLSConfig, which is the listener's own (each run serves a copy of it).
func TestRestartCopiesEveryField(t *testing.T) {
	s := New(Config{})
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1"}, CertPEM: getPKI(t).certPEM, KeyPEM: getPKI(t).keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	prev := new(http.Server)
	fillExported(t, prev)
	l.nextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){"acme-tls/1": nil}
	next := l.newHTTPServer(prev)
	pv, nv := reflect.ValueOf(prev).Elem(), reflect.ValueOf(next).Elem()
	for i := range pv.NumField() {
		f := pv.Type().Field(i)
		if !f.IsExported() || f.Name == "TLSNextProto" || f.Name == "TLSConfig" {
			continue
		}
		a, b := pv.Field(i), nv.Field(i)
		same := false
		switch a.Kind() {
		case reflect.Func, reflect.Pointer, reflect.Map:
			same = a.Pointer() == b.Pointer()
		case reflect.Interface:
			same = !b.IsNil() && a.Elem().Pointer() == b.Elem().Pointer()
		default:
			same = a.Equal(b)
		}
		if !same {
			t.Errorf("restart lost http.Server.%s: %v, want %v", f.Name, b, a)
		}
	}
	if next.TLSConfig != l.TLSConfig() {
		t.Errorf("restart's TLSConfig = %p, want the listener's %p", next.TLSConfig, l.TLSConfig())
	}
	if _, ok := next.TLSNextProto["acme-tls/1"]; !ok || len(next.TLSNextProto) != 1 {
		t.Errorf("restart TLSNextProto = %v, want the one set before serving", next.TLSNextProto)
	}
}

// TestRestartKeepsNextProto: a TLSNextProto entry set through Original survives Stop and Start
// (it was missed by the hand-made copy), and HTTP/2 still works after the restart.
func TestRestartKeepsNextProto(t *testing.T) {
	p := getPKI(t)
	s := New(Config{})
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1"}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	l.TLSConfig().NextProtos = append(l.TLSConfig().NextProtos, "x-echo")
	var calls atomic.Int32
	l.Original().TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"x-echo": func(_ *http.Server, c *tls.Conn, _ http.Handler) {
			calls.Add(1)
			io.WriteString(c, "echo")
			c.Close()
		},
	}
	s.RouteFunc("GET", "/", func(_ string, _ *Request, res *Response) error { return res.WriteText(0, "ok", nil) })
	for run := range 2 {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.pool, ServerName: "localhost", NextProtos: []string{"x-echo"}})
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		if string(b) != "echo" {
			t.Errorf("run %d: x-echo protocol answered %q, want \"echo\"", run, b)
		}
		h2 := clientFor(p.pool, true)
		resp, err := h2.Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h2.CloseIdleConnections()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Errorf("run %d: GET over HTTP/2 = %d %s", run, resp.StatusCode, resp.Proto)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.Stop(ctx); err != nil {
			t.Errorf("run %d: Stop: %v", run, err)
		}
		cancel()
	}
	if calls.Load() != 2 {
		t.Errorf("x-echo handler ran %d times, want 2", calls.Load())
	}
}

// TestHTTP2Limits: HTTPConfig's HTTP/2 limits reach the wire in the server's SETTINGS and
// connection window, on both TLS listener kinds; bad values are refused by Add.
func TestHTTP2Limits(t *testing.T) {
	p := getPKI(t)
	s := New(Config{})
	var frugal HTTPConfig
	frugal.FrugalHTTP2()
	frugal.Host = "127.0.0.1"
	custom := HTTPConfig{Host: "127.0.0.1", HTTP2MaxConcurrentStreams: 7, HTTP2MaxReadFrameSize: 32 << 10, HTTP2StreamWindow: 100 << 10, HTTP2ConnWindow: 300 << 10}
	a, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: frugal, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: custom, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1"}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	defaultFrame := uint32(1 << 20) // net/http's
	if d.h2 == HTTP2Batching {
		defaultFrame = 16 << 10 // the batching engine's (h2spec 4.2/3)
	}
	for _, tt := range []struct {
		l                       *Listener
		streams, frame, streamW uint32
		connW                   uint32
	}{
		{a, 32, 16 << 10, 256 << 10, 256 << 10},
		{b, 7, 32 << 10, 100 << 10, 300 << 10},
		{d, 250, defaultFrame, 1 << 20, 1 << 20},
	} {
		set, window := serverSettings(t, tt.l)
		if set[http2.SettingMaxConcurrentStreams] != tt.streams || set[http2.SettingMaxFrameSize] != tt.frame ||
			set[http2.SettingInitialWindowSize] != tt.streamW || window != tt.connW {
			t.Errorf("%s listener: SETTINGS %v, connection window %d; want streams %d, frame %d, stream window %d, connection window %d",
				tt.l.Kind(), set, window, tt.streams, tt.frame, tt.streamW, tt.connW)
		}
	}
	for _, bad := range []HTTPConfig{{HTTP2MaxReadFrameSize: 1000}, {HTTP2MaxReadFrameSize: 16 << 20}, {HTTP2MaxConcurrentStreams: -1}, {HTTP2StreamWindow: 100}, {HTTP2ConnWindow: -5}} {
		if l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: bad, CertPEM: p.certPEM, KeyPEM: p.keyPEM}); err == nil || !strings.Contains(err.Error(), "HTTP2") {
			t.Errorf("AddHTTPSServer(%+v) = %v, %v; want an error naming the HTTP2 field", bad, l, err)
		}
	}
}

// serverSettings opens an HTTP/2 connection to l and returns the SETTINGS it announces and
// its connection flow-control window (65535 plus its first connection WINDOW_UPDATE).
func serverSettings(t *testing.T, l *Listener) (map[http2.SettingID]uint32, uint32) {
	t.Helper()
	c, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port())),
		&tls.Config{RootCAs: getPKI(t).pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	settings, window, err := testenv.H2Settings(c)
	if err != nil {
		t.Fatal(err)
	}
	return settings, window
}

// TestRestartRefusesUnservableTLS: the check holds for a restart too, whose http.Server is a
// copy of one that served (and whose TLSNextProto net/http filled in).
func TestRestartRefusesUnservableTLS(t *testing.T) {
	p := getPKI(t)
	s := New(Config{})
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1"}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.TLSConfig().CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot serve HTTP/2") {
		s.Stop(context.Background())
		t.Fatalf("restart with no HTTP/2 suite = %v, want the cipher error", err)
	}
	if s.Running() || l.Running() {
		t.Errorf("after a refused restart: server running %v, listener running %v", s.Running(), l.Running())
	}
}
