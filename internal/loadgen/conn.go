package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// countingConn is the TCP connection under TLS: it counts the bytes on the
// wire and is closed at once when the run is killed.
type countingConn struct {
	net.Conn
	r    *runner
	stop func() bool // unregisters the close-on-kill hook
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.bytesRead.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.r.bytesWritten.Add(int64(n))
	return n, err
}

// Close closes the TCP connection without a TLS close_notify: the load
// generator is done with it, and the alert would only cost CPU on both ends.
func (c *countingConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// dial connects to the target and, for https, completes the handshake, all
// before deadline. The deadline stays set on the connection. The returned
// conn is what to read and write (a *tls.Conn for https); raw is what to
// close.
func (r *runner) dial(deadline time.Time) (raw *countingConn, conn net.Conn, err error) {
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(r.killCtx, "tcp", r.tgt.addr)
	if err != nil {
		return nil, nil, err
	}
	raw = &countingConn{Conn: nc, r: r}
	raw.stop = context.AfterFunc(r.killCtx, func() { nc.Close() })
	if r.tls == nil {
		return raw, raw, nil
	}
	if err := nc.SetDeadline(deadline); err != nil {
		raw.Close()
		return nil, nil, err
	}
	tc := tls.Client(raw, r.tls)
	if err := tc.Handshake(); err != nil {
		raw.Close()
		return nil, nil, err
	}
	st := tc.ConnectionState()
	r.handshakes.Add(1)
	if st.DidResume {
		r.resumed.Add(1)
	}
	r.noteTLS(&st)
	if r.cfg.Mode == H2 && st.NegotiatedProtocol != "h2" {
		raw.Close()
		return nil, nil, errProtocol("the server did not negotiate h2 (ALPN)")
	}
	return raw, tc, nil
}

// noteTLS keeps the parameters of the first handshake for the result.
func (r *runner) noteTLS(st *tls.ConnectionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tlsVersion == 0 {
		r.tlsVersion, r.cipher, r.curve = st.Version, st.CipherSuite, st.CurveID
	}
}

// h1conn is one HTTP/1.1 connection.
type h1conn struct {
	raw    *countingConn
	conn   net.Conn
	rd     *respReader
	reused bool // a response came on it: the next request reuses it
}

func (r *runner) dialH1(deadline time.Time) (*h1conn, error) {
	raw, conn, err := r.dial(deadline)
	if err != nil {
		return nil, err
	}
	return &h1conn{raw: raw, conn: conn, rd: newRespReader(conn)}, nil
}

// roundTrip writes the pre-built request and reads the whole response,
// both before deadline. On a reused connection, a close or reset before any
// byte of the response is errClosedIdle.
func (c *h1conn) roundTrip(req []byte, head bool, deadline time.Time) (response, error) {
	c.rd.began = false
	res, err := c.exchange(req, head, deadline)
	if err != nil && c.reused && !c.rd.began && closedByPeer(err) {
		err = fmt.Errorf("%w: %w", errClosedIdle, err)
	}
	c.reused = err == nil
	return res, err
}

func (c *h1conn) exchange(req []byte, head bool, deadline time.Time) (response, error) {
	if err := c.conn.SetDeadline(deadline); err != nil {
		return response{}, err
	}
	if _, err := c.conn.Write(req); err != nil {
		return response{}, err
	}
	return c.rd.read(head)
}

// errClosedIdle is a request on a kept-alive connection that ended before
// any byte of its response: the server had closed the connection while it
// was idle, as the request went out (a timeout, a graceful stop). The
// request did not reach a handler; RFC 9112 section 9.3.1 lets a client
// retry it.
var errClosedIdle = errors.New("loadgen: the server closed the kept-alive connection before the request reached it")

// closedByPeer reports whether err is the other end closing or resetting
// the connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

func (c *h1conn) close() { c.raw.Close() }
