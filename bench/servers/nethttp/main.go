// Command nethttp is the benchmark suite's reference server: a plain net/http server with
// ListenAndServeTLS answering GET / with the 13-byte "Hello, World!", built with the same Go as
// the httpskit server. With -dir it is a plain http.FileServer of that directory instead, the
// peer of `httpskit serve`.
//
//	nethttp -addr 127.0.0.1:8443 -cert cert.pem -key key.pem [-debug 127.0.0.1:6060] [-dir DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/httpskit/httpskit/bench/servers/internal/memdebug"
	"github.com/httpskit/httpskit/server"
)

var hello = []byte("Hello, World!")

func handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(hello)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address host:port")
	cert := flag.String("cert", "cert.pem", "certificate PEM file")
	key := flag.String("key", "key.pem", "key PEM file")
	dbg := flag.String("debug", "", "plain-HTTP debug listener host:port with GET /mem (empty: none)")
	limits := flag.Bool("limits", false, "use httpskit's default timeouts and header limit (server.Default*)")
	dir := flag.String("dir", "", "serve this directory with http.FileServer instead of the fixed answer")
	flag.Parse()
	if err := memdebug.Listen(*dbg); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp bench server:", err)
		os.Exit(1)
	}
	srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(handle)}
	if *dir != "" {
		srv.Handler = http.FileServer(http.Dir(*dir))
	}
	if *limits {
		srv.ReadHeaderTimeout = server.DefaultReadHeaderTimeout
		srv.ReadTimeout = server.DefaultReadTimeout
		srv.WriteTimeout = server.DefaultWriteTimeout
		srv.IdleTimeout = server.DefaultIdleTimeout
		srv.MaxHeaderBytes = server.DefaultMaxHeaderBytes
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServeTLS(*cert, *key); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "nethttp bench server:", err)
		os.Exit(1)
	}
}
