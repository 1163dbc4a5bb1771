package server

import (
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDispatchOrder runs the Routing.md example: every matching route runs in insertion
// order until one ends the response.
func TestDispatchOrder(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("*", "/multi*", func(_ string, _ *Request, res *Response) error {
		return res.WriteHead(200, http.Header{"content-type": {"text/plain"}})
	}))
	must(t, s.RouteRegexp("GET", regexp.MustCompile(`/multi.*a`), HandlerFunc(func(_ string, _ *Request, res *Response) error {
		_, err := res.Write([]byte("A;"))
		return err
	})))
	must(t, s.RouteRegexp("GET", regexp.MustCompile(`/multi.*b`), HandlerFunc(func(_ string, _ *Request, res *Response) error {
		_, err := res.Write([]byte("B;"))
		return err
	})))
	must(t, s.RouteFunc("*", "/multi*", func(_ string, _ *Request, res *Response) error {
		return res.End([]byte("END"))
	}))
	must(t, s.RouteFunc("*", "*", func(_ string, _ *Request, res *Response) error {
		t.Error("a route after the finishing one ran")
		return nil
	}))
	for _, tg := range startTargets(t, s) {
		for path, want := range map[string]string{"/multiab": "A;B;END", "/multia": "A;END", "/multi": "END"} {
			resp, body := tg.get(t, path)
			if resp.StatusCode != 200 || body != want {
				t.Errorf("%s GET %s = %d %q, want 200 %q", tg.name, path, resp.StatusCode, body, want)
			}
		}
	}
}

func TestFallbacks(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/error", func(string, *Request, *Response) error {
		return errors.New("secret detail /home/user/x.go:12")
	}))
	must(t, s.RouteFunc("GET", "/panic", func(string, *Request, *Response) error {
		panic("boom at /home/user/x.go")
	}))
	must(t, s.RouteFunc("GET", "/partial", func(_ string, _ *Request, res *Response) error {
		_, err := res.Write([]byte("partial"))
		return err
	}))
	must(t, s.RouteFunc("GET", "/head-only", func(_ string, _ *Request, res *Response) error {
		return res.WriteHead(204, nil)
	}))
	must(t, s.RouteFunc("GET", "/nofinish", func(string, *Request, *Response) error { return nil }))
	must(t, s.RouteFunc("*", "/error|/panic", func(string, *Request, *Response) error {
		t.Error("a route ran after a failing one")
		return nil
	}))
	tests := []struct {
		path, method string
		status       int
		body         string
	}{
		{"/nope?x=1", "GET", 404, "Not found GET /nope?x=1."},
		{"/nofinish", "GET", 404, "Not found GET /nofinish."},
		{"/partial", "POST", 404, "Not found POST /partial."},
		{"/partial", "HEAD", 200, ""},
		{"/error", "GET", 500, "Error handling request GET /error."},
		{"/panic?a=b", "GET", 500, "Error handling request GET /panic?a=b."},
		{"/partial", "GET", 200, "partial"},
		{"/head-only", "GET", 204, ""},
	}
	for _, tg := range startTargets(t, s) {
		for _, tt := range tests {
			resp, body := tg.do(t, tt.method, tt.path, nil, nil)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%s %s %s = %d %q, want %d %q", tg.name, tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.status >= 400 {
				if ct := resp.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "text/plain; charset=utf-8" {
					t.Errorf("%s %s %s: Content-Type %q", tg.name, tt.method, tt.path, ct)
				}
			}
		}
	}
}

// TestErrorAfterPartialWrite: a handler that fails after the response started must not let
// the client take the short body for a complete one.
func TestErrorAfterPartialWrite(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("GET", "/half", func(_ string, _ *Request, res *Response) error {
		if _, err := res.Write([]byte(strings.Repeat("x", 100))); err != nil {
			return err
		}
		res.Original().(http.Flusher).Flush()
		return errors.New("disk gone")
	}))
	must(t, s.RouteFunc("GET", "/ok", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "still alive", nil)
	}))
	for _, tg := range startTargets(t, s) {
		resp, err := tg.client.Get(tg.base + "/half")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Errorf("%s: GET /half read a complete response, want an error", tg.name)
		}
		if _, body := tg.get(t, "/ok"); body != "still alive" {
			t.Errorf("%s: server not answering after an aborted response: %q", tg.name, body)
		}
	}
}

func TestMalformedPercentEscape(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("*", "*", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "routed", nil)
	}))
	ts := startTargets(t, s)
	for _, tg := range ts[:2] {
		out := rawRequest(t, tg.l, "GET /%E0%A4%A HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
			t.Errorf("%s: GET /%%E0%%A4%%A answered %q, want 400", tg.name, firstLine(out))
		}
		if _, body := tg.get(t, "/fine"); body != "routed" {
			t.Errorf("%s: server not answering after a malformed escape", tg.name)
		}
	}
}

// TestHeadAnsweredByGetRoute: a GET route answers HEAD with its headers and no body; a HEAD
// route added first answers instead; a POST route does not.
func TestHeadAnsweredByGetRoute(t *testing.T) {
	s := New(Config{})
	must(t, s.RouteFunc("HEAD", "/own", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "", http.Header{"X-Head": {"own"}})
	}))
	must(t, s.RouteFunc("GET", "/x|/own", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "xyz", http.Header{"X-Get": {"1"}})
	}))
	must(t, s.RouteFunc("POST", "/p", func(_ string, _ *Request, res *Response) error {
		return res.WriteText(0, "p", nil)
	}))
	for _, tg := range startTargets(t, s) {
		if resp, body := tg.do(t, "HEAD", "/x", nil, nil); resp.StatusCode != 200 || body != "" ||
			resp.Header.Get("X-Get") != "1" || resp.Header.Get("Content-Length") != "3" {
			t.Errorf("%s: HEAD on a GET route = %d %q %v, want 200, no body, Content-Length 3", tg.name, resp.StatusCode, body, resp.Header)
		}
		if resp, _ := tg.do(t, "HEAD", "/own", nil, nil); resp.StatusCode != 200 || resp.Header.Get("X-Head") != "own" {
			t.Errorf("%s: HEAD with a HEAD route first = %d %v, want its X-Head", tg.name, resp.StatusCode, resp.Header)
		}
		if resp, _ := tg.do(t, "HEAD", "/p", nil, nil); resp.StatusCode != 404 {
			t.Errorf("%s: HEAD on a POST route = %d, want 404", tg.name, resp.StatusCode)
		}
	}
}

func TestMethodRouting(t *testing.T) {
	s := New(Config{})
	for _, m := range []string{"get", "post", "put", "delete", "patch", "options"} {
		m := m
		must(t, s.RouteFunc(m, "/m", func(_ string, req *Request, res *Response) error {
			return res.WriteText(0, strings.ToUpper(m)+" "+req.Method(), nil)
		}))
	}
	for _, tg := range startTargets(t, s) {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
			if _, body := tg.do(t, m, "/m", nil, nil); body != m+" "+m {
				t.Errorf("%s %s /m = %q", tg.name, m, body)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
