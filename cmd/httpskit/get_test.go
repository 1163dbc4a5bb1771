package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/https"
)

// fetchSite is an HTTPS test server for get and request, with its CA file.
type fetchSite struct {
	url    string // https://localhost:PORT
	caFile string
}

func startFetchSite(t *testing.T) *fetchSite {
	t.Helper()
	ca, err := certs.NewCA("get test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		io.WriteString(w, "hello, world\n")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		fmt.Fprintf(w, "%s %s ct=%s h=%s auth=%s:%s body=%s", r.Method, r.URL.RequestURI(),
			r.Header.Get("Content-Type"), r.Header.Get("X-Custom"), user, pass, b)
	})
	mux.Handle("/moved", http.RedirectHandler("/hello", http.StatusFound))
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { // 100000 bytes, Content-Length
		w.Header().Set("Content-Length", "100000")
		w.Write(bytes.Repeat([]byte("b"), 100000))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) { // 100000 bytes, no length
		for range 100 {
			w.Write(bytes.Repeat([]byte("s"), 1000))
			http.NewResponseController(w).Flush()
		}
	})
	mux.HandleFunc("/agent", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "agent="+r.UserAgent()+" proto="+r.Proto)
	})
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) { // 1000 of 5000 bytes, then nothing
		w.Header().Set("Content-Length", "5000")
		w.Write(bytes.Repeat([]byte("t"), 1000))
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	s := httptest.NewUnstartedServer(mux)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.EnableHTTP2 = true
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(func() { s.Close(); https.CloseIdleConnections() })
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	return &fetchSite{url: "https://127.0.0.1:" + port, caFile: caFile}
}

func runFetchTest(run func(context.Context, []string, io.Writer, io.Writer) error, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestGet(t *testing.T) {
	site := startFetchSite(t)
	tests := []struct {
		name    string
		run     func(context.Context, []string, io.Writer, io.Writer) error
		args    []string
		want    []string // substrings of stdout
		wantErr string   // substring of the error; "" for success
	}{
		{"body", runGet, []string{site.url + "/hello", "--ca", site.caFile}, []string{"hello, world\n"}, ""},
		{"flags after and before the URL", runGet, []string{"--cacert", site.caFile, site.url + "/hello", "-i"},
			[]string{"HTTP/2.0 200 OK\r\n", "X-Test: yes\r\n", "\r\n\r\nhello, world\n"}, ""},
		{"HEAD", runGet, []string{"-I", "-k", site.url + "/hello"}, []string{"HTTP/2.0 200 OK"}, ""},
		{"unknown authority", runGet, []string{site.url + "/hello"}, nil,
			"certificate signed by unknown authority: pass --ca FILE or --insecure"},
		{"insecure", runGet, []string{"-k", site.url + "/hello"}, []string{"hello, world"}, ""},
		{"redirect not followed", runGet, []string{"-k", "-i", site.url + "/moved"}, []string{"302 Found", "Location: /hello"}, ""},
		{"redirect followed", runGet, []string{"-k", "-L", site.url + "/moved"}, []string{"hello, world"}, ""},
		{"404 is not a failure", runGet, []string{"-k", site.url + "/missing"}, []string{"404 page not found"}, ""},
		{"404 with -f", runGet, []string{"-k", "-f", site.url + "/missing"}, nil, "404 Not Found"},
		{"max time", runGet, []string{"-k", "--max-time", "200ms", site.url + "/stall"}, nil, "--max-time"},
		{"inactivity timeout", runGet, []string{"-k", "--timeout", "200ms", site.url + "/stall"}, nil, "timed out"},
		{"refused", runGet, []string{"https://127.0.0.1:1/"}, nil, "connection refused: nothing listens on 127.0.0.1:1"},
		{"POST data", runRequest, []string{"-k", "-d", "a=1", "-d", "b=2", site.url + "/echo?x=y"},
			[]string{"POST /echo?x=y ct=application/x-www-form-urlencoded h= auth=: body=a=1&b=2"}, ""},
		{"method, header, user", runRequest, []string{"-k", "-X", "PUT", "-H", "X-Custom: v", "-u", "me:pw",
			"--data-binary", "raw", site.url + "/echo"}, []string{"PUT /echo ct=application/x-www-form-urlencoded h=v auth=me:pw body=raw"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runFetchTest(tt.run, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout = %q, want it to contain %q", stdout, w)
				}
			}
		})
	}
}

func TestGetOutputFile(t *testing.T) {
	site := startFetchSite(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "body.txt")
	stdout, _, err := runFetchTest(runGet, "--ca", site.caFile, "-o", out, site.url+"/hello")
	if err != nil || stdout != "" {
		t.Fatalf("stdout %q, error %v", stdout, err)
	}
	if b, _ := os.ReadFile(out); string(b) != "hello, world\n" {
		t.Errorf("file holds %q", b)
	}
	// A failed download leaves nothing behind.
	failed := filepath.Join(dir, "failed.txt")
	if _, _, err := runFetchTest(runGet, "-k", "--timeout", "100ms", "-o", failed, site.url+"/stall"); err == nil {
		t.Fatal("stalled download succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only body.txt", len(entries))
	}

	t.Chdir(dir)
	if _, _, err := runFetchTest(runGet, "-k", "-O", site.url+"/hello"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello")); string(b) != "hello, world\n" {
		t.Errorf("-O file holds %q", b)
	}
}

