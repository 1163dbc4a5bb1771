package server_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing/fstest"

	"github.com/httpskit/httpskit/server"
)

// A ServeMux mounted below /api, beside the server's own routes.
func ExampleServer_RouteHandler() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s", r.PathValue("id"))
	})
	s := server.New(server.Config{})
	if err := s.RouteHandler("*", "/api/*", http.StripPrefix("/api", mux)); err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/api/users/7", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output: 200 user 7
}

// Files from an fs.FS (an embed.FS in a real program), with compression and an SPA fallback.
func ExampleServer_ServeFS() {
	site := fstest.MapFS{"index.html": {Data: []byte("<h1>app</h1>")}}
	s := server.New(server.Config{})
	if err := s.ServeFS("/", site, server.DirectoryOptions{SPA: true, Compress: true}); err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/users/7", nil)) // a deep link of the app
	fmt.Println(w.Code, w.Body.String(), w.Header().Get("Etag") != "")
	// Output: 200 <h1>app</h1> true
}

// CORS for the routes after it: a preflight from an allowed origin.
func ExampleServer_CORS() {
	s := server.New(server.Config{})
	err := s.CORS("/api/*", server.CORSOptions{Origins: []string{"https://app.example.com"}, Headers: []string{"Content-Type"}})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("OPTIONS", "/api/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Methods"))
	// Output: 204 https://app.example.com GET, HEAD, POST
}

// An access log and an Observer on a listener.
func ExampleObserverFunc() {
	s := server.New(server.Config{})
	s.RouteFunc("GET", "/hello", func(_ string, _ *server.Request, res *server.Response) error {
		return res.WriteText(0, "hello", nil)
	})
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == "time" || a.Key == "duration" || a.Key == "remote" || a.Key == "ua" {
			return slog.Attr{} // left out so that the output is stable
		}
		return a
	}}
	done := make(chan server.RequestInfo, 1)
	l, err := s.AddHTTPServer(server.HTTPConfig{
		Host:      "127.0.0.1",
		AccessLog: slog.New(slog.NewTextHandler(os.Stdout, noTime)),
		Observer:  server.ObserverFunc(func(info server.RequestInfo) { done <- info }),
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())
	resp, err := http.Get(l.URL() + "/hello")
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	info := <-done
	fmt.Println("observed:", info.Request.Method, info.Request.URL.Path, info.Status, info.Bytes)
	// Output:
	// level=INFO msg=request method=GET path=/hello proto=HTTP/1.1 status=200 bytes=5 tls="" resumed=false
	// observed: GET /hello 200 5
}
