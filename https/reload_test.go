package https

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
)

// TestTLSFilesReread: CA, Cert and Key files are read on every request, so a renewed file
// takes effect at once, while a file whose content did not change is not parsed again.
// Errors still name the file at fault.
func TestTLSFilesReread(t *testing.T) {
	s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), serverConfig{h1Only: true})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(caFile, testCA(t).CertPEM)
	o := s.opts(t, "GET", "/")
	o.CA = caFile
	mustDo(t, o, nil)
	mustDo(t, o, nil) // same content: served from the parsed settings

	other, err := certs.NewCA("another CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	write(caFile, other.CertPEM)
	_, _, err = do(t, o, nil)
	wantKind(t, err, ErrUnknownAuthority)

	write(caFile, testCA(t).CertPEM)
	mustDo(t, o, nil)

	// A key file replaced by one that does not match: refused before any I/O, naming the file.
	certPEM, keyPEM, err := testCA(t).Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := testCA(t).Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	o.Cert, o.Key = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	write(o.Cert, certPEM)
	write(o.Key, keyPEM)
	mustDo(t, o, nil)
	write(o.Key, otherKey)
	_, err = Request(t.Context(), o, nil)
	wantKind(t, err, ErrInvalidRequest)
	if !strings.Contains(err.Error(), o.Key) || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key file: error %q, want it to name %s and the mismatch", err, o.Key)
	}
	write(o.Cert, []byte("not PEM"))
	_, err = Request(t.Context(), o, nil)
	if err == nil || !strings.Contains(err.Error(), o.Cert) {
		t.Errorf("damaged certificate file: error %v, want it to name %s", err, o.Cert)
	}
}

// TestClientCertRenewed: a client certificate renewed on disk (new files renamed over the old
// ones, as renewal tools do) is the one presented on the next request, although the
// connection made with the previous one is still open and idle.
func TestClientCertRenewed(t *testing.T) {
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	serial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.TLS.PeerCertificates[0].SerialNumber.Text(16)))
	})
	s := newServer(t, serial, serverConfig{tweak: func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = clientCA.Pool()
	}})
	dir := t.TempDir()
	o := s.opts(t, "GET", "/")
	o.Cert, o.Key = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	for i := range 3 {
		certPEM, keyPEM, err := clientCA.Issue(certs.LeafOptions{Client: true, CommonName: "device-1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := certs.WriteFiles(o.Cert, certPEM, o.Key, keyPEM); err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := mustDo(t, o, nil); got != pair.Leaf.SerialNumber.Text(16) {
			t.Errorf("request %d: the server saw the client certificate %s, want the renewed %s", i+1, got, pair.Leaf.SerialNumber.Text(16))
		}
	}
}
