package h2serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestTrailers: request trailers reach the handler after the body; response trailers, declared
// and with http.TrailerPrefix, reach the client.
func TestTrailers(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Trailer", "X-Declared")
		w.Write([]byte("body"))
		w.Header().Set("X-Declared", "d")
		w.Header().Set(http.TrailerPrefix+"X-Late", "l")
		w.Header().Set("X-Echo", r.Trailer.Get("X-Req"))
	}))
	req, _ := http.NewRequest("POST", ts.url("/"), io.MultiReader(strings.NewReader("abc")))
	req.Trailer = http.Header{"X-Req": {"r"}}
	req.ContentLength = -1
	resp, err := ts.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "body" || resp.Trailer.Get("X-Declared") != "d" || resp.Trailer.Get("X-Late") != "l" {
		t.Errorf("got %q, trailers %v; want body, X-Declared d, X-Late l", b, resp.Trailer)
	}
}

// TestRequestTrailerEcho: the handler sees the request trailer once it read the body.
func TestRequestTrailerEcho(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, r.Trailer.Get("X-Req"))
	}))
	req, _ := http.NewRequest("POST", ts.url("/"), strings.NewReader("abc"))
	req.Trailer = http.Header{"X-Req": {"from the client"}}
	req.ContentLength = -1
	resp, err := ts.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "from the client" {
		t.Errorf("handler saw trailer %q, want %q", b, "from the client")
	}
}

// TestEarlyHintsAndFlush: a 103 reaches the client before the final response, and a flushed
// first chunk arrives while the handler still waits.
func TestEarlyHintsAndFlush(t *testing.T) {
	release := make(chan struct{})
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "first ")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		<-release
		io.WriteString(w, "second")
	}))
	var hints []int
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error { hints = append(hints, code); return nil },
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url("/"), nil)
	resp, err := ts.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first " {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" || len(hints) != 1 || hints[0] != 103 {
		t.Errorf("rest %q, 1xx %v; want second and [103]", rest, hints)
	}
}

// TestReadDeadline: ResponseController.SetReadDeadline makes a body read that waits past it
// fail with os.ErrDeadlineExceeded; EnableFullDuplex succeeds.
func TestReadDeadline(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		rc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := io.ReadAll(r.Body)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
		}
		w.WriteHeader(http.StatusRequestTimeout)
	}))
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", ts.url("/"), pr)
	resp, err := ts.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
}

// TestResetCancelsContext: RST_STREAM from the client cancels the request's context.
func TestResetCancelsContext(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan error, 1)
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		cancelled <- r.Context().Err()
	}))
	fr, _ := dialH2(t, ts)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", "/"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	<-started
	fr.WriteRSTStream(1, http2.ErrCodeCancel)
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("context error %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("context not cancelled 10s after RST_STREAM")
	}
}

// TestRequestFields: the handler gets a real *http.Request: TLS state, remote address,
// protocol, host, URL and joined cookies.
func TestRequestFields(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.TLS == nil || r.TLS.NegotiatedProtocol != "h2":
			t.Errorf("TLS %+v, want h2", r.TLS)
		case !strings.HasPrefix(r.RemoteAddr, "127.0.0.1:"):
			t.Errorf("RemoteAddr %q", r.RemoteAddr)
		case r.Proto != "HTTP/2.0" || r.ProtoMajor != 2:
			t.Errorf("Proto %q", r.Proto)
		case r.URL.Path != "/a b" || r.URL.RawQuery != "q=1" || r.RequestURI != "/a%20b?q=1":
			t.Errorf("URL %v, RequestURI %q", r.URL, r.RequestURI)
		case r.Header.Get("Cookie") != "a=1; b=2":
			t.Errorf("Cookie %q, want joined", r.Header.Get("Cookie"))
		case r.Context().Value(http.ServerContextKey) == nil:
			t.Errorf("no http.ServerContextKey in the context")
		}
	}))
	req, _ := http.NewRequest("GET", ts.url("/a%20b?q=1"), nil)
	req.AddCookie(&http.Cookie{Name: "a", Value: "1"})
	req.AddCookie(&http.Cookie{Name: "b", Value: "2"})
	resp, err := ts.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
