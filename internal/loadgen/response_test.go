package loadgen

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRespReader(t *testing.T) {
	long := strings.Repeat("x", maxHeaderBytes)
	tests := []struct {
		name      string
		in        string
		head      bool
		want      []response // responses in order, then wantErr
		wantErr   error      // nil: the input ends cleanly (io.EOF after the last)
		wantProto bool       // want a *protocolError
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!",
			want: []response{{status: 200}}},
		{name: "two pipelined", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
			want: []response{{status: 200}, {status: 404}}},
		{name: "chunked with extension and trailer",
			in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
			want: []response{{status: 200}, {status: 204}}},
		{name: "interim 100 then 200", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
			want: []response{{status: 201}}},
		{name: "304 has no body", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			want: []response{{status: 304}, {status: 200}}},
		{name: "HEAD has no body", head: true, in: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
			want: []response{{status: 200}}},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
			want: []response{{status: 200, close: true}}},
		{name: "HTTP/1.0 closes", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
			want: []response{{status: 200, close: true}}},
		{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
			want: []response{{status: 200}}},
		{name: "body to end of connection", in: "HTTP/1.1 200 OK\r\n\r\nall of this is body",
			want: []response{{status: 200, close: true}}},
		{name: "no reason phrase", in: "HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n",
			want: []response{{status: 500}}},
		{name: "empty", in: "", wantErr: io.EOF},
		{name: "truncated status line", in: "HTTP/1.1 200", wantErr: errTruncated},
		{name: "truncated header", in: "HTTP/1.1 200 OK\r\nContent-Len", wantErr: errTruncated},
		{name: "truncated body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", wantErr: errTruncated},
		{name: "truncated chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", wantErr: errTruncated},
		{name: "bad status line", in: "HTTP/2 200 OK\r\n\r\n", wantProto: true},
		{name: "not http", in: "SSH-2.0-OpenSSH_9.2\r\n", wantProto: true},
		{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 0\n\n", wantProto: true},
		{name: "header line without colon", in: "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", wantProto: true},
		{name: "bad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantProto: true},
		{name: "conflicting content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", wantProto: true},
		{name: "gzip transfer-encoding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", wantProto: true},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantProto: true},
		{name: "chunk longer than its size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n0\r\n\r\n", wantProto: true},
		{name: "101 switching", in: "HTTP/1.1 101 Switching Protocols\r\n\r\n", wantProto: true},
		{name: "header too large", in: "HTTP/1.1 200 OK\r\nX-Big: " + long + "\r\n\r\n", wantProto: true},
		{name: "many headers too large", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 1000)+"\r\n", 70) + "\r\n", wantProto: true},
	}
	for _, tt := range tests {
		for _, reader := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"one byte at a time", iotest.OneByteReader},
		} {
			t.Run(tt.name+"/"+reader.name, func(t *testing.T) {
				rr := newRespReader(reader.wrap(strings.NewReader(tt.in)))
				for i, want := range tt.want {
					got, err := rr.read(tt.head)
					if err != nil {
						t.Fatalf("response %d: %v", i, err)
					}
					if got != want {
						t.Fatalf("response %d = %+v, want %+v", i, got, want)
					}
				}
				if len(tt.want) > 0 && tt.want[len(tt.want)-1].close {
					return // the rest of the stream is the body
				}
				_, err := rr.read(tt.head)
				var pe *protocolError
				switch {
				case tt.wantProto:
					if !errors.As(err, &pe) {
						t.Fatalf("read: %v, want a protocol error", err)
					}
				case tt.wantErr == nil:
					if err != io.EOF {
						t.Fatalf("read after the last response: %v, want io.EOF", err)
					}
				case !errors.Is(err, tt.wantErr):
					t.Fatalf("read: %v, want %v", err, tt.wantErr)
				}
			})
		}
	}
}

// TestRespReaderBounded: a huge body passes through a buffer that does not
// grow.
func TestRespReaderBounded(t *testing.T) {
	const n = 10 << 20
	in := io.MultiReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n"),
		io.LimitReader(zeros{}, n))
	rr := newRespReader(in)
	if _, err := rr.read(false); err != nil {
		t.Fatal(err)
	}
	if len(rr.buf) != initialBufSize {
		t.Errorf("buffer grew to %d bytes for a large body", len(rr.buf))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func FuzzRespReader(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 x\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		rr := newRespReader(strings.NewReader(string(in)))
		for range 10 {
			res, err := rr.read(head)
			if err != nil {
				return
			}
			if res.status < 200 || res.status > 999 {
				t.Fatalf("status %d returned as a final response", res.status)
			}
			if len(rr.buf) > 2*maxHeaderBytes {
				t.Fatalf("buffer grew to %d", len(rr.buf))
			}
		}
	})
}
