package server

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"syscall"
)

// localhostRetries bounds how often listenLocalhost picks a new free port when the one the
// IPv4 socket got is taken on IPv6.
const localhostRetries = 8

// listenLocalhost binds "localhost" the way clients reach it: on 127.0.0.1 and on [::1], with
// the same port. Go's resolver reads /etc/hosts, which often lists 127.0.0.1 alone, and
// net.Listen binds only the first address found, while browsers and curl take localhost to
// be both loopback addresses (RFC 6761) and try [::1] first. A system with no IPv6 loopback
// gets the IPv4 socket alone; a port taken on [::1] by another program is an error, as on
// 127.0.0.1. With port 0 both sockets get one free port, chosen again when the port the IPv4
// socket got is taken on [::1].
func listenLocalhost(ctx context.Context, lc *net.ListenConfig, port int) (net.Listener, error) {
	for try := 0; ; try++ {
		v4, err := lc.Listen(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		p := v4.Addr().(*net.TCPAddr).Port
		v6, err := lc.Listen(ctx, "tcp6", net.JoinHostPort("::1", strconv.Itoa(p)))
		switch {
		case err == nil:
			return newDualListener(v4, v6), nil
		case errors.Is(err, syscall.EADDRINUSE) && port == 0 && try < localhostRetries:
			v4.Close()
			continue
		case errors.Is(err, syscall.EADDRINUSE):
			v4.Close()
			return nil, err
		default: // no IPv6 loopback here (EADDRNOTAVAIL, EAFNOSUPPORT...)
			return v4, nil
		}
	}
}

// dualListener accepts from two sockets as one net.Listener. Addr is the first socket's.
type dualListener struct {
	lns   [2]net.Listener
	conns chan acceptResult
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

type acceptResult struct {
	c   net.Conn
	err error
}

func newDualListener(a, b net.Listener) *dualListener {
	d := &dualListener{lns: [2]net.Listener{a, b}, conns: make(chan acceptResult), done: make(chan struct{})}
	for _, ln := range d.lns {
		d.wg.Go(func() { d.acceptLoop(ln) })
	}
	return d
}

// acceptLoop hands each accepted connection, or error, to Accept until Close or until its
// socket is closed. net/http retries after temporary errors and stops serving, closing the
// listener, after any other.
func (d *dualListener) acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		select {
		case d.conns <- acceptResult{c, err}:
		case <-d.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Accept returns the next connection of either socket.
func (d *dualListener) Accept() (net.Conn, error) {
	select {
	case r := <-d.conns:
		return r.c, r.err
	case <-d.done:
		return nil, net.ErrClosed
	}
}

// Close closes both sockets and waits for their accept loops to end.
func (d *dualListener) Close() error {
	var err error
	d.once.Do(func() {
		close(d.done)
		err = errors.Join(d.lns[0].Close(), d.lns[1].Close())
		d.wg.Wait()
	})
	return err
}

// Addr returns the address of the IPv4 socket.
func (d *dualListener) Addr() net.Addr { return d.lns[0].Addr() }
