package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/pebbletest"
	"github.com/httpskit/httpskit/internal/testenv"
)

// acmeServe is `httpskit serve --domain` running in this process.
type acmeServe struct {
	out, errOut *lineWriter
	stop        func() error
	seen        map[*lineWriter][]string // lines read by wait and not returned yet
}

func startACMEServe(t *testing.T, args ...string) *acmeServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &acmeServe{out: newLineWriter(), errOut: newLineWriter(), seen: make(map[*lineWriter][]string)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), a.out, a.errOut) }()
	var stopErr error
	stopped := false
	a.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
		}
		return stopErr
	}
	t.Cleanup(func() { a.stop() })
	return a
}

// wait returns the first line of w starting with prefix that no earlier wait returned, among
// the lines already read or the next ones.
func (a *acmeServe) wait(t *testing.T, w *lineWriter, prefix string) string {
	t.Helper()
	for i, line := range a.seen[w] {
		if strings.HasPrefix(line, prefix) {
			a.seen[w] = append(a.seen[w][:i:i], a.seen[w][i+1:]...)
			return line
		}
	}
	timeout := time.After(testenv.Scale(time.Minute))
	for {
		select {
		case line := <-w.lines:
			if strings.HasPrefix(line, prefix) {
				return line
			}
			a.seen[w] = append(a.seen[w], line)
		case <-timeout:
			t.Fatalf("no line %q in a minute\nstdout:\n%s\nstderr:\n%s", prefix, a.out, a.errOut)
		}
	}
}

// TestServeDomain: serve --domain obtains a certificate from Pebble through HTTP-01 on its
// plain HTTP port, which redirects everything else; prints names, CA, storage and expiry;
// and a restart loads the stored certificate without a new order.
func TestServeDomain(t *testing.T) {
	tlsPort, httpPort := pebbletest.FreePort(t), pebbletest.FreePort(t)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsPort, HTTPPort: httpPort})
	root := t.TempDir()
	t.Setenv("HTTPSKIT_CAROOT", root)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("public site\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{dir, "--domain", "www.site.test,site.test", "--host", "127.0.0.1", "--port", strconv.Itoa(tlsPort),
		"--http-port", strconv.Itoa(httpPort), "--acme-ca", p.DirectoryURL, "--acme-ca-root", p.APIRootFile, "--acme-email", "ops@site.test"}
	a := startACMEServe(t, args...)
	for _, want := range []string{"acme   names www.site.test, site.test", "acme   CA " + p.DirectoryURL, "acme   storage " + root} {
		if got := a.wait(t, a.out, "acme   "+strings.Fields(want)[1]); got != want {
			t.Errorf("printed %q, want %q", got, want)
		}
	}
	line := a.wait(t, a.out, "acme   certificate for www.site.test, site.test obtained from the CA, valid until ")
	until, err := time.Parse(time.RFC3339, strings.TrimPrefix(line, "acme   certificate for www.site.test, site.test obtained from the CA, valid until "))
	if err != nil || until.Before(time.Now().Add(80*24*time.Hour)) {
		t.Errorf("expiry in %q: %v", line, err)
	}

	roots := p.IssuerRoots(t)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return new(net.Dialer).DialContext(ctx, "tcp", "127.0.0.1:"+port)
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get("https://site.test:" + strconv.Itoa(tlsPort) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "public site\n" || res.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("GET over TLS: %s %q, HSTS %q", res.Status, body, res.Header.Get("Strict-Transport-Security"))
	}
	res, err = client.Get("http://site.test:" + strconv.Itoa(httpPort) + "/page?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want := "https://site.test:" + strconv.Itoa(tlsPort) + "/page?x=1"; res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
		t.Errorf("plain HTTP: %s to %q, want 308 to %s", res.Status, res.Header.Get("Location"), want)
	}
	// SIGHUP: nothing to reload; it says what the ACME listener serves.
	a.wait(t, a.out, "press Ctrl-C to stop")
	skipWithoutSIGHUP(t)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if line := a.wait(t, a.out, "SIGHUP: "); !strings.Contains(line, "gets its certificate from ACME and renews it itself; it serves serial") {
		t.Errorf("SIGHUP: %q", line)
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}

	again := startACMEServe(t, args...)
	again.wait(t, again.out, "acme   certificate for www.site.test, site.test loaded from storage, valid until "+until.Format(time.RFC3339))
	if got := p.Orders(); got != 1 {
		t.Errorf("Pebble received %d orders over two runs, want 1", got)
	}
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServeDomainFaults: each fault is one line on stderr naming it, and serve keeps serving
// plain HTTP.
func TestServeDomainFaults(t *testing.T) {
	tlsPort, httpPort := pebbletest.FreePort(t), pebbletest.FreePort(t)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsPort, HTTPPort: httpPort})
	limited, limitedRoot := pebbletest.RateLimitedCA(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, domain, ca, root, caroot, want string
	}{
		{"CA unreachable", "site.test", "https://127.0.0.1:" + strconv.Itoa(pebbletest.FreePort(t)) + "/dir", "", t.TempDir(), "CA unreachable"},
		{"CA refuses the name", pebbletest.BlockedDomain, p.DirectoryURL, p.APIRootFile, t.TempDir(), "CA refuses the name"},
		{"rate limited", "site.test", limited, limitedRoot, t.TempDir(), "rate limited by the CA"},
		{"storage not writable", "site.test", p.DirectoryURL, p.APIRootFile, filepath.Join(blocker, "sub"), "storage " + filepath.Join(blocker, "sub") + " not usable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HTTPSKIT_CAROOT", tc.caroot)
			args := []string{t.TempDir(), "--domain", tc.domain, "--host", "127.0.0.1", "--port", strconv.Itoa(tlsPort),
				"--http-port", strconv.Itoa(httpPort), "--acme-ca", tc.ca}
			if tc.root != "" {
				args = append(args, "--acme-ca-root", tc.root)
			}
			a := startACMEServe(t, args...)
			line := a.wait(t, a.errOut, "httpskit: acme: ")
			t.Log(line)
			if !strings.Contains(line, tc.want) || !strings.Contains(line, "no certificate in service yet; retrying in ") {
				t.Errorf("stderr %q, want one line saying %q", line, tc.want)
			}
			a.wait(t, a.out, "press Ctrl-C to stop")
			noFollow := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := noFollow.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusPermanentRedirect {
				t.Errorf("plain HTTP while failing: %s, want the redirect", res.Status)
			}
			if err := a.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestServeDomainUsage: ACME flags that do not fit are usage errors.
func TestServeDomainUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--acme-email", "a@b.test"},
		{"--domain", "a.test", "--cert", "c.pem", "--key", "k.pem"},
		{"--domain", "a.test", "--config", "site.json"},
		{"--acme-ca", "https://ca.test/dir"},
	} {
		err := run(context.Background(), append([]string{"serve"}, args...), io.Discard, io.Discard)
		if !errors.As(err, new(usageError)) {
			t.Errorf("serve %v: %v, want a usage error", args, err)
		}
	}
}
