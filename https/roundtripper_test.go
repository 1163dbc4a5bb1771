package https

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRoundTripper: an http.Client on an agent's RoundTripper reaches our
// test server over HTTP/1.1 and HTTP/2 with the CA of Options, and its
// failures are *Error values of the right kind behind http.Client's
// *url.Error.
func TestRoundTripper(t *testing.T) {
	checkGoroutines(t)
	for _, h1 := range []bool{true, false} {
		s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/big":
				w.Write([]byte(strings.Repeat("x", 100)))
			case "/cut":
				w.Header().Set("Content-Length", "40")
				w.Write([]byte("short"))
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // close the connection (HTTP/2: reset the stream) mid-body
			case "/slow":
				<-r.Context().Done()
			default:
				io.WriteString(w, "hello "+r.Header.Get("X-A"))
			}
		}), serverConfig{h1Only: h1})
		want := "2.0"
		if h1 {
			want = "1.1"
		}
		a := &Agent{}
		t.Cleanup(a.CloseIdleConnections)
		rt, err := a.RoundTripper(Options{CA: string(testCA(t).CertPEM), MaxBodyBytes: 50})
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: rt}
		base := "https://127.0.0.1:" + strconv.Itoa(s.Port)

		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("X-A", "there")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "hello there" || strconv.Itoa(resp.ProtoMajor)+"."+strconv.Itoa(resp.ProtoMinor) != want {
			t.Errorf("h1 %v: %q, %v over %s", h1, b, err, resp.Proto)
		}

		read := func(path string, ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.ReadAll(resp.Body)
			return err
		}
		err = read("/big", context.Background())
		wantKind(t, err, ErrBodyTooLarge)
		err = read("/cut", context.Background())
		wantKind(t, err, ErrTruncated)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err = read("/slow", ctx)
		cancel()
		wantKind(t, err, ErrTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("h1 %v: error %v is not context.DeadlineExceeded", h1, err)
		}
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Errorf("h1 %v: error %T is not behind a *url.Error", h1, err)
		}

		// Verification is on: the system roots do not know the test CA.
		untrusting, err := a.RoundTripper(Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = (&http.Client{Transport: untrusting}).Get(base + "/")
		wantKind(t, err, ErrUnknownAuthority)
	}
}

// TestRoundTripperOptions: options a RoundTripper cannot use, and CA, Cert or
// Key that cannot be loaded, are errors at once.
func TestRoundTripperOptions(t *testing.T) {
	for _, o := range []Options{
		{Host: "example.com"},
		{Path: "/x"},
		{Headers: http.Header{}},
		{CA: "/nonexistent/ca.pem"},
		{Cert: string(testCA(t).CertPEM)},
		{Memory: 7},
		{ServerName: "a b"},
	} {
		_, err := DefaultAgent.RoundTripper(o)
		wantKind(t, err, ErrInvalidRequest)
	}
}

// TestRequestURL: the URL gives host, port, path, query and credentials;
// non-zero options win, as in Node.
func TestRequestURL(t *testing.T) {
	for _, tt := range []struct {
		url  string
		opts Options
		want Options // only Host, Port, Path and Auth are compared
		bad  bool
	}{
		{url: "https://example.com", want: Options{Host: "example.com", Path: "/"}},
		{url: "https://u:p%40ss@example.com:8443/a%20b?q=1&r#frag", want: Options{Host: "example.com", Port: 8443, Path: "/a%20b?q=1&r", Auth: "u:p@ss"}},
		{url: "https://[::1]:9/x?", want: Options{Host: "::1", Port: 9, Path: "/x?"}},
		{url: "https://user@h/", want: Options{Host: "h", Path: "/", Auth: "user"}},
		{url: "https://h:1/p", opts: Options{Host: "o", Port: 2, Path: "/q", Auth: "a:b"}, want: Options{Host: "o", Port: 2, Path: "/q", Auth: "a:b"}},
		{url: "http://example.com/", bad: true},
		{url: "example.com/x", bad: true},
		{url: "https:///x", bad: true},
		{url: "https://h:99999/", bad: true},
		{url: "https://h:%zz/", bad: true},
	} {
		got, err := mergeURL(tt.url, tt.opts)
		if tt.bad {
			if err == nil {
				t.Errorf("mergeURL(%q) = %+v, want an error", tt.url, got)
			} else {
				wantKind(t, err, ErrInvalidRequest)
			}
			continue
		}
		if err != nil || got.Host != tt.want.Host || got.Port != tt.want.Port || got.Path != tt.want.Path || got.Auth != tt.want.Auth {
			t.Errorf("mergeURL(%q) = %q %d %q %q, %v; want %q %d %q %q", tt.url, got.Host, got.Port, got.Path, got.Auth, err,
				tt.want.Host, tt.want.Port, tt.want.Path, tt.want.Auth)
		}
	}
	_, err := RequestURL(context.Background(), "https://exa mple.com/", Options{}, nil)
	wantKind(t, err, ErrInvalidRequest)
}
