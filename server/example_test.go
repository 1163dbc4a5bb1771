package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/server"
)

// Two listeners, plain HTTP and HTTPS, share one router.
func ExampleServer_AddHTTPSServer() {
	// A development CA and a certificate for localhost and 127.0.0.1, in memory.
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
		return res.WriteText(0, "hello over "+req.Original().Proto, nil)
	})
	if err != nil {
		log.Fatal(err)
	}
	plain, err := s.AddHTTPServer(server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		log.Fatal(err)
	}
	secure, err := s.AddHTTPSServer(server.HTTPSConfig{
		HTTPConfig: server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort},
		CertPEM:    certPEM, // or Cert and Key: PEM text or file names
		KeyPEM:     keyPEM,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.Pool()},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	for _, l := range []*server.Listener{plain, secure} {
		resp, err := client.Get(l.URL() + "/hello")
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %d %s\n", l.Kind(), resp.StatusCode, body)
	}
	// Output:
	// HTTP: 200 hello over HTTP/1.1
	// HTTPS: 200 hello over HTTP/2.0
}

// greetingController answers GET with a greeting and every other method with 405.
type greetingController struct{ greeting string }

// Before runs before Get and Any.
func (g *greetingController) Before(_ string, _ *server.Request, res *server.Response) error {
	res.SetHeader("Cache-Control", "no-store")
	return nil
}

func (g *greetingController) Get(_ string, req *server.Request, res *server.Response) error {
	return res.WriteText(0, g.greeting+", "+req.Param("name")+"!", nil)
}

// Any handles the methods without a method of their own.
func (g *greetingController) Any(_ string, req *server.Request, res *server.Response) error {
	return res.WriteText(http.StatusMethodNotAllowed, req.Method()+" is not supported", nil)
}

func ExampleController() {
	s := server.New(server.Config{})
	if err := s.Route("*", "/hello/:name", server.Controller(&greetingController{greeting: "Hello"})); err != nil {
		log.Fatal(err)
	}

	// A Server is an http.Handler: here it is mounted in an httptest server.
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, method := range []string{"GET", "DELETE"} {
		req, err := http.NewRequest(method, ts.URL+"/hello/gopher", nil)
		if err != nil {
			log.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(method, resp.StatusCode, resp.Header.Get("Cache-Control"), string(body))
	}
	// Output:
	// GET 200 no-store Hello, gopher!
	// DELETE 405 no-store DELETE is not supported
}

func ExampleServer_Serve() {
	dir, err := os.MkdirTemp("", "site")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for name, content := range map[string]string{
		"index.html":      "<h1>Welcome</h1>\n",
		"css/site.css":    "h1 { color: teal; }\n",
		"docs/index.html": "<h1>Docs</h1>\n",
	} {
		name = filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	s := server.New(server.Config{})
	if err := s.Serve("/site", "", dir); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", s.Routes())
	l, err := s.AddHTTPServer(server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/site/", "/site/css/site.css", "/site/docs", "/site/docs/", "/site/missing.html"} {
		resp, err := client.Get(l.URL() + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d %q %q\n", path, resp.StatusCode, resp.Header.Get("Content-Type")+resp.Header.Get("Location"), body)
	}
	// Output:
	// ["*: /site" "*: /site/" "*: /site/*"]
	// /site/ 200 "text/html; charset=utf-8" "<h1>Welcome</h1>\n"
	// /site/css/site.css 200 "text/css; charset=utf-8" "h1 { color: teal; }\n"
	// /site/docs 301 "/site/docs/" ""
	// /site/docs/ 200 "text/html; charset=utf-8" "<h1>Docs</h1>\n"
	// /site/missing.html 404 "text/plain; charset=utf-8" "Not found.\n"
}
