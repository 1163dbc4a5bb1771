package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
	"github.com/httpskit/httpskit/server"
	"software.sslmate.com/src/go-pkcs12"
)

// paritySite is a package server on loopback with several listeners sharing
// one router: a trusted certificate (for localhost, 127.0.0.1 and
// parity.test), an expired one, one from a CA nobody trusts, one that
// requires a client certificate (over TLS 1.3, and 1.2), and plain HTTP. Files holds the CA, the
// client certificate with its key in one file, and so on.
type paritySite struct {
	trusted, expired, untrusted, mtls, mtls12, plain int // ports
	caFile, clientFile                               string
	clientP12                                        string // a PKCS #12 file with a ':' in its name, as -E takes it (escaped)
	closedPort                                       int
}

func startParitySite(t *testing.T) *paritySite {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data ...[]byte) string {
		name = filepath.Join(dir, name)
		must(t, os.WriteFile(name, bytes.Join(data, nil), 0o600))
		return name
	}
	ca, err := certs.NewCA("curl parity CA", 0)
	must(t, err)
	stranger, err := certs.NewCA("curl parity stranger CA", 0)
	must(t, err)
	hosts := []string{"localhost", "127.0.0.1", "parity.test"}
	goodCert, goodKey, err := ca.Issue(certs.LeafOptions{Hosts: hosts})
	must(t, err)
	oldCert, oldKey, err := ca.Issue(certs.LeafOptions{Hosts: hosts,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	must(t, err)
	oldPair, err := tls.X509KeyPair(oldCert, oldKey)
	must(t, err)
	strangerCert, strangerKey, err := stranger.Issue(certs.LeafOptions{Hosts: hosts})
	must(t, err)
	clientCert, clientKey, err := ca.Issue(certs.LeafOptions{Client: true})
	must(t, err)
	site := &paritySite{caFile: write("ca.pem", ca.CertPEM), clientFile: write("client.pem", clientCert, clientKey)}
	clientPair, err := tls.X509KeyPair(clientCert, clientKey)
	must(t, err)
	p12, err := pkcs12.Modern.Encode(clientPair.PrivateKey, clientPair.Leaf, []*x509.Certificate{ca.Cert}, "parity pass")
	must(t, err)
	site.clientP12 = strings.ReplaceAll(write("client:cert.p12", p12), ":", `\:`)

	s := server.New(server.Config{})
	local := server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort}
	var listeners []*server.Listener
	for _, cfg := range []server.HTTPSConfig{
		{HTTPConfig: local, CertPEM: goodCert, KeyPEM: goodKey},
		{HTTPConfig: local, TLSConfig: &tls.Config{Certificates: []tls.Certificate{oldPair}}}, // the server refuses to load it otherwise
		{HTTPConfig: local, CertPEM: strangerCert, KeyPEM: strangerKey},
		{HTTPConfig: local, CertPEM: goodCert, KeyPEM: goodKey, CA: string(ca.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert},
		{HTTPConfig: local, CertPEM: goodCert, KeyPEM: goodKey, CA: string(ca.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert,
			MaxVersion: tls.VersionTLS12},
	} {
		l, err := s.AddHTTPSServer(cfg)
		must(t, err)
		listeners = append(listeners, l)
	}
	plain, err := s.AddHTTPServer(local)
	must(t, err)
	routeParity(t, s)
	must(t, s.Start(context.Background()))
	t.Cleanup(func() { s.Stop(context.Background()) })
	site.trusted, site.expired, site.untrusted, site.mtls = listeners[0].Port(), listeners[1].Port(), listeners[2].Port(), listeners[3].Port()
	site.mtls12 = listeners[4].Port()
	site.plain = plain.Port()
	site.closedPort, _ = strconv.Atoi(freePort(t))
	return site
}

// routeParity adds the routes the parity tests fetch.
func routeParity(t *testing.T, s *server.Server) {
	t.Helper()
	route := func(path string, h func(w http.ResponseWriter, r *http.Request)) {
		must(t, s.RouteFunc("*", path, func(_ string, req *server.Request, res *server.Response) error {
			h(res.Original(), req.Original())
			return nil
		}))
	}
	route("/hello", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello, world\n")) })
	route("/agent", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("agent=" + r.UserAgent())) })
	route("/echo", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		w.Write([]byte(r.Method + " " + r.Header.Get("Content-Type") + " " + b.String()))
	})
	route("/stall", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	route("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(bytes.Repeat([]byte("b"), 100000))
	})
	var mu sync.Mutex
	tries := map[string]int{}
	route("/flaky", func(w http.ResponseWriter, r *http.Request) { // 503 with Retry-After: 1 the first time per ?k=
		mu.Lock()
		tries[r.URL.RawQuery]++
		n := tries[r.URL.RawQuery]
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok after " + strconv.Itoa(n) + "\n"))
	})
	route("/gz", func(w http.ResponseWriter, r *http.Request) { // gzip when asked for
		body := bytes.Repeat([]byte("squeeze me\n"), 100)
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Write(body)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(body)
		zw.Close()
	})
	route("/badgz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write([]byte("this is not gzip at all"))
	})
	route("/go", func(w http.ResponseWriter, r *http.Request) { // a redirect: ?code=307&to=URL
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		io.Copy(io.Discard, r.Body) // else HTTP/2 resets the stream of a POST, and curl exits 92
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(code)
	})
	route("/auth", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("auth=" + r.Header.Get("Authorization") + " cookie=" + r.Header.Get("Cookie") + "\n"))
	})
	route("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	must(t, s.Redirect("GET", "/moved", "/hello", true))
}

