package loadgen

import (
	"bufio"
	"context"
	"io"
	"maps"
	"net"
	"sync"
	"testing"
)

// startRawServer serves plain HTTP/1.1 on 127.0.0.1 with answer, which is
// called for the n-th request (from 0) of each connection once its header
// has been read, and returns whether to keep the connection open.
func startRawServer(t *testing.T, answer func(n int, c net.Conn) bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					for { // the request header; the requests have no body
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					if !answer(n, c) {
						return
					}
				}
			})
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// TestKeepAliveClosedWhileIdle: a request on a reused connection that the
// server closed while it was idle fails before any byte of its response and
// counts as "closed while idle" (it never reached a handler), not as a
// failure of a request the server took; an end of a fresh connection or a
// cut response keeps its own kind.
func TestKeepAliveClosedWhileIdle(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(n int, c net.Conn) bool
		requests int64
		ok       int64
		errors   map[string]int64
	}{
		{
			name: "closed after each response",
			answer: func(_ int, c net.Conn) bool {
				io.WriteString(c, okResponse)
				return false // close, without Connection: close
			},
			requests: 3, // fresh, reused (closed), fresh
			ok:       2,
			errors:   map[string]int64{"closed while idle": 1},
		},
		{
			name:     "fresh connection closed without an answer",
			answer:   func(int, net.Conn) bool { return false },
			requests: 1,
			errors:   map[string]int64{"eof": 1},
		},
		{
			name: "reused connection cut in the response",
			answer: func(n int, c net.Conn) bool {
				if n == 0 {
					io.WriteString(c, okResponse)
					return true
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
				return false
			},
			requests: 2,
			ok:       1,
			errors:   map[string]int64{"truncated": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startRawServer(t, tt.answer)
			res, err := Run(context.Background(), Config{Mode: KeepAlive, URL: url, Connections: 1, Requests: tt.requests})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || !maps.Equal(res.Errors, tt.errors) {
				t.Errorf("ok %d, errors %v; want %d, %v", res.OK, res.Errors, tt.ok, tt.errors)
			}
		})
	}
}
