package loadgen

import "time"

// newConnWorker makes a new connection for every request: TCP connect, TLS
// handshake (resumed when the session cache has a ticket), one request with
// Connection: close, the whole response, close. TLS 1.3 session tickets
// arrive after the handshake, ahead of the response, so reading the whole
// response also stores the ticket for the next connection.
func (r *runner) newConnWorker(t *tally) {
	fails := 0
	for {
		measured, ok := r.begin()
		if !ok {
			return
		}
		start := time.Now()
		deadline := start.Add(r.cfg.Timeout)
		c, err := r.dialH1(deadline)
		if err != nil {
			r.done(t, measured, 0, 0, err)
			r.pause(&fails)
			continue
		}
		fails = 0
		res, err := c.roundTrip(r.req, r.head, deadline)
		c.close()
		r.done(t, measured, res.status, time.Since(start), err)
	}
}
