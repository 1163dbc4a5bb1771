package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// The stores that `cert trust` changes. Variables so that tests point them at temporary
// directories and never touch the machine's own stores.
var (
	// The system store: Debian and Ubuntu's ca-certificates.
	certTrustDir  = "/usr/local/share/ca-certificates"
	certTrustTool = "update-ca-certificates"
	certGeteuid   = os.Geteuid
	// NSS databases (Chromium, Firefox), changed with NSS's certutil, under the user's home.
	certUtil    = "certutil"
	certNSSHome = os.UserHomeDir
)

// certTrustName is the CA's file name in certTrustDir (it must end in .crt).
const certTrustName = "httpskit-dev-ca.crt"

// certutilTimeout bounds one run of certutil.
const certutilTimeout = 30 * time.Second

// nssDatabases are where Chromium and Firefox keep their NSS databases (cert9.db), relative
// to the home directory; patterns for filepath.Glob.
var nssDatabases = []struct{ browser, pattern string }{
	{"Chromium", ".pki/nssdb"},
	{"Chromium (snap)", "snap/chromium/current/.pki/nssdb"},
	{"Firefox", ".mozilla/firefox/*"},
	{"Firefox (snap)", "snap/firefox/common/.mozilla/firefox/*"},
	{"Firefox (flatpak)", ".var/app/org.mozilla.firefox/.mozilla/firefox/*"},
	{"Firefox", "Library/Application Support/Firefox/Profiles/*"},
}

// trustTarget is one store `cert trust` looked at: it will change it (apply set), or it
// already trusts the CA, or it is left alone and why.
type trustTarget struct {
	store   string // "system store", "Chromium NSS database", ...
	where   string // its file or directory
	already bool
	skip    string                          // why it is left alone
	apply   func(ctx context.Context) error // what changes it
	undo    string                          // how to undo the change
}

// certTrust adds the CA to the system store and to the NSS databases of Chromium and Firefox,
// after printing what it will change. It fails when no store can trust the CA.
func certTrust(ctx context.Context, args []string, root string, stdout, stderr io.Writer) error {
	var dryRun bool
	fs := certFlagSet("cert trust", "[--dry-run] [--root DIR | --mkcert]", &root, stderr)
	fs.BoolVar(&dryRun, "dry-run", false, "say what would change, and change nothing")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("cert trust takes no arguments, got %q", pos)
	}
	if root, err = certRoot(root); err != nil {
		return err
	}
	ca, err := certs.LoadCA(root)
	if errors.Is(err, certs.ErrNotFound) && certCADirAbsent(root) {
		return fmt.Errorf("cert trust: no development CA in %s: create it first with \"httpskit cert create\" (as your own user)", root)
	}
	if err != nil {
		return err
	}

	targets := append([]trustTarget{systemTarget(ca, root)}, nssTargets(ctx, ca)...)
	fmt.Fprintf(stdout, "CA:       %q, SHA-256 %s\nCA file:  %s\n", ca.Cert.Subject.CommonName, certFingerprint(ca.Cert), ca.CertFile)
	var todo int
	for _, group := range []struct {
		head string
		pick func(trustTarget) bool
	}{
		{"will add it to:", func(t trustTarget) bool { return t.apply != nil }},
		{"already trusted by:", func(t trustTarget) bool { return t.already }},
		{"left alone:", func(t trustTarget) bool { return t.apply == nil && !t.already }},
	} {
		first := true
		for _, t := range targets {
			if !group.pick(t) {
				continue
			}
			if first {
				fmt.Fprintln(stdout, group.head)
				first = false
			}
			line := fmt.Sprintf("  %-26s %s", t.store, t.where)
			if t.skip != "" {
				line += ": " + t.skip
			}
			fmt.Fprintln(stdout, strings.TrimRight(line, " "))
			if t.apply != nil {
				todo++
			}
		}
	}
	if todo == 0 {
		for _, t := range targets {
			if t.already {
				fmt.Fprintln(stdout, "nothing to change")
				return nil
			}
		}
		var why []string
		for _, t := range targets {
			why = append(why, t.store+": "+t.skip)
		}
		return fmt.Errorf("cert trust: no store here can be changed (%s); add %s to a trust store by hand, or give it to clients (curl --cacert, httpskit get --ca)",
			strings.Join(why, "; "), ca.CertFile)
	}
	if dryRun {
		fmt.Fprintln(stdout, "dry run: nothing changed")
		return nil
	}
	var errs []error
	for _, t := range targets {
		if t.apply == nil {
			continue
		}
		if err := t.apply(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cert trust: %s %s: %w", t.store, t.where, err))
			continue
		}
		fmt.Fprintf(stdout, "added to the %s: %s\n  undo: %s\n", t.store, t.where, t.undo)
	}
	return errors.Join(errs...)
}

