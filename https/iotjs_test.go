package https

// Ports of the IoT.js https, http-client and tls tests (reference
// iotjs-https.md §3) to Go. The httpbin.org ones run against httpbinStandIn.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
)

// httpbinStandIn answers like the httpbin.org endpoints the IoT.js tests use.
var httpbinStandIn = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/user-agent":
		json.NewEncoder(w).Encode(map[string]string{"user-agent": r.Header.Get("User-Agent")})
	case r.URL.Path == "/post" && r.Method == "POST":
		b, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(map[string]string{"data": string(b)})
	case r.URL.Path == "/get":
		json.NewEncoder(w).Encode(map[string]any{"url": r.URL.String(), "headers": r.Header})
	case strings.HasPrefix(r.URL.Path, "/delay/"):
		<-r.Context().Done() // longer than any client timeout
	default:
		http.NotFound(w, r)
	}
})

// collect gathers a response body through OnData and reports it at 'end'.
func collect(m *IncomingMessage, done func(body string)) {
	var b bytes.Buffer
	m.OnData(func(p []byte) { b.Write(p) })
	m.OnEnd(func() { done(b.String()) })
}

// test_net_https_get.js
func TestIoTjsHTTPSGet(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, httpbinStandIn, serverConfig{})
	ends := make(chan string, 2)

	o := Options{Host: "127.0.0.1", Port: s.Port, Path: "/user-agent", InsecureSkipVerify: true,
		Headers: http.Header{"user-agent": {"iotjs"}}}
	_, err := Get(context.Background(), o, func(m *IncomingMessage) {
		if m.StatusCode != 200 {
			t.Errorf("status %d", m.StatusCode)
		}
		collect(m, func(body string) {
			var v map[string]string
			json.Unmarshal([]byte(body), &v)
			ends <- "user-agent=" + v["user-agent"]
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	o = Options{Host: "127.0.0.1", Port: s.Port, Method: "POST", Path: "/post", InsecureSkipVerify: true,
		Headers: http.Header{"Content-Length": {"12"}, "Content-Type": {"application/json"}}}
	r, err := Request(context.Background(), o, func(m *IncomingMessage) {
		collect(m, func(body string) {
			var v map[string]string
			json.Unmarshal([]byte(body), &v)
			ends <- "data=" + v["data"]
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("Hello IoT.js"))
	r.End()

	got := []string{<-ends, <-ends}
	if !(got[0] == "user-agent=iotjs" && got[1] == "data=Hello IoT.js" || got[1] == "user-agent=iotjs" && got[0] == "data=Hello IoT.js") {
		t.Errorf("ends = %q", got)
	}
}

// test_net_https_post_status_codes.js
func TestIoTjsHTTPSPostStatusCodes(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, httpbinStandIn, serverConfig{})
	o := Options{Hostname: "127.0.0.1", Port: s.Port, Method: "POST", Path: "/post", InsecureSkipVerify: true,
		Headers: http.Header{"content-type": {"application/json"}, "content-length": {"2"}}}
	done := make(chan string)
	r, err := Request(context.Background(), o, func(m *IncomingMessage) {
		if m.StatusCode != 200 {
			t.Errorf("status %d", m.StatusCode)
		}
		collect(m, func(body string) { done <- body })
	})
	if err != nil {
		t.Fatal(err)
	}
	r.End([]byte("{}"))
	var v map[string]string
	if err := json.Unmarshal([]byte(<-done), &v); err != nil || v["data"] == "" {
		t.Errorf("data = %q, %v", v["data"], err)
	}
}

// test_net_https_request_response.js
func TestIoTjsHTTPSRequestResponse(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, httpbinStandIn, serverConfig{})
	message := "Hello IoT.js"
	post := func() Options {
		return Options{Host: "127.0.0.1", Port: s.Port, Method: "POST", Path: "/post", InsecureSkipVerify: true,
			Headers: http.Header{"Content-Length": {strconv.Itoa(len(message))}}}
	}
	echoed := func(t *testing.T, r *ClientRequest) string {
		m, err := r.Response()
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := json.NewDecoder(m).Decode(&v); err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, m)
		return v["data"]
	}

	t.Run("1 end(message)", func(t *testing.T) {
		r, _ := Request(context.Background(), post(), nil)
		r.End([]byte(message))
		if got := echoed(t, r); got != message {
			t.Errorf("echo = %q", got)
		}
	})
	t.Run("2 end(message, cb): cb runs on finish", func(t *testing.T) {
		r, _ := Request(context.Background(), post(), nil)
		finished := make(chan struct{})
		r.OnFinish(func() { close(finished) })
		r.End([]byte(message))
		<-finished
		echoed(t, r)
	})
	t.Run("3 end(buffer)", func(t *testing.T) {
		r, _ := Request(context.Background(), post(), nil)
		r.End([]byte(message)[:5], []byte(message)[5:])
		if got := echoed(t, r); got != message {
			t.Errorf("echo = %q", got)
		}
	})
	t.Run("4 GET, response listener, read", func(t *testing.T) {
		r, err := Request(context.Background(), Options{Host: "127.0.0.1", Port: s.Port, Path: "/get", InsecureSkipVerify: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string)
		r.OnResponse(func(m *IncomingMessage) {
			b, _ := io.ReadAll(m)
			got <- string(b)
		})
		r.End()
		if b := <-got; len(b) == 0 {
			t.Error("read returned nothing")
		}
	})
	t.Run("removed upstream: second end's callback never runs", func(t *testing.T) {
		r, _ := Request(context.Background(), post(), nil)
		var finishes atomic.Int32
		r.OnFinish(func() { finishes.Add(1) })
		r.End([]byte(message))
		if err := r.End(); err != nil {
			t.Errorf("second End = %v", err)
		}
		if err := r.End([]byte("more")); !errors.Is(err, ErrWriteAfterEnd) {
			t.Errorf("second End with data = %v, want ErrWriteAfterEnd", err)
		}
		echoed(t, r)
		closed := make(chan struct{})
		r.OnClose(func() { close(closed) })
		<-closed
		if n := finishes.Load(); n != 1 {
			t.Errorf("finish fired %d times, want 1", n)
		}
	})
}

// test_net_https_timeout.js
func TestIoTjsHTTPSTimeout(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, httpbinStandIn, serverConfig{})
	r, err := Get(context.Background(), Options{Host: "127.0.0.1", Port: s.Port, Path: "/delay/10", InsecureSkipVerify: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := record(r, true)
	var fired atomic.Bool
	r.SetTimeout(testenv.Scale(100*time.Millisecond), func() { // the handshake counts as idle
		fired.Store(true)
		r.Abort()
	})
	if got, want := rec.wait(t), "socket,finish,close"; got != want {
		t.Errorf("events = %s, want %s (no error after abort)", got, want)
	}
	if !fired.Load() {
		t.Error("timeout callback did not run")
	}
}

// test_net_https_server.js: the server closes its listener inside the
// response callback, before the body ends; the body still arrives whole.
func TestIoTjsHTTPSServer(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello world\n")
	}), serverConfig{})
	done := make(chan string)
	_, err := Get(context.Background(), Options{Host: "localhost", Port: s.Port, InsecureSkipVerify: true}, func(m *IncomingMessage) {
		if m.StatusCode != 200 {
			t.Errorf("status %d", m.StatusCode)
		}
		s.Listener.Close()
		collect(m, func(body string) { done <- body })
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != "hello world\n" {
		t.Errorf("body = %q", got)
	}
}

// modifiedReqResp is the server of test_net_https_modified_req_resp.js and
// its plain-HTTP twins.
func modifiedReqResp(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.Path != "/put_msg" || string(b) != "DEMO" {
			t.Errorf("server got %s %s %q", r.Method, r.URL.Path, b)
		}
		reply := []byte(`{"message":"DATA"}`)
		w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	})
}

// test_net_https_modified_req_resp.js, test_net_http_modified_request.js,
// test_net_http_modified_response.js, test_net_http_modified_req_resp.js
func TestIoTjsHTTPSModifiedReqResp(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, modifiedReqResp(t), serverConfig{})
	o := Options{Host: "127.0.0.1", Port: s.Port, Method: "POST", Path: "/put_msg", InsecureSkipVerify: true,
		Headers: http.Header{"Content-Length": {"4"}}}
	m, body := mustDo(t, o, []byte("DEMO"))
	for _, name := range []string{"Content-Type", "content-type"} {
		if got := m.Headers.Get(name); got != "application/json" {
			t.Errorf("Headers.Get(%q) = %q", name, got)
		}
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(body), &v); err != nil || v["message"] != "DATA" {
		t.Errorf("message = %q, %v", v["message"], err)
	}
}

// test_tls_1.js: a server without a certificate fails the handshake, and
// bad key/cert/CA inputs are refused up front (TestValidation has the rest).
func TestIoTjsTLSNoServerCert(t *testing.T) {
	checkGoroutines(t)
	serverErr := make(chan error, 1)
	port := rawTCP(t, func(c net.Conn) { serverErr <- tls.Server(c, &tls.Config{}).Handshake() })
	_, _, err := do(t, Options{Host: "127.0.0.1", Port: port, InsecureSkipVerify: true}, nil)
	wantKind(t, err, ErrHandshake)
	if err := <-serverErr; err == nil {
		t.Error("server handshake succeeded")
	}
	for _, o := range []Options{{Key: "0"}, {Cert: "null"}, {Key: "false", Cert: "7"}, {CA: "true"}} {
		if _, err := Request(context.Background(), o, nil); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Request(%+v) = %v, want ErrInvalidRequest", o, err)
		}
	}
}

