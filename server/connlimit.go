package server

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// shedLogInterval is the least time between two log lines about refused connections.
const shedLogInterval = time.Second

// connTracking is the connection-limit state a Listener keeps across its runs, guarded by
// Listener.mu.
type connTracking struct {
	cur  *connLimiter                   // the limiter of the current or last run; nil when off
	hook func(net.Conn, http.ConnState) // the ConnState hook installed by the last run
	user func(net.Conn, http.ConnState) // the user's ConnState hook, which hook calls
}

// limitConns wraps ln, the bound socket of a run of l, in the listener's connection limits
// (nothing when both are off), and sets hs.ConnState: with a total limit, a hook that tracks
// idle connections and then calls the user's hook (the ConnState set through Original before
// Start); otherwise the user's hook alone. It is called by serve with l.mu held, before TLS
// wraps the result, so a connection is counted from accept, through its handshake, to close.
func (l *Listener) limitConns(hs *http.Server, ln net.Listener) net.Listener {
	user := hs.ConnState
	// A restart copies the previous run's ConnState into hs (newHTTPServer): when that is
	// still our hook, chain the user's hook again, not ours inside a new one.
	if l.conns.hook != nil && sameFunc(user, l.conns.hook) {
		user = l.conns.user
	}
	l.conns.user = user
	hs.ConnState = user
	// The limiter wraps every run, limits or not: its connections linger on a graceful stop
	// (see limitedConn.Close).
	cl := &connLimiter{
		Listener: ln,
		max:      l.lim.maxConns,
		perIP:    l.lim.maxConnsPerIP,
		l:        l,
	}
	cl.lingerDone = sync.NewCond(&cl.mu)
	if cl.perIP > 0 {
		cl.byIP = make(map[netip.Addr]int)
	}
	l.conns.cur = cl
	if cl.max > 0 {
		l.conns.hook = func(c net.Conn, s http.ConnState) {
			trackConnState(c, s)
			if user != nil {
				user(c, s)
			}
		}
		hs.ConnState = l.conns.hook
	}
	return cl
}

// sameFunc reports whether a and b are the same function code (closures made by one function
// literal compare equal): it recognises our own ConnState hook.
func sameFunc(a, b func(net.Conn, http.ConnState)) bool {
	return a != nil && b != nil && reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
}

// connLimiter is the net.Listener of one run of a listener with connection limits: in total
// (HTTPConfig.MaxConns) and per client IP address (HTTPConfig.MaxConnsPerIP).
//
// Accept never waits for room: a connection past the per-IP limit is closed at once; past the
// total limit, the connection idle the longest is closed to make room, or, when none is idle,
// the new one. Each accepted connection costs one allocation (its limitedConn) and no
// goroutine; the idle list is intrusive and each ConnState change is one short lock.
type connLimiter struct {
	net.Listener
	max, perIP int // zero: no limit
	l          *Listener

	mu       sync.Mutex
	open     int                // connections accepted and not yet closed
	byIP     map[netip.Addr]int // open connections per client address (perIP > 0)
	idle     connList           // connections in http.StateIdle, oldest first (max > 0)
	shed     int                // connections refused since the last log line
	lastLog  time.Time          // when the last log line was written
	shedEver atomic.Int64       // connections refused in this run (tests)

	// A graceful stop sets draining: connections closed from then on linger (lingerClose)
	// until lingerUntil, and stop waits in waitLingering until none is left; closes after
	// that (net/http may close a connection after Shutdown returns) do not linger.
	// Guarded by mu.
	draining, lingerOver bool
	lingerUntil          time.Time
	lingering            int
	lingerDone           *sync.Cond // on mu; signalled when lingering drops to zero
}

// lingerTime bounds how long a connection closed during a graceful stop waits for its client
// to close, when Stop's context has no earlier deadline (nginx: lingering_time 30s,
// lingering_timeout 5s).
const lingerTime = 5 * time.Second

// limitedConn is one accepted connection of a connLimiter. Close releases its place once,
// however often it is called and by whom (net/http, tls.Conn, or the limiter shedding it).
type limitedConn struct {
	net.Conn
	cl     *connLimiter
	ip     netip.Addr
	closed atomic.Bool

	// Guarded by cl.mu: links of the idle list.
	prev, next *limitedConn
	inIdle     bool
}

