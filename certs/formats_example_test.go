package certs_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/httpskit/httpskit/certs"
	"software.sslmate.com/src/go-pkcs12"
)

// A PKCS #12 file (.p12, .pfx) holds the chain and the key: give it as the certificate and
// leave the key empty. The passphrase opens it; a wrong one says so.
func ExampleLoadKeyPair() {
	dir, err := os.MkdirTemp("", "certs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		log.Fatal(err)
	}
	pair, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		log.Fatal(err)
	}
	// As "openssl pkcs12 -export -certfile ca.pem" would write it.
	pfx, err := pkcs12.Modern.Encode(pair.PrivateKey, pair.Leaf, []*x509.Certificate{ca.Cert}, "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	file := filepath.Join(dir, "site.p12")
	if err := os.WriteFile(file, pfx, 0o600); err != nil {
		log.Fatal(err)
	}

	cert, err := certs.LoadKeyPair(file, "", "correct horse")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cert.Leaf.DNSNames, len(cert.Certificate), "certificates")

	_, err = certs.LoadKeyPair(file, "", "wrong")
	fmt.Println(errors.Is(err, certs.ErrPassphrase))
	// Output:
	// [localhost] 2 certificates
	// true
}
