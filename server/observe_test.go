package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writes (an slog handler's output).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAccessLogAndObserver: every request on every listener and protocol reaches the
// Observer once, and the access log once, with its status, body bytes, protocol, TLS version
// and user agent; a response cut off is reported as aborted.
func TestAccessLogAndObserver(t *testing.T) {
	var logBuf lockedBuffer
	infos := make(chan RequestInfo, 64)
	s := New(Config{})
	s.RouteFunc("GET", "/hello", func(_ string, _ *Request, res *Response) error { return res.WriteText(0, "hello", nil) })
	s.RouteFunc("GET", "/big", func(_ string, _ *Request, res *Response) error {
		return res.End(bytes.Repeat([]byte("x"), 10000))
	})
	s.RouteFunc("POST", "/cut", func(_ string, _ *Request, res *Response) error {
		res.WriteHead(200, http.Header{"Content-Length": {"100"}})
		res.Write([]byte("part"))
		return errors.New("disk gone")
	})
	ts := startTargetsConfig(t, s, HTTPConfig{
		AccessLog: slog.New(slog.NewJSONHandler(&logBuf, nil)),
		Observer:  ObserverFunc(func(info RequestInfo) { infos <- info }),
	})
	next := func(t *testing.T) RequestInfo {
		t.Helper()
		select {
		case info := <-infos:
			return info
		case <-time.After(20 * time.Second):
			t.Fatal("no RequestDone within 20s")
		}
		return RequestInfo{}
	}
	for _, tg := range ts {
		t.Run(tg.name, func(t *testing.T) {
			hdr := http.Header{"User-Agent": {"observer-test/1"}}
			for _, tt := range []struct {
				method, path string
				status       int
				bytes        int64
			}{
				{"GET", "/hello?q=1", 200, 5},
				{"GET", "/big", 200, 10000},
				{"GET", "/nothing", 404, int64(len("Not found GET /nothing."))},
				{"HEAD", "/nothing", 404, 0},
			} {
				resp, _ := tg.do(t, tt.method, tt.path, nil, hdr)
				if resp.StatusCode != tt.status {
					t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
				}
				info := next(t)
				if info.Listener != tg.l || info.Request.Method != tt.method || info.Request.URL.Path != strings.Split(tt.path, "?")[0] ||
					info.Status != tt.status || info.Aborted || info.Request.ProtoMajor != tg.proto || info.Start.IsZero() || info.Duration <= 0 {
					t.Errorf("%s %s: RequestInfo %+v", tt.method, tt.path, info)
				}
				if info.Bytes != tt.bytes {
					t.Errorf("%s %s: RequestInfo.Bytes %d, want %d", tt.method, tt.path, info.Bytes, tt.bytes)
				}
			}
			// POST: the client must not retry it on a new connection.
			req, _ := http.NewRequest("POST", tg.base+"/cut", nil)
			if resp, err := tg.client.Do(req); err == nil {
				_, err = bufio.NewReader(resp.Body).ReadString(0)
				resp.Body.Close()
				if err == nil || err.Error() == "EOF" {
					t.Errorf("POST /cut read %v, want a cut-off body", err)
				}
			}
			if info := next(t); !info.Aborted || info.Status != 200 || info.Bytes != 4 {
				t.Errorf("POST /cut: RequestInfo Aborted %v Status %d Bytes %d, want true 200 4", info.Aborted, info.Status, info.Bytes)
			}
		})
	}

	// The access log has the same requests, one JSON line each.
	var lines []map[string]any
	for line := range strings.Lines(logBuf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	if want := len(ts) * 5; len(lines) != want {
		t.Fatalf("access log has %d lines, want %d:\n%s", len(lines), want, logBuf.String())
	}
	first := lines[0]
	for k, want := range map[string]any{"msg": "request", "level": "INFO", "method": "GET", "path": "/hello?q=1", "proto": "HTTP/1.1",
		"status": 200.0, "bytes": 5.0, "tls": "", "resumed": false, "ua": "observer-test/1"} {
		if first[k] != want {
			t.Errorf("access log line 1 %q = %v, want %v", k, first[k], want)
		}
	}
	if r, _ := first["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") || first["time"] == nil || first["duration"] == nil {
		t.Errorf("access log line 1 remote %v time %v duration %v", first["remote"], first["time"], first["duration"])
	}
	tlsLine := lines[5] // the first request of the HTTPS listener over HTTP/1.1
	if tlsLine["tls"] != "TLS 1.3" || tlsLine["proto"] != "HTTP/1.1" || tlsLine["resumed"] != false {
		t.Errorf("HTTPS access log line = %v, want tls \"TLS 1.3\"", tlsLine)
	}
	if h2 := lines[10]; h2["proto"] != "HTTP/2.0" {
		t.Errorf("HTTP/2 access log line = %v, want proto HTTP/2.0", h2)
	}
	if cut := lines[4]; cut["aborted"] != true || cut["path"] != "/cut" {
		t.Errorf("cut-off request's access log line = %v, want aborted true", cut)
	}
}

// TestObservers: Observers drops nils and calls the rest in order.
func TestObservers(t *testing.T) {
	var got []string
	a := ObserverFunc(func(RequestInfo) { got = append(got, "a") })
	b := ObserverFunc(func(RequestInfo) { got = append(got, "b") })
	if Observers() != nil || Observers(nil, nil) != nil || AccessLogObserver(nil) != nil {
		t.Error("Observers() or Observers(nil, nil) or AccessLogObserver(nil) is not nil")
	}
	Observers(nil, a, nil, b).RequestDone(RequestInfo{})
	if strings.Join(got, "") != "ab" {
		t.Errorf("Observers(a, b) called %v, want a then b", got)
	}
}
