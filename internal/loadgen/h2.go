package loadgen

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// h2client makes HTTP/2 connections with net/http's ClientConn over
// connections from runner.dial, and holds the request every stream sends.
type h2client struct {
	tr    *http.Transport
	req   *http.Request // template, copied for each request
	mu    sync.Mutex
	slots []*h2slot
}

// h2slot is one HTTP/2 connection shared by Config.Streams workers; it is
// replaced when it breaks.
type h2slot struct {
	mu sync.Mutex
	cc *http.ClientConn
}

func (r *runner) newH2Client() (*h2client, error) {
	req, err := http.NewRequest(r.cfg.Method, r.tgt.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = r.cfg.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
		req.Header.Del("Host")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	if len(r.cfg.Body) > 0 {
		req.ContentLength = int64(len(r.cfg.Body))
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	tr := &http.Transport{
		Protocols:          protocols,
		DisableCompression: true,
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			raw, conn, err := r.dial(time.Now().Add(r.cfg.Timeout))
			if err != nil {
				return nil, err
			}
			if err := raw.SetDeadline(time.Time{}); err != nil { // streams have their own
				raw.Close()
				return nil, err
			}
			return conn, nil
		},
	}
	return &h2client{tr: tr, req: req}, nil
}

func (h *h2client) newSlot() *h2slot {
	s := new(h2slot)
	h.mu.Lock()
	h.slots = append(h.slots, s)
	h.mu.Unlock()
	return s
}

// conn returns the slot's connection, making a new one if there is none or
// it broke.
func (r *runner) h2Conn(s *h2slot) (*http.ClientConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cc != nil {
		if s.cc.Err() == nil {
			return s.cc, nil
		}
		s.cc.Close()
		s.cc = nil
	}
	cc, err := r.h2.tr.NewClientConn(r.killCtx, "https", r.tgt.addr)
	if err != nil {
		return nil, err
	}
	s.cc = cc
	return cc, nil
}

func (h *h2client) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.slots {
		s.mu.Lock()
		if s.cc != nil {
			s.cc.Close()
			s.cc = nil
		}
		s.mu.Unlock()
	}
}

// h2Worker sends requests one after another as streams of its slot's
// connection; the slot's other workers do the same at the same time.
func (r *runner) h2Worker(s *h2slot, t *tally) {
	fails := 0
	for {
		measured, ok := r.begin()
		if !ok {
			return
		}
		start := time.Now()
		cc, err := r.h2Conn(s)
		if err != nil {
			r.done(t, measured, 0, 0, err)
			r.pause(&fails)
			continue
		}
		fails = 0
		ctx, cancel := context.WithDeadline(r.killCtx, start.Add(r.cfg.Timeout))
		status, err := r.h2RoundTrip(ctx, cc)
		cancel()
		r.done(t, measured, status, time.Since(start), err)
	}
}

// h2RoundTrip sends one request and reads the whole response body.
func (r *runner) h2RoundTrip(ctx context.Context, cc *http.ClientConn) (int, error) {
	req := r.h2.req.WithContext(ctx)
	if len(r.cfg.Body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(r.cfg.Body))
	}
	res, err := cc.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, err
}
