package server_test

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
	"github.com/httpskit/httpskit/server"
)

// HTTPS on a Unix socket, for a reverse proxy or a local client on the same machine (curl
// --unix-socket PATH https://localhost/). The client dials the socket and still verifies the
// certificate for localhost.
func ExampleHTTPConfig_socketPath() {
	dir, err := os.MkdirTemp("", "sock")
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

	s := server.New(server.Config{})
	err = s.RouteFunc("GET", "/hello", func(_ string, req *server.Request, res *server.Response) error {
		return res.WriteText(0, "hello over a Unix socket", nil)
	})
	if err != nil {
		log.Fatal(err)
	}
	sock := filepath.Join(dir, "site.sock")
	l, err := s.AddHTTPSServer(server.HTTPSConfig{
		HTTPConfig: server.HTTPConfig{SocketPath: sock}, // SocketMode zero: 0660
		CertPEM:    certPEM,
		KeyPEM:     keyPEM,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background()) // removes the socket file

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, "unix", sock)
		},
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(l.URL() + "/hello")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fi, _ := os.Stat(sock)
	fmt.Println(l.Network(), l.URL(), fi.Mode())
	fmt.Printf("%d %s\n", resp.StatusCode, body)
	// Output:
	// unix https://localhost Srw-rw----
	// 200 hello over a Unix socket
}
