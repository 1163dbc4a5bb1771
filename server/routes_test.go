package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRouteRegistrationErrors: every bad registration returns an error naming the problem,
// with the package prefix, and adds no route.
func TestRouteRegistrationErrors(t *testing.T) {
	dir := upFixtures(t)
	file := filepath.Join(dir, "hello.css")
	missing := filepath.Join(dir, "missing.css")
	h := HandlerFunc(upNop)
	re := regexp.MustCompile(`^/x$`)
	tests := []struct {
		name string
		add  func(s *Server) error
		want string // part of the error text
	}{
		{"empty method", func(s *Server) error { return s.Route("", "/x", h) }, "missing method"},
		{"method with a space", func(s *Server) error { return s.Route("GE T", "/x", h) }, "invalid method"},
		{"method with CRLF", func(s *Server) error { return s.Route("GET\r\n", "/x", h) }, "invalid method"},
		{"method not ASCII", func(s *Server) error { return s.Route("GÉT", "/x", h) }, "invalid method"},
		{"method with a slash", func(s *Server) error { return s.Route("GET/1", "/x", h) }, "invalid method"},
		{"RouteFunc empty method", func(s *Server) error { return s.RouteFunc("", "/x", upNop) }, "missing method"},
		{"RouteRegexp invalid method", func(s *Server) error { return s.RouteRegexp("G(T", re, h) }, "invalid method"},
		{"Redirect invalid method", func(s *Server) error { return s.Redirect("G T", "/x", "/y", false) }, "invalid method"},
		{"empty path", func(s *Server) error { return s.Route("GET", "", h) }, `""`},
		{"empty or-part", func(s *Server) error { return s.Route("GET", "/a|", h) }, `"/a|"`},
		{"repeated positional name", func(s *Server) error { return s.Route("GET", "/x/:id/:id", h) }, "id"},
		{"Redirect empty path", func(s *Server) error { return s.Redirect("GET", "", "/y", false) }, `""`},
		{"nil handler", func(s *Server) error { return s.Route("GET", "/x", nil) }, "missing handler"},
		{"typed nil HandlerFunc", func(s *Server) error { return s.Route("GET", "/x", HandlerFunc(nil)) }, "missing handler"},
		{"RouteFunc nil", func(s *Server) error { return s.RouteFunc("GET", "/x", nil) }, "missing handler"},
		{"RouteRegexp nil handler", func(s *Server) error { return s.RouteRegexp("GET", re, nil) }, "missing handler"},
		{"RouteRegexp typed nil HandlerFunc", func(s *Server) error { return s.RouteRegexp("GET", re, HandlerFunc(nil)) }, "missing handler"},
		{"RouteRegexp nil regexp", func(s *Server) error { return s.RouteRegexp("GET", nil, h) }, "missing regular expression"},
		{"Serve empty file name", func(s *Server) error { return s.Serve("/x", "", "") }, "missing file name"},
		{"Serve missing file", func(s *Server) error { return s.Serve("/x", "text/css", missing) }, "not found"},
		{"Serve missing directory", func(s *Server) error { return s.Serve("/x", "", filepath.Join(dir, "nodir")+"/") }, "not found"},
		{"Serve file at empty path", func(s *Server) error { return s.Serve("", "", file) }, `""`},
		{"Serve directory at empty path", func(s *Server) error { return s.Serve("", "", dir) }, "missing path"},
		{"ServeDirectory missing directory", func(s *Server) error {
			return s.ServeDirectory("/x", filepath.Join(dir, "nodir"), DirectoryOptions{})
		}, "nodir"},
		{"ServeDirectory of a file", func(s *Server) error { return s.ServeDirectory("/x", file, DirectoryOptions{}) }, "not a directory"},
		{"Push empty reference path", func(s *Server) error { return s.Push("/p", "", "", file) }, "reference path"},
		{"Push relative reference path", func(s *Server) error { return s.Push("/p", "hello.css", "", file) }, "reference path"},
		{"Push empty file name", func(s *Server) error { return s.Push("/p", "/hello.css", "", "") }, "missing file name"},
		{"Push missing file", func(s *Server) error { return s.Push("/p", "/hello.css", "", missing) }, "not found"},
		{"Push directory", func(s *Server) error { return s.Push("/p", "/hello.css", "", dir) }, "not a file"},
		{"Push empty path", func(s *Server) error { return s.Push("", "/hello.css", "", file) }, `""`},
		{"Redirect empty target", func(s *Server) error { return s.Redirect("GET", "/x", "", false) }, "missing target"},
		{"Redirect CRLF target", func(s *Server) error {
			return s.Redirect("GET", "/x", "/y\r\nSet-Cookie: session=stolen", true)
		}, "invalid target"},
		{"Redirect LF target", func(s *Server) error { return s.Redirect("GET", "/x", "/y\nX: 1", false) }, "invalid target"},
		{"Redirect CR target", func(s *Server) error { return s.Redirect("GET", "/x", "/y\rX: 1", false) }, "invalid target"},
		{"Redirect NUL target", func(s *Server) error { return s.Redirect("GET", "/x", "/y\x00", false) }, "invalid target"},
	}
	for _, tt := range tests {
		s := New(Config{})
		err := tt.add(s)
		switch {
		case err == nil:
			t.Errorf("%s: error = nil, want one containing %q", tt.name, tt.want)
		case !strings.HasPrefix(err.Error(), "server: ") || !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s: error = %q, want the prefix %q and %q", tt.name, err, "server: ", tt.want)
		}
		if got := s.Routes(); len(got) != 0 {
			t.Errorf("%s: Routes() = %q after a failed registration, want none", tt.name, got)
		}
	}
}