// systemTarget plans the system store: the CA file copied into certTrustDir, then
// certTrustTool. It needs root.
func systemTarget(ca *certs.CA, root string) trustTarget {
	t := trustTarget{store: "system store", where: filepath.Join(certTrustDir, certTrustName)}
	if runtime.GOOS != "linux" {
		t.skip = "only the Debian/Ubuntu system store is supported, not " + runtime.GOOS
		return t
	}
	tool, err := exec.LookPath(certTrustTool)
	if err != nil {
		t.skip = certTrustTool + " not found (only Debian/Ubuntu with the ca-certificates package are supported)"
		return t
	}
	if fi, err := os.Stat(certTrustDir); err != nil || !fi.IsDir() {
		t.skip = certTrustDir + " is not a directory (is ca-certificates installed?)"
		return t
	}
	if f := systemHolds(ca.Cert); f != "" {
		t.where, t.already = f, true
		return t
	}
	if certGeteuid() != 0 {
		t.skip = "changing it needs root: run sudo httpskit cert trust --root " + root
		return t
	}
	dest := t.where
	t.undo = fmt.Sprintf("sudo rm %s && sudo %s --fresh", dest, certTrustTool)
	t.apply = func(ctx context.Context) error {
		if err := certs.WriteFiles(dest, ca.CertPEM, "", nil); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, tool)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("wrote the CA, but %s failed: %w\n%s", certTrustTool, err, out)
		}
		return nil
	}
	return t
}

// systemHolds returns the file in certTrustDir that holds c (ours, or one mkcert -install
// wrote for the same CA), or "".
func systemHolds(c *x509.Certificate) string {
	entries, _ := os.ReadDir(certTrustDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".crt") || !e.Type().IsRegular() {
			continue
		}
		name := filepath.Join(certTrustDir, e.Name())
		if b, err := os.ReadFile(name); err == nil && pemHolds(b, c) {
			return name
		}
	}
	return ""
}

// pemHolds reports whether the PEM text b holds the certificate c.
func pemHolds(b []byte, c *x509.Certificate) bool {
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" && bytes.Equal(block.Bytes, c.Raw) {
			return true
		}
	}
}

