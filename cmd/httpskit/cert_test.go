package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
)

// runCertTest runs `httpskit cert ARGS` and returns stdout and the error.
func runCertTest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runCert(t.Context(), args, &stdout, &stderr)
	return stdout.String(), err
}

// mustRunCert runs `httpskit cert ARGS` and fails the test on error.
func mustRunCert(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCertTest(t, args...)
	if err != nil {
		t.Fatalf("cert %q = %v\n%s", args, err, out)
	}
	return out
}

func wantContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q, want it to contain %q", what, got, w)
		}
	}
}

func TestCertShowAndCreate(t *testing.T) {
	root := filepath.Join(t.TempDir(), "caroot")

	out := mustRunCert(t, "--root", root)
	wantContains(t, "cert (no CA)", out, root, "no development CA yet", "httpskit cert create")
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cert show created %s (%v)", root, err)
	}

	out = mustRunCert(t, "create", "--root", root)
	certFile := filepath.Join(root, "ca", "rootCA.pem")
	wantContains(t, "cert create", out, "created the development CA", certFile, "SHA-256:")

	out = mustRunCert(t, "--root", root, "create")
	wantContains(t, "cert create (again)", out, "already exists", certFile)

	ca, err := certs.LoadCA(root)
	if err != nil {
		t.Fatal(err)
	}
	out = mustRunCert(t, "show", "--ca-root", root)
	wantContains(t, "cert show", out,
		"CA root:  "+root, "CA file:  "+certFile, "subject:  CN=httpskit development CA",
		"expires:  "+ca.Cert.NotAfter.UTC().Format("2006-01-02"), "SHA-256:  "+certFingerprint(ca.Cert))
	if fp := certFingerprint(ca.Cert); len(fp) != 32*3-1 || strings.ToUpper(fp) != fp {
		t.Errorf("certFingerprint = %q, want 32 upper-case hex bytes with colons", fp)
	}
}

func TestCertShowEmptyDir(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "ca"), 0o700); err != nil {
		t.Fatal(err)
	}
	out := mustRunCert(t, "show", "--root", root)
	wantContains(t, "cert show (empty ca dir)", out, "no development CA yet")
}

func TestCertShowDamaged(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "ca"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ca", "rootCA.pem"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runCertTest(t, "show", "--root", root)
	if err == nil || errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "delete that directory") {
		t.Errorf("cert show (damaged CA) = %v, want an error that says how to fix it", err)
	}
}

func TestCertEnvRoot(t *testing.T) {
	root := t.TempDir()
	t.Setenv(certs.RootEnv, root)
	out := mustRunCert(t, "create")
	wantContains(t, "cert create", out, filepath.Join(root, "ca", "rootCA.pem"))
}

func TestCertIssue(t *testing.T) {
	root := t.TempDir()
	work := t.TempDir()
	t.Chdir(work)

	out := mustRunCert(t, "issue", "--root", root)
	wantContains(t, "cert issue", out, "created the development CA", "localhost, 127.0.0.1, ::1", "localhost.pem", "localhost-key.pem")
	ca, err := certs.LoadCA(root)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.LoadX509KeyPair("localhost.pem", "localhost-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}); err != nil {
			t.Errorf("issued certificate: Verify(%q) = %v", name, err)
		}
	}
	for name, want := range map[string]os.FileMode{"localhost.pem": 0o644, "localhost-key.pem": 0o600} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != want {
			t.Errorf("mode of %s = %v (%v), want %v", name, fi.Mode().Perm(), err, want)
		}
	}

	// No overwriting without --force.
	before, _ := os.ReadFile("localhost.pem")
	_, err = runCertTest(t, "issue", "--root", root)
	if err == nil || errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("cert issue (files exist) = %v, want an error that mentions --force", err)
	}
	if after, _ := os.ReadFile("localhost.pem"); !bytes.Equal(before, after) {
		t.Errorf("cert issue without --force changed localhost.pem")
	}
	out = mustRunCert(t, "issue", "--root", root, "--force")
	if after, _ := os.ReadFile("localhost.pem"); bytes.Equal(before, after) {
		t.Errorf("cert issue --force did not replace localhost.pem")
	}
	if strings.Contains(out, "created the development CA") {
		t.Errorf("cert issue (second time) = %q, want no new CA", out)
	}
}

