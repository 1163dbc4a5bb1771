package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
	"github.com/httpskit/httpskit/server"
)

// Outside clients against our server: openssl s_client and Node's https and http2 modules
// against `httpskit serve`, and Node posting bodies to a package server route that echoes.

// peerTimeout bounds one run of an outside client; a hung peer fails the test instead of
// stalling the suite.
const peerTimeout = 30 * time.Second

// runPeer runs an outside program with stdin as its standard input, bounded by peerTimeout,
// and returns what it printed on stdout and stderr together. A run that hits the timeout
// fails the test.
func runPeer(t *testing.T, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second // a child holding the output open cannot stall Wait
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not finish in %v: %v\n%s", filepath.Base(name), strings.Join(args, " "), peerTimeout, err, out)
	}
	return string(out), err
}

// hostPort is the host:port of a printed https://host:port/ URL.
func hostPort(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/")
}

// clip shortens s for a failure message.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// withoutHexDump drops the hex dump lines of `openssl s_client -msg`, for readable failures.
func withoutHexDump(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "    ") || strings.Contains(line, ":") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// TestServeOpenSSLClient: openssl s_client against `httpskit serve`. TLS 1.2 and 1.3
// handshakes verify against the printed CA file (chain and host name) and carry an HTTP
// request; TLS 1.0 and 1.1, and TLS 1.2 offers of only CBC or RSA key exchange suites, are
// refused by our server with a fatal alert. -msg shows who did what: ">>>" is what s_client
// sent (its ClientHello, so the refusal is no local configuration error) and "<<<" what it
// received (the server's alert).
func TestServeOpenSSLClient(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from serve\n"), 0o644))
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	otherCA, _, _ := pemFiles(t)
	const request = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	// OpenSSL 3 offers TLS 1.0 and 1.1 only at security level 0.
	const legacy = "DEFAULT@SECLEVEL=0"
	served := []string{"Verify return code: 0 (ok)", "HTTP/1.1 200 OK", "hello from serve"}
	protocolAlert := func(v string) []string {
		return []string{">>> TLS " + v + ", Handshake", "ClientHello", "<<< TLS " + v + ", Alert [length 0002], fatal protocol_version"}
	}
	cipherAlert := []string{">>> TLS 1.2, Handshake", "ClientHello", "<<< TLS 1.2, Alert [length 0002], fatal handshake_failure"}
	tests := []struct {
		name     string
		args     []string
		accepted bool
		want     []string // substrings of the output
	}{
		{"TLS 1.2", []string{"-tls1_2"}, true, append([]string{"Protocol  : TLSv1.2", "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES"}, served...)},
		{"TLS 1.3", []string{"-tls1_3"}, true, append([]string{"Protocol  : TLSv1.3", "New, TLSv1.3, Cipher is TLS_"}, served...)},
		{"other CA", []string{"-tls1_3", "-CAfile", otherCA}, false, []string{"Verify return code: 20 (unable to get local issuer certificate)", ">>> TLS 1.3, Alert [length 0002], fatal unknown_ca"}},
		{"wrong host name", []string{"-tls1_3", "-verify_hostname", "example.com"}, false, []string{"Verify return code: 62 (hostname mismatch)"}},
		{"TLS 1.0 refused", []string{"-tls1", "-cipher", legacy}, false, protocolAlert("1.0")},
		{"TLS 1.1 refused", []string{"-tls1_1", "-cipher", legacy}, false, protocolAlert("1.1")},
		{"RSA key exchange CBC refused", []string{"-tls1_2", "-cipher", "AES128-SHA"}, false, cipherAlert},
		{"ECDHE-RSA CBC refused", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"}, false, cipherAlert},
		{"ECDHE-ECDSA CBC refused", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"}, false, cipherAlert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The last -CAfile and -verify_hostname win, so a row's own come after these.
			args := append([]string{"s_client", "-connect", hostPort(site.url), "-servername", "localhost", "-msg", "-ign_eof",
				"-CAfile", site.caFile, "-verify_hostname", "localhost", "-verify_return_error"}, tt.args...)
			out, err := runPeer(t, request, openssl, args...)
			if tt.accepted != (err == nil) {
				t.Errorf("s_client %s exited with %v, want accepted=%v\n%s", strings.Join(tt.args, " "), err, tt.accepted, withoutHexDump(out))
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("s_client %s: output lacks %q\n%s", strings.Join(tt.args, " "), w, withoutHexDump(out))
				}
			}
			if !tt.accepted && strings.Contains(out, "hello from serve") {
				t.Errorf("s_client %s got the file through a refused handshake", strings.Join(tt.args, " "))
			}
		})
	}
}

// nodeClient is run by `node -e`. Arguments: URL, CA file ("" for Node's own roots), method,
// body mode ("none", "length": one write with Content-Length, "chunked": two writes without
// it, "h2": an HTTP/2 request with the http2 module, body sent when not empty) and body. It
// prints one JSON line: the
// status, HTTP version and body, or the error code.
const nodeClient = `
const fs = require('node:fs'), https = require('node:https'), http2 = require('node:http2');
const [, url, caFile, method, mode, body] = process.argv;
const ca = caFile ? fs.readFileSync(caFile) : undefined;
// Exit only once stdout is flushed: a pipe write is asynchronous and exit would cut it.
const done = (o) => { process.stdout.write(JSON.stringify(o) + '\n', () => process.exit(0)); };
const fail = (e) => done({error: e.code || String(e)});
if (mode === 'h2') {
  const u = new URL(url);
  const session = http2.connect(u.origin, {ca});
  session.on('error', fail);
  const req = session.request({':method': method, ':path': u.pathname});
  let status, data = '';
  req.setEncoding('utf8');
  req.on('response', (h) => { status = h[':status']; });
  req.on('data', (d) => { data += d; });
  req.on('end', () => { session.close(); done({status, httpVersion: '2.0', body: data}); });
  req.on('error', fail);
  if (body) req.write(body);
  req.end();
} else {
  const headers = mode === 'length' ? {'Content-Length': Buffer.byteLength(body)} : {};
  const req = https.request(url, {method, ca, headers}, (res) => {
    let data = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { data += d; });
    res.on('end', () => done({status: res.statusCode, httpVersion: res.httpVersion, body: data}));
  });
  req.on('error', fail);
  if (mode === 'length') req.write(body);
  if (mode === 'chunked') { const h = body.length >> 1; req.write(body.slice(0, h)); req.write(body.slice(h)); }
  req.end();
}
`

