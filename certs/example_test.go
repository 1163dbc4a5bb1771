package certs_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/httpskit/httpskit/certs"
)

func ExampleIsPEM() {
	fmt.Println(certs.IsPEM("\n  -----BEGIN CERTIFICATE-----\n..."))
	fmt.Println(certs.IsPEM("cert.pem"))
	// Output:
	// true
	// false
}

func ExampleLoadX509KeyPair() {
	dir, err := os.MkdirTemp("", "certs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		log.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue(certs.LeafOptions{})
	if err != nil {
		log.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	if err := certs.WriteFiles(certFile, certPEM, "", nil); err != nil {
		log.Fatal(err)
	}

	// The certificate from a file, the key as PEM text.
	cert, err := certs.LoadX509KeyPair(certFile, string(keyPEM))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cert.Leaf.DNSNames, cert.Leaf.IPAddresses)

	// A name that is not PEM text must be an existing file.
	_, err = certs.LoadX509KeyPair("missing.pem", string(keyPEM))
	fmt.Println(err)
	fmt.Println(errors.Is(err, certs.ErrNotFound), errors.Is(err, fs.ErrNotExist))

	// A key where the certificate belongs.
	_, err = certs.X509KeyPair(keyPEM, keyPEM)
	fmt.Println(err)
	// Output:
	// [localhost] [127.0.0.1 ::1]
	// certs: load certificate missing.pem: file not found
	// true true
	// certs: load certificate PEM text: wrong PEM block type: found "PRIVATE KEY", want "CERTIFICATE"
}

func ExampleLoadOrCreateCA() {
	// Programs use certs.DefaultRoot(); the example uses a fresh directory.
	root, err := os.MkdirTemp("", "httpskit-caroot")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	ca, created, err := certs.LoadOrCreateCA(root)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(created, filepath.Base(ca.CertFile), filepath.Base(ca.KeyFile))

	again, created, err := certs.LoadOrCreateCA(root)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(created, bytes.Equal(again.CertPEM, ca.CertPEM))

	leaf, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = leaf.Leaf.Verify(x509.VerifyOptions{Roots: again.Pool(), DNSName: "localhost"})
	fmt.Println(err == nil)
	// Output:
	// true rootCA.pem rootCA-key.pem
	// false true
	// true
}

func ExampleCA_IssueTLS() {
	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		log.Fatal(err)
	}
	serverCert, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		log.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over TLS")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.StartTLS()
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
	}}
	resp, err := client.Get(srv.URL) // https://127.0.0.1:port: the certificate names 127.0.0.1
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, string(body))
	// Output:
	// 200 OK hello over TLS
}

func ExampleLoadCertPool() {
	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		log.Fatal(err)
	}
	// ca may also be the name of a file, such as the development CA's
	// rootCA.pem.
	pool, err := certs.LoadCertPool(string(ca.CertPEM))
	if err != nil {
		log.Fatal(err)
	}
	leaf, err := ca.IssueTLS(certs.LeafOptions{Hosts: []string{"api.example.test"}})
	if err != nil {
		log.Fatal(err)
	}
	_, err = leaf.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.example.test"})
	fmt.Println(err)
	// Output:
	// <nil>
}
