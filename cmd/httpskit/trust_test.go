//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
)

// nssTrust returns the trust attributes of nick in the NSS database dir ("" when absent).
func nssTrust(t *testing.T, certutil, dir, nick string) string {
	t.Helper()
	out, err := runPeer(t, "", certutil, "-L", "-d", "sql:"+dir)
	if err != nil {
		t.Fatalf("certutil -L: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, nick+" ") {
			f := strings.Fields(line)
			return f[len(f)-1]
		}
	}
	return ""
}

// trustHome makes, under the fake home of fakeTrustStore, a Chromium NSS database and a
// Firefox profile's, both empty, and returns their directories.
func trustHome(t *testing.T, certutil string) (chromium, firefox string) {
	t.Helper()
	home, err := certNSSHome()
	if err != nil {
		t.Fatal(err)
	}
	chromium = filepath.Join(home, ".pki", "nssdb")
	firefox = filepath.Join(home, ".mozilla", "firefox", "abcd1234.default-release")
	for _, dir := range []string{chromium, firefox} {
		must(t, os.MkdirAll(dir, 0o700))
		if out, err := runPeer(t, "", certutil, "-N", "-d", "sql:"+dir, "--empty-password"); err != nil {
			t.Fatalf("certutil -N: %v\n%s", err, out)
		}
	}
	return chromium, firefox
}

// TestCertTrustNSS: cert trust says what it will change (--dry-run stops there), then adds
// the CA to the system store and to the Chromium and Firefox NSS databases with real
// certutil on temporary databases, and finds all of them already trusting it the next time.
func TestCertTrustNSS(t *testing.T) {
	certutil := testenv.LookPath(t, "certutil")
	dir, ran := fakeTrustStore(t)
	chromium, firefox := trustHome(t, certutil)
	root := t.TempDir()
	mustRunCert(t, "create", "--root", root)
	ca, err := certs.LoadCA(root)
	must(t, err)
	nick := ca.Cert.Subject.CommonName + " " + strings.ReplaceAll(certFingerprint(ca.Cert)[:11], ":", "")
	dest := filepath.Join(dir, certTrustName)

	out := mustRunCert(t, "trust", "--dry-run", "--root", root)
	wantContains(t, "cert trust --dry-run", out, "will add it to:\n  system store", dest,
		"Chromium NSS database", chromium, "Firefox NSS database", firefox, "dry run: nothing changed")
	if _, err := os.Stat(dest); err == nil || nssTrust(t, certutil, chromium, nick) != "" || nssTrust(t, certutil, firefox, nick) != "" {
		t.Fatalf("--dry-run changed a store")
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatalf("--dry-run ran update-ca-certificates")
	}

	out = mustRunCert(t, "trust", "--root", root)
	plan, done, ok := strings.Cut(out, "added to")
	if !ok || !strings.Contains(plan, "will add it to:") || !strings.Contains(plan, chromium) {
		t.Errorf("cert trust did not say what it would change before changing it:\n%s", out)
	}
	wantContains(t, "cert trust", done, "the system store: "+dest, "the Chromium NSS database: "+chromium,
		"the Firefox NSS database: "+firefox, "undo: certutil -D -d sql:"+chromium)
	for _, db := range []string{chromium, firefox} {
		if got := nssTrust(t, certutil, db, nick); got != "C,," {
			t.Errorf("%s: trust of %q = %q, want C,, (trusted to issue web site certificates)", db, nick, got)
		}
	}
	if b, err := os.ReadFile(dest); err != nil || !bytes.Equal(b, ca.CertPEM) {
		t.Errorf("%s does not hold the CA: %v", dest, err)
	}

	out = mustRunCert(t, "trust", "--root", root)
	wantContains(t, "cert trust (again)", out, "already trusted by:", chromium, firefox, dest, "nothing to change")
	if strings.Contains(out, "will add it to:") {
		t.Errorf("cert trust (again) plans changes:\n%s", out)
	}
}