// rtGet sends GET path to s through ServeHTTP and returns status and body.
func rtGet(s *Server, path string) (int, string) {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// rtWriter returns a handler that writes text without finishing the response, so that every
// matching route runs; each call makes a new closure.
func rtWriter(text string) HandlerFunc {
	return func(_ string, _ *Request, res *Response) error {
		_, err := res.Write([]byte(text))
		return err
	}
}

func rtEnd(_ string, _ *Request, res *Response) error { return res.End([]byte("END")) }

// TestUnrouteHandlerIdentity: handlers are compared by identity. Two closures of one function
// literal are different handlers; the same func value is one handler.
func TestUnrouteHandlerIdentity(t *testing.T) {
	s := New(Config{})
	a, b := rtWriter("A;"), rtWriter("B;")
	must(t, s.RouteFunc("GET", "/x", a))
	must(t, s.RouteFunc("GET", "/x", b))
	must(t, s.RouteFunc("GET", "/x", rtEnd))
	if got, want := s.Routes(), []string{"GET: /x", "GET: /x", "GET: /x"}; !slices.Equal(got, want) {
		t.Fatalf("Routes() = %q, want %q", got, want)
	}
	if code, body := rtGet(s, "/x"); code != 200 || body != "A;B;END" {
		t.Errorf("GET %s = %d %q, want %d %q", "/x", code, body, 200, "A;B;END")
	}

	// Unroute of a removes a only.
	if !s.Unroute("GET", "/x", a) {
		t.Error("Unroute(GET, /x, a) = false, want true")
	}
	if code, body := rtGet(s, "/x"); code != 200 || body != "B;END" {
		t.Errorf("after removing a: GET %s = %d %q, want %d %q", "/x", code, body, 200, "B;END")
	}
	if s.Unroute("GET", "/x", a) {
		t.Error("second Unroute(GET, /x, a) = true, want false")
	}
	// A new closure of the same literal is another handler: nothing to remove.
	if s.Unroute("GET", "/x", rtWriter("B;")) {
		t.Error("Unroute with a new closure of the same literal = true, want false")
	}
	// The handler must match along with method and path.
	if s.Unroute("GET", "/y", b) || s.Unroute("POST", "/x", b) {
		t.Error("Unroute with another path or method removed b")
	}
	if !s.Unroute("get", "/x", HandlerFunc(rtEnd)) {
		t.Error("Unroute(get, /x, rtEnd) = false, want true (a top-level func is one value)")
	}
	if got, want := s.Routes(), []string{"GET: /x"}; !slices.Equal(got, want) {
		t.Errorf("Routes() = %q, want %q", got, want)
	}
	// A nil handler removes every handler of the method and path.
	must(t, s.RouteFunc("GET", "/x", a))
	if !s.Unroute("GET", "/x", nil) || len(s.Routes()) != 0 {
		t.Errorf("Unroute(GET, /x, nil) left %q, want none", s.Routes())
	}
	// An invalid method names nothing.
	if s.Unroute("G T", "/x", nil) || s.Unroute("", "/x", nil) {
		t.Error("Unroute with an invalid method = true, want false")
	}
}

// TestRouteSameHandlerTwice: adding the same method, path and handler again does not add a
// second route but moves the route to the end.
func TestRouteSameHandlerTwice(t *testing.T) {
	s := New(Config{})
	a, b := rtWriter("A;"), rtWriter("B;")
	must(t, s.RouteFunc("GET", "/x", a))
	must(t, s.RouteFunc("GET", "/y", b))
	must(t, s.RouteFunc("*", "/x", b))
	must(t, s.RouteFunc("*", "*", rtEnd))
	if code, body := rtGet(s, "/x"); code != 200 || body != "A;B;END" {
		t.Errorf("GET %s = %d %q, want %d %q", "/x", code, body, 200, "A;B;END")
	}

	must(t, s.RouteFunc("GET", "/x", a))  // moves a after the end route
	must(t, s.RouteFunc("*", "*", rtEnd)) // and the end route after a
	want := []string{"GET: /y", "*: /x", "GET: /x", "*: *"}
	if got := s.Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() = %q, want %q", got, want)
	}
	if code, body := rtGet(s, "/x"); code != 200 || body != "B;A;END" {
		t.Errorf("GET %s = %d %q, want %d %q", "/x", code, body, 200, "B;A;END")
	}

	// The same handler on another method or path is another route.
	must(t, s.RouteFunc("POST", "/x", a))
	if n := len(s.Routes()); n != 5 {
		t.Errorf("%d routes after adding a for POST, want 5: %q", n, s.Routes())
	}

	// The same controller instance, wrapped twice, is the same handler.
	c := &upController{n: "1"}
	must(t, s.Route("GET", "/c", Controller(c)))
	must(t, s.Route("GET", "/c", Controller(c)))
	if n := len(s.Routes()); n != 6 {
		t.Errorf("%d routes after routing one controller twice, want 6: %q", n, s.Routes())
	}
}