// test_tls_2.js: a client and a server exchange greetings over TLS; a
// client of a port where nothing listens gets an error.
func TestIoTjsTLSExchange(t *testing.T) {
	checkGoroutines(t)
	var serverGot sync.Map
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		serverGot.Store(string(b), true)
		io.WriteString(w, "Server hello")
	}), serverConfig{})
	var secured atomic.Bool
	r, err := Request(context.Background(), Options{Host: "127.0.0.1", Port: s.Port, Method: "POST", InsecureSkipVerify: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.OnSocket(func(c net.Conn) {
		if tc, ok := c.(*tls.Conn); ok && tc.ConnectionState().HandshakeComplete {
			secured.Store(true)
		}
	})
	r.End([]byte("Client hello"))
	m, err := r.Response()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(m); string(b) != "Server hello" {
		t.Errorf("client got %q", b)
	}
	if _, ok := serverGot.Load("Client hello"); !ok {
		t.Error("server did not get Client hello")
	}
	if !secured.Load() {
		t.Error("socket was not a completed TLS connection")
	}
	// 127.123.123.123 is loopback on Linux; nothing listens on 444.
	_, _, err = do(t, Options{Host: "127.123.123.123", Port: 444, InsecureSkipVerify: true}, nil)
	wantKind(t, err, ErrRefused)
}

// test_tls_3.js, test_tls_4.js: the ways of naming the server (default host,
// Host, Hostname) all connect.
func TestIoTjsTLSConnectForms(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(hello), serverConfig{})
	for _, o := range []Options{
		{Port: s.Port, InsecureSkipVerify: true},                        // connect(port): host defaults to localhost
		{Host: "localhost", Port: s.Port, InsecureSkipVerify: true},     // connect(port, 'localhost')
		{Hostname: "localhost", Port: s.Port, InsecureSkipVerify: true}, // hostname alias
		{Host: "localhost", Port: s.Port, CA: string(testCA(t).CertPEM)},
	} {
		if _, body := mustDo(t, o, nil); body != "hello" {
			t.Errorf("%+v: body %q", o, body)
		}
	}
}

