package loadgen

import "time"

// keepAliveWorker sends requests one after another on one HTTP/1.1
// connection, reconnecting when the server closes it or a request fails.
func (r *runner) keepAliveWorker(t *tally) {
	var c *h1conn
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	fails := 0
	for {
		measured, ok := r.begin()
		if !ok {
			return
		}
		start := time.Now()
		deadline := start.Add(r.cfg.Timeout)
		if c == nil {
			var err error
			if c, err = r.dialH1(deadline); err != nil {
				r.done(t, measured, 0, 0, err)
				r.pause(&fails)
				continue
			}
			fails = 0
		}
		res, err := c.roundTrip(r.req, r.head, deadline)
		r.done(t, measured, res.status, time.Since(start), err)
		if err != nil || res.close {
			c.close()
			c = nil
		}
	}
}
