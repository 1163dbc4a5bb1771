package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/httpskit/httpskit/server"
	"github.com/httpskit/httpskit/storage"
)

// acmeFlags are serve's flags for certificates from an ACME CA.
type acmeFlags struct {
	domain, email, ca, caRoot string
}

func (a *acmeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.domain, "domain", "", "obtain and renew the certificate for these DNS names (comma-separated) from an ACME CA (Let's Encrypt by default); the CA must reach this machine on port 443 or 80. Sets the defaults of --host to 0.0.0.0, --port to 443 and --http-port to 80")
	fs.StringVar(&a.email, "acme-email", "", "contact address of the ACME account (the CA writes about expiry and problems)")
	fs.StringVar(&a.ca, "acme-ca", "", "ACME directory URL (default Let's Encrypt production: "+server.LetsEncrypt+"; staging: "+server.LetsEncryptStaging+")")
	fs.StringVar(&a.caRoot, "acme-ca-root", "", "PEM file of a root to trust, beside the system roots, when talking to the ACME CA (a private CA, Pebble)")
}

// check validates the ACME flags and, with --domain, moves the listener defaults to those of
// a public site: every interface, 443 and 80.
func (a *acmeFlags) check(fs *flag.FlagSet, f *serveFlags) error {
	if a.domain == "" {
		if isSet(fs, "acme-email", "acme-ca", "acme-ca-root") {
			return usagef("--acme-email, --acme-ca and --acme-ca-root go with --domain")
		}
		return nil
	}
	if isSet(fs, "cert", "key", "ca-root", "config") {
		return usagef("--domain obtains the certificate from an ACME CA: give no --cert, --key, --ca-root or --config with it")
	}
	if !isSet(fs, "host") {
		f.host = "0.0.0.0"
	}
	if !isSet(fs, "port") {
		f.port = 443
	}
	if !isSet(fs, "http-port") {
		f.httpPort = 80
	}
	return nil
}

// domains splits --domain.
func (a *acmeFlags) domains() []string {
	var ds []string
	for d := range strings.SplitSeq(a.domain, ",") {
		if d = strings.TrimSpace(d); d != "" {
			ds = append(ds, d)
		}
	}
	return ds
}

// config returns the listener's ACME configuration; its events are printed on stdout (and
// failures on stderr), one line each.
func (a *acmeFlags) config(stdout, stderr io.Writer) *server.ACMEConfig {
	return &server.ACMEConfig{
		Domains:      a.domains(),
		DirectoryURL: a.ca,
		Email:        a.email,
		CARoots:      a.caRoot,
		Notify:       acmeNotifier(stdout, stderr),
	}
}

// print says what the ACME listener works with, once started: store is --storage, nil
// when not given.
func (a *acmeFlags) print(w io.Writer, store storage.Storage) error {
	ca := a.ca
	if ca == "" {
		ca = server.LetsEncrypt
	}
	var st fmt.Stringer = store
	if store == nil {
		d, err := server.DefaultStorage()
		if err != nil {
			return err
		}
		st = d
	}
	fmt.Fprintf(w, "acme   names %s\n", strings.Join(a.domains(), ", "))
	fmt.Fprintf(w, "acme   CA %s\n", ca)
	fmt.Fprintf(w, "acme   storage %s\n", st)
	return nil
}

// acmeNotifier prints each ACME event as one line.
func acmeNotifier(stdout, stderr io.Writer) func(server.ACMEEvent) {
	var mu sync.Mutex // events come from each ACME listener's goroutine
	return func(e server.ACMEEvent) {
		mu.Lock()
		defer mu.Unlock()
		names := strings.Join(e.Domains, ", ")
		until := e.NotAfter.UTC().Format(time.RFC3339)
		switch e.Kind {
		case server.ACMEObtained:
			fmt.Fprintf(stdout, "acme   certificate for %s obtained from the CA, valid until %s\n", names, until)
		case server.ACMELoaded:
			fmt.Fprintf(stdout, "acme   certificate for %s loaded from storage, valid until %s\n", names, until)
		case server.ACMEStapled:
			fmt.Fprintf(stdout, "acme   OCSP response stapled to the certificate for %s\n", names)
		case server.ACMEFailed:
			has := "no certificate in service yet"
			if !e.NotAfter.IsZero() {
				has = "still serving the current one, valid until " + until
			}
			fmt.Fprintf(stderr, "httpskit: acme: certificate for %s: %v; %s; retrying in %s\n", names, oneLine(e.Err), has, e.Retry.Round(time.Millisecond))
		case server.ACMEStapleFailed:
			fmt.Fprintf(stderr, "httpskit: acme: %v; retrying in %s\n", oneLine(e.Err), e.Retry.Round(time.Millisecond))
		}
	}
}

// oneLine flattens an error's text to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
