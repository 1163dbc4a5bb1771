package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/metrics"
	"github.com/httpskit/httpskit/internal/testenv"
)

// scrapeMetrics fetches url and returns its body and samples.
func scrapeMetrics(t *testing.T, url string) ([]byte, map[string]float64) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != metrics.ContentType {
		t.Fatalf("GET %s: %d %q, want 200 %q", url, resp.StatusCode, resp.Header.Get("Content-Type"), metrics.ContentType)
	}
	got, err := metrics.ParseText(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return body, got
}

// wantSeries reports each series of want whose value in got differs.
func wantSeries(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for series, w := range want {
		if g := got[series]; g != w {
			t.Errorf("%s = %v, want %v", series, g, w)
		}
	}
}

// startServeMetrics runs serve with --metrics-addr on loopback, and a plain-HTTP listener
// that redirects, and returns it with the metrics URL it printed.
func startServeMetrics(t *testing.T) (*servedSite, string) {
	t.Helper()
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--http-port", "0", "--metrics-addr", "127.0.0.1:0",
		"--ca-root", filepath.Join(t.TempDir(), "ca"), t.TempDir())
	var url string
	for _, line := range strings.Split(site.stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "metrics" {
			url = f[1]
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("no metrics line with http://127.0.0.1:PORT/metrics in:\n%s", site.stdout)
	}
	return site, url
}

// TestServeMetrics: `serve --metrics-addr 127.0.0.1:0` prints the endpoint; after requests
// over HTTP/1.1 and HTTP/2 and one failed handshake, the scrape counts them, shows the
// certificate's expiry, and passes `promtool check metrics`.
func TestServeMetrics(t *testing.T) {
	site, url := startServeMetrics(t)
	for _, h2 := range []bool{false, true} {
		c := caClient(t, site.caFile, h2)
		for _, path := range []string{"", "missing"} {
			resp, err := c.Get(site.url + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	// The plain-HTTP listener's redirect: HTTP/1.1 3xx.
	for _, u := range servedURLs(site.stdout.String()) {
		if strings.HasPrefix(u, "http://") {
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			c.CloseIdleConnections()
		}
	}
	// A client that does not trust the certificate: a failed handshake, logged by net/http
	// before it closes the connection, so counted once we read EOF.
	conn, err := tls.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(site.url, "https://"), "/"), &tls.Config{})
	if err == nil {
		conn.Close()
		t.Fatal("handshake with an untrusting client succeeded")
	}

	body, got := scrapeMetrics(t, url)
	wantSeries(t, got, map[string]float64{
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="2xx"}`: 1,
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="4xx"}`: 1,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="2xx"}`: 1,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="4xx"}`: 1,
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="3xx"}`: 1,
		`httpskit_http_request_duration_seconds_count`:                 5,
		`httpskit_tls_handshakes_total{type="full"}`:                   2,
		`httpskit_connections_accepted_total`:                          4,
	})
	if got[`httpskit_http_response_bytes_total`] <= 0 {
		t.Errorf("httpskit_http_response_bytes_total = %v, want the listing's and the 404's bytes", got[`httpskit_http_response_bytes_total`])
	}
	var expiry float64
	for k, v := range got {
		if strings.HasPrefix(k, `httpskit_tls_certificate_expiry_timestamp_seconds{listener="`+strings.TrimSuffix(site.url, "/")+`",serial="`) {
			expiry = v
		}
	}
	if now := float64(time.Now().Unix()); expiry < now || expiry > now+400*24*3600 {
		t.Errorf("certificate expiry %v: want a time within the development certificate's validity\n%s", expiry, body)
	}

	promtool := testenv.LookPath(t, "promtool")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestServeMetricsFailedHandshake: a handshake refused by the client is counted under its
