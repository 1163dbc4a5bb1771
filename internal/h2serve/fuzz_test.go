package h2serve

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// fuzzHandler exercises the ResponseWriter: it reads the body, flushes, sets a trailer and
// writes a body that spans frames for some paths.
var fuzzHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Trailer", "X-Got")
	if strings.HasPrefix(r.URL.Path, "/flush") {
		w.(http.Flusher).Flush()
	}
	if strings.HasPrefix(r.URL.Path, "/big") {
		w.Write(bytes.Repeat([]byte("b"), 100<<10))
	}
	w.Write([]byte("ok"))
	w.Header().Set("X-Got", string(rune('0'+n%10)))
})

// seedFrames builds frame sequences for the fuzz corpus.
func seedFrames() [][]byte {
	var seeds [][]byte
	build := func(f func(fr *http2.Framer, blk func(method, path string, extra ...string) []byte)) {
		var b bytes.Buffer
		fr := http2.NewFramer(&b, nil)
		var hb bytes.Buffer
		enc := hpack.NewEncoder(&hb)
		blk := func(method, path string, extra ...string) []byte {
			hb.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":method", Value: method})
			enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "https"})
			enc.WriteField(hpack.HeaderField{Name: ":authority", Value: "localhost"})
			enc.WriteField(hpack.HeaderField{Name: ":path", Value: path})
			for i := 0; i+1 < len(extra); i += 2 {
				enc.WriteField(hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
			}
			return bytes.Clone(hb.Bytes())
		}
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100})
		f(fr, blk)
		seeds = append(seeds, b.Bytes())
	}
	build(func(fr *http2.Framer, blk func(string, string, ...string) []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk("GET", "/"), EndStream: true, EndHeaders: true})
	})
	build(func(fr *http2.Framer, blk func(string, string, ...string) []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk("POST", "/flush", "content-length", "5"), EndHeaders: true})
		fr.WriteData(1, false, []byte("hel"))
		fr.WriteData(1, true, []byte("lo"))
		fr.WriteWindowUpdate(0, 1000)
		fr.WriteWindowUpdate(1, 1000)
	})
	build(func(fr *http2.Framer, blk func(string, string, ...string) []byte) {
		b := blk("GET", "/big", "x-a", strings.Repeat("a", 40))
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b[:10]})
		fr.WriteContinuation(3, true, b[10:])
		fr.WritePing(false, [8]byte{1})
		fr.WriteRSTStream(3, http2.ErrCodeCancel)
		fr.WritePriority(5, http2.PriorityParam{StreamDep: 3, Weight: 10})
	})
	build(func(fr *http2.Framer, blk func(string, string, ...string) []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk("POST", "/", "trailer", "x-t"), EndHeaders: true})
		fr.WriteData(1, false, []byte("body"))
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk("GET", "/")[:1], EndStream: true, EndHeaders: true})
		fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	})
	return seeds
}

// FuzzConn drives a connection with arbitrary bytes after the client preface: the server
// must not crash, and once the client has gone every goroutine it started must end.
func FuzzConn(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	srv := New(Config{MaxHeaderListSize: 8 << 10, IdleTimeout: time.Minute})
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ServeConn(context.Background(), server, nil, fuzzHandler)
			server.Close()
		}()
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			io.Copy(io.Discard, client)
		}()
		client.Write([]byte(clientPreface))
		client.Write(data)
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("ServeConn still running 10s after the client closed")
		}
		<-drained
		// Handlers see their contexts cancelled and end; wait for them, bounded.
		deadline := time.Now().Add(5 * time.Second)
		for engineGoroutines() > 0 && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		if n := engineGoroutines(); n > 0 {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d engine goroutines left after the connection ended:\n%s", n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// engineGoroutines counts the goroutines running engine code (the read loop, the writer,
// handlers), other than the fuzz function's own. Timer goroutines of net.Pipe deadlines
// and the testing package's are not counted.
func engineGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "h2serve.") && !strings.Contains(g, "h2serve.FuzzConn") {
			n++
		}
	}
	return n
}