// Accept returns the next connection that fits the limits, closing those that do not.
func (cl *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := cl.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := cl.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit counts c in and returns it wrapped, or closes it and returns nil. To make room under
// the total limit it closes the oldest idle connection.
func (cl *connLimiter) admit(c net.Conn) *limitedConn {
	var ip netip.Addr
	if cl.perIP > 0 {
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip = a.AddrPort().Addr().Unmap()
		}
	}
	var victim *limitedConn
	cl.mu.Lock()
	limit, refuse := "", false
	switch {
	case cl.perIP > 0 && ip.IsValid() && cl.byIP[ip] >= cl.perIP: // a Unix socket has no IP
		limit, refuse = "MaxConnsPerIP", true
	case cl.max > 0 && cl.open >= cl.max:
		limit = "MaxConns"
		victim = cl.idle.head
		if victim == nil {
			refuse = true
			break
		}
		// Release its place now, so that the count never passes the limit; its socket is
		// closed below, outside the lock.
		cl.idle.remove(victim)
		victim.closed.Store(true)
		cl.releaseLocked(victim)
	}
	var lc *limitedConn
	if !refuse {
		lc = &limitedConn{Conn: c, cl: cl, ip: ip}
		cl.open++
		if cl.perIP > 0 && ip.IsValid() {
			cl.byIP[ip]++
		}
	}
	var shed int
	if limit != "" {
		cl.shed++
		cl.shedEver.Add(1)
		if now := time.Now(); now.Sub(cl.lastLog) >= shedLogInterval {
			cl.lastLog, shed, cl.shed = now, cl.shed, 0
		}
	}
	cl.mu.Unlock()

	if refuse {
		c.Close()
	}
	if victim != nil {
		victim.Conn.Close() // the socket only: a TLS close_notify could wait on a slow peer
	}
	if shed > 0 {
		n := cl.max
		if limit == "MaxConnsPerIP" {
			n = cl.perIP
		}
		what := "closing new connections"
		if victim != nil {
			what = "closing idle connections"
		}
		cl.l.srv.logger.Warn("connection limit reached: "+what, "kind", cl.l.kind, "addr", cl.Addr().String(),
			"limit", limit, "max", n, "client", c.RemoteAddr().String(), "closed", shed)
	}
	return lc
}

// releaseLocked gives back the place of c; cl.mu is held.
func (cl *connLimiter) releaseLocked(c *limitedConn) {
	cl.idle.remove(c)
	cl.open--
	if cl.perIP > 0 && c.ip.IsValid() {
		if n := cl.byIP[c.ip] - 1; n > 0 {
			cl.byIP[c.ip] = n
		} else {
			delete(cl.byIP, c.ip)
		}
	}
}

// counts returns the open connections in total and from ip, and how many are idle.
func (cl *connLimiter) counts(ip netip.Addr) (open, fromIP, idle int) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for c := cl.idle.head; c != nil; c = c.next {
		idle++
	}
	return cl.open, cl.byIP[ip], idle
}

// Close closes the connection and releases its place; later calls do nothing.
//
// During a graceful stop the close lingers: the write side is shut (the peer gets every byte
// queued, then FIN) and what the peer still sends is read and dropped until it closes or
// lingerUntil passes. Closing at once with unread bytes in the receive buffer (an HTTP/2
// client's WINDOW_UPDATE frames as it reads the end of a download) makes the kernel send a
// reset and drop the response bytes not yet sent: the client would see a cut body.
func (c *limitedConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		if until, ok := c.cl.startLinger(); ok {
			go c.lingerClose(tc, until)
			return nil
		}
	}
	c.release()
	return c.Conn.Close()
}

// startLinger counts in a lingering close and returns until when it may linger, or false
// when connections do not linger now.
func (cl *connLimiter) startLinger() (time.Time, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.draining || cl.lingerOver {
		return time.Time{}, false
	}
	cl.lingering++
	return cl.lingerUntil, true
}

func (c *limitedConn) release() {
	c.cl.mu.Lock()
	c.cl.releaseLocked(c)
	c.cl.mu.Unlock()
}

// lingerClose is Close during a graceful stop; it runs on its own goroutine.
func (c *limitedConn) lingerClose(tc *net.TCPConn, until time.Time) {
	defer func() {
		cl := c.cl
		cl.mu.Lock()
		if cl.lingering--; cl.lingering == 0 {
			cl.lingerDone.Broadcast()
		}
		cl.mu.Unlock()
	}()
	if tc.CloseWrite() == nil && tc.SetReadDeadline(until) == nil {
		var buf [512]byte
		for {
			if _, err := tc.Read(buf[:]); err != nil {
				break
			}
		}
	}
	c.release()
	tc.Close()
}

// drain makes connections closed from now on linger, until ctx's deadline or lingerTime.
func (cl *connLimiter) drain(ctx context.Context) {
	until := time.Now().Add(lingerTime)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	cl.mu.Lock()
	cl.lingerUntil, cl.draining = until, true
	cl.mu.Unlock()
}

// waitLingering waits until the lingering closes have ended (each by its deadline at the
// latest); connections closed afterwards close at once.
func (cl *connLimiter) waitLingering() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for cl.lingering > 0 {
		cl.lingerDone.Wait()
	}
	cl.lingerOver = true
}

// CloseWrite half-closes a TCP connection, as net/http does before closing a plain-HTTP
// connection so that the client reads the whole response.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps net/http's sendfile path (TCPConn.ReadFrom) for plain-HTTP file responses.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}

// trackConnState keeps the idle list of the connection's limiter up to date. c is a
// *tls.Conn over a *limitedConn, or a *limitedConn (plain HTTP).
func trackConnState(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	cl := lc.cl
	cl.mu.Lock()
	if s == http.StateIdle && !lc.closed.Load() {
		cl.idle.pushBack(lc)
	} else {
		cl.idle.remove(lc)
	}
	cl.mu.Unlock()
}

// connList is a doubly linked list of connections threaded through them: adding and
// removing allocate nothing.
type connList struct{ head, tail *limitedConn }

// pushBack appends c unless it is already listed.
func (l *connList) pushBack(c *limitedConn) {
	if c.inIdle {
		return
	}
	c.prev, c.next, c.inIdle = l.tail, nil, true
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

// remove unlinks c if it is listed.
func (l *connList) remove(c *limitedConn) {
	if !c.inIdle {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next, c.inIdle = nil, nil, false
}
