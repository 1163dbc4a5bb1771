package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/httpskit/httpskit/certs"
)

const certUsage = `[show|create|issue|trust] [flags]

  show     (the default) print the development CA: its directory, the file
           clients trust, subject, expiry and SHA-256 fingerprint
  create   create the development CA if there is none
  issue [--out-cert F] [--out-key F] [--client] [--force] [HOST...]
           issue a certificate for HOSTs (default localhost 127.0.0.1 ::1)
           into ./HOST.pem and ./HOST-key.pem; --client adds client
           authentication, and with no HOST makes a client-only certificate
           (./client.pem); existing files are kept unless --force
  trust [--dry-run]
           add the CA to the system trust store (Debian/Ubuntu, as root) and
           to the NSS databases of Chromium (~/.pki/nssdb) and Firefox
           profiles (with certutil), saying what it will change first;
           --dry-run stops there

The CA lives in --root, else $HTTPSKIT_CAROOT, else httpskit in the user
config directory. --mkcert uses mkcert's CA instead ($CAROOT, else the
folder "mkcert -CAROOT" prints), so a CA that "mkcert -install" made trusted
issues httpskit's certificates.`

// runCert implements `httpskit cert [show|create|issue|trust]`. args are the
// arguments after "cert". Flags may come before or after the subcommand.
func runCert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Flags before the subcommand: only --root (and -h).
	var root string
	fs := certFlagSet("cert", certUsage, &root, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sub, rest := "show", fs.Args()
	if len(rest) > 0 {
		sub, rest = rest[0], rest[1:]
	}
	switch sub {
	case "show":
		return certShow(rest, root, stdout, stderr)
	case "create":
		return certCreate(rest, root, stdout, stderr)
	case "issue":
		return certIssue(rest, root, stdout, stderr)
	case "trust":
		return certTrust(ctx, rest, root, stdout, stderr)
	}
	fs.Usage()
	return usagef("cert: unknown subcommand %q (want show, create, issue or trust)", sub)
}

// certFlagSet makes the flag set of a cert subcommand, with --root (alias
// --ca-root, as in serve) bound to root.
func certFlagSet(name, usage string, root *string, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet(name, usage, stderr)
	const help = "development CA directory (default $HTTPSKIT_CAROOT, else httpskit in the user config dir)"
	fs.StringVar(root, "root", *root, help)
	fs.StringVar(root, "ca-root", *root, "same as --root")
	fs.Var(mkcertFlag{root}, "mkcert", "use mkcert's CA: the folder of $CAROOT, else of \"mkcert -CAROOT\" (trust.go)")
	return fs
}

// certRoot returns root, or the default CA root when it is empty.
func certRoot(root string) (string, error) {
	if root != "" {
		return filepath.Abs(root)
	}
	return certs.DefaultRoot()
}

// certPlainArgs parses the arguments of a subcommand that takes only --root,
// and returns the CA root to use.
func certPlainArgs(sub string, args []string, root string, stderr io.Writer) (string, error) {
	fs := certFlagSet("cert "+sub, "[--root DIR]", &root, stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) > 0 {
		return "", usagef("cert %s takes no arguments, got %q", sub, pos)
	}
	return certRoot(root)
}

// certShow prints the CA, or how to create it.
func certShow(args []string, root string, stdout, stderr io.Writer) error {
	root, err := certPlainArgs("show", args, root, stderr)
	if err != nil {
		return err
	}
	ca, err := certs.LoadCA(root)
	if errors.Is(err, certs.ErrNotFound) && certCADirAbsent(root) {
		fmt.Fprintf(stdout, "CA root:  %s\n", root)
		fmt.Fprintln(stdout, `no development CA yet: create it with "httpskit cert create" ("httpskit serve" and "httpskit cert issue" create it too)`)
		return nil
	}
	if err != nil {
		return err
	}
	certPrintCA(stdout, root, ca)
	return nil
}

// certCADirAbsent reports whether root holds no CA (no directory ca, or an
// empty one), as opposed to a damaged one.
func certCADirAbsent(root string) bool {
	entries, err := os.ReadDir(filepath.Join(root, "ca"))
	return errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0
}

