package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// lineWriter collects output and hands each complete line to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	all   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 100)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case w.lines <- strings.TrimRight(line, "\n"):
		default:
		}
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// servedSite is a running `httpskit serve` in this process.
type servedSite struct {
	url, caFile    string
	stdout, stderr *lineWriter
	stop           func() error
}

// startServe runs `httpskit serve args...` until the test ends, and waits until it has
// printed all it prints on start (its URL and CA lines, the hints, then "press Ctrl-C").
func startServe(t *testing.T, args ...string) *servedSite {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := newLineWriter(), newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), out, errOut) }()
	site := &servedSite{stdout: out, stderr: errOut}
	var once sync.Once
	var stopErr error
	site.stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { site.stop() })
	timeout := time.After(30 * time.Second)
	for ready := false; !ready; {
		select {
		case line := <-out.lines:
			switch {
			case strings.HasPrefix(line, "press Ctrl-C to stop"):
				ready = true
			case strings.HasPrefix(line, "HTTPS "):
				site.url = strings.TrimSpace(strings.TrimPrefix(line, "HTTPS "))
			case strings.HasPrefix(line, "CA file: "):
				site.caFile = strings.TrimPrefix(line, "CA file: ")
			}
		case err := <-done:
			t.Fatalf("serve exited early: %v\nstdout: %s\nstderr: %s", err, out, errOut)
		case <-timeout:
			t.Fatalf("serve did not finish starting in 30s; stdout: %s", out)
		}
	}
	if site.url == "" {
		t.Fatalf("serve printed no URL; stdout: %s", out)
	}
	return site
}

func caClient(t *testing.T, caFile string, h2 bool) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(!h2)
	tr.Protocols.SetHTTP2(h2)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func TestServeDirectory(t *testing.T) {
	dir := t.TempDir()
	caRoot := filepath.Join(t.TempDir(), "ca")
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello over TLS\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "<b>&.txt"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o644))
	site := startServe(t, "--port", "0", "--ca-root", caRoot, dir)
	if strings.HasSuffix(site.url, ":7080/") || !strings.HasPrefix(site.url, "https://localhost:") {
		t.Errorf("printed URL %q, want https://localhost:<free port>/", site.url)
	}
	if !strings.HasPrefix(site.caFile, caRoot) {
		t.Errorf("CA file %q is not under the --ca-root %q", site.caFile, caRoot)
	}
	if !strings.Contains(site.stdout.String(), "curl --cacert "+site.caFile+" "+site.url) {
		t.Errorf("no curl hint in output:\n%s", site.stdout)
	}
	for _, h2 := range []bool{false, true} {
		c := caClient(t, site.caFile, h2)
		for _, tt := range []struct {
			path   string
			status int
			want   string
		}{
			{"hello.txt", 200, "hello over TLS\n"},
			{"", 200, "&lt;b&gt;&amp;.txt"},
			{".env", 404, "Not found"},
			{"missing", 404, "Not found"},
		} {
			resp, err := c.Get(site.url + tt.path)
			if err != nil {
				t.Fatalf("h2=%v GET /%s: %v", h2, tt.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("h2=%v GET /%s = %d %q, want %d containing %q", h2, tt.path, resp.StatusCode, body, tt.status, tt.want)
			}
			if h2 != (resp.ProtoMajor == 2) {
				t.Errorf("h2=%v GET /%s: protocol %s", h2, tt.path, resp.Proto)
			}
			if strings.Contains(string(body), "SECRET") || strings.Contains(string(body), ".env") {
				t.Errorf("h2=%v GET /%s leaked the dotfile: %q", h2, tt.path, body)
			}
		}
	}
	if err := site.stop(); err != nil {
		t.Errorf("serve after Ctrl-C returned %v, want nil", err)
	}
}