// parityRun is what one tool did: its exit code and standard output.
type parityRun struct {
	code   int
	stdout string
	stderr string
}

// runCurlEnv runs curl with args (no .curlrc, no proxy from the
// environment), with the variables env (NAME=VALUE) added.
func runCurlEnv(t *testing.T, curl string, env []string, args ...string) parityRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, append([]string{"-q"}, args...)...)
	cmd.Env = append(withoutProxy(os.Environ()), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("curl %s did not finish in %v", strings.Join(args, " "), peerTimeout)
	}
	return parityRun{code: exitCodeOf(t, err), stdout: stdout.String(), stderr: stderr.String()}
}

// runHTTPSKitEnv runs `httpskit args...` as a process (the test binary
// running main), with the variables env (NAME=VALUE) added.
func runHTTPSKitEnv(t *testing.T, env []string, args ...string) parityRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := testenv.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(httpskitEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("httpskit %s did not finish in %v", strings.Join(args, " "), peerTimeout)
	}
	return parityRun{code: exitCodeOf(t, err), stdout: stdout.String(), stderr: stderr.String()}
}

// httpskitEnv is the environment of the test binary run as httpskit: no
// proxy variables, main instead of the tests, and no one-second sleep at
// exit under the race detector.
func httpskitEnv() []string {
	gorace := "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
	return append(withoutProxy(os.Environ()), runMainEnv+"=1", gorace)
}

