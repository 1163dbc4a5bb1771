package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// reloadPKI is a server CA with a pair for 127.0.0.1 written to files, and a client CA file
// with a client certificate, for `serve --cert --key --client-ca`.
type reloadPKI struct {
	ca, clientCA              *certs.CA
	certFile, keyFile, caFile string
	client                    tls.Certificate
}

func newReloadPKI(t *testing.T) *reloadPKI {
	t.Helper()
	dir := t.TempDir()
	p := &reloadPKI{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), caFile: filepath.Join(dir, "client-ca.pem")}
	var err error
	if p.ca, err = certs.NewCA("serve reload test CA", 0); err != nil {
		t.Fatal(err)
	}
	if p.clientCA, err = certs.NewCA("serve reload test client CA", 0); err != nil {
		t.Fatal(err)
	}
	p.client = reloadClientCert(t, p.clientCA, "device-1")
	p.renew(t)
	must(t, os.WriteFile(p.caFile, p.clientCA.CertPEM, 0o644))
	return p
}

func reloadClientCert(t *testing.T, ca *certs.CA, cn string) tls.Certificate {
	t.Helper()
	c, k, err := ca.Issue(certs.LeafOptions{Client: true, CommonName: cn})
	must(t, err)
	pair, err := tls.X509KeyPair(c, k)
	must(t, err)
	return pair
}

// renew puts a new server pair in the files, as renewal tools do (temporary files renamed
// into place), and returns its serial number in hexadecimal.
func (p *reloadPKI) renew(t *testing.T) string {
	t.Helper()
	c, k, err := p.ca.Issue(certs.LeafOptions{Hosts: []string{"127.0.0.1", "localhost"}})
	must(t, err)
	must(t, certs.WriteFiles(p.certFile, c, p.keyFile, k))
	pair, err := tls.X509KeyPair(c, k)
	must(t, err)
	return pair.Leaf.SerialNumber.Text(16)
}

// get fetches url on a new connection, presenting cert, and returns the serial number of the
// server's certificate.
func (p *reloadPKI) get(url string, cert *tls.Certificate) (string, error) {
	return reloadGet(url, p.ca.Pool(), cert)
}

