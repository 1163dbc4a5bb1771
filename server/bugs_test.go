package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestResponseServeNeverCrashes: upstream's response.serve() of a directory or an unreadable
// file killed the process (reference §5). Here both are 404 with no path in the body.
func TestResponseServeNeverCrashes(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "locked.txt")
	must(t, os.WriteFile(unreadable, []byte("locked"), 0o000))
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/serve/:what", func(_ string, req *Request, res *Response) error {
		name := map[string]string{"dir": dir, "locked": unreadable, "missing": filepath.Join(dir, "nope")}[req.Param("what")]
		return res.Serve(0, "", name, nil)
	}))
	for _, tg := range startTargets(t, s) {
		for _, what := range []string{"dir", "missing", "locked"} {
			if what == "locked" && os.Geteuid() == 0 {
				continue // root reads mode-0 files
			}
			resp, body := tg.get(t, "/serve/"+what)
			if resp.StatusCode != 404 || body != "Not found.\n" {
				t.Errorf("%s: Serve(%s) = %d %q, want 404 %q", tg.name, what, resp.StatusCode, body, "Not found.\n")
			}
			if strings.Contains(body, dir) {
				t.Errorf("%s: body leaks the path: %q", tg.name, body)
			}
		}
	}
}

// TestHostHonoured: upstream ignored the documented host setting and always bound localhost.
func TestHostHonoured(t *testing.T) {
	s := New(Config{})
	l, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.2", Port: RandomPort})
	must(t, err)
	must(t, s.Start(context.Background()))
	defer s.Stop(context.Background())
	if l.Host() != "127.0.0.2" {
		t.Errorf("Host() = %q, want 127.0.0.2", l.Host())
	}
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(l.Port())))
	if err != nil {
		t.Fatalf("dial the configured host: %v", err)
	}
	c.Close()
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))); err == nil {
		c.Close()
		t.Errorf("listener bound to 127.0.0.2 also answers on 127.0.0.1")
	}
}

// TestResponseServeStatus: Response.Serve sends the file with the status it is given, for any
// method (the handler decided to answer), HEAD without a body, and range requests at 200.
func TestResponseServeStatus(t *testing.T) {
	file := filepath.Join(t.TempDir(), "page.html")
	must(t, os.WriteFile(file, []byte("<p>maintenance</p>"), 0o644))
	s := New(Config{})
	must(t, s.RouteFunc("*", "/down", func(_ string, _ *Request, res *Response) error {
		return res.Serve(503, "", file, http.Header{"retry-after": {"60"}})
	}))
	must(t, s.RouteFunc("*", "/page", func(_ string, _ *Request, res *Response) error {
		return res.Serve(0, "", file, nil)
	}))
	for _, tg := range startTargets(t, s) {
		for _, method := range []string{"GET", "POST", "HEAD"} {
			resp, body := tg.do(t, method, "/down", nil, nil)
			want := "<p>maintenance</p>"
			if method == "HEAD" {
				want = ""
			}
			if resp.StatusCode != 503 || body != want || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
				resp.Header.Get("Retry-After") != "60" || resp.Header.Get("Content-Length") != "18" {
				t.Errorf("%s %s /down = %d %q %v, want 503 %q with type, Retry-After and length", tg.name, method, resp.StatusCode, body, resp.Header, want)
			}
		}
		resp, body := tg.do(t, "GET", "/page", nil, http.Header{"Range": {"bytes=3-13"}})
		if resp.StatusCode != 206 || body != "maintenance" {
			t.Errorf("%s GET /page with Range = %d %q, want 206 %q", tg.name, resp.StatusCode, body, "maintenance")
		}
	}
}