// TestServeCurl is the README promise: curl --cacert <printed CA> fetches the printed URL
// with status 200 over HTTP/1.1 and HTTP/2, and curl without it refuses the certificate.
func TestServeCurl(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>hi</h1>"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("plain notes\n"), 0o644))
	// The directory may come before the flags, as with curl's URL.
	site := startServe(t, dir, "--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca"))
	tests := []struct {
		name string
		args []string
		want string // the body, then the status and HTTP version curl reports
		exit int    // curl's exit code
	}{
		{"HTTP/1.1", []string{"--http1.1", "--cacert", site.caFile, site.url}, "<h1>hi</h1>\n200 1.1", 0},
		{"HTTP/2", []string{"--http2", "--cacert", site.caFile, site.url}, "<h1>hi</h1>\n200 2", 0},
		{"HTTP/2 file", []string{"--http2", "--cacert", site.caFile, site.url + "notes.txt"}, "plain notes\n\n200 2", 0},
		{"no CA", []string{"--http2", site.url}, "SSL certificate problem", 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runPeer(t, "", curl, append([]string{"-sS", "-w", "\n%{http_code} %{http_version}"}, tt.args...)...)
			exit := 0
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee):
				exit = ee.ExitCode()
			case err != nil:
				t.Fatalf("curl %s: %v", tt.args, err)
			}
			if exit != tt.exit || !strings.Contains(out, tt.want) || (tt.exit == 0 && out != tt.want) {
				t.Errorf("curl %s = exit %d %q, want exit %d %q", tt.args, exit, out, tt.exit, tt.want)
			}
		})
	}
}

func TestServeUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"two dirs", []string{"serve", "a", "b"}, "at most one directory"},
		{"cert without key", []string{"serve", "--cert", "c.pem"}, "--cert and --key go together"},
		{"bad port", []string{"serve", "--port", "70000"}, "port out of range"},
		{"unknown flag", []string{"serve", "--nope"}, `unknown flag --nope (run "httpskit serve -h" for the flags)`},
		{"config with dir", []string{"serve", "--config", "x.json", "dir"}, "--config describes the whole site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, io.Discard, &stderr)
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v, want a usage error containing %q", tt.args, err, tt.want)
			}
			if code := exitCode(err, io.Discard); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
		})
	}
}