// test_tls_ca.js: with the CA, host localhost verifies; a certificate for
// localhost only does not verify for 127.0.0.1.
func TestIoTjsTLSCA(t *testing.T) {
	checkGoroutines(t)
	cert := leaf(t, testCA(t), certs.LeafOptions{Hosts: []string{"localhost"}})
	s := newServer(t, http.HandlerFunc(hello), serverConfig{cert: &cert})
	ca := string(testCA(t).CertPEM)
	if _, body := mustDo(t, Options{Host: "localhost", Port: s.Port, CA: ca}, nil); body != "hello" {
		t.Errorf("body %q", body)
	}
	_, _, err := do(t, Options{Host: "127.0.0.1", Port: s.Port, CA: ca}, nil)
	wantKind(t, err, ErrNameMismatch)
}

// test_tls_stream_duplex.js: what crosses the wire is not the plaintext,
// and both sides get each other's plaintext.
func TestIoTjsTLSStreamDuplex(t *testing.T) {
	checkGoroutines(t)
	var wire bytes.Buffer
	var mu sync.Mutex
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != "Hello, this is tls2" {
			t.Errorf("server got %q", b)
		}
		io.WriteString(w, "Hello, this is tls1")
	}), serverConfig{})
	// Record the raw bytes both ways through a relay.
	relay, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	go func() {
		c, err := relay.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		up, err := net.Dial("tcp", s.Listener.Addr().String())
		if err != nil {
			return
		}
		defer up.Close()
		tap := func(dst io.Writer, src io.Reader) {
			buf := make([]byte, 4096)
			for {
				n, err := src.Read(buf)
				if n > 0 {
					mu.Lock()
					wire.Write(buf[:n])
					mu.Unlock()
					dst.Write(buf[:n])
				}
				if err != nil {
					return
				}
			}
		}
		go tap(up, c)
		tap(c, up)
	}()
	o := Options{Host: "127.0.0.1", Port: relay.Addr().(*net.TCPAddr).Port, Method: "POST", CA: string(testCA(t).CertPEM),
		Headers: http.Header{"Connection": {"close"}}}
	if _, body := mustDo(t, o, []byte("Hello, this is tls2")); body != "Hello, this is tls1" {
		t.Errorf("client got %q", body)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, plain := range []string{"Hello, this is tls1", "Hello, this is tls2"} {
		if bytes.Contains(wire.Bytes(), []byte(plain)) {
			t.Errorf("plaintext %q crossed the wire", plain)
		}
	}
}