// certPrintCA prints what a user needs to know about the CA.
func certPrintCA(w io.Writer, root string, ca *certs.CA) {
	c := ca.Cert
	days := int(time.Until(c.NotAfter).Hours() / 24)
	fmt.Fprintf(w, "CA root:  %s\n", root)
	fmt.Fprintf(w, "CA file:  %s\n", ca.CertFile)
	fmt.Fprintf(w, "key file: %s (keep it private)\n", ca.KeyFile)
	fmt.Fprintf(w, "subject:  %s\n", c.Subject)
	fmt.Fprintf(w, "expires:  %s (in %d days)\n", c.NotAfter.UTC().Format("2006-01-02 15:04:05 UTC"), days)
	fmt.Fprintf(w, "SHA-256:  %s\n", certFingerprint(c))
	fmt.Fprintf(w, "trust it: curl --cacert %s ..., httpskit get --ca %s ...\n", ca.CertFile, ca.CertFile)
}

// certFingerprint is the SHA-256 of the certificate, as openssl prints it.
func certFingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":")
}

// certCreate creates the CA if there is none.
func certCreate(args []string, root string, stdout, stderr io.Writer) error {
	root, err := certPlainArgs("create", args, root, stderr)
	if err != nil {
		return err
	}
	ca, created, err := certs.LoadOrCreateCA(root)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created the development CA in %s\n", filepath.Dir(ca.CertFile))
	} else {
		fmt.Fprintf(stdout, "the development CA already exists in %s\n", filepath.Dir(ca.CertFile))
	}
	certPrintCA(stdout, root, ca)
	return nil
}

// certIssue issues a leaf certificate into files.
func certIssue(args []string, root string, stdout, stderr io.Writer) error {
	var (
		outCert, outKey string
		client, force   bool
	)
	fs := certFlagSet("cert issue", "[--out-cert FILE] [--out-key FILE] [--client] [--force] [--root DIR] [HOST...]", &root, stderr)
	fs.StringVar(&outCert, "out-cert", "", "certificate file (default ./HOST.pem for the first HOST, or ./client.pem)")
	fs.StringVar(&outKey, "out-key", "", "private key file, mode 0600 (default ./HOST-key.pem, or ./client-key.pem)")
	fs.BoolVar(&client, "client", false, "also allow client authentication (mutual TLS); with no HOST, a client-only certificate")
	fs.BoolVar(&force, "force", false, "replace existing files")
	hosts, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if h == "" || strings.HasPrefix(h, "-") {
			return usagef("cert issue: %q is not a host name or IP address", h)
		}
	}

	base := "client"
	if len(hosts) > 0 {
		base = certFileBase(hosts[0])
	} else if !client {
		base = "localhost"
	}
	if outCert == "" {
		outCert = base + ".pem"
	}
	if outKey == "" {
		outKey = base + "-key.pem"
	}
	if !force {
		for _, f := range []string{outCert, outKey} {
			if _, err := os.Lstat(f); err == nil {
				return fmt.Errorf("cert issue: %s already exists: use --force to replace it, or --out-cert/--out-key for other names", f)
			}
		}
	}

	if root, err = certRoot(root); err != nil {
		return err
	}
	ca, created, err := certs.LoadOrCreateCA(root)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created the development CA in %s\n", filepath.Dir(ca.CertFile))
	}
	certPEM, keyPEM, err := ca.Issue(certs.LeafOptions{Hosts: hosts, Client: client})
	if err != nil {
		return err
	}
	if err := certs.WriteFiles(outCert, certPEM, outKey, keyPEM); err != nil {
		return err
	}

	leaf, err := certs.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	l := leaf.Leaf
	names := append([]string(nil), l.DNSNames...)
	for _, ip := range l.IPAddresses {
		names = append(names, ip.String())
	}
	what := "a certificate for " + strings.Join(names, ", ")
	if len(names) == 0 {
		what = fmt.Sprintf("a client certificate for %q", l.Subject.CommonName)
	} else if client {
		what += " (server and client)"
	}
	fmt.Fprintf(stdout, "issued %s, valid until %s\n", what, l.NotAfter.UTC().Format("2006-01-02"))
	fmt.Fprintf(stdout, "certificate: %s\n", outCert)
	fmt.Fprintf(stdout, "key:         %s (keep it private)\n", outKey)
	fmt.Fprintf(stdout, "CA file:     %s\n", ca.CertFile)
	if len(names) == 0 {
		fmt.Fprintf(stdout, "use:         httpskit get --cert %s --key %s URL\n", outCert, outKey)
	} else {
		fmt.Fprintf(stdout, "use:         httpskit serve --cert %s --key %s\n", outCert, outKey)
	}
	return nil
}

// certFileBase makes a file name from a host: "*" and ":" are not welcome in
// file names everywhere.
func certFileBase(host string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	host = strings.ReplaceAll(host, "*", "_wildcard")
	return strings.NewReplacer(":", "_", "/", "_", `\`, "_").Replace(host)
}
