package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// TestServeMutualTLS: `serve --client-ca FILE` against `httpskit request` (and get) with and
// without a client certificate: accepted with --cert/--key or -E/--key, refused with the
// reason and exit code 58 (curl's "client certificate") when missing or signed by another
// CA, and an expired certificate refused by the client before it connects (exit code 58
// too, saying it expired). serve -v logs
// the subject of each verified client, and why it refused the others.
func TestServeMutualTLS(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	files := t.TempDir()
	write := func(name string, data []byte) string {
		name = filepath.Join(files, name)
		must(t, os.WriteFile(name, data, 0o600))
		return name
	}
	clientCA, err := certs.NewCA("serve mtls test client CA", 0)
	must(t, err)
	stranger, err := certs.NewCA("serve mtls test stranger CA", 0)
	must(t, err)
	issue := func(ca *certs.CA, name string, opts certs.LeafOptions) (string, string) {
		opts.Client = true
		c, k, err := ca.Issue(opts)
		must(t, err)
		return write(name+".pem", c), write(name+"-key.pem", k)
	}
	goodCert, goodKey := issue(clientCA, "device-1", certs.LeafOptions{CommonName: "device-1"})
	strangerCert, strangerKey := issue(stranger, "intruder", certs.LeafOptions{CommonName: "intruder"})
	expiredCert, expiredKey := issue(clientCA, "lapsed", certs.LeafOptions{CommonName: "lapsed",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	caFile := write("client-ca.pem", clientCA.CertPEM)

	proc, base, serverCA := startServeProcess(t, dir, "--client-ca", caFile, "-v")
	url := base + "hello.txt"
	refused := "the server refused the client certificate: pass --cert FILE --key FILE that it trusts"
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderr    []string // in the client's message
		serverLog []string // in a line serve logs
	}{
		{"accepted", []string{"request", url, "--ca", serverCA, "--cert", goodCert, "--key", goodKey}, 0, "hello\n", nil,
			[]string{`msg="client certificate"`, "path=/hello.txt", `subject="CN=device-1,`}},
		{"accepted, curl's names", []string{"get", url, "--cacert", serverCA, "-E", goodCert, "--key", goodKey}, 0, "hello\n", nil,
			[]string{`msg="client certificate"`, `subject="CN=device-1,`}},
		{"no certificate", []string{"request", url, "--ca", serverCA}, 58, "", []string{"httpskit: the server requires a client certificate: pass --cert FILE --key FILE"},
			[]string{"TLS handshake error", "didn't provide a certificate"}},
		{"certificate of another CA", []string{"request", url, "--ca", serverCA, "--cert", strangerCert, "--key", strangerKey}, 58, "",
			[]string{"httpskit: " + refused}, []string{"TLS handshake error", "unknown authority"}},
		{"expired certificate", []string{"request", url, "--ca", serverCA, "--cert", expiredCert, "--key", expiredKey}, 58, "",
			[]string{"httpskit: ", expiredCert, "expired"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runFetchTest(run, tt.args...)
			var msg strings.Builder
			code := exitCode(err, &msg)
			if code != tt.code || stdout != tt.stdout || !containsAll(msg.String(), tt.stderr...) {
				t.Errorf("httpskit %s: exit %d, stdout %q, message %q; want %d, %q, a message with %q\nstderr: %s",
					strings.Join(tt.args, " "), code, stdout, msg.String(), tt.code, tt.stdout, tt.stderr, stderr)
			}
			if tt.serverLog != nil {
				proc.waitStderr(t, tt.serverLog...)
			}
		})
	}
}
