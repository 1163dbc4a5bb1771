package h2serve

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func TestGet(t *testing.T) {
	ts := startServer(t, Config{}, hello)
	c := ts.client()
	for i := 0; i < 3; i++ {
		resp, err := c.Get(ts.url("/x"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 || string(b) != "hello, world\n" {
			t.Fatalf("got %s %q", resp.Proto, b)
		}
	}
}

func TestPostLarge(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		w.Write(b)
	}))
	body := strings.Repeat("abcdefghij", 300_000)
	resp, err := ts.client().Post(ts.url("/"), "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != body {
		t.Fatalf("echo: got %d bytes, want %d", len(b), len(body))
	}
}

// dialH2 opens a raw HTTP/2 connection to ts: preface and the given SETTINGS sent, the
// server's SETTINGS read and its acknowledgement of ours awaited.
func dialH2(t *testing.T, ts *testServer, settings ...http2.Setting) (*http2.Framer, *tls.Conn) {
	t.Helper()
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: ts.pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fr := http2.NewFramer(c, c)
	io.WriteString(c, clientPreface)
	fr.WriteSettings(settings...)
	for acked, got := false, false; !acked || !got; {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok {
			if sf.IsAck() {
				acked = true
			} else {
				got = true
				fr.WriteSettingsAck()
			}
		}
	}
	return fr, c
}

// TestSettingsAckBeforeData: data that a larger SETTINGS_INITIAL_WINDOW_SIZE lets out
// follows the acknowledgement of that SETTINGS (h2spec 6.9.2/1 waits for the ack first).
func TestSettingsAckBeforeData(t *testing.T) {
	queued := make(chan struct{})
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 100)))
		w.(http.Flusher).Flush() // queued: the stream window is 0
		close(queued)
	}))
	fr, _ := dialH2(t, ts, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", "/"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	<-queued
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
	var order []string
	for len(order) < 2 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("after %v: %v", order, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				order = append(order, "ack")
			}
		case *http2.DataFrame:
			order = append(order, fmt.Sprintf("data(%d)", len(f.Data())))
		}
	}
	if order[0] != "ack" || order[1] != "data(1)" {
		t.Errorf("frames after SETTINGS_INITIAL_WINDOW_SIZE 0 -> 1: %v, want [ack data(1)]", order)
	}
}

// TestConcurrentDownloadsSmallWindows: parallel responses on one connection whose client
// grants small windows arrive whole and in order (data waits in pending, fillLocked shares
// the connection window).
func TestConcurrentDownloadsSmallWindows(t *testing.T) {
	body := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 1<<20+i*1000) }
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(r.URL.Path[1] - '0')
		b := body(i)
		for len(b) > 0 { // odd-sized writes
			n := min(len(b), 7000+i*1000)
			w.Write(b[:n])
			b = b[n:]
		}
	}))
	c := ts.client()
	c.Transport.(*http.Transport).HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerConnection: 64 << 10, MaxReceiveBufferPerStream: 64 << 10}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			resp, err := c.Get(ts.url(fmt.Sprintf("/%d", i)))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err == nil && !bytes.Equal(got, body(i)) {
				err = fmt.Errorf("stream %d: %d bytes, not the body (%d)", i, len(got), len(body(i)))
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestLingeringStream: a response sent before the client ended its side leaves the stream
// half-closed (local): the client's next frames on it are still checked.
func TestLingeringStream(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "answered without reading")
	}))
	tests := []struct {
		name string
		cl   string // content-length, or ""
		send func(fr *http2.Framer)
		want http2.ErrCode
	}{
		{"window overflow", "", func(fr *http2.Framer) {
			fr.WriteWindowUpdate(1, 1<<31-1)
			fr.WriteWindowUpdate(1, 1<<31-1)
		}, http2.ErrCodeFlowControl},
		{"body nobody reads", "", func(fr *http2.Framer) { fr.WriteData(1, false, []byte("more")) }, http2.ErrCodeNo},
		{"body past its content-length", "1", func(fr *http2.Framer) { fr.WriteData(1, false, []byte("test")) }, http2.ErrCodeProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, _ := dialH2(t, ts)
			var hb bytes.Buffer
			enc := hpack.NewEncoder(&hb)
			fields := [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", "/"}}
			if tt.cl != "" {
				fields = append(fields, [2]string{"content-length", tt.cl})
			}
			for _, f := range fields {
				enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true})
			for ended := false; !ended; { // the whole response first
				f, err := fr.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() {
					ended = true
				}
				if r, ok := f.(*http2.RSTStreamFrame); ok {
					t.Fatalf("RST_STREAM %v before the client sent anything more", r.ErrCode)
				}
			}
			tt.send(fr)
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				if r, ok := f.(*http2.RSTStreamFrame); ok {
					if r.ErrCode != tt.want {
						t.Errorf("RST_STREAM %v, want %v", r.ErrCode, tt.want)
					}
					return
				}
			}
		})
	}
}
