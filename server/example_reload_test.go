package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/server"
)

// A listener whose certificate and key are files serves a renewed pair without a restart:
// it notices the new files by itself within a second or two, and ReloadCertificate (or
// Server.ReloadCertificates, for example on SIGHUP) puts them in service at once. A broken
// renewal is refused and the previous certificate stays.
func ExampleListener_ReloadCertificate() {
	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "reload-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	renew := func() {
		c, k, err := ca.Issue(certs.LeafOptions{})
		if err != nil {
			log.Fatal(err)
		}
		if err := certs.WriteFiles(certFile, c, keyFile, k); err != nil { // temporary files renamed into place
			log.Fatal(err)
		}
	}
	renew()

	s := server.New(server.Config{})
	l, err := s.AddHTTPSServer(server.HTTPSConfig{
		HTTPConfig: server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort},
		Cert:       certFile, Key: keyFile,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())

	// `httpskit serve` calls s.ReloadCertificates() on SIGHUP.
	first := l.Certificate().SerialNumber
	renew()
	fmt.Println("reload:", l.ReloadCertificate())
	fmt.Println("new certificate in service:", l.Certificate().SerialNumber.Cmp(first) != 0)

	if err := os.WriteFile(keyFile, []byte("half-written"), 0o600); err != nil {
		log.Fatal(err)
	}
	fmt.Println("broken pair refused:", l.ReloadCertificate() != nil)
	// Output:
	// reload: <nil>
	// new certificate in service: true
	// broken pair refused: true
}

// With mutual TLS, a handler reads who the client is from its verified certificate.
func ExampleRequest_ClientCertificate() {
	serverCA, _ := certs.NewCA("example CA", 0)
	clientCA, _ := certs.NewCA("example client CA", 0)
	certPEM, keyPEM, _ := serverCA.Issue(certs.LeafOptions{})

	s := server.New(server.Config{})
	s.RouteFunc("GET", "/whoami", func(_ string, req *server.Request, res *server.Response) error {
		c := req.ClientCertificate() // nil unless the handshake verified it
		return res.WriteText(0, "hello "+c.Subject.CommonName+"\n", nil)
	})
	l, err := s.AddHTTPSServer(server.HTTPSConfig{
		HTTPConfig: server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort},
		CertPEM:    certPEM, KeyPEM: keyPEM,
		CA:         string(clientCA.CertPEM), // or a file name, reloaded when it changes
		ClientAuth: tls.RequireAndVerifyClientCert,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())

	c, k, _ := clientCA.Issue(certs.LeafOptions{Client: true, CommonName: "device-1"})
	pair, _ := tls.X509KeyPair(c, k)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: serverCA.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{pair}}}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/whoami", l.Port()))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
	// Output:
	// hello device-1
}
