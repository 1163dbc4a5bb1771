package https

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecompress: with Decompress the request asks for gzip and
// the body arrives decoded, over HTTP/1.1 and HTTP/2, bounded by
// MaxBodyBytes after decoding; broken and cut streams are errors of their
// kind; without Decompress nothing is asked or decoded.
func TestDecompress(t *testing.T) {
	checkGoroutines(t)
	text := []byte(strings.Repeat("hello, compressed world\n", 1000))
	gz := gzipped(t, text)
	bomb := gzipped(t, make([]byte, 8<<20))
	for _, h1 := range []bool{true, false} {
		s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Asked", r.Header.Get("Accept-Encoding"))
			body := text
			switch r.URL.Path {
			case "/gzip":
				w.Header().Set("Content-Encoding", "gzip")
				body = gz
			case "/zstd":
				w.Header().Set("Content-Encoding", "zstd")
				body = []byte("not decoded")
			case "/br":
				w.Header().Set("Content-Encoding", "br")
				body = []byte("not really brotli")
			case "/corrupt":
				w.Header().Set("Content-Encoding", "gzip")
				body = append(append([]byte{}, gz[:20]...), bytes.Repeat([]byte{0xff}, 100)...)
			case "/cut":
				w.Header().Set("Content-Encoding", "gzip")
				body = gz[:len(gz)/2] // a whole HTTP body holding half a gzip stream
			case "/bomb":
				w.Header().Set("Content-Encoding", "gzip")
				body = bomb
			case "/empty":
				w.Header().Set("Content-Encoding", "gzip")
				body = nil
			}
			w.Write(body)
		}), serverConfig{h1Only: h1})
		for _, tt := range []struct {
			path       string
			decompress bool
			maxBody    int64
			want       []byte // the body; nil: an error of kind
			kind       error
			asked      string
			encoding   string // Content-Encoding delivered
		}{
			{"/gzip", true, 0, text, nil, "gzip", ""},
			{"/zstd", true, 0, []byte("not decoded"), nil, "gzip", "zstd"},
			{"/plain", true, 0, text, nil, "gzip", ""},
			{"/br", true, 0, []byte("not really brotli"), nil, "gzip", "br"},
			{"/empty", true, 0, []byte{}, nil, "gzip", "gzip"},
			{"/gzip", false, 0, gz, nil, "", "gzip"},
			{"/corrupt", true, 0, nil, ErrMalformedResponse, "gzip", ""},
			{"/cut", true, 0, nil, ErrTruncated, "gzip", ""},
			{"/bomb", true, 1 << 20, nil, ErrBodyTooLarge, "gzip", ""},
			{"/gzip", true, int64(len(text)), text, nil, "gzip", ""},
		} {
			o := s.opts(t, "GET", tt.path)
			o.Decompress, o.MaxBodyBytes = tt.decompress, tt.maxBody
			m, body, err := do(t, o, nil)
			if tt.kind != nil {
				wantKind(t, err, tt.kind)
				continue
			}
			if err != nil {
				t.Errorf("h1 %v %s: %v", h1, tt.path, err)
				continue
			}
			if !bytes.Equal([]byte(body), tt.want) {
				t.Errorf("h1 %v %s decompress %v: body of %d bytes, want %d", h1, tt.path, tt.decompress, len(body), len(tt.want))
			}
			if got := m.Headers.Get("X-Asked"); got != tt.asked {
				t.Errorf("h1 %v %s: Accept-Encoding %q sent, want %q", h1, tt.path, got, tt.asked)
			}
			if got := m.Headers.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("h1 %v %s: Content-Encoding %q delivered, want %q", h1, tt.path, got, tt.encoding)
			}
			if tt.encoding == "" && tt.decompress && m.Headers.Get("Content-Length") != "" && tt.path != "/plain" {
				t.Errorf("h1 %v %s: Content-Length %q of the encoded body delivered", h1, tt.path, m.Headers.Get("Content-Length"))
			}
		}

		// The caller's Accept-Encoding is sent as given; gzip is still decoded.
		o := s.opts(t, "GET", "/gzip")
		o.Decompress, o.Headers = true, http.Header{"Accept-Encoding": {"gzip"}}
		m, body := mustDo(t, o, nil)
		if body != string(text) || m.Headers.Get("X-Asked") != "gzip" {
			t.Errorf("h1 %v: with Accept-Encoding gzip: %d bytes, asked %q", h1, len(body), m.Headers.Get("X-Asked"))
		}

		// The RoundTripper decodes too.
		rt, err := (&Agent{}).RoundTripper(Options{CA: o.CA, Decompress: true})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://127.0.0.1:"+strconv.Itoa(s.Port)+"/gzip", nil)
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(b, text) || !resp.Uncompressed {
			t.Errorf("h1 %v: RoundTripper: %d bytes, %v, Uncompressed %v", h1, len(b), err, resp.Uncompressed)
		}
		rt.(*roundTripper).agent.CloseIdleConnections()
	}
}