// TestCertTrustOtherNickname: a database where `mkcert -install` put the same CA under its
// own nickname already trusts it; a database holding another CA under our name does not.
func TestCertTrustOtherNickname(t *testing.T) {
	certutil := testenv.LookPath(t, "certutil")
	fakeTrustStore(t)
	chromium, firefox := trustHome(t, certutil)
	root := t.TempDir()
	mustRunCert(t, "create", "--root", root)
	ca, err := certs.LoadCA(root)
	must(t, err)
	if out, err := runPeer(t, "", certutil, "-A", "-d", "sql:"+chromium, "-t", "C,,", "-n", "mkcert development CA 1234", "-i", ca.CertFile); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	out := mustRunCert(t, "trust", "--dry-run", "--root", root)
	already, _, _ := strings.Cut(strings.SplitN(out, "already trusted by:", 2)[1], "dry run")
	if !strings.Contains(already, chromium) || strings.Contains(already, firefox) {
		t.Errorf("want %s already trusting the CA and %s not:\n%s", chromium, firefox, out)
	}
}

// TestCertTrustNotRoot: as a user, the NSS databases are changed and the system store is
// left alone with the command that changes it; a database owned by someone else (a run
// under sudo) is left alone.
func TestCertTrustNotRoot(t *testing.T) {
	certutil := testenv.LookPath(t, "certutil")
	dir, _ := fakeTrustStore(t)
	chromium, firefox := trustHome(t, certutil)
	// As root (CI), the run is faked as user 1000 owning the Chromium database alone; as a
	// user, both databases are the user's own and nothing can be owned by someone else.
	me := os.Geteuid()
	certGeteuid = func() int { return me }
	if me == 0 {
		certGeteuid = func() int { return 1000 }
		must(t, os.Chown(filepath.Join(chromium, "cert9.db"), 1000, 1000))
	}
	root := t.TempDir()
	mustRunCert(t, "create", "--root", root)
	out := mustRunCert(t, "trust", "--root", root)
	wantContains(t, "cert trust as a user", out, "left alone:", "system store", "run sudo httpskit cert trust --root "+root,
		"added to the Chromium NSS database: "+chromium)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the system store changed as a user: %v", entries)
	}
	if me == 0 {
		wantContains(t, "cert trust as a user", out, firefox+": owned by user 0, not this one")
	}
}

// TestCertTrustWithoutCertutil: with no certutil the NSS databases are left alone, saying why.
func TestCertTrustWithoutCertutil(t *testing.T) {
	certutil := testenv.LookPath(t, "certutil")
	fakeTrustStore(t)
	chromium, _ := trustHome(t, certutil)
	old := certUtil
	certUtil = filepath.Join(t.TempDir(), "no-certutil")
	t.Cleanup(func() { certUtil = old })
	root := t.TempDir()
	mustRunCert(t, "create", "--root", root)
	out := mustRunCert(t, "trust", "--dry-run", "--root", root)
	wantContains(t, "cert trust without certutil", out, chromium+": certutil not found (Debian: apt install libnss3-tools)")
}

// TestCertMkcert: --mkcert (cert and serve) uses the CA in $CAROOT laid out as mkcert does; with none there it
// is a usage error that says so.
func TestCertMkcert(t *testing.T) {
	made := t.TempDir()
	mustRunCert(t, "create", "--root", made)
	caroot := t.TempDir()
	for _, name := range []string{"rootCA.pem", "rootCA-key.pem"} {
		b, err := os.ReadFile(filepath.Join(made, "ca", name))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(caroot, name), b, 0o600))
	}
	t.Setenv("CAROOT", caroot)
	out := mustRunCert(t, "show", "--mkcert")
	wantContains(t, "cert show --mkcert", out, "CA file:  "+filepath.Join(caroot, "rootCA.pem"))
	out = mustRunCert(t, "--mkcert", "issue", "--out-cert", filepath.Join(t.TempDir(), "c.pem"), "--out-key", filepath.Join(t.TempDir(), "k.pem"))
	wantContains(t, "cert issue --mkcert", out, "CA file:     "+filepath.Join(caroot, "rootCA.pem"))
	if _, err := os.Stat(filepath.Join(caroot, "ca")); err == nil {
		t.Errorf("cert issue --mkcert made a CA beside mkcert's")
	}
	site := startServe(t, "--mkcert", "--port", "0", "--host", "127.0.0.1", t.TempDir())
	if want := filepath.Join(caroot, "rootCA.pem"); site.caFile != want {
		t.Errorf("serve --mkcert: CA file %s, want %s", site.caFile, want)
	}
	site.stop()
	t.Setenv("CAROOT", t.TempDir())
	if _, err := runCertTest(t, "show", "--mkcert"); err == nil || !strings.Contains(err.Error(), "no mkcert CA in") {
		t.Errorf("cert show --mkcert with an empty CAROOT = %v, want an error saying there is no mkcert CA", err)
	}
}