// test_crypto_tls.js (the hash part; the signature part needs IoT.js's
// resource key and is not about the client).
func TestIoTjsCryptoSHA256(t *testing.T) {
	sum := sha256.Sum256([]byte("Hello IoT.js"))
	if got, want := hex.EncodeToString(sum[:]), "23a1b938002c83a74b887d0a447c9905e83bab00459bcfd0bad548623b942e20"; got != want {
		t.Errorf("sha256 = %s, want %s", got, want)
	}
}

// test_net_http_get.js
func TestIoTjsHTTPGet(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		echo(w, r)
	}), serverConfig{h1Only: true})
	m, body := mustDo(t, s.opts(t, "GET", "/"), nil)
	if m.StatusCode != 200 || body != "" {
		t.Errorf("GET: %d %q", m.StatusCode, body)
	}
	o := s.opts(t, "POST", "/")
	o.Headers = http.Header{"Content-Length": {"12"}}
	m, body = mustDo(t, o, []byte("close server"))
	if m.StatusCode != 200 || body != "close server" {
		t.Errorf("POST: %d %q", m.StatusCode, body)
	}
}

// test_net_http_outgoing_buffer.js: binary bodies cross intact both ways.
func TestIoTjsHTTPOutgoingBuffer(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !bytes.Equal(b, []byte{0xE6, 0x7F, 0x03, 0x06, 0x07}) {
			t.Errorf("server got % X", b)
		}
		w.Write([]byte{0x03, 0x7F, 0x06, 0x07, 0xE6})
	}), serverConfig{})
	_, body := mustDo(t, s.opts(t, "POST", "/"), []byte{0xE6, 0x7F, 0x03, 0x06, 0x07})
	if !bytes.Equal([]byte(body), []byte{0x03, 0x7F, 0x06, 0x07, 0xE6}) {
		t.Errorf("client got % X", body)
	}
}

// test_net_http_methods.js
func TestIoTjsHTTPMethods(t *testing.T) {
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "HEAD"} {
		found := false
		for _, x := range METHODS {
			found = found || x == m
		}
		if !found {
			t.Errorf("METHODS lacks %s", m)
		}
	}
}