func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// withoutProxy drops the proxy variables curl would honour.
func withoutProxy(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(name) {
		case "http_proxy", "https_proxy", "all_proxy", "no_proxy":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// TestCurlParity runs the same command line with curl and with `httpskit
// get` against the same servers and compares the exit code and, unless the
// row says otherwise, standard output: successes and failures alike. In
// the arguments, {trusted}, {expired}, {untrusted}, {mtls}, {plain} and
// {closed} are ports, {ca}, {client} and {p12} (escaped for -E) files, {dir} a directory of each
// tool's own and {tool} "curl" or "httpskit".
func TestCurlParity(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	site := startParitySite(t)
	tests := []parityCase{
		{"body", []string{"--cacert", "{ca}", "https://127.0.0.1:{trusted}/hello"}, 0, false, "", nil},
		{"combined short flags follow a redirect", []string{"-fsSL", "--cacert", "{ca}", "https://localhost:{trusted}/moved"}, 0, false, "", nil},
		{"redirect not followed", []string{"-s", "--cacert", "{ca}", "-w", "%{http_code}", "https://localhost:{trusted}/moved"}, 0, false, "", nil},
		{"-o - is stdout", []string{"-sS", "-o", "-", "--cacert", "{ca}", "https://localhost:{trusted}/hello"}, 0, false, "", nil},
		{"-o- attached", []string{"-so-", "--cacert", "{ca}", "https://localhost:{trusted}/hello"}, 0, false, "", nil},
		{"write-out", []string{"-s", "-o", "/dev/null", "--cacert", "{ca}", "-w",
			`%{http_code} %{http_version} %{size_download} %{url_effective} %{remote_ip} %{num_redirects}\n`,
			"https://127.0.0.1:{trusted}/big"}, 0, false, "", nil},
		{"--http1.1", []string{"-s", "-o", "/dev/null", "--http1.1", "--cacert", "{ca}", "-w", "%{http_version}", "https://localhost:{trusted}/hello"}, 0, false, "", nil},
		{"--http2", []string{"-s", "-o", "/dev/null", "--http2", "--cacert", "{ca}", "-w", "%{http_version}", "https://localhost:{trusted}/hello"}, 0, false, "", nil},
		{"user agent", []string{"-s", "-A", "parity/1", "--cacert", "{ca}", "https://localhost:{trusted}/agent"}, 0, false, "", nil},
		{"POST data", []string{"-s", "-d", "a=1", "-d", "b=2", "--cacert", "{ca}", "https://localhost:{trusted}/echo"}, 0, false, "", nil},
		{"PUT", []string{"-s", "-X", "PUT", "--data-binary", "raw", "--cacert", "{ca}", "https://localhost:{trusted}/echo"}, 0, false, "", nil},
		{"HEAD", []string{"-sI", "--cacert", "{ca}", "https://localhost:{trusted}/hello"}, 0, true, "", nil},
		{"--resolve", []string{"-s", "--resolve", "parity.test:{trusted}:127.0.0.1", "--cacert", "{ca}", "https://parity.test:{trusted}/hello"}, 0, false, "", nil},
		{"plain http://", []string{"-s", "http://127.0.0.1:{plain}/hello"}, 0, false, "", nil},
		{"http:// to an HTTPS port", []string{"-s", "-w", "%{http_code}", "http://127.0.0.1:{trusted}/hello"}, 0, false, "", nil},
		{"client certificate and key in one file", []string{"-s", "-E", "{client}", "--cacert", "{ca}", "https://localhost:{mtls}/hello"}, 0, false, "", nil},
		{"--create-dirs", []string{"-s", "--create-dirs", "-o", "{dir}/a/b/body", "--cacert", "{ca}", "https://localhost:{trusted}/hello"}, 0, false, "a/b/body", nil},
		{"retry honours Retry-After", []string{"-s", "--retry", "2", "--cacert", "{ca}", "https://localhost:{trusted}/flaky?k={tool}"}, 0, false, "", nil},

		{"--compressed", []string{"-s", "--compressed", "--cacert", "{ca}", "https://localhost:{trusted}/gz"}, 0, false, "", nil},
		{"not compressed unless asked", []string{"-s", "--cacert", "{ca}", "https://localhost:{trusted}/gz"}, 0, false, "", nil},
		// size_download counts the bytes as they came (compressed), and -D shows the
		// Content-Encoding and Content-Length as sent: the CLI decodes gzip itself for
		// these, not with Options.Decompress (which drops both headers and counts
		// decoded bytes).
		{"--compressed counts compressed bytes", []string{"-s", "--compressed", "-o", "/dev/null", "-w", "%{size_download}", "--cacert", "{ca}", "https://localhost:{trusted}/gz"}, 0, false, "", nil},
		{"--compressed, not gzip", []string{"-s", "--compressed", "--cacert", "{ca}", "https://localhost:{trusted}/badgz"}, 61, false, "", nil},

		// -L: the rules are package https's (RedirectPlain); the file body is sent again on 307.
		{"-L 307 keeps POST and its body", []string{"-sL", "-d", "a=1", "--cacert", "{ca}", "https://localhost:{trusted}/go?code=307&to=/echo"}, 0, false, "", nil},
		{"-L 308 sends a file body again", []string{"-sL", "--data-binary", "@{ca}", "--cacert", "{ca}", "https://localhost:{trusted}/go?code=308&to=/echo"}, 0, false, "", nil},
		{"-L 303 becomes GET", []string{"-sL", "-d", "a=1", "--cacert", "{ca}", "https://localhost:{trusted}/go?code=303&to=/echo"}, 0, false, "", nil},
		{"-L 302 after POST becomes GET", []string{"-sL", "-d", "a=1", "--cacert", "{ca}", "https://localhost:{trusted}/go?code=302&to=/echo"}, 0, false, "", nil},
		{"-L keeps credentials on the same host", []string{"-sL", "-u", "u:p", "-H", "Cookie: c=1", "--cacert", "{ca}", "https://localhost:{trusted}/go?code=302&to=/auth"}, 0, false, "", nil},
		{"-L drops credentials for another host", []string{"-sL", "-u", "u:p", "-H", "Cookie: c=1", "--cacert", "{ca}",
			"https://localhost:{trusted}/go?code=302&to=https://127.0.0.1:{trusted}/auth"}, 0, false, "", nil},
		{"-L https to http", []string{"-sL", "--cacert", "{ca}", "https://localhost:{trusted}/go?code=301&to=http://127.0.0.1:{plain}/hello"}, 0, false, "", nil},
		{"-L http to https", []string{"-sL", "--cacert", "{ca}", "-w", "%{num_redirects} %{url_effective}", "http://localhost:{plain}/go?code=301&to=https://localhost:{trusted}/hello"}, 0, false, "", nil},
		{"-L --max-redirs exceeded", []string{"-sL", "--max-redirs", "3", "--cacert", "{ca}", "-w", "%{num_redirects}", "https://localhost:{trusted}/loop"}, 47, false, "", nil},
		{"-L default redirect limit", []string{"-sL", "--cacert", "{ca}", "https://localhost:{trusted}/loop"}, 47, false, "", nil},
		{"-L --max-redirs enough", []string{"-sL", "--max-redirs", "1", "--cacert", "{ca}", "https://localhost:{trusted}/moved"}, 0, false, "", nil},

		{"404 with -f", []string{"-sf", "--cacert", "{ca}", "-w", "%{http_code}", "https://localhost:{trusted}/missing"}, 22, false, "", nil},
		{"refused", []string{"-s", "-w", "%{http_code}", "https://127.0.0.1:{closed}/"}, 7, false, "", nil},
		{"unknown host", []string{"-s", "https://nowhere.invalid:{trusted}/"}, 6, false, "", nil},
		{"untrusted certificate", []string{"-s", "--cacert", "{ca}", "https://localhost:{untrusted}/hello"}, 60, false, "", nil},
		{"expired certificate", []string{"-s", "--cacert", "{ca}", "https://localhost:{expired}/hello"}, 60, false, "", nil},
		{"name mismatch", []string{"-s", "--resolve", "other.test:{trusted}:127.0.0.1", "--cacert", "{ca}", "https://other.test:{trusted}/hello"}, 60, false, "", nil},
		{"system roots do not know the CA", []string{"-s", "https://localhost:{trusted}/hello"}, 60, false, "", nil},
		{"timeout", []string{"-s", "-m", "0.5", "--cacert", "{ca}", "https://localhost:{trusted}/stall"}, 28, false, "", nil},
		{"max filesize", []string{"-s", "--max-filesize", "1000", "--cacert", "{ca}", "https://localhost:{trusted}/big"}, 63, false, "", nil},
		{"write failure", []string{"-s", "-o", "{dir}/missing/body", "--cacert", "{ca}", "https://localhost:{trusted}/hello"}, 23, false, "", nil},
		// curl says 55 or 56 (TLS 1.3: the alert comes after the handshake, while sending or
		// receiving) or 35 (TLS 1.2); httpskit says 58 either way: the client certificate.
		{"client certificate required", []string{"-s", "--cacert", "{ca}", "https://localhost:{mtls}/hello"}, 58, false, "", []int{55, 56}},
		{"client certificate required, TLS 1.2", []string{"-s", "--cacert", "{ca}", "https://localhost:{mtls12}/hello"}, 58, false, "", []int{35}},
		{"client certificate missing", []string{"-s", "-E", "{dir}/nothing.pem", "--cacert", "{ca}", "https://localhost:{mtls}/hello"}, 58, false, "", nil},
		{"client certificate from P12 -E FILE:PASSWORD, ':' escaped in FILE", []string{"-s", "--cert-type", "P12", "-E", "{p12}:parity pass", "--cacert", "{ca}", "https://localhost:{mtls}/hello"}, 0, false, "", nil},
		{"P12 -E FILE:PASSWORD, wrong password", []string{"-s", "--cert-type", "P12", "-E", "{p12}:nope", "--cacert", "{ca}", "https://localhost:{mtls}/hello"}, 58, false, "", nil},
		{"CA file missing", []string{"-s", "--cacert", "{dir}/nothing.pem", "https://localhost:{trusted}/hello"}, 77, false, "", nil},
		{"unknown flag", []string{"--no-such-flag", "https://localhost:{trusted}/hello"}, 2, false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParity(t, curl, tt, site.expand) })
	}
}

// parityCase is one command line run with curl and with `httpskit get`.
type parityCase struct {
	name       string
	args       []string
	code       int    // the exit code of both
	skipStdout bool   // the output differs by design (headers, versions)
	file       string // a file under {dir} whose content must match too
	curlCodes  []int  // curl's, where they differ from code by design
}

// checkParity runs tt with curl and with httpskit get, with the arguments
// expand makes for each tool (dir is the tool's own), and compares.
func checkParity(t *testing.T, curl string, tt parityCase, expand func(args []string, tool, dir string) []string) {
	t.Helper()
	checkParityEnv(t, curl, tt, nil, expand)
}

// checkParityEnv is checkParity with the variables env (NAME=VALUE) in
// both tools' environment.
func checkParityEnv(t *testing.T, curl string, tt parityCase, env []string, expand func(args []string, tool, dir string) []string) {
	t.Helper()
	runs := map[string]parityRun{}
	dirs := map[string]string{}
	for _, tool := range []string{"curl", "httpskit"} {
		dirs[tool] = t.TempDir()
		args := expand(tt.args, tool, dirs[tool])
		if tool == "curl" {
			runs[tool] = runCurlEnv(t, curl, env, args...)
		} else {
			runs[tool] = runHTTPSKitEnv(t, env, append([]string{"get"}, args...)...)
		}
	}
	c, h := runs["curl"], runs["httpskit"]
	curlCodes := tt.curlCodes
	if curlCodes == nil {
		curlCodes = []int{tt.code}
	}
	if !slices.Contains(curlCodes, c.code) {
		t.Errorf("curl exited %d, want one of %d (the table is wrong?)\nstderr: %s", c.code, curlCodes, c.stderr)
	}
	if h.code != tt.code {
		t.Errorf("httpskit get exited %d, want %d (curl %d)\nhttpskit stderr: %s\ncurl stderr: %s", h.code, tt.code, c.code, h.stderr, c.stderr)
	}
	if !tt.skipStdout && h.stdout != c.stdout {
		t.Errorf("stdout:\nhttpskit %q\ncurl     %q", clip(h.stdout), clip(c.stdout))
	}
	if tt.file != "" {
		cf, _ := os.ReadFile(filepath.Join(dirs["curl"], tt.file))
		hf, err := os.ReadFile(filepath.Join(dirs["httpskit"], tt.file))
		if err != nil || !bytes.Equal(hf, cf) || len(cf) == 0 {
			t.Errorf("%s: httpskit wrote %q (%v), curl %q", tt.file, hf, err, cf)
		}
	}
	if h.code != 0 && h.code != 2 && strings.Count(strings.TrimSpace(h.stderr), "\n") > 0 {
		t.Errorf("httpskit's message is more than one line: %q", h.stderr)
	}
}

// expand fills in the placeholders of args for tool, with dir its own.
func (s *paritySite) expand(args []string, tool, dir string) []string {
	r := strings.NewReplacer(
		"{trusted}", strconv.Itoa(s.trusted), "{expired}", strconv.Itoa(s.expired),
		"{untrusted}", strconv.Itoa(s.untrusted), "{mtls}", strconv.Itoa(s.mtls), "{mtls12}", strconv.Itoa(s.mtls12),
		"{plain}", strconv.Itoa(s.plain), "{closed}", strconv.Itoa(s.closedPort),
		"{ca}", s.caFile, "{client}", s.clientFile, "{p12}", s.clientP12, "{dir}", dir, "{tool}", tool)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = r.Replace(a)
	}
	return out
}

