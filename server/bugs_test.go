package server

import (
	"context"
	"net"
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
