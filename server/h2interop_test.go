package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/https"
	"github.com/httpskit/httpskit/internal/testenv"
	"golang.org/x/net/http2"
)

// interopServer starts a server with one HTTP/2 listener on the batching engine, routes
// GET /hello and POST /echo, and returns the listener and the CA file clients trust.
func interopServer(t *testing.T) (*Listener, string) {
	t.Helper()
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/hello", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(200, "hello over h2\n", nil)
	}))
	must(t, s.RouteFunc("POST", "/echo", func(_ string, req *Request, res *Response) error {
		b, err := req.Read()
		if err != nil {
			return err
		}
		return res.WriteText(200, fmt.Sprintf("%d bytes", len(b)), nil)
	}))
	l := startH2Listener(t, s, HTTP2Batching, HTTPConfig{})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(caFile, getPKI(t).ca.CertPEM, 0o644))
	return l, caFile
}

// TestH2InteropCurl: curl (libcurl with nghttp2) over HTTP/2, a GET and a 1 MB upload.
func TestH2InteropCurl(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	l, ca := interopServer(t)
	port := strconv.Itoa(l.Port())
	base := "https://localhost:" + port
	resolve := "localhost:" + port + ":127.0.0.1"
	out, err := testenv.Command(curl, "-sS", "--http2", "--cacert", ca, "--resolve", resolve,
		"-w", "|%{http_version}", base+"/hello").CombinedOutput()
	if err != nil || string(out) != "hello over h2\n|2" {
		t.Errorf("curl GET = %q, %v; want the body over HTTP/2", out, err)
	}
	body := filepath.Join(t.TempDir(), "body")
	must(t, os.WriteFile(body, []byte(strings.Repeat("x", 1<<20)), 0o644))
	out, err = testenv.Command(curl, "-sS", "--http2", "--cacert", ca, "--resolve", resolve,
		"--data-binary", "@"+body, "-w", "|%{http_version}", base+"/echo").CombinedOutput()
	if err != nil || string(out) != "1048576 bytes|2" {
		t.Errorf("curl POST 1 MB = %q, %v; want its length over HTTP/2", out, err)
	}
}

// TestH2InteropNghttp: nghttp (Debian nghttp2-client) with 10 concurrent streams.
func TestH2InteropNghttp(t *testing.T) {
	nghttp := testenv.LookPath(t, "nghttp")
	l, _ := interopServer(t)
	// nghttp does not verify certificates; -m 10 sends the request 10 times at once.
	out, err := testenv.Command(nghttp, "-m", "10", "-t", "20",
		"https://127.0.0.1:"+strconv.Itoa(l.Port())+"/hello").Output()
	if err != nil || string(out) != strings.Repeat("hello over h2\n", 10) {
		t.Errorf("nghttp -m 10 = %q, %v; want 10 bodies", out, err)
	}
}

// nodeClient makes 10 concurrent GETs and one POST on one http2 session.
const nodeClient = `
const http2 = require('http2'), fs = require('fs');
const [url, ca] = process.argv.slice(1);
const s = http2.connect(url, {ca: fs.readFileSync(ca), servername: 'localhost'});
s.on('error', e => { console.error(e); process.exit(1); });
function req(headers, body) {
  return new Promise((resolve, reject) => {
    const r = s.request(headers);
    let status = '', data = '';
    r.setEncoding('utf8');
    r.on('response', h => { status = h[':status']; });
    r.on('data', d => { data += d; });
    r.on('end', () => resolve(status + ' ' + data));
    r.on('error', reject);
    r.end(body);
  });
}
(async () => {
  const gets = await Promise.all(Array.from({length: 10}, () => req({':path': '/hello'})));
  const post = await req({':path': '/echo', ':method': 'POST'}, 'x'.repeat(100000));
  console.log(JSON.stringify({gets: [...new Set(gets)], post}));
  s.close();
})().catch(e => { console.error(e); process.exit(1); });
`

// TestH2InteropNode: Node's http2 client.
func TestH2InteropNode(t *testing.T) {
	node := testenv.LookPath(t, "node")
	l, ca := interopServer(t)
	out, err := testenv.Command(node, "-e", nodeClient, "https://127.0.0.1:"+strconv.Itoa(l.Port()), ca).CombinedOutput()
	want := `{"gets":["200 hello over h2\n"],"post":"200 100000 bytes"}` + "\n"
	if err != nil || string(out) != want {
		t.Errorf("node http2 = %q, %v; want %q", out, err, want)
	}
}

// TestH2InteropHTTPSClient: our own client negotiates HTTP/2 with the engine.
func TestH2InteropHTTPSClient(t *testing.T) {
	l, ca := interopServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := https.Get(ctx, https.Options{Host: "localhost", Port: l.Port(), Path: "/hello", CA: ca}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Response()
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	b, err := io.ReadAll(res)
	if err != nil || string(b) != "hello over h2\n" || res.HTTPVersion != "2.0" {
		t.Errorf("https.Get = HTTP/%s %q, %v; want HTTP/2.0 and the body", res.HTTPVersion, b, err)
	}
}

// TestH2GracefulStop: Stop sends GOAWAY at once, lets the open stream finish its response,
// then closes the connection; a stream opened after the GOAWAY is not served.
func TestH2GracefulStop(t *testing.T) {
	for _, eng := range h2Engines {
		t.Run(eng.name, func(t *testing.T) {
			s := New(Config{})
			entered, release := make(chan struct{}), make(chan struct{})
			must(t, s.RouteFunc("GET", "/slow", func(_ string, _ *Request, res *Response) error {
				close(entered)
				<-release
				return res.WriteText(200, "finished", nil)
			}))
			p := getPKI(t)
			l, err := s.AddHTTP2Server(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}, CertPEM: p.certPEM, KeyPEM: p.keyPEM, HTTP2Engine: eng.e})
			must(t, err)
			must(t, s.Start(context.Background()))
			h := h2Dial(t, l)
			h.request(t, 1, h.block("GET", "/slow"), true)
			<-entered
			stopped := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				stopped <- s.Stop(ctx)
			}()
			// Read until the GOAWAY, then let the handler finish.
			for {
				f, err := h.fr.ReadFrame()
				if err != nil {
					t.Fatalf("before GOAWAY: %v", err)
				}
				if g, ok := f.(*http2.GoAwayFrame); ok {
					if g.ErrCode != http2.ErrCodeNo {
						t.Errorf("GOAWAY %v, want NO_ERROR", g.ErrCode)
					}
					break
				}
				if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
					h.fr.WriteSettingsAck()
				}
			}
			close(release)
			o := h.read(1, true)
			if o.status != "200" || o.body != "finished" || !o.ended || !o.closed {
				t.Errorf("after GOAWAY: %+v, want the response finished and the connection closed", o)
			}
			h.c.Close() // the server lingers until the client closes too (connlimit.go)
			if err := <-stopped; err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
}