func TestRequestDataFile(t *testing.T) {
	site := startFetchSite(t)
	f := filepath.Join(t.TempDir(), "body.bin")
	os.WriteFile(f, []byte("line1\nline2\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-file", f}, "body=line1\nline2\n"},
		{[]string{"--data-binary", "@" + f}, "body=line1\nline2\n"},
		{[]string{"-d", "@" + f}, "body=line1line2"},
	} {
		stdout, _, err := runFetchTest(runRequest, append([]string{"-k", site.url + "/echo"}, tt.args...)...)
		if err != nil || !strings.HasSuffix(stdout, tt.want) {
			t.Errorf("%v: stdout %q, error %v; want suffix %q", tt.args, stdout, err, tt.want)
		}
	}
}

func TestGetUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"a", "b"},
		{"ftp://example.com/"},
		{"https://localhost/", "--resolve", "localhost:443"},
		{"https://localhost/", "--resolve", "localhost:443:not-an-ip"},
		{"https://localhost/", "--http1.1", "--http2"},
		{"https://localhost/", "-fsZ"},
		{"https://localhost/", "--nope"},
		{"https://localhost/", "--max-time", "soon"},
		{"https://localhost/", "--retry", "-1"},
		{"-X"},
		{"https://localhost/", "-H", "no colon"},
		{"https://localhost/a\x01b"},
		{"https://localhost/", "-o", "x", "-O"},
		{"https://localhost/", "--max-filesize", "-1"},
		{"https://localhost/", "--max-filesize", "lots"},
		{"https://localhost/", "--max-filesize", "1T"},
	} {
		_, _, err := runFetchTest(runRequest, args...)
		if !errors.As(err, new(usageError)) {
			t.Errorf("request %q: error %v, want a usage error", args, err)
		}
	}
}

// TestGetMaxFilesize: --max-filesize BYTES, as curl's: a body larger than the
// limit fails with a message naming it (exit 1, not a usage error), whether
// the server declares its length or not; nothing past the limit is printed,
// and -o leaves no file behind.
func TestGetMaxFilesize(t *testing.T) {
	site := startFetchSite(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for success
	}{
		{"Content-Length past the limit", []string{"--max-filesize", "1000", site.url + "/big"}, "--max-filesize 1000 bytes"},
		{"no length, past the limit", []string{"--max-filesize", "1k", site.url + "/stream"}, "--max-filesize 1024 bytes"},
		{"exactly the limit", []string{"--max-filesize", "100000", site.url + "/big"}, ""},
		{"under the limit", []string{"--max-filesize", "1M", site.url + "/stream"}, ""},
		{"zero: no limit", []string{"--max-filesize", "0", site.url + "/big"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runFetchTest(runGet, append([]string{"-k"}, tt.args...)...)
			if tt.wantErr == "" {
				if err != nil || len(stdout) != 100000 {
					t.Fatalf("got %d bytes, %v; want 100000 bytes", len(stdout), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "maximum file size exceeded") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want maximum file size exceeded ... %q", err, tt.wantErr)
			}
			if errors.As(err, new(usageError)) {
				t.Errorf("error %v is a usage error (exit 2), want exit 1", err)
			}
			if len(stdout) > 1024 {
				t.Errorf("printed %d bytes, more than the limit", len(stdout))
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "body")
			if _, _, err := runFetchTest(runGet, append([]string{"-k", "-o", out}, tt.args...)...); err == nil {
				t.Fatal("-o: no error")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("-o left %d files behind", len(entries))
			}
		})
	}
}

// TestExplainHints: each failure kind of package https gets its own one-line
// reason and hint; a kind that refines another (self-signed, not yet valid)
// gets its own, not the broader one's.
func TestExplainHints(t *testing.T) {
	cert := &x509.Certificate{
		NotBefore: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		NotAfter:  time.Date(2020, 6, 7, 8, 9, 10, 0, time.UTC),
	}
	invalid := x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}
	o := https.Options{Host: "example.test", Port: 8443}
	withCert := o
	withCert.Cert = "client.pem"
	tests := []struct {
		name string
		kind error
		err  error // the cause
		opts https.Options
		want string
	}{
		{"unknown authority", https.ErrUnknownAuthority, nil, o, "certificate signed by unknown authority: pass --ca FILE or --insecure"},
		{"self-signed", https.ErrSelfSigned, nil, o, "server certificate is self-signed: pass that certificate as --ca FILE to trust it, or --insecure"},
		{"name mismatch", https.ErrNameMismatch, nil, o, "certificate is not valid for example.test: use a name it covers, or --insecure"},
		{"expired", https.ErrExpired, invalid, o, "server certificate expired on 2020-06-07T08:09:10Z: the server must renew it, or pass --insecure"},
		{"not yet valid", https.ErrNotYetValid, invalid, o, "server certificate is not valid until 2030-01-02T03:04:05Z: check the clocks"},
		{"client certificate required", https.ErrClientCertRefused, nil, o, "the server requires a client certificate: pass --cert FILE --key FILE"},
		{"client certificate refused", https.ErrClientCertRefused, nil, withCert, "the server refused the client certificate: pass --cert FILE --key FILE that it trusts"},
		{"header too large", https.ErrHeaderTooLarge, nil, o, "the server's response headers are larger than 1048576 bytes"},
		{"body too large", https.ErrBodyTooLarge, nil, https.Options{MaxBodyBytes: 5}, "maximum file size exceeded: the response body is larger than --max-filesize 5 bytes"},
		{"refused", https.ErrRefused, nil, o, "connection refused: nothing listens on example.test:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := explain(&https.Error{Op: "GET", URL: "https://example.test:8443/", Kind: tt.kind, Err: tt.err}, tt.opts)
			if got := err.Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("explain(%v) = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}
