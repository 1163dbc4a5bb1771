package https_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/https"
)

// testServer starts an HTTPS server on 127.0.0.1 with a certificate from a
// new in-memory CA, and returns it with the CA's PEM and the port.
func testServer(h http.Handler, tweak func(*tls.Config)) (*httptest.Server, string, int) {
	ca, err := certs.NewCA("example CA", 0)
	if err != nil {
		panic(err)
	}
	cert, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		panic(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if tweak != nil {
		tweak(s.TLS)
	}
	s.EnableHTTP2 = true
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	s.StartTLS()
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	return s, string(ca.CertPEM), n
}

func ExampleGet() {
	srv, ca, port := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	}), nil)
	defer srv.Close()

	r, err := https.Get(context.Background(), https.Options{
		Host: "localhost", Port: port, Path: "/greeting", CA: ca,
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := r.Response()
	if err != nil {
		fmt.Println(err)
		return
	}
	body, err := io.ReadAll(res)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode, res.StatusMessage, "HTTP/"+res.HTTPVersion)
	fmt.Println(string(body))
	// Output:
	// 200 OK HTTP/2.0
	// hello from /greeting
}

// A streamed POST: each Write goes out as it is made (chunked, as there is
// no Content-Length), and the response arrives through events.
func ExampleRequest_streamedPost() {
	srv, ca, port := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "received %d bytes", n)
	}), nil)
	defer srv.Close()

	done := make(chan struct{})
	r, err := https.Request(context.Background(), https.Options{
		Host: "localhost", Port: port, Method: "POST", Path: "/upload", CA: ca,
	}, func(res *https.IncomingMessage) {
		var body strings.Builder
		res.OnData(func(p []byte) { body.Write(p) })
		res.OnEnd(func() { fmt.Println(res.StatusCode, body.String()) })
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r.OnFinish(func() { fmt.Println("request sent") })
	r.OnError(func(err error) { fmt.Println("error:", err) })
	r.OnClose(func() { close(done) })

	line := []byte(strings.Repeat("x", 1023) + "\n")
	for i := 0; i < 1024; i++ { // 1 MiB, never in memory at once
		if _, err := r.Write(line); err != nil {
			fmt.Println(err)
			return
		}
	}
	r.End()
	<-done
	// Output:
	// request sent
	// 200 received 1048576 bytes
}

// Mutual TLS: the client trusts the server's CA and presents a certificate
// that the server checks against its own client CA.
func ExampleOptions_mutualTLS() {
	clientCA, err := certs.NewCA("client CA", 0)
	if err != nil {
		panic(err)
	}
	certPEM, keyPEM, err := clientCA.Issue(certs.LeafOptions{Client: true, CommonName: "sensor-42"})
	if err != nil {
		panic(err)
	}
	srv, ca, port := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.TLS.PeerCertificates[0].Subject.CommonName)
	}), func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = clientCA.Pool()
	})
	defer srv.Close()

	// CA, Cert and Key may as well be file names.
	r, err := https.Get(context.Background(), https.Options{
		Host: "localhost", Port: port, CA: ca, Cert: string(certPEM), Key: string(keyPEM),
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := r.Response()
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res)
	fmt.Println(string(body))

	// Without the client certificate the server refuses the connection.
	r, _ = https.Get(context.Background(), https.Options{Host: "localhost", Port: port, CA: ca}, nil)
	_, err = r.Response()
	fmt.Println(errors.Is(err, https.ErrClientCertRefused))
	// Output:
	// hello sensor-42
	// true
}
