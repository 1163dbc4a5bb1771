package main

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
	"software.sslmate.com/src/go-pkcs12"
)

// testPFX writes a PKCS #12 file of a localhost certificate from a new CA, protected by pass,
// and that CA's certificate; it returns both file names.
func testPFX(t *testing.T, dir, pass string) (pfxFile, caFile string) {
	t.Helper()
	ca, err := certs.NewCA("serve pfx test CA", 0)
	must(t, err)
	pair, err := ca.IssueTLS(certs.LeafOptions{})
	must(t, err)
	pfx, err := pkcs12.Modern.Encode(pair.PrivateKey, pair.Leaf, []*x509.Certificate{ca.Cert}, pass)
	must(t, err)
	pfxFile, caFile = filepath.Join(dir, "site.p12"), filepath.Join(dir, "ca.pem")
	must(t, os.WriteFile(pfxFile, pfx, 0o600))
	must(t, os.WriteFile(caFile, ca.CertPEM, 0o644))
	return pfxFile, caFile
}

// socketPath returns the path of a Unix socket called name in a new directory removed when
// the test ends; the path is short, as a socket's must fit in 108 bytes.
func socketPath(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hk")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, name)
}

// wantBody GETs url with c and checks the body.
func wantBody(t *testing.T, c *http.Client, url, want string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("GET %s = %d %q, want 200 %q", url, resp.StatusCode, body, want)
	}
}

// TestServePFX serves a PKCS #12 file whose passphrase comes from --passphrase-file, then from
// $HTTPSKIT_PASSPHRASE; a wrong one fails with a message saying so.
func TestServePFX(t *testing.T) {
	const pass = "pfx for serve"
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644))
	pfxFile, caFile := testPFX(t, t.TempDir(), pass)
	passFile := filepath.Join(t.TempDir(), "pass")
	must(t, os.WriteFile(passFile, []byte(pass+"\n"), 0o600))

	site := startServe(t, "--port", "0", "--pfx", pfxFile, "--passphrase-file", passFile, dir)
	wantBody(t, caClient(t, caFile, true), site.url+"hello.txt", "hello")
	must(t, site.stop())

	t.Setenv(passphraseEnv, pass)
	site = startServe(t, "--port", "0", "--pfx", pfxFile, dir)
	wantBody(t, caClient(t, caFile, false), site.url+"hello.txt", "hello")
	must(t, site.stop())

	t.Setenv(passphraseEnv, "wrong")
	err := run(context.Background(), []string{"serve", "--port", "0", "--pfx", pfxFile, dir}, io.Discard, io.Discard)
	if !errors.Is(err, certs.ErrPassphrase) || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), pfxFile) {
		t.Errorf("serve with a wrong passphrase = %v, want it to say so and name %s", err, pfxFile)
	}
	if code := exitCode(err, io.Discard); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

// TestServeUnixSocket serves on --listen unix:PATH and is reached through the socket, by Go
// and by curl --unix-socket as the printed hint says.
func TestServeUnixSocket(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644))
	sock := socketPath(t, "serve.sock")
	site := startServe(t, "--listen", "unix:"+sock, "--socket-mode", "0600", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	if site.url != "https://localhost/" {
		t.Errorf("printed URL %q, want https://localhost/", site.url)
	}
	hint := "curl --cacert " + site.caFile + " --unix-socket " + sock + " https://localhost/"
	if !strings.Contains(site.stdout.String(), hint) {
		t.Errorf("output lacks the hint %q:\n%s", hint, site.stdout)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, %v; want mode 0600", sock, fi, err)
	}
	c := caClient(t, site.caFile, true)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	wantBody(t, c, site.url+"hello.txt", "hello")

	curl := testenv.LookPath(t, "curl")
	out, err := exec.Command(curl, "-sS", "--max-time", "30", "--cacert", site.caFile, "--unix-socket", sock, site.url+"hello.txt").CombinedOutput()
	if err != nil || string(out) != "hello" {
		t.Errorf("curl --unix-socket = %q, %v; want hello", out, err)
	}
	must(t, site.stop())
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after serve stopped: %v", err)
	}
}

// TestServeListenUsage checks the usage errors of the new flags.
func TestServeListenUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"pfx and cert", []string{"--pfx", "a.p12", "--cert", "c.pem", "--key", "k.pem"}, "not both"},
		{"listen tcp", []string{"--listen", "127.0.0.1:80"}, "--listen takes unix:PATH"},
		{"listen empty path", []string{"--listen", "unix:"}, "--listen takes unix:PATH"},
		{"listen and port", []string{"--listen", "unix:/tmp/x.sock", "--port", "8443"}, "replaces --host and --port"},
		{"socket mode", []string{"--listen", "unix:/tmp/x.sock", "--socket-mode", "rw"}, "octal"},
		{"socket mode setuid", []string{"--listen", "unix:/tmp/x.sock", "--socket-mode", "4755"}, "octal"},
		{"socket mode without listen", []string{"--socket-mode", "0600"}, "goes with --listen"},
		{"config and pfx", []string{"--config", "x.json", "--pfx", "a.p12"}, "--config describes the whole site"},
		{"config and passphrase file", []string{"--config", "x.json", "--passphrase-file", "p"}, "--config describes the whole site"},
		{"config and socket mode", []string{"--config", "x.json", "--socket-mode", "0600"}, "--config describes the whole site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"serve"}, tt.args...), io.Discard, io.Discard)
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve %q = %v, want a usage error containing %q", tt.args, err, tt.want)
			}
		})
	}
	err := run(context.Background(), []string{"serve", "--pfx", "a.p12", "--passphrase-file", filepath.Join(t.TempDir(), "none")}, io.Discard, io.Discard)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--passphrase-file") {
		t.Errorf("serve with a missing --passphrase-file = %v, want it named", err)
	}
}

