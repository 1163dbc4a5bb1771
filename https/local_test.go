package https

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
	"software.sslmate.com/src/go-pkcs12"
)

// mtlsServer is a test server that requires a client certificate from clientCA and answers
// with its serial number.
func mtlsServer(t *testing.T, clientCA *certs.CA) *server {
	t.Helper()
	serial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.TLS.PeerCertificates[0].SerialNumber.Text(16)))
	})
	return newServer(t, serial, serverConfig{tweak: func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = clientCA.Pool()
	}})
}

// clientPFX issues a client certificate from ca and writes it as a PKCS #12 file protected
// by pass; it returns the certificate's serial number.
func clientPFX(t *testing.T, ca *certs.CA, file, pass string) string {
	t.Helper()
	pair, err := ca.IssueTLS(certs.LeafOptions{Client: true, CommonName: "device"})
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := pkcs12.Modern.Encode(pair.PrivateKey, pair.Leaf, []*x509.Certificate{ca.Cert}, pass)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+".new", pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".new", file); err != nil {
		t.Fatal(err)
	}
	return pair.Leaf.SerialNumber.Text(16)
}

// TestClientPFX presents a client certificate from a PKCS #12 file, picks up its renewal, and
// refuses a wrong passphrase or PFX with Cert before any I/O.
func TestClientPFX(t *testing.T) {
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := mtlsServer(t, clientCA)
	o := s.opts(t, "GET", "/")
	o.PFX, o.Passphrase = filepath.Join(t.TempDir(), "client.p12"), "device pass"
	for i := range 2 {
		want := clientPFX(t, clientCA, o.PFX, o.Passphrase)
		if _, got := mustDo(t, o, nil); got != want {
			t.Errorf("request %d: the server saw client certificate %s, want %s", i+1, got, want)
		}
	}
	tests := []struct {
		name  string
		tweak func(*Options)
		want  error // besides ErrInvalidRequest
		says  string
	}{
		{"wrong passphrase", func(o *Options) { o.Passphrase = "nope" }, certs.ErrPassphrase, "wrong passphrase"},
		{"no passphrase", func(o *Options) { o.Passphrase = "" }, certs.ErrPassphrase, "none was given"},
		{"missing file", func(o *Options) { o.PFX += ".none" }, certs.ErrNotFound, ".none"},
		{"PFX and Cert", func(o *Options) { o.Cert, o.Key = o.PFX, o.PFX }, nil, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := o
			tt.tweak(&bad)
			_, err := Request(t.Context(), bad, nil)
			wantKind(t, err, ErrInvalidRequest)
			if tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Request = %v, want an error wrapping %v saying %q", err, tt.want, tt.says)
			}
		})
	}
}

// TestClientEncryptedKey presents a client certificate whose key is an encrypted PKCS #8 file
// written by openssl.
func TestClientEncryptedKey(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := mtlsServer(t, clientCA)
	certPEM, keyPEM, err := clientCA.Issue(certs.LeafOptions{Client: true, CommonName: "device"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:key pass")
	cmd.Stdin = bytes.NewReader(keyPEM)
	enc, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl pkcs8: %v", err)
	}
	o := s.opts(t, "GET", "/")
	o.Cert, o.Key, o.Passphrase = string(certPEM), string(enc), "key pass"
	pair, _ := tls.X509KeyPair(certPEM, keyPEM)
	if _, got := mustDo(t, o, nil); got != pair.Leaf.SerialNumber.Text(16) {
		t.Errorf("the server saw client certificate %s, want %s", got, pair.Leaf.SerialNumber.Text(16))
	}
	o.Passphrase = ""
	_, err = Request(t.Context(), o, nil)
	wantKind(t, err, ErrInvalidRequest)
	if !errors.Is(err, certs.ErrPassphrase) {
		t.Errorf("Request without the passphrase = %v, want certs.ErrPassphrase", err)
	}
}

// TestSocketPath talks HTTPS, HTTP/1.1 and HTTP/2, to a server on a Unix socket; Host still
// names the server for TLS and in the Host header.
func TestSocketPath(t *testing.T) {
	dir, err := os.MkdirTemp("", "hk") // a socket path must fit in 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "daemon.sock")
	for _, h1Only := range []bool{true, false} {
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(r.Host + " " + r.Proto))
		}))
		hs.Listener.Close()
		hs.Listener = ln
		hs.TLS = &tls.Config{Certificates: []tls.Certificate{leaf(t, testCA(t), certs.LeafOptions{})}}
		hs.EnableHTTP2 = !h1Only
		hs.StartTLS()
		o := Options{Host: "localhost", SocketPath: path, Path: "/", CA: string(testCA(t).CertPEM)}
		want := map[bool]string{true: "localhost HTTP/1.1", false: "localhost HTTP/2.0"}[h1Only]
		if _, got := mustDo(t, o, nil); got != want {
			t.Errorf("over the socket: %q, want %q", got, want)
		}
		// A Connect's HTTP1Only applies over the socket; its Dial is not used.
		ctx := WithConnect(t.Context(), &Connect{HTTP1Only: true, Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("Connect.Dial used")
		}})
		r, err := Get(ctx, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := r.Response(); err != nil || m.HTTPVersion != "1.1" {
			t.Errorf("with Connect{HTTP1Only}: %v, %v; want HTTP/1.1 over the socket", m, err)
		} else {
			m.Close()
		}
		o.Host = "example.com" // not a name of the certificate
		_, _, err = do(t, o, nil)
		wantKind(t, err, ErrNameMismatch)
		hs.Close()
		CloseIdleConnections()
	}
	_, _, err = do(t, Options{Host: "localhost", SocketPath: path, CA: string(testCA(t).CertPEM)}, nil)
	wantKind(t, err, ErrRefused) // the file is gone
}
