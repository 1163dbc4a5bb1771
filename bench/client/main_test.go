package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/testenv"
)

const body = "Hello, World!"

// downloadSize is the body of GET /big.
const downloadSize = 1 << 20

// testServer is an httptest TLS server answering GET / with body and GET /big with
// downloadSize bytes, with a certificate from a throwaway CA written to caFile.
func testServer(t *testing.T, h2 bool) (srv *httptest.Server, caFile string) {
	t.Helper()
	ca, err := certs.NewCA("bench/client test CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueTLS(certs.LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(downloadSize))
		w.Write(bytes.Repeat([]byte("x"), downloadSize))
	})
	mux.HandleFunc("GET /chunked", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, body)
		w.(http.Flusher).Flush()
		io.WriteString(w, body)
	})
	srv = httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = h2
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, caFile
}

// runJSON runs the program with args and decodes its one line.
func runJSON(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %q: exit %d, stderr %q", args, code, stderr.String())
	}
	return decode(t, stdout.String())
}

func decode(t *testing.T, out string) result {
	t.Helper()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("output %q: want exactly one line", out)
	}
	var res result
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res.WallMS <= 0 {
		t.Errorf("output %q: wall_ms not positive", out)
	}
	return res
}

func TestModes(t *testing.T) {
	h1, h1CA := testServer(t, false)
	h2, h2CA := testServer(t, true)
	for _, impl := range []string{"httpskit", "nethttp"} {
		for _, tt := range []struct {
			mode  string
			h2    bool
			path  string
			n     int
			bytes int64
		}{
			{"seq", false, "/", 20, 20 * int64(len(body))},
			{"seq", true, "/", 20, 20 * int64(len(body))},
			{"par", false, "/", 5, 5 * int64(len(body))},
			{"par", true, "/", 5, 5 * int64(len(body))},
			{"download", false, "/big", 1, downloadSize},
			{"download", true, "/big", 1, downloadSize},
			{"one", false, "/", 1, int64(len(body))},
		} {
			srv, ca, proto := h1, h1CA, "HTTP/1.1"
			if tt.h2 {
				srv, ca, proto = h2, h2CA, "HTTP/2.0"
			}
			args := []string{"-impl", impl, "-mode", tt.mode, "-url", srv.URL + tt.path, "-ca", ca, "-n", "20", "-p", "5"}
			if tt.h2 {
				args = append(args, "-h2")
			}
			t.Run(impl+"/"+tt.mode+"/"+proto, func(t *testing.T) {
				res := runJSON(t, args...)
				want := result{Impl: impl, Mode: tt.mode, N: tt.n, WallMS: res.WallMS, Bytes: tt.bytes, Proto: proto}
				if res != want {
					t.Errorf("got %+v, want %+v", res, want)
				}
			})
		}
	}
}

func TestFailures(t *testing.T) {
	srv, ca := testServer(t, false)
	_, otherCA := testServer(t, false)
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{
		{"bad impl", []string{"-impl", "curl", "-url", srv.URL}, 2},
		{"bad mode", []string{"-impl", "nethttp", "-mode", "x", "-url", srv.URL}, 2},
		{"plain http", []string{"-impl", "nethttp", "-url", "http://127.0.0.1:1/"}, 2},
		{"missing CA file", []string{"-impl", "nethttp", "-url", srv.URL, "-ca", ca + ".missing"}, 1},
		{"wrong CA httpskit", []string{"-impl", "httpskit", "-mode", "one", "-url", srv.URL, "-ca", otherCA}, 1},
		{"wrong CA nethttp", []string{"-impl", "nethttp", "-mode", "one", "-url", srv.URL, "-ca", otherCA}, 1},
		{"404 httpskit", []string{"-impl", "httpskit", "-mode", "one", "-url", srv.URL + "/nothing", "-ca", ca}, 1},
		{"no Content-Length httpskit", []string{"-impl", "httpskit", "-mode", "download", "-url", srv.URL + "/chunked", "-ca", ca}, 1},
		{"no Content-Length nethttp", []string{"-impl", "nethttp", "-mode", "download", "-url", srv.URL + "/chunked", "-ca", ca}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.code || stdout.Len() != 0 || stderr.Len() == 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no output and a message", code, stdout.String(), stderr.String(), tt.code)
			}
		})
	}
}

// TestNode runs client.js in each mode against an HTTP/1.1 test server.
func TestNode(t *testing.T) {
	node := testenv.LookPath(t, "node")
	srv, ca := testServer(t, false)
	for _, tt := range []struct {
		mode, path string
		n          int
		bytes      int64
	}{
		{"seq", "/", 20, 20 * int64(len(body))},
		{"par", "/", 5, 5 * int64(len(body))},
		{"download", "/big", 1, downloadSize},
		{"one", "/", 1, int64(len(body))},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), node, "client.js", "--mode", tt.mode, "--url", srv.URL+tt.path,
				"--n", "20", "--p", "5", "--ca", ca)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v, stderr %q", cmd.Args, err, stderr.String())
			}
			res := decode(t, string(out))
			want := result{Impl: "node", Mode: tt.mode, N: tt.n, WallMS: res.WallMS, Bytes: tt.bytes, Proto: "HTTP/1.1"}
			if res != want {
				t.Errorf("got %+v, want %+v", res, want)
			}
		})
	}
	t.Run("wrong CA", func(t *testing.T) {
		_, otherCA := testServer(t, false)
		cmd := exec.CommandContext(t.Context(), node, "client.js", "--mode", "one", "--url", srv.URL, "--ca", otherCA)
		out, err := cmd.Output()
		if err == nil || len(out) != 0 {
			t.Errorf("exit %v, stdout %q: want a failure and no output", err, out)
		}
	})
}