// test_net_http_response_twice.js: a server that sends the same response
// twice; the client delivers exactly one body and does not crash.
func TestIoTjsHTTPResponseTwice(t *testing.T) {
	checkGoroutines(t)
	resp := "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 14\r\n\r\nHello IoT.js\r\n"
	port := rawTLS(t, func(c *tls.Conn) {
		readRequestHead(c)
		io.WriteString(c, resp+resp)
	})
	r, err := Get(context.Background(), rawOpts(t, port, "GET", "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var responses atomic.Int32
	r.OnResponse(func(*IncomingMessage) { responses.Add(1) })
	rec := record(r, true)
	rec.wait(t)
	if got := rec.Body(); got != "Hello IoT.js\r\n" {
		t.Errorf("body = %q", got)
	}
	if n := responses.Load(); n != 1 {
		t.Errorf("%d responses, want 1", n)
	}
}

// test_net_http_request_response.js
func TestIoTjsHTTPRequestResponse(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "HEAD" {
			w.Header().Set("Content-Length", "10") // the IoT.js HEAD hang
			return
		}
		// writeHead three times: the last values win.
		for _, v := range []string{"close0", "close1", "close2"} {
			w.Header().Set("Connection-Note", v)
		}
		w.Header().Set("Head", "Value")
		echo(w, r)
	}), serverConfig{})
	msg := "Hello IoT.js"
	for i, body := range [][]byte{[]byte(msg), []byte(msg)} {
		_, got := mustDo(t, s.opts(t, "POST", "/"), body)
		if got != msg {
			t.Errorf("%d: echo %q", i, got)
		}
	}
	// end(msg, cb) without a response callback: cb runs.
	r, _ := Request(context.Background(), s.opts(t, "POST", "/"), nil)
	finished := make(chan struct{})
	r.OnFinish(func() { close(finished) })
	r.End([]byte(msg))
	<-finished
	if m, err := r.Response(); err == nil {
		io.Copy(io.Discard, m)
	}
	// HEAD: 'end' fires (no hang on Content-Length) and status is 200.
	r, _ = Get(context.Background(), s.opts(t, "HEAD", "/"), nil)
	rec := record(r, false)
	if got, want := rec.wait(t), "socket,finish,response,end,res.close,close"; got != want {
		t.Errorf("HEAD events = %s, want %s", got, want)
	}
	if rec.msg.StatusCode != 200 {
		t.Errorf("HEAD status %d", rec.msg.StatusCode)
	}
	// Last header values, case-insensitive lookups; 'readable' + read().
	m, body := mustDo(t, s.opts(t, "POST", "/"), []byte("x"))
	if m.Headers.Get("connection-note") != "close2" || m.Headers.Get("HEAD") != "Value" || body != "x" {
		t.Errorf("headers %v body %q", m.Headers, body)
	}
}

// test_net_http_request_http_version.js
func TestIoTjsHTTPRequestHTTPVersion(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Proto != "HTTP/1.1" {
			t.Errorf("server saw %s", r.Proto)
		}
	}), serverConfig{h1Only: true})
	m, _ := mustDo(t, s.opts(t, "HEAD", "/"), nil)
	if m.StatusCode != 200 || m.HTTPVersion != "1.1" {
		t.Errorf("got %d HTTP/%s", m.StatusCode, m.HTTPVersion)
	}
}

