package loadgen

import (
	"context"
	"crypto/tls"
	"net"
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
	raw  *countingConn
	conn net.Conn
	rd   *respReader
}

func (r *runner) dialH1(deadline time.Time) (*h1conn, error) {
	raw, conn, err := r.dial(deadline)
	if err != nil {
		return nil, err
	}
	return &h1conn{raw: raw, conn: conn, rd: newRespReader(conn)}, nil
}

// roundTrip writes the pre-built request and reads the whole response,
// both before deadline.
func (c *h1conn) roundTrip(req []byte, head bool, deadline time.Time) (response, error) {
	if err := c.conn.SetDeadline(deadline); err != nil {
		return response{}, err
	}
	if _, err := c.conn.Write(req); err != nil {
		return response{}, err
	}
	return c.rd.read(head)
}

func (c *h1conn) close() { c.raw.Close() }