func TestCertIssueOptions(t *testing.T) {
	root := t.TempDir()
	work := t.TempDir()
	t.Chdir(work)
	tests := []struct {
		name             string
		args             []string
		certFile         string
		keyFile          string
		wantDNS, wantIPs []string
		wantClient       bool
		wantServer       bool
	}{
		{"hosts then flags", []string{"issue", "example.test", "--client", "--out-cert", "a.pem", "--out-key", "a-key.pem", "10.1.2.3"},
			"a.pem", "a-key.pem", []string{"example.test"}, []string{"10.1.2.3"}, true, true},
		{"default names from first host", []string{"issue", "*.example.test", "::1"},
			"_wildcard.example.test.pem", "_wildcard.example.test-key.pem", []string{"*.example.test"}, []string{"::1"}, false, true},
		{"IPv6 first", []string{"issue", "::1"}, "__1.pem", "__1-key.pem", nil, []string{"::1"}, false, true},
		{"client only", []string{"issue", "--client"}, "client.pem", "client-key.pem", nil, nil, true, false},
		{"one file", []string{"issue", "--out-cert", "both.pem", "--out-key", "both.pem", "one.test"},
			"both.pem", "both.pem", []string{"one.test"}, nil, false, true},
		{"after --", []string{"issue", "--", "dash.test"}, "dash.test.pem", "dash.test-key.pem", []string{"dash.test"}, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{tt.args[0], "--root", root}, tt.args[1:]...)
			out := mustRunCert(t, args...)
			wantContains(t, "cert issue", out, tt.certFile)
			c, err := certs.LoadX509KeyPair(tt.certFile, tt.keyFile)
			if err != nil {
				t.Fatal(err)
			}
			var ips []string
			for _, ip := range c.Leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(c.Leaf.DNSNames, tt.wantDNS) || !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("names = %q %q, want %q %q", c.Leaf.DNSNames, ips, tt.wantDNS, tt.wantIPs)
			}
			eku := c.Leaf.ExtKeyUsage
			if got := slices.Contains(eku, x509.ExtKeyUsageClientAuth); got != tt.wantClient {
				t.Errorf("client auth = %v, want %v", got, tt.wantClient)
			}
			if got := slices.Contains(eku, x509.ExtKeyUsageServerAuth); got != tt.wantServer {
				t.Errorf("server auth = %v, want %v", got, tt.wantServer)
			}
		})
	}
}

func TestCertErrors(t *testing.T) {
	root := t.TempDir()
	t.Chdir(t.TempDir())
	tests := []struct {
		name      string
		args      []string
		wantUsage bool
		want      string
	}{
		{"unknown subcommand", []string{"bogus"}, true, `unknown subcommand "bogus"`},
		{"show with argument", []string{"show", "x"}, true, "no arguments"},
		{"create with argument", []string{"create", "x"}, true, "no arguments"},
		{"trust with argument", []string{"trust", "x"}, true, "no arguments"},
		{"unknown flag", []string{"issue", "--nope"}, true, "nope"},
		{"flag without value", []string{"issue", "--out-cert"}, true, "out-cert"},
		{"dash host", []string{"issue", "--", "-x"}, true, `"-x"`},
		{"bad host", []string{"issue", "bad host"}, false, `"bad host"`},
		{"missing out dir", []string{"issue", "--out-cert", "nodir/c.pem", "--out-key", "k.pem"}, false, "nodir/c.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCertTest(t, append([]string{"--root", root}, tt.args...)...)
			if err == nil {
				t.Fatalf("cert %q = nil, want an error", tt.args)
			}
			if got := errors.As(err, new(usageError)); got != tt.wantUsage {
				t.Errorf("cert %q = %v: usage error %v, want %v", tt.args, err, got, tt.wantUsage)
			}
			wantContains(t, "error", err.Error(), tt.want)
		})
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("failed commands left files: %v", entries)
	}

	for _, args := range [][]string{{"-h"}, {"issue", "-h"}, {"show", "--help"}} {
		if _, err := runCertTest(t, args...); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("cert %q = %v, want flag.ErrHelp", args, err)
		}
	}
}