// nssTargets plans every NSS database found under the user's home: the CA added as a trusted
// issuer of web site certificates (certutil -t C,,). A database owned by another user (the
// run is under sudo) is left alone.
func nssTargets(ctx context.Context, ca *certs.CA) []trustTarget {
	home, err := certNSSHome()
	if err != nil {
		return []trustTarget{{store: "NSS databases", skip: "no home directory: " + err.Error()}}
	}
	var dbs []trustTarget
	for _, d := range nssDatabases {
		matches, _ := filepath.Glob(filepath.Join(home, d.pattern))
		for _, dir := range matches {
			if _, err := os.Stat(filepath.Join(dir, "cert9.db")); err == nil {
				dbs = append(dbs, trustTarget{store: d.browser + " NSS database", where: dir})
			}
		}
	}
	if len(dbs) == 0 {
		return []trustTarget{{store: "NSS databases", where: home, skip: "none found (Chromium makes ~/.pki/nssdb on its first run)"}}
	}
	tool, err := exec.LookPath(certUtil)
	if err != nil {
		for i := range dbs {
			dbs[i].skip = "certutil not found (Debian: apt install libnss3-tools)"
		}
		return dbs
	}
	nick := fmt.Sprintf("%s %s", ca.Cert.Subject.CommonName, strings.ReplaceAll(certFingerprint(ca.Cert)[:11], ":", ""))
	for i := range dbs {
		t := &dbs[i]
		db := "sql:" + t.where
		if fi, err := os.Stat(filepath.Join(t.where, "cert9.db")); err == nil {
			if uid, ok := fileOwner(fi); ok && uid != certGeteuid() {
				t.skip = "owned by user " + strconv.Itoa(uid) + ", not this one: run cert trust as that user (without sudo)"
				continue
			}
		}
		holds, err := nssHolds(ctx, tool, db, ca.Cert)
		if err != nil {
			t.skip = err.Error()
			continue
		}
		if holds {
			t.already = true
			continue
		}
		t.undo = fmt.Sprintf("certutil -D -d %s -n %q", db, nick)
		t.apply = func(ctx context.Context) error {
			_, err := runCertutil(ctx, tool, "-A", "-d", db, "-t", "C,,", "-n", nick, "-i", ca.CertFile)
			return err
		}
	}
	return dbs
}

// nssHolds reports whether the NSS database db trusts c to issue web site certificates,
// under any nickname (mkcert -install adds it as "mkcert development CA ...").
func nssHolds(ctx context.Context, tool, db string, c *x509.Certificate) (bool, error) {
	out, err := runCertutil(ctx, tool, "-L", "-d", db)
	if err != nil {
		return false, err
	}
	// Lines after the header: "<nickname>   <trust: SSL,email,code signing>".
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.Contains(strings.Split(f[len(f)-1], ",")[0], "C") {
			continue
		}
		nick := strings.TrimSpace(strings.TrimSuffix(strings.TrimRight(line, " "), f[len(f)-1]))
		pemText, err := runCertutil(ctx, tool, "-L", "-d", db, "-n", nick, "-a")
		if err == nil && pemHolds([]byte(pemText), c) {
			return true, nil
		}
	}
	return false, nil
}

// runCertutil runs certutil with args and returns its output; an error holds the output.
func runCertutil(ctx context.Context, tool string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, certutilTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("certutil %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// mkcertFlag is --mkcert of the cert commands and serve: it sets the CA root to mkcert's.
type mkcertFlag struct{ root *string }

func (m mkcertFlag) String() string   { return "" }
func (m mkcertFlag) IsBoolFlag() bool { return true }

func (m mkcertFlag) Set(v string) error {
	if on, err := strconv.ParseBool(v); err != nil || !on {
		return errors.New("takes no value")
	}
	dir, err := mkcertRoot()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "rootCA.pem")); err != nil {
		return fmt.Errorf("no mkcert CA in %s (run \"mkcert -install\", or set CAROOT to its folder): %w", dir, err)
	}
	*m.root = dir
	return nil
}

// mkcertRoot returns the folder of mkcert's CA as mkcert finds it (its getCAROOT): $CAROOT,
// else "mkcert" in %LOCALAPPDATA% (Windows), ~/Library/Application Support (macOS),
// $XDG_DATA_HOME, or ~/.local/share.
func mkcertRoot() (string, error) {
	if r := os.Getenv("CAROOT"); r != "" {
		return filepath.Abs(r)
	}
	var dir string
	switch {
	case runtime.GOOS == "windows":
		dir = os.Getenv("LOCALAPPDATA")
	case os.Getenv("XDG_DATA_HOME") != "":
		dir = os.Getenv("XDG_DATA_HOME")
	default:
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("mkcert's CA: %w (set CAROOT)", err)
		}
		dir = filepath.Join(home, ".local", "share")
		if runtime.GOOS == "darwin" {
			dir = filepath.Join(home, "Library", "Application Support")
		}
	}
	if dir == "" {
		return "", errors.New("mkcert's CA: no data directory (set CAROOT)")
	}
	return filepath.Join(dir, "mkcert"), nil
}
