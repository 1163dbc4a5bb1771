package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
)

// TestGetAgainstServe: `httpskit get` trusts `httpskit serve` through the printed CA file and
// only through it.
func TestGetAgainstServe(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from serve\n"), 0o644))
	site := startServe(t, "--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	out, _, err := runFetchTest(runGet, "--ca", site.caFile, site.url+"hello.txt")
	if err != nil || out != "hello from serve\n" {
		t.Errorf("get --ca <printed CA> = %q, %v; want the file", out, err)
	}
	out, _, err = runFetchTest(runRequest, "-X", "HEAD", "-i", "--cacert", site.caFile, site.url+"hello.txt")
	if err != nil || !strings.Contains(out, " 200 ") || !strings.Contains(out, "Content-Length: 17") {
		t.Errorf("request -X HEAD -i = %q, %v; want a 200 status line and Content-Length: 17", out, err)
	}
	_, _, err = runFetchTest(runGet, site.url+"hello.txt")
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority: pass --ca FILE or --insecure") {
		t.Errorf("get without --ca = %v, want the unknown-authority hint", err)
	}
	if code := exitCode(err, new(strings.Builder)); code != 60 {
		t.Errorf("exit code %d, want 60 (curl's: peer certificate not trusted)", code)
	}
}

// pemFiles writes a CA and a localhost leaf for outside servers, returning the file names.
func pemFiles(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	ca, err := certs.NewCA("interop test CA", 0)
	must(t, err)
	c, k, err := ca.Issue(certs.LeafOptions{})
	must(t, err)
	dir := t.TempDir()
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(caFile, ca.CertPEM, 0o644))
	must(t, certs.WriteFiles(certFile, c, keyFile, k))
	return caFile, certFile, keyFile
}

// freePort returns a port that was free a moment ago, for outside servers that cannot
// report the port they chose.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// waitListening waits until something accepts on addr, or fails the test.
func waitListening(t *testing.T, addr string, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("server exited before listening on %s: %v", addr, err)
		case <-time.After(20 * time.Millisecond): // polling a condition, bounded by deadline
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after 20s", addr)
		}
	}
}

// startProcess runs an outside server until the test ends.
func startProcess(t *testing.T, cmd *exec.Cmd) <-chan error {
	t.Helper()
	exited := make(chan error, 1)
	must(t, cmd.Start())
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return exited
}

// TestGetAgainstOpenSSL: our client against `openssl s_server -www`, over TLS 1.2 and 1.3.
func TestGetAgainstOpenSSL(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	caFile, certFile, keyFile := pemFiles(t)
	for _, version := range []string{"-tls1_2", "-tls1_3"} {
		t.Run(version, func(t *testing.T) {
			port := freePort(t)
			cmd := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:"+port, "-cert", certFile, "-key", keyFile, "-www", version)
			stdout, err := cmd.StdoutPipe()
			must(t, err)
			exited := startProcess(t, cmd)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !strings.Contains(sc.Text(), "ACCEPT") {
			}
			go func() { // keep draining so the server never blocks on its output
				for sc.Scan() {
				}
			}()
			waitListening(t, "127.0.0.1:"+port, exited)
			out, _, err := runFetchTest(runGet, "--ca", caFile, "https://localhost:"+port+"/")
			// The page lists every cipher of both versions; its session part names the one
			// negotiated.
			want := map[string]string{"-tls1_2": "Protocol  : TLSv1.2", "-tls1_3": "Protocol  : TLSv1.3"}[version]
			if err != nil || !strings.Contains(out, "s_server") || !strings.Contains(out, want) {
				t.Errorf("get from openssl s_server %s = %.200q, %v; want its status page with %q", version, out, err, want)
			}
		})
	}
}

// TestGetAgainstNginx: our client against nginx (Debian package) over HTTP/1.1 and HTTP/2.
func TestGetAgainstNginx(t *testing.T) {
	nginx := testenv.LookPath(t, "nginx")
	caFile, certFile, keyFile := pemFiles(t)
	dir := t.TempDir()
	port := freePort(t)
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
  server {
    listen 127.0.0.1:` + port + ` ssl http2;
    ssl_certificate ` + certFile + `;
    ssl_certificate_key ` + keyFile + `;
    location / { default_type text/plain; return 200 "hello from nginx\n"; }
  }
}
`
	confFile := filepath.Join(dir, "nginx.conf")
	must(t, os.WriteFile(confFile, []byte(conf), 0o644))
	cmd := exec.Command(nginx, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "error.log"))
	exited := startProcess(t, cmd)
	waitListening(t, "127.0.0.1:"+port, exited)
	out, _, err := runFetchTest(runGet, "-i", "--ca", caFile, "https://localhost:"+port+"/")
	if err != nil || !strings.HasPrefix(out, "HTTP/2.0 200") || !strings.HasSuffix(out, "hello from nginx\n") {
		t.Errorf("get -i from nginx = %q, %v; want HTTP/2.0 200 and the body", out, err)
	}
	out, _, err = runFetchTest(runRequest, "-X", "POST", "-d", "x=1", "--ca", caFile, "https://localhost:"+port+"/")
	if err != nil || out != "hello from nginx\n" {
		t.Errorf("request -X POST to nginx = %q, %v", out, err)
	}
	_, _, err = runFetchTest(runGet, "https://localhost:"+port+"/")
	if err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("get from nginx without --ca = %v, want unknown authority", err)
	}
}