// fakeTrustStore points `cert trust` at a temporary directory and a fake
// update-ca-certificates that records that it ran, as root, and at an empty
// temporary home for NSS databases (certNSSHome). It returns the directory and
// the file the fake tool writes.
func fakeTrustStore(t *testing.T) (dir, ran string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("cert trust supports Linux only")
	}
	dir, bin := t.TempDir(), t.TempDir()
	ran = filepath.Join(bin, "ran")
	tool := filepath.Join(bin, "update-ca-certificates")
	script := "#!/bin/sh\necho updated >> '" + ran + "'\n"
	if err := os.WriteFile(tool, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	oldDir, oldTool, oldEuid, oldHome := certTrustDir, certTrustTool, certGeteuid, certNSSHome
	t.Cleanup(func() { certTrustDir, certTrustTool, certGeteuid, certNSSHome = oldDir, oldTool, oldEuid, oldHome })
	home := t.TempDir() // no NSS database unless the test makes one
	certTrustDir, certTrustTool, certGeteuid = dir, tool, func() int { return 0 }
	certNSSHome = func() (string, error) { return home, nil }
	return dir, ran
}

func TestCertTrust(t *testing.T) {
	dir, ran := fakeTrustStore(t)
	root := t.TempDir()

	_, err := runCertTest(t, "trust", "--root", root)
	if err == nil || !strings.Contains(err.Error(), "httpskit cert create") {
		t.Errorf("cert trust (no CA) = %v, want an error that says to create it", err)
	}

	mustRunCert(t, "create", "--root", root)
	ca, err := certs.LoadCA(root)
	if err != nil {
		t.Fatal(err)
	}
	out := mustRunCert(t, "trust", "--root", root)
	dest := filepath.Join(dir, "httpskit-dev-ca.crt")
	wantContains(t, "cert trust", out, "will add it to:\n  system store", "added to the system store: "+dest)
	if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, ca.CertPEM) {
		t.Errorf("%s does not hold the CA (%v)", dest, err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of %s = %v, want 0644 (%v)", dest, fi.Mode().Perm(), err)
	}
	if got, _ := os.ReadFile(ran); string(got) != "updated\n" {
		t.Errorf("update-ca-certificates ran %q, want once", got)
	}

	out = mustRunCert(t, "trust", "--root", root)
	wantContains(t, "cert trust (again)", out, "already trusted by:\n  system store", dest, "nothing to change")
	if got, _ := os.ReadFile(ran); string(got) != "updated\n" {
		t.Errorf("update-ca-certificates ran again (%q) for an unchanged CA", got)
	}
}

func TestCertTrustErrors(t *testing.T) {
	root := t.TempDir()
	mustRunCert(t, "create", "--root", root)
	tests := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"not root", func(string) { certGeteuid = func() int { return 1000 } }, "sudo httpskit cert trust --root " + root},
		{"tool missing", func(dir string) { certTrustTool = filepath.Join(dir, "no-such-tool") }, "not found (only Debian/Ubuntu"},
		{"no store directory", func(dir string) { certTrustDir = filepath.Join(dir, "missing") }, "is ca-certificates installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, ran := fakeTrustStore(t)
			tt.setup(dir)
			_, err := runCertTest(t, "trust", "--root", root)
			if err == nil || errors.As(err, new(usageError)) {
				t.Fatalf("cert trust = %v, want a failure", err)
			}
			wantContains(t, "cert trust error", err.Error(), tt.want)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("cert trust wrote %v after failing", entries)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Errorf("update-ca-certificates ran after failing checks")
			}
		})
	}
}