// nodeResult is what nodeClient prints.
type nodeResult struct {
	Status      int    `json:"status"`
	HTTPVersion string `json:"httpVersion"`
	Body        string `json:"body"`
	Error       string `json:"error"`
}

// runNode runs nodeClient and decodes its answer.
func runNode(t *testing.T, node, url, caFile, method, mode, body string) nodeResult {
	t.Helper()
	out, err := runPeer(t, "", node, "-e", nodeClient, url, caFile, method, mode, body)
	var r nodeResult
	if err != nil || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("node %s %s (%s): %v\n%s", method, url, mode, err, clip(out))
	}
	return r
}

// startEchoServer runs a package server on 127.0.0.1 whose POST /echo answers with the
// method, protocol, how the body was framed and the body itself.
func startEchoServer(t *testing.T) (url, caFile string) {
	t.Helper()
	caFile, certFile, keyFile := pemFiles(t)
	s := server.New(server.Config{})
	l, err := s.AddHTTPSServer(server.HTTPSConfig{HTTPConfig: server.HTTPConfig{Host: "127.0.0.1", Port: server.RandomPort}, Cert: certFile, Key: keyFile})
	must(t, err)
	must(t, s.RouteFunc("POST", "/echo", func(_ string, req *server.Request, res *server.Response) error {
		body, err := req.Read()
		if err != nil {
			return err
		}
		r := req.Original()
		framing := fmt.Sprintf("length=%d", r.ContentLength)
		if len(r.TransferEncoding) > 0 {
			framing = strings.Join(r.TransferEncoding, ",")
		}
		return res.WriteText(200, fmt.Sprintf("%s %s %s\n%s", r.Method, r.Proto, framing, body), nil)
	}))
	must(t, s.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop echo server: %v", err)
		}
	})
	return fmt.Sprintf("https://127.0.0.1:%d/echo", l.Port()), caFile
}

// TestNodeClient: Node's https and http2 clients, trusting the CA through their ca option,
// fetch a file from `httpskit serve` and post bodies (with Content-Length and chunked) to a
// package server route that echoes them; without the CA Node refuses our certificate.
func TestNodeClient(t *testing.T) {
	node := testenv.LookPath(t, "node")
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from serve\n"), 0o644))
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	echoURL, echoCA := startEchoServer(t)
	body := strings.Repeat("héllo, wörld ", 5000) // 70 kB of UTF-8, several TLS records
	tests := []struct {
		name, url, caFile, method, mode, body string
		want                                  nodeResult
	}{
		{"GET HTTP/1.1", site.url + "hello.txt", site.caFile, "GET", "none", "",
			nodeResult{Status: 200, HTTPVersion: "1.1", Body: "hello from serve\n"}},
		{"GET HTTP/2", site.url + "hello.txt", site.caFile, "GET", "h2", "",
			nodeResult{Status: 200, HTTPVersion: "2.0", Body: "hello from serve\n"}},
		{"GET missing", site.url + "missing.txt", site.caFile, "GET", "none", "",
			nodeResult{Status: 404, HTTPVersion: "1.1", Body: "Not found.\n"}},
		{"GET without the CA", site.url + "hello.txt", "", "GET", "none", "",
			nodeResult{Error: "UNABLE_TO_VERIFY_LEAF_SIGNATURE"}},
		{"POST with Content-Length", echoURL, echoCA, "POST", "length", body,
			nodeResult{Status: 200, HTTPVersion: "1.1", Body: fmt.Sprintf("POST HTTP/1.1 length=%d\n%s", len(body), body)}},
		{"POST chunked", echoURL, echoCA, "POST", "chunked", body,
			nodeResult{Status: 200, HTTPVersion: "1.1", Body: "POST HTTP/1.1 chunked\n" + body}},
		{"POST empty", echoURL, echoCA, "POST", "length", "",
			nodeResult{Status: 200, HTTPVersion: "1.1", Body: "POST HTTP/1.1 length=0\n"}},
		{"POST HTTP/2", echoURL, echoCA, "POST", "h2", body,
			nodeResult{Status: 200, HTTPVersion: "2.0", Body: "POST HTTP/2.0 length=-1\n" + body}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runNode(t, node, tt.url, tt.caFile, tt.method, tt.mode, tt.body)
			if got != tt.want {
				t.Errorf("node %s %s (%s) = %d %s %q (%d bytes) error %q\nwant %d %s %q (%d bytes) error %q", tt.method, tt.url, tt.mode,
					got.Status, got.HTTPVersion, clip(got.Body), len(got.Body), got.Error,
					tt.want.Status, tt.want.HTTPVersion, clip(tt.want.Body), len(tt.want.Body), tt.want.Error)
			}
		})
	}
}
