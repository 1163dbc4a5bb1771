package https

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	hkserver "github.com/httpskit/httpskit/server"
)

// socketSite starts a server package site with one HTTPS listener on a Unix socket in a new
// short directory, certified by testCA for localhost; with clientCA, it requires client
// certificates from it. GET /who answers with the serial of the client certificate, or
// "anonymous", and the protocol. It returns the socket's path.
func socketSite(t *testing.T, clientCA *certs.CA) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hk") // a socket path must fit in 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "site.sock")
	certPEM, keyPEM, err := testCA(t).Issue(certs.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := hkserver.New(hkserver.Config{})
	err = s.RouteFunc("GET", "/who", func(_ string, req *hkserver.Request, res *hkserver.Response) error {
		who := "anonymous"
		if c := req.ClientCertificate(); c != nil {
			who = c.SerialNumber.Text(16)
		}
		return res.WriteText(http.StatusOK, who+" "+req.Original().Proto, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	hc := hkserver.HTTPSConfig{HTTPConfig: hkserver.HTTPConfig{SocketPath: path}, CertPEM: certPEM, KeyPEM: keyPEM}
	if clientCA != nil {
		hc.CA, hc.ClientAuth = string(clientCA.CertPEM), tls.RequireAndVerifyClientCert
	}
	if _, err := s.AddHTTPSServer(hc); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return path
}

// clientGet makes GET url with c and returns the body of a 200 answer.
func clientGet(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q, %v", url, resp.StatusCode, b, err)
	}
	return string(b)
}

// TestRoundTripperSocketPath sends an http.Client's requests through Agent.RoundTripper over a
// Unix socket to a server package listener: HTTPS verified against the test CA, with the
// certificate checked against the URL's host, not the socket.
func TestRoundTripperSocketPath(t *testing.T) {
	path := socketSite(t, nil)
	a := &Agent{}
	defer a.CloseIdleConnections()
	rt, err := a.RoundTripper(Options{SocketPath: path, CA: string(testCA(t).CertPEM)})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: rt}
	if got, want := clientGet(t, c, "https://localhost/who"), "anonymous HTTP/2.0"; got != want {
		t.Errorf("over the socket: %q, want %q", got, want)
	}
	// The dial goes to the socket whatever the URL's port; the name is still verified.
	if got := clientGet(t, c, "https://localhost:9/who"); !strings.HasPrefix(got, "anonymous") {
		t.Errorf("with a port in the URL: %q", got)
	}
	_, err = c.Get("https://example.com/who")
	if !errors.Is(err, ErrNameMismatch) {
		t.Errorf("GET https://example.com/ over the socket = %v, want ErrNameMismatch", err)
	}
	// Without the test CA the server's certificate is not trusted.
	rt, err = a.RoundTripper(Options{SocketPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&http.Client{Transport: rt}).Get("https://localhost/who"); !errors.Is(err, ErrUnknownAuthority) {
		t.Errorf("GET without the CA = %v, want ErrUnknownAuthority", err)
	}
}

// TestRoundTripperSocketPFX is mutual TLS over a Unix socket: the client certificate comes
// from a PKCS #12 file, read again for each request so a renewed file is presented without a
// new RoundTripper; a wrong passphrase is refused when the RoundTripper is made.
func TestRoundTripperSocketPFX(t *testing.T) {
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	path := socketSite(t, clientCA)
	a := &Agent{}
	defer a.CloseIdleConnections()
	o := Options{SocketPath: path, CA: string(testCA(t).CertPEM), PFX: filepath.Join(t.TempDir(), "client.p12"), Passphrase: "device pass"}
	want := clientPFX(t, clientCA, o.PFX, o.Passphrase)
	rt, err := a.RoundTripper(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: rt}
	if got := clientGet(t, c, "https://localhost/who"); got != want+" HTTP/2.0" {
		t.Errorf("the server saw %q, want client certificate %s", got, want)
	}
	want = clientPFX(t, clientCA, o.PFX, o.Passphrase) // renewed
	a.CloseIdleConnections()                           // a new connection presents it
	if got := clientGet(t, c, "https://localhost/who"); got != want+" HTTP/2.0" {
		t.Errorf("after the renewal the server saw %q, want client certificate %s", got, want)
	}

	o.Passphrase = "nope"
	if _, err := a.RoundTripper(o); !errors.Is(err, ErrInvalidRequest) || !errors.Is(err, certs.ErrPassphrase) {
		t.Errorf("RoundTripper with a wrong passphrase = %v, want ErrInvalidRequest and certs.ErrPassphrase", err)
	}
	// Without a client certificate the server refuses the handshake. With TLS 1.3 its alert
	// comes after the client's handshake is done; over a Unix socket the client's first write
	// then often fails with a broken pipe first: the RoundTripper, as Request, asks the TLS
	// connection for the alert and reports ErrClientCertRefused all the same.
	rt, err = a.RoundTripper(Options{SocketPath: path, CA: string(testCA(t).CertPEM)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt}).Get("https://localhost/who")
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrClientCertRefused) {
		t.Errorf("GET without a client certificate = %v, want ErrClientCertRefused", err)
	}
}
