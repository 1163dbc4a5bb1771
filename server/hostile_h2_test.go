package server

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Engines are the HTTP/2 engines the attack tests run on.
var h2Engines = []struct {
	name string
	e    HTTP2Engine
}{{"nethttp", HTTP2NetHTTP}, {"batching", HTTP2Batching}}

// startH2Listener starts s with one HTTP/2 listener on 127.0.0.1 served by engine e.
func startH2Listener(t *testing.T, s *Server, e HTTP2Engine, hc HTTPConfig) *Listener {
	t.Helper()
	p := getPKI(t)
	hc.Host, hc.Port = "127.0.0.1", RandomPort
	l, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: hc, CertPEM: p.certPEM, KeyPEM: p.keyPEM, HTTP2Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return l
}

// TestHostileH2RapidReset (CVE-2023-44487): a client that opens streams and resets them at
// once, faster than their handlers end, never has more handlers running than the stream
// limit, and is disconnected with ENHANCE_YOUR_CALM once it has queued four times the limit.
func TestHostileH2RapidReset(t *testing.T) {
	for _, eng := range h2Engines {
		t.Run(eng.name, func(t *testing.T) {
			s := New(Config{})
			release := make(chan struct{})
			var mu sync.Mutex
			running, peak, started := 0, 0, 0
			must(t, s.RouteFunc("GET", "/slow", func(_ string, _ *Request, res *Response) error {
				mu.Lock()
				running++
				started++
				peak = max(peak, running)
				mu.Unlock()
				<-release // ignores the cancelled context, as a slow handler would
				mu.Lock()
				running--
				mu.Unlock()
				return res.WriteText(200, "late", nil)
			}))
			l := startH2Listener(t, s, eng.e, HTTPConfig{})
			defer close(release)
			h := h2Dial(t, l)
			blk := h.block("GET", "/slow")
			var id uint32 = 1
			for ; id < 2*10000; id += 2 {
				if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: blk, EndStream: true, EndHeaders: true}); err != nil {
					break // the server hung up
				}
				if err := h.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
					break
				}
				// Later blocks reuse the dynamic table entries of the first: resend it so
				// every block decodes the same.
				blk = h.block("GET", "/slow")
			}
			o := h.read(id, true)
			if !o.goAway || o.goAwayErr != http2.ErrCodeEnhanceYourCalm || !o.closed {
				t.Errorf("after %d reset streams: %+v, want GOAWAY ENHANCE_YOUR_CALM and close", id/2, o)
			}
			mu.Lock()
			defer mu.Unlock()
			if peak > 250 {
				t.Errorf("%d handlers ran at once, want at most the stream limit 250", peak)
			}
			if started == 0 {
				t.Errorf("no handler ran")
			}
		})
	}
}

// TestHostileH2ContinuationFlood (CVE-2023-45288): a header block that never ends, sent as
// endless CONTINUATION frames, makes the server hang up after a bounded amount, without
// running a route.
func TestHostileH2ContinuationFlood(t *testing.T) {
	for _, eng := range h2Engines {
		t.Run(eng.name, func(t *testing.T) {
			s := New(Config{})
			routes := newHostileRoutes(t, s)
			l := startH2Listener(t, s, eng.e, HTTPConfig{MaxHeaderBytes: 16 << 10})
			h := h2Dial(t, l)
			if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block("GET", "/flood")}); err != nil {
				t.Fatal(err)
			}
			// Each fragment is one literal field of about 1 KB, encoded without indexing.
			var enc bytes.Buffer
			e := hpack.NewEncoder(&enc)
			e.WriteField(hpack.HeaderField{Name: "x-flood", Value: strings.Repeat("f", 1000), Sensitive: true})
			frag := enc.Bytes()
			// Read on a framer of its own that never writes: the flood writes on h.fr.
			done := make(chan h2Outcome, 1)
			go func() {
				r := &h2Conn{c: h.c, fr: http2.NewFramer(io.Discard, h.c), dec: hpack.NewDecoder(4096, nil)}
				done <- r.read(1, true)
			}()
			sent := 0
			for ; sent < 100<<20; sent += len(frag) {
				if err := h.fr.WriteContinuation(1, false, frag); err != nil {
					break
				}
			}
			o := <-done
			if !o.closed || o.status != "" {
				t.Errorf("%+v, want the connection closed and no response", o)
			}
			if sent >= 100<<20 {
				t.Errorf("the server took %d bytes of one header block", sent)
			}
			if n := routes.count("/flood"); n != 0 {
				t.Errorf("route ran %d times", n)
			}
		})
	}
}

// TestHostileH2ControlFloods: floods of PING, SETTINGS and WINDOW_UPDATE frames leave the
// server serving, or make it hang up with ENHANCE_YOUR_CALM; they never stall or crash it.
func TestHostileH2ControlFloods(t *testing.T) {
	floods := []struct {
		name  string
		write func(h *h2Conn, i int) error
	}{
		{"PING", func(h *h2Conn, i int) error { return h.fr.WritePing(false, [8]byte{byte(i)}) }},
		{"SETTINGS", func(h *h2Conn, i int) error {
			return h.fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: uint32(4096 - i%2)})
		}},
		{"WINDOW_UPDATE", func(h *h2Conn, i int) error { return h.fr.WriteWindowUpdate(0, 1) }},
	}
	for _, eng := range h2Engines {
		for _, fl := range floods {
			t.Run(eng.name+"/"+fl.name, func(t *testing.T) {
				s := New(Config{})
				newHostileRoutes(t, s)
				l := startH2Listener(t, s, eng.e, HTTPConfig{})
				h := h2Dial(t, l)
				const n = 20000
				var err error
				for i := 0; i < n && err == nil; i++ {
					err = fl.write(h, i)
				}
				if err == nil {
					h.request(t, 1, h.block("GET", "/after"), true)
				}
				o := h.read(1, false)
				switch {
				case o.status == "200" && strings.TrimSpace(o.body) == "hit /after":
				case o.goAway && o.goAwayErr == http2.ErrCodeEnhanceYourCalm:
				default:
					t.Errorf("after %d %s frames: %+v, want the request served or GOAWAY ENHANCE_YOUR_CALM", n, fl.name, o)
				}
			})
		}
	}
}

// TestHostileH2WindowOverflow: WINDOW_UPDATEs past 2^31-1 are a flow-control error: on the
// connection a GOAWAY, on a stream its reset (RFC 9113 section 6.9.1).
func TestHostileH2WindowOverflow(t *testing.T) {
	for _, eng := range h2Engines {
		t.Run(eng.name, func(t *testing.T) {
			s := New(Config{})
			newHostileRoutes(t, s)
			l := startH2Listener(t, s, eng.e, HTTPConfig{})
			h := h2Dial(t, l)
			h.fr.WriteWindowUpdate(0, 1<<31-1)
			o := h.read(1, true)
			if !o.goAway || o.goAwayErr != http2.ErrCodeFlowControl {
				t.Errorf("connection window overflow: %+v, want GOAWAY FLOW_CONTROL_ERROR", o)
			}
		})
	}
}