// TestServeSocketActivation execs serve as systemd does with socket activation: the listening
// sockets from descriptor 3 on, LISTEN_FDS, and LISTEN_PID set to serve's own process ID. One
// socket serves HTTPS; a second one plain HTTP, redirecting to the first.
func TestServeSocketActivation(t *testing.T) {
	sh := testenv.LookPath(t, "sh")
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644))
	for _, n := range []int{1, 2} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var addrs []string
			var files []*os.File
			for range n {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				must(t, err)
				f, err := ln.(*net.TCPListener).File()
				must(t, err)
				ln.Close() // f keeps the socket open
				defer f.Close()
				addrs, files = append(addrs, ln.Addr().String()), append(files, f)
			}
			serve := testenv.Command(os.Args[0], "serve", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
			// sh sets LISTEN_PID to its own process ID, which exec keeps for serve.
			cmd := exec.Command(sh, append([]string{"-c", `LISTEN_PID=$$ exec "$@"`, "sh", serve.Path}, serve.Args[1:]...)...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1", "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_FDNAMES=https:http")
			cmd.ExtraFiles = files
			p := startHTTPSKitCmd(t, cmd)
			for _, f := range files {
				f.Close() // serve holds its own copies now
			}

			base := strings.TrimSpace(strings.TrimPrefix(p.waitLine(t, "HTTPS "), "HTTPS "))
			if want := "https://" + addrs[0] + "/"; base != want {
				t.Errorf("serve printed %q, want the inherited socket's %q", base, want)
			}
			if n == 2 {
				plain := strings.TrimSpace(strings.TrimPrefix(p.waitLine(t, "HTTP "), "HTTP "))
				if want := "http://" + addrs[1] + "/"; plain != want {
					t.Errorf("serve printed %q, want the second socket's %q", plain, want)
				}
				c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := c.Get(plain + "hello.txt")
				must(t, err)
				resp.Body.Close()
				if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusPermanentRedirect || loc != base+"hello.txt" {
					t.Errorf("GET over plain HTTP = %d to %q, want 308 to %q", resp.StatusCode, loc, base+"hello.txt")
				}
			}
			caFile := strings.TrimPrefix(p.waitLine(t, "CA file: "), "CA file: ")
			for _, h2 := range []bool{false, true} {
				wantBody(t, caClient(t, caFile, h2), base+"hello.txt", "hello")
			}
			must(t, p.cmd.Process.Signal(os.Interrupt))
			if code := p.wait(t); code != 0 {
				t.Errorf("serve exited %d, want 0\nstderr: %s", code, p.stderr)
			}
			if strings.Contains(p.stderr.String(), "LISTEN_FDS") {
				t.Errorf("serve complained about LISTEN_FDS: %s", p.stderr)
			}
		})
	}
}

// encryptedKeyFiles writes cert.pem, key.pem and ca.pem in dir: a localhost certificate from a
// new CA, its key encrypted with pass by openssl (PKCS #8, AES-256-CBC, as openssl genpkey
// -aes256 writes it), and the CA's certificate. It skips the test without openssl.
func encryptedKeyFiles(t *testing.T, dir, pass string) (certFile, keyFile, caFile string) {
	t.Helper()
	openssl := testenv.LookPath(t, "openssl")
	ca, err := certs.NewCA("serve key test CA", 0)
	must(t, err)
	certPEM, keyPEM, err := ca.Issue(certs.LeafOptions{})
	must(t, err)
	cmd := exec.Command(openssl, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:"+pass)
	cmd.Stdin = strings.NewReader(string(keyPEM))
	enc, err := cmd.Output()
	must(t, err)
	certFile, keyFile, caFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	must(t, os.WriteFile(certFile, certPEM, 0o644))
	must(t, os.WriteFile(keyFile, enc, 0o600))
	must(t, os.WriteFile(caFile, ca.CertPEM, 0o644))
	return certFile, keyFile, caFile
}

// TestServeEncryptedKey serves --cert with an encrypted --key (openssl genpkey -aes256 style
// PKCS #8) opened with the passphrase from --passphrase-file.
func TestServeEncryptedKey(t *testing.T) {
	dir, files := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644))
	certFile, keyFile, caFile := encryptedKeyFiles(t, files, "key pass")
	passFile := filepath.Join(files, "pass")
	must(t, os.WriteFile(passFile, []byte("key pass\r\n"), 0o600))

	site := startServe(t, "--port", "0", "--cert", certFile, "--key", keyFile, "--passphrase-file", passFile, dir)
	wantBody(t, caClient(t, caFile, true), site.url+"hello.txt", "hello")
	must(t, site.stop())

	err := run(context.Background(), []string{"serve", "--port", "0", "--cert", certFile, "--key", keyFile, dir}, io.Discard, io.Discard)
	if !errors.Is(err, certs.ErrPassphrase) || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("serve without the passphrase = %v, want certs.ErrPassphrase naming %s", err, keyFile)
	}
}