// Controllers that are programming mistakes.
type (
	rtNoHandlers struct{}
	rtBadGet     struct{}
	rtBadBefore  struct{}
	rtBadPost    struct{}
	rtPtrOnly    struct{}
)

func (rtNoHandlers) Hello(string, *Request, *Response) error { return nil }

func (rtBadGet) Get(req *Request, res *Response) error { return nil }

func (rtBadBefore) Get(string, *Request, *Response) error { return nil }
func (rtBadBefore) Before(string, *Request, *Response)    {}

func (rtBadPost) Get(string, *Request, *Response) error       { return nil }
func (rtBadPost) HandlePost(string, *Request, *Response) bool { return false }

func (*rtPtrOnly) Get(string, *Request, *Response) error { return nil }

// TestControllerPanics: Controller panics at set-up for a nil value, a value without handler
// methods, and a handler-named method with the wrong signature.
func TestControllerPanics(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string // part of the panic message
	}{
		{"nil", nil, "Controller(nil)"},
		{"no methods", struct{}{}, "no handler methods"},
		{"unrelated methods only", rtNoHandlers{}, "no handler methods"},
		{"value of a type with pointer methods", rtPtrOnly{}, "no handler methods"},
		{"Get with the wrong signature", &rtBadGet{}, "method Get"},
		{"Before with the wrong signature", &rtBadBefore{}, "method Before"},
		{"HandlePost with the wrong signature", &rtBadPost{}, "method HandlePost"},
	}
	for _, tt := range tests {
		v := rtRecover(func() { Controller(tt.v) })
		if v == nil {
			t.Errorf("Controller(%s) did not panic, want a panic containing %q", tt.name, tt.want)
			continue
		}
		if msg := fmt.Sprint(v); !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "server: ") {
			t.Errorf("Controller(%s) panicked with %q, want the prefix %q and %q", tt.name, msg, "server: ", tt.want)
		}
	}
	// The pointer form of rtPtrOnly is fine.
	if v := rtRecover(func() { Controller(&rtPtrOnly{}) }); v != nil {
		t.Errorf("Controller(&rtPtrOnly{}) panicked: %v", v)
	}
}

func rtRecover(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}