func TestServeBusyPort(t *testing.T) {
	caRoot := filepath.Join(t.TempDir(), "ca")
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", caRoot, t.TempDir())
	port := site.url[strings.LastIndex(site.url, ":")+1 : len(site.url)-1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve", "--port", port, "--host", "127.0.0.1", "--ca-root", caRoot, t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second serve on port %s = %v, want 'address already in use'", port, err)
	}
	if code := exitCode(err, io.Discard); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	must(t, run(context.Background(), []string{"version"}, &out, io.Discard))
	if !strings.HasPrefix(out.String(), "httpskit ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("version printed %q", out.String())
	}
	if got := strings.Contains(out.String(), " noredis go1."); got == redisSupport {
		t.Errorf("version printed %q; a build with Redis = %v must say noredis only without it", out.String(), redisSupport)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard)
	if exitCode(err, io.Discard) != 2 {
		t.Errorf("unknown command: %v, want exit code 2", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	public := filepath.Join(dir, "public")
	must(t, os.Mkdir(public, 0o755))
	must(t, os.WriteFile(filepath.Join(public, "index.html"), []byte("<p>site</p>"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "robots.txt"), []byte("User-agent: *\n"), 0o644))
	cfg := filepath.Join(dir, "site.json")
	must(t, os.WriteFile(cfg, []byte(`{
  "listeners": [
    {"kind": "https", "host": "127.0.0.1", "port": -1},
    {"kind": "http2", "host": "127.0.0.1", "port": -1}
  ],
  "routes": [
    {"path": "/old", "redirect": "/new", "temporary": true},
    {"method": "GET", "path": "/robots.txt", "serve": "robots.txt"},
    {"path": "/", "serve": "public"}
  ]
}`), 0o644))
	t.Setenv("HTTPSKIT_CAROOT", filepath.Join(t.TempDir(), "ca"))
	site := startServe(t, "--config", cfg)
	c := caClient(t, site.caFile, true)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	base := strings.Replace(site.url, "127.0.0.1", "localhost", 1)
	for _, tt := range []struct{ path, want string }{
		{"/", "<p>site</p>"},
		{"/robots.txt", "User-agent: *\n"},
	} {
		resp, err := c.Get(strings.TrimSuffix(base, "/") + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != tt.want {
			t.Errorf("GET %s = %d %q, want 200 %q", tt.path, resp.StatusCode, body, tt.want)
		}
	}
	resp, err := c.Get(strings.TrimSuffix(base, "/") + "/old")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/new" {
		t.Errorf("GET /old = %d Location %q, want 302 /new", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "site.json")
	must(t, os.WriteFile(cfg, []byte(`{"listeners":[{"kind":"https","port":-1,"cert":"nope.pem","key":"nope-key.pem"}]}`), 0o644))
	err := run(context.Background(), []string{"serve", "--config", cfg}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listeners[0]") || !strings.Contains(err.Error(), "nope.pem") {
		t.Fatalf("serve --config with a missing cert = %v, want an error naming listeners[0] and nope.pem", err)
	}
}

// TestServeConfigHTTPRedirect: a config's http listener redirects to the first TLS listener
// (the README example), serves the site when "redirectToHTTPS" is false, and says so; with no
// TLS listener it serves the site and says why.
func TestServeConfigHTTPRedirect(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "public"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "public", "index.html"), []byte("<p>site</p>"), 0o644))
	cfg := filepath.Join(dir, "site.json")
	must(t, os.WriteFile(cfg, []byte(`{
  "listeners": [
    {"kind": "http", "host": "127.0.0.1", "port": -1},
    {"kind": "https", "host": "127.0.0.1", "port": -1},
    {"kind": "http", "host": "127.0.0.1", "port": -1, "redirectToHTTPS": false}
  ],
  "routes": [{"path": "/", "serve": "./public"}]
}`), 0o644))
	t.Setenv("HTTPSKIT_CAROOT", filepath.Join(t.TempDir(), "ca"))
	site := startServe(t, "--config", cfg)
	var plainURLs []string
	lines := strings.Split(site.stdout.String(), "\n")
	for i, line := range lines {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "HTTP" {
			plainURLs = append(plainURLs, f[1])
			note := strings.Contains(lines[i+1], "serves the site over plain HTTP")
			if want := len(plainURLs) == 2; note != want {
				t.Errorf("after %q: plain-HTTP note %v, want %v:\n%s", line, note, want, site.stdout)
			}
		}
	}
	if len(plainURLs) != 2 {
		t.Fatalf("want two HTTP lines in:\n%s", site.stdout)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(plainURLs[0] + "a/b?c=d")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := site.url + "a/b?c=d"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("GET %sa/b?c=d = %d Location %q, want 308 %q", plainURLs[0], resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, err = c.Get(plainURLs[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<p>site</p>" {
		t.Errorf("GET %s = %d %q, want the site over plain HTTP", plainURLs[1], resp.StatusCode, body)
	}
	site.stop()

	must(t, os.WriteFile(cfg, []byte(`{"listeners": [{"kind": "http", "host": "127.0.0.1", "port": -1}], "routes": [{"path": "/", "serve": "./public"}]}`), 0o644))
	out, errOut := newLineWriter(), newLineWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfg}, out, errOut) }()
	for noted := false; !noted; {
		select {
		case line := <-out.lines:
			noted = strings.Contains(line, "not redirected to HTTPS: the config has no https or http2 listener to redirect to")
			if !noted && strings.HasPrefix(line, "press Ctrl-C") {
				t.Errorf("no plain-HTTP note for an http-only config:\n%s", out)
				noted = true
			}
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, errOut)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
