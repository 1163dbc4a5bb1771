package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/httpskit/httpskit/server"
)

// sideServer is a plain-HTTP endpoint beside serve's listeners (--debug-addr, --metrics-addr),
// served until Close.
type sideServer struct {
	ln     net.Listener
	hs     *http.Server
	closed chan struct{} // closed when Serve returned
}

// checkSideAddr accepts HOST:PORT where HOST is a loopback address or "localhost" (taken as
// 127.0.0.1) and returns the address to listen on. why ends the error for any other host.
func checkSideAddr(flag, addr, why string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usagef("%s %q: want HOST:PORT on loopback, such as 127.0.0.1:6060", flag, addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", usagef("%s %q: bad port %q", flag, addr, port)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", usagef("%s %q: %s", flag, addr, why)
	}
	return net.JoinHostPort(host, port), nil
}

// startSide binds addr and serves h on it. writeTimeout zero means none.
func startSide(what, addr string, h http.Handler, writeTimeout time.Duration) (*sideServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve: %s: %w", what, err)
	}
	d := &sideServer{ln: ln, closed: make(chan struct{})}
	d.hs = &http.Server{Handler: h, ReadHeaderTimeout: server.DefaultReadHeaderTimeout,
		IdleTimeout: server.DefaultIdleTimeout, WriteTimeout: writeTimeout}
	go func() {
		defer close(d.closed)
		d.hs.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return d, nil
}

// URL is the base URL of the endpoint, such as "http://127.0.0.1:6060".
func (d *sideServer) URL() string { return "http://" + d.ln.Addr().String() }

// Close stops the endpoint, waiting a little for requests in flight (a profile is cut).
func (d *sideServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := d.hs.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = d.hs.Close()
	}
	<-d.closed
	return err
}