// reason once serve has closed the connection.
func TestServeMetricsFailedHandshake(t *testing.T) {
	site, url := startServeMetrics(t)
	raw, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(site.url, "https://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	io.WriteString(raw, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // plain HTTP to the HTTPS port
	raw.SetReadDeadline(time.Now().Add(20 * time.Second))
	io.Copy(io.Discard, raw)
	// net/http answers 400 and closes, then logs: wait for the count, not for the close.
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(5 * time.Millisecond) // polling the server's count
	defer tick.Stop()
	for {
		_, got := scrapeMetrics(t, url)
		if got[`httpskit_tls_handshake_failures_total{reason="not_tls"}`] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no not_tls handshake failure counted a minute after it happened: %v", got)
		}
		<-tick.C
	}
}

// TestMetricsAddr: the endpoint listens on loopback unless --metrics-public says otherwise.
func TestMetricsAddr(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		public bool
		want   string // the address to listen on, or a piece of the error
	}{
		{"127.0.0.1:9100", false, "127.0.0.1:9100"},
		{"localhost:0", false, "127.0.0.1:0"},
		{"[::1]:9100", false, "[::1]:9100"},
		{"0.0.0.0:9100", false, "add --metrics-public"},
		{"192.0.2.1:9100", false, "loopback only"},
		{"0.0.0.0:9100", true, "0.0.0.0:9100"},
		{":9100", true, ":9100"},
		{"9100", true, "want HOST:PORT"},
		{"127.0.0.1:99999", false, "bad port"},
	} {
		got, err := checkMetricsAddr(tt.addr, tt.public)
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkMetricsAddr(%q, %v) = %v, want a usage error containing %q", tt.addr, tt.public, err, tt.want)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("checkMetricsAddr(%q, %v) = %q, want %q", tt.addr, tt.public, got, tt.want)
		}
	}
	err := run(context.Background(), []string{"serve", "--metrics-public", t.TempDir()}, io.Discard, io.Discard)
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "--metrics-public goes with --metrics-addr") {
		t.Errorf("serve --metrics-public alone: %v, want a usage error", err)
	}
}

// TestServeMetricsEdges: what the request counts hold beside plain GETs, over HTTP/1.1 and
// HTTP/2: a HEAD (its status, no bytes), a 404 from the router, a 413 for a Content-Length
// past the body limit (refused before any route runs, but by the router: counted), and, not
// counted, the 431 that net/http itself sends for headers past MaxHeaderBytes (no handler
// runs). The bytes are exactly the body bytes the clients read.
func TestServeMetricsEdges(t *testing.T) {
	site, url := startServeMetrics(t)
	host := strings.TrimSuffix(strings.TrimPrefix(site.url, "https://"), "/")
	var read int64 // body bytes the clients got
	for _, h2 := range []bool{false, true} {
		c := caClient(t, site.caFile, h2)
		do := func(method, path string, body io.Reader, size int64, want int) {
			t.Helper()
			req, err := http.NewRequest(method, site.url+path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = size
			req.Header.Set("Accept-Encoding", "identity") // count the bytes as sent
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s (h2 %v): %v", method, path, h2, err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			read += n
			if resp.StatusCode != want {
				t.Errorf("%s %s (h2 %v): status %d, want %d", method, path, h2, resp.StatusCode, want)
			}
		}
		do("GET", "", nil, 0, 200)
		do("HEAD", "", nil, 0, 200)
		do("GET", "missing", nil, 0, 404)
		// 40 MB declared, none sent: the router answers 413 at once.
		pr, pw := io.Pipe()
		do("POST", "", pr, 40<<20, 413)
		pw.Close()
	}
	// Headers past 64 KiB over HTTP/1.1: net/http answers 431 and closes, with no handler.
	pem, err := os.ReadFile(site.caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 70<<10))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("70 KiB of headers: status %d, want 431", resp.StatusCode)
	}

	_, got := scrapeMetrics(t, url)
	wantSeries(t, got, map[string]float64{
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="2xx"}`: 2,
		`httpskit_http_requests_total{protocol="HTTP/1.1",code="4xx"}`: 2,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="2xx"}`: 2,
		`httpskit_http_requests_total{protocol="HTTP/2.0",code="4xx"}`: 2,
		`httpskit_http_request_duration_seconds_count`:                 8,
		`httpskit_http_response_bytes_total`:                           float64(read),
	})
}
