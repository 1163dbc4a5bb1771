// Command httpskit is the benchmark suite's server built on package server: one HTTPS listener
// (HTTP/1.1 and HTTP/2 by ALPN) answering GET / with the 13-byte "Hello, World!".
//
//	httpskit -addr 127.0.0.1:8443 -cert cert.pem -key key.pem [-debug 127.0.0.1:6060]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/httpskit/httpskit/bench/servers/internal/memdebug"
	"github.com/httpskit/httpskit/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address host:port")
	cert := flag.String("cert", "cert.pem", "certificate PEM file")
	key := flag.String("key", "key.pem", "key PEM file")
	dbg := flag.String("debug", "", "plain-HTTP debug listener host:port with GET /mem (empty: none)")
	noLimits := flag.Bool("no-timeouts", false, "turn off the default read, write and idle timeouts (diagnosis only)")
	flag.Parse()
	if err := run(*addr, *cert, *key, *dbg, *noLimits); err != nil {
		fmt.Fprintln(os.Stderr, "httpskit bench server:", err)
		os.Exit(1)
	}
}

func run(addr, cert, key, dbg string, noTimeouts bool) error {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("port %q: %w", portText, err)
	}
	// The suite holds up to 1000 idle connections from one address, and measures the raw
	// cost of serving: no connection limits (negative means none).
	hc := server.HTTPConfig{Host: host, Port: port, MaxConns: -1, MaxConnsPerIP: -1}
	if noTimeouts { // negative means none
		hc.ReadHeaderTimeout, hc.ReadTimeout, hc.WriteTimeout, hc.IdleTimeout = -1, -1, -1, -1
	}
	s := server.New(server.Config{})
	if _, err := s.AddHTTPSServer(server.HTTPSConfig{
		HTTPConfig: hc,
		Cert:       cert,
		Key:        key,
	}); err != nil {
		return err
	}
	if err := s.RouteFunc("GET", "/", func(_ string, _ *server.Request, res *server.Response) error {
		return res.WriteText(200, "Hello, World!", nil)
	}); err != nil {
		return err
	}
	if err := memdebug.Listen(dbg); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Stop(context.Background())
}