// test_net_http_status_codes.js. 150 and 199 are interim (1xx) responses
// in HTTP/1.1 (RFC 9110 §15.2), which net/http skips on the way to the
// final one, so the final statuses are checked here and a 1xx followed by
// a final status is checked separately.
func TestIoTjsHTTPStatusCodes(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		code, _ := strconv.Atoi(string(b))
		w.WriteHeader(code)
	}), serverConfig{})
	var got []int
	for _, code := range []int{200, 204, 304, 404, 510} {
		m, _ := mustDo(t, s.opts(t, "POST", "/"), []byte(strconv.Itoa(code)))
		got = append(got, m.StatusCode)
	}
	if fmt.Sprint(got) != "[200 204 304 404 510]" {
		t.Errorf("statuses = %v", got)
	}
	port := rawTLS(t, func(c *tls.Conn) {
		readRequestHead(c)
		io.WriteString(c, "HTTP/1.1 150 Interim\r\n\r\nHTTP/1.1 199 Interim\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	})
	if m, _ := mustDo(t, rawOpts(t, port, "GET", "/"), nil); m.StatusCode != 404 {
		t.Errorf("after 1xx: status %d, want 404", m.StatusCode)
	}
}

// test_net_httpclient_error.js
func TestIoTjsHTTPClientError(t *testing.T) {
	checkGoroutines(t)
	r, err := Get(context.Background(), Options{Host: "localhost", Port: closedPort(t)}, func(*IncomingMessage) {
		t.Error("response callback ran")
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := record(r, true)
	if got := rec.wait(t); got != "error,close" {
		t.Errorf("events = %s", got)
	}
}

// test_net_httpclient_parse_error.js: exactly one error.
func TestIoTjsHTTPClientParseError(t *testing.T) {
	checkGoroutines(t)
	port := rawTLS(t, func(c *tls.Conn) {
		readRequestHead(c)
		io.WriteString(c, "Bad http\r\n\r\n")
	})
	r, err := Get(context.Background(), rawOpts(t, port, "GET", "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var errs atomic.Int32
	r.OnError(func(error) { errs.Add(1) })
	rec := record(r, true)
	rec.wait(t)
	wantKind(t, rec.Err(), ErrMalformedResponse)
	if n := errs.Load(); n != 1 {
		t.Errorf("%d errors, want 1", n)
	}
}

// stall answers with headers and one byte of body, then waits for the
// client to go away.
var stall = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("."))
	http.NewResponseController(w).Flush()
	<-r.Context().Done()
})

// test_net_httpclient_timeout_1.js
func TestIoTjsHTTPClientTimeout1(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, stall, serverConfig{})

	t.Run("message SetTimeout runs cb once", func(t *testing.T) {
		r, _ := Get(context.Background(), s.opts(t, "GET", "/"), nil)
		m, err := r.Response()
		if err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		fired := make(chan struct{})
		m.SetTimeout(100*time.Millisecond, func() {
			if calls.Add(1) == 1 {
				close(fired)
			}
		})
		m.OnData(func([]byte) {})
		<-fired
		r.Abort()
		closed := make(chan struct{})
		r.OnClose(func() { close(closed) })
		<-closed
		if n := calls.Load(); n != 1 {
			t.Errorf("cb ran %d times", n)
		}
	})
	t.Run("request SetTimeout with a destroyer", func(t *testing.T) {
		srv := newServer(t, orderHandler, serverConfig{})
		r, _ := Request(context.Background(), srv.opts(t, "GET", "/wait"), nil)
		rec := record(r, true)
		var destroyed atomic.Bool
		r.SetTimeout(100*time.Millisecond, func() { destroyed.Store(true); r.Abort() })
		r.End()
		rec.wait(t)
		if !destroyed.Load() {
			t.Error("destroyer did not run")
		}
	})
}

// test_net_httpclient_timeout_2.js: a second SetTimeout replaces the first,
// so the first callback never runs, though it is due before the second
// (IoT.js ran it: a blind wall-clock timer).
func TestIoTjsHTTPClientTimeout2(t *testing.T) {
	checkGoroutines(t)
	s := newServer(t, stall, serverConfig{})
	r, _ := Request(context.Background(), s.opts(t, "GET", "/"), nil)
	var before, destroyer atomic.Bool
	// The handshake counts as idle: under emulation it alone can take 150ms.
	r.SetTimeout(testenv.Scale(150*time.Millisecond), func() { before.Store(true) })
	r.OnResponse(func(m *IncomingMessage) {
		m.OnData(func([]byte) {
			r.SetTimeout(testenv.Scale(300*time.Millisecond), func() { destroyer.Store(true); r.Abort() })
		})
	})
	rec := record(r, false)
	r.End()
	rec.wait(t)
	if !destroyer.Load() {
		t.Error("destroyer did not run")
	}
	if before.Load() {
		t.Error("the replaced 1 s timeout ran")
	}
}

// test_net_http_server.js: three requests on one echo server each get one
// socket and one response; with keep-alive they share one connection.
func TestIoTjsHTTPServer(t *testing.T) {
	checkGoroutines(t)
	var requests atomic.Int32
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		echo(w, r)
	}), serverConfig{h1Only: true})
	for i, tc := range []struct{ method, body string }{{"POST", "first"}, {"GET", ""}, {"POST", "close server"}} {
		r, _ := Request(context.Background(), s.opts(t, tc.method, "/"), nil)
		var sockets, responses atomic.Int32
		r.OnSocket(func(net.Conn) { sockets.Add(1) })
		r.OnResponse(func(*IncomingMessage) { responses.Add(1) })
		rec := record(r, true)
		r.End([]byte(tc.body))
		rec.wait(t)
		if sockets.Load() != 1 || responses.Load() != 1 || rec.Body() != tc.body {
			t.Errorf("%d: %d sockets, %d responses, body %q", i, sockets.Load(), responses.Load(), rec.Body())
		}
	}
	if requests.Load() != 3 || s.conns.Load() != 1 {
		t.Errorf("server: %d requests on %d connections, want 3 on 1", requests.Load(), s.conns.Load())
	}
}

// node/parallel/test-http-status-message.js: a custom reason phrase.
func TestIoTjsHTTPStatusMessage(t *testing.T) {
	checkGoroutines(t)
	port := rawTLS(t, func(c *tls.Conn) {
		readRequestHead(c)
		io.WriteString(c, "HTTP/1.1 201 Created Nicely\r\nContent-Length: 0\r\n\r\n")
	})
	m, _ := mustDo(t, rawOpts(t, port, "GET", "/"), nil)
	if m.StatusCode != 201 || m.StatusMessage != "Created Nicely" {
		t.Errorf("got %d %q", m.StatusCode, m.StatusMessage)
	}
}
