package https_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/https"
)

// HTTPS to a local daemon on a Unix socket, as Node's socketPath: Host still names the
// server for TLS and the Host header.
func ExampleOptions_socketPath() {
	dir, err := os.MkdirTemp("", "sock")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "daemon.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		log.Fatal(err)
	}
	// The daemon: an HTTPS server with a certificate for localhost.
	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		log.Fatal(err)
	}
	daemon := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello %s over %s", r.Host, r.Proto)
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	go daemon.ServeTLS(ln, "", "")
	defer daemon.Close()
	defer https.CloseIdleConnections()

	r, err := https.Get(context.Background(), https.Options{Host: "localhost", SocketPath: sock, CA: string(ca.CertPEM)}, nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Response()
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(res)
	fmt.Println(string(body))
	// Output:
	// hello localhost over HTTP/2.0
}