// reloadGet fetches url on a new connection, trusting roots and presenting cert, and returns
// the serial number of the server's certificate.
func reloadGet(url string, roots *x509.CertPool, cert *tls.Certificate) (string, error) {
	cfg := &tls.Config{RootCAs: roots}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 || string(body) != "hello\n" {
		return "", fmt.Errorf("GET %s = %d %q", url, resp.StatusCode, body)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Text(16), nil
}

// waitStderr waits for a line of standard error that holds every one of parts.
func (p *httpskitProc) waitStderr(t *testing.T, parts ...string) string {
	t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case line := <-p.stderr.lines:
			if containsAll(line, parts...) {
				return line
			}
		case <-p.exited:
			t.Fatalf("httpskit exited (%v) before logging %q\nstdout: %s\nstderr: %s", p.err, parts, p.stdout, p.stderr)
		case <-timeout.C:
			t.Fatalf("httpskit logged no %q line in 60s\nstdout: %s\nstderr: %s", parts, p.stdout, p.stderr)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func skipWithoutSIGHUP(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP on Windows")
	}
}

// TestServeReloadSIGHUP: `serve --cert --key --client-ca` as a real process reloads all three
// files on SIGHUP and says so; new connections get the new certificate and the new client
// CA's rule. A broken pair and SIGHUP: an error on stderr, and the previous certificate stays
// in service. Without any signal a renewal on disk is picked up too.
func TestServeReloadSIGHUP(t *testing.T) {
	skipWithoutSIGHUP(t)
	p := newReloadPKI(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	proc := startHTTPSKit(t, "serve", "--host", "127.0.0.1", "--port", "0", "--cert", p.certFile, "--key", p.keyFile,
		"--client-ca", p.caFile, dir)
	base := strings.TrimSpace(strings.TrimPrefix(proc.waitLine(t, "HTTPS "), "HTTPS "))
	url := base + "hello.txt"
	if _, err := p.get(url, &p.client); err != nil {
		t.Fatal(err)
	}
	hup := func() { must(t, proc.cmd.Process.Signal(syscall.SIGHUP)) }

	// A renewed pair, and SIGHUP.
	serial := p.renew(t)
	hup()
	line := proc.waitLine(t, "SIGHUP: ")
	if want := "SIGHUP: reloaded certificate and client CA of HTTPS " + base + ": serial " + serial; !strings.HasPrefix(line, want) {
		t.Errorf("after SIGHUP serve printed %q, want it to start with %q", line, want)
	}
	if got, err := p.get(url, &p.client); err != nil || got != serial {
		t.Errorf("after SIGHUP: served serial %s (%v), want %s", got, err, serial)
	}

	// A key that does not match, and SIGHUP: the error, and the same certificate.
	other, _, err := p.ca.Issue(certs.LeafOptions{})
	must(t, err)
	_, otherKey, err := p.ca.Issue(certs.LeafOptions{})
	must(t, err)
	must(t, certs.WriteFiles(p.certFile, other, p.keyFile, otherKey))
	hup()
	proc.waitStderr(t, "httpskit: SIGHUP:", "HTTPS listener", "does not match", "still serving the previous certificate")
	if got, err := p.get(url, &p.client); err != nil || got != serial {
		t.Errorf("with a broken pair on disk: served serial %s (%v), want %s", got, err, serial)
	}

	// A new client CA, and SIGHUP: the clients of the old one are refused.
	newCA, err := certs.NewCA("serve reload test second client CA", 0)
	must(t, err)
	newClient := reloadClientCert(t, newCA, "device-2")
	must(t, certs.WriteFiles(p.caFile, newCA.CertPEM, "", nil))
	serial = p.renew(t)
	hup()
	proc.waitLine(t, "SIGHUP: reloaded certificate and client CA of HTTPS "+base+": serial "+serial)
	if _, err := p.get(url, &p.client); err == nil {
		t.Error("a client of the client CA taken out of the file still gets in")
	}
	if got, err := p.get(url, &newClient); err != nil || got != serial {
		t.Errorf("a client of the new client CA: served serial %s (%v), want %s", got, err, serial)
	}

	// No signal: the renewal on disk is picked up within a second or two.
	serial = p.renew(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := p.get(url, &newClient)
		if err == nil && got == serial {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve still serves %s (%v) 30s after the files were renewed, want %s", got, err, serial)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, bounded by the deadline
	}

	must(t, proc.cmd.Process.Signal(syscall.SIGTERM))
	if code := proc.wait(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0\nstderr: %s", code, proc.stderr)
	}
}

// TestServeReloadDevCA: with a certificate issued in memory by the development CA, SIGHUP
// says there is nothing on disk to reload, and serve goes on with the same certificate; with
// --client-ca it reloads that file.
func TestServeReloadDevCA(t *testing.T) {
	skipWithoutSIGHUP(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	p := newReloadPKI(t)
	for _, tt := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"no client CA", nil, "SIGHUP: nothing on disk to reload for HTTPS "},
		{"client CA file", []string{"--client-ca", p.caFile}, "SIGHUP: reloaded client CA of HTTPS "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proc, base, caFile := startServeProcess(t, dir, tt.flags...)
			roots, err := certs.LoadCertPool(caFile)
			must(t, err)
			before, err := reloadGet(base+"hello.txt", roots, &p.client)
			must(t, err)
			must(t, proc.cmd.Process.Signal(syscall.SIGHUP))
			line := proc.waitLine(t, "SIGHUP: ")
			if !strings.HasPrefix(line, tt.want+base) || !strings.Contains(line, "issued in memory by the development CA") {
				t.Errorf("after SIGHUP serve printed %q, want %q%s... issued in memory by the development CA", line, tt.want, base)
			}
			after, err := reloadGet(base+"hello.txt", roots, &p.client)
			if err != nil || after != before {
				t.Errorf("after SIGHUP: served serial %s (%v), want the same %s", after, err, before)
			}
		})
	}
}