// TestCurlParityClosedPipe: standard output is a pipe whose reader has
// gone (as "| head" leaves it): both tools fail to write and exit 23.
func TestCurlParityClosedPipe(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	site := startParitySite(t)
	url := "https://localhost:" + strconv.Itoa(site.trusted) + "/big"
	for _, tool := range []string{"curl", "httpskit"} {
		r, w, err := os.Pipe()
		must(t, err)
		r.Close()
		args := []string{"-sS", "--cacert", site.caFile, url}
		cmd := exec.Command(curl, append([]string{"-q"}, args...)...)
		if tool == "httpskit" {
			cmd = testenv.Command(os.Args[0], append([]string{"get"}, args...)...)
		}
		cmd.Env = httpskitEnv() // curl ignores the variables it does not know
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = w, &stderr
		err = cmd.Run()
		w.Close()
		if code := exitCodeOf(t, err); code != 23 {
			t.Errorf("%s into a closed pipe: exit %d, want 23\nstderr: %s", tool, code, stderr.String())
		}
	}
}

// TestCurlParityNginx: the parity check against nginx (Debian package): a
// plain HTTP port that redirects to HTTPS, as people check with http://
// URLs, gzip when asked for, HTTP/1.1 and HTTP/2, 404 with -f and an
// nginx 503 retried.
func TestCurlParityNginx(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	nginx := testenv.LookPath(t, "nginx")
	caFile, certFile, keyFile := pemFiles(t)
	dir := t.TempDir()
	plain, secure := freePort(t), freePort(t)
	must(t, os.WriteFile(filepath.Join(dir, "page.txt"), bytes.Repeat([]byte("nginx page\n"), 200), 0o644))
	conf := `daemon off;
master_process off;
worker_processes 1;
pid ` + dir + `/nginx.pid;
error_log ` + dir + `/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ` + dir + `/body;
  proxy_temp_path ` + dir + `/proxy;
  fastcgi_temp_path ` + dir + `/fastcgi;
  uwsgi_temp_path ` + dir + `/uwsgi;
  scgi_temp_path ` + dir + `/scgi;
  gzip on;
  gzip_min_length 0;
  gzip_types text/plain;
  server {
    listen 127.0.0.1:` + plain + `;
    location / { return 301 https://localhost:` + secure + `$request_uri; }
  }
  server {
    listen 127.0.0.1:` + secure + ` ssl http2;
    ssl_certificate ` + certFile + `;
    ssl_certificate_key ` + keyFile + `;
    root ` + dir + `;
    default_type text/plain;
    location = /busy { return 503; }
  }
}
`
	confFile := filepath.Join(dir, "nginx.conf")
	must(t, os.WriteFile(confFile, []byte(conf), 0o644))
	exited := startProcess(t, exec.Command(nginx, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log")))
	waitListening(t, "127.0.0.1:"+plain, exited)
	waitListening(t, "127.0.0.1:"+secure, exited)
	expand := func(args []string, tool, dir string) []string {
		r := strings.NewReplacer("{plain}", plain, "{secure}", secure, "{ca}", caFile, "{dir}", dir)
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = r.Replace(a)
		}
		return out
	}
	for _, tt := range []parityCase{
		{"redirect port", []string{"-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "http://127.0.0.1:{plain}/page.txt"}, 0, false, "", nil},
		{"redirect port followed", []string{"-fsSL", "--cacert", "{ca}", "-w", "%{num_redirects} %{url_effective}", "http://localhost:{plain}/page.txt"}, 0, false, "", nil},
		{"--compressed", []string{"-s", "--compressed", "--cacert", "{ca}", "https://localhost:{secure}/page.txt"}, 0, false, "", nil},
		{"--http1.1 --compressed to a file", []string{"-s", "--http1.1", "--compressed", "--cacert", "{ca}", "-o", "{dir}/page", "-w", "%{http_version}", "https://localhost:{secure}/page.txt"}, 0, false, "page", nil},
		{"404 with -f", []string{"-sSf", "--cacert", "{ca}", "https://localhost:{secure}/none"}, 22, false, "", nil},
		{"503 retried, then -f", []string{"-sf", "--retry", "1", "--retry-delay", "1", "--cacert", "{ca}", "-w", "%{http_code}", "https://localhost:{secure}/busy"}, 22, false, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) { checkParity(t, curl, tt, expand) })
	}
}
