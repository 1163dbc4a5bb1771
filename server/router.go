package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unsafe"

	"github.com/httpskit/httpskit/internal/route"
)

// Handler handles the requests of a route. path is what the route's matcher leaves of the
// request path (see Route). A handler finishes the response by calling Response.End or one
// of the Write* helpers; a handler that does not finish it lets the next matching route run.
// A returned error ends the chain with a 500 response (413 for ErrBodyTooLarge, 400 for
// ErrBadRequest), unless the response was already started, in which case the connection is
// cut so the client sees a truncated response rather than a complete-looking one.
//
// Handlers run on the request's goroutine. Request and Response belong to one request: like
// net/http's ResponseWriter, they must not be used after Handle returns (nor the writer from
// Response.Original); they are never reused for another request. The *http.Request from
// Request.Original, the values from Param, and the bytes from Read may be kept.
type Handler interface {
	Handle(path string, req *Request, res *Response) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(path string, req *Request, res *Response) error

// Handle calls f(path, req, res).
func (f HandlerFunc) Handle(path string, req *Request, res *Response) error {
	return f(path, req, res)
}

// routeEntry is one registered route. Entries are immutable once published.
type routeEntry struct {
	method  string // upper case, or "*"
	pattern string // as registered (regexp routes: the expression's source)
	isRe    bool
	parent  string // for routes registered as a group (Serve of a directory): the group path
	m       route.Matcher
	h       Handler
	closer  io.Closer // released when the route is removed
}

func (e *routeEntry) String() string {
	if e.isRe {
		return e.method + ": /" + e.pattern + "/"
	}
	return e.method + ": " + e.pattern
}

// Route adds a route. method is an HTTP method token ("GET", "post": case-insensitive) or
// "*" for any method. A GET route answers HEAD requests too (net/http sends the headers and
// drops the body); a HEAD route added before it answers them first. path uses
// AwesomeServer's grammar, tried in this order:
//
//	"/a|/b/*"  or:         each part is a pattern of its own; the first part that matches wins
//	"*"        any:        every path; the handler gets the whole path
//	"/api/*"   prefix:     the handler gets the rest, "/api/a/b" gives "a/b"
//	"*/end"    suffix:     the handler gets what comes before, "/x/y/end" gives "/x/y"
//	"*/mid/*"  contains:   the handler gets the path with the first "/mid/" removed
//	"/u/:id"   positional: each ":name" matches one segment, read with Request.Param("id")
//	"/exact"   exact:      the handler gets ""
//
// Matching is case-sensitive, runs on the percent-decoded path and ignores the query.
// Routes run in the order they were added. Adding the same method, path and handler again
// moves the route to the end.
func (s *Server) Route(method, path string, h Handler) error {
	m, err := checkMethod(method)
	if err != nil {
		return routeError("route", method, path, err)
	}
	if h == nil || isNilHandler(h) {
		return routeError("route", method, path, errors.New("missing handler"))
	}
	mt, err := route.Compile(path)
	if err != nil {
		return routeError("route", method, path, err)
	}
	s.addRoutes(&routeEntry{method: m, pattern: path, m: mt, h: h})
	return nil
}

// RouteFunc is Route with a function.
func (s *Server) RouteFunc(method, path string, fn HandlerFunc) error {
	if fn == nil {
		return routeError("route", method, path, errors.New("missing handler"))
	}
	return s.Route(method, path, fn)
}

// RouteHandler adds a route, as Route does, whose handler is an http.Handler: any net/http
// handler, middleware chain or ServeMux. It gets the request with its whole path and
// always finishes the response (a handler that writes nothing sends 200 with no body), so
// routes after it do not run for requests it matches. To mount a ServeMux below a prefix:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /users/{id}", getUser)
//	s.RouteHandler("*", "/api/*", http.StripPrefix("/api", mux))
//
// Request bodies are capped by MaxBodyBytes as for every route. A panic in h is a 500, as in
// any handler.
func (s *Server) RouteHandler(method, path string, h http.Handler) error {
	if h == nil {
		return routeError("route", method, path, errors.New("missing handler"))
	}
	return s.Route(method, path, httpHandler{h})
}

// httpHandler runs an http.Handler as a route.
type httpHandler struct{ h http.Handler }

func (hh httpHandler) Handle(_ string, req *Request, res *Response) error {
	if res.finished {
		return nil
	}
	hh.h.ServeHTTP(&res.w, req.r)
	res.finished = true
	return nil
}

// RouteRegexp adds a route whose path is a regular expression. The handler gets the path with
// the match removed; named groups are read with Request.Param(name) and every group with
// Request.Param("1"), Param("2"), ... Routes lists it as "METHOD: /expr/".
func (s *Server) RouteRegexp(method string, re *regexp.Regexp, h Handler) error {
	if re == nil {
		return routeError("route", method, "", errors.New("missing regular expression"))
	}
	m, err := checkMethod(method)
	if err != nil {
		return routeError("route", method, re.String(), err)
	}
	if h == nil || isNilHandler(h) {
		return routeError("route", method, re.String(), errors.New("missing handler"))
	}
	s.addRoutes(&routeEntry{method: m, pattern: re.String(), isRe: true, m: route.Regexp(re), h: h})
	return nil
}

// Unroute removes the routes with exactly this method ("*" removes only routes added with
// "*") and path, and with handler h when h is not nil. A regular-expression route is named
// by "/expr/" as Routes shows it. Routes added together by Serve of a directory are removed
// together. It reports whether anything was removed.
func (s *Server) Unroute(method, path string, h Handler) bool {
	m, err := checkMethod(method)
	if err != nil {
		return false
	}
	return s.removeRoutes(func(e *routeEntry) bool {
		if e.method != m {
			return false
		}
		name := e.pattern
		if e.isRe {
			name = "/" + e.pattern + "/"
		}
		if name != path && e.parent != path {
			return false
		}
		return h == nil || sameHandler(e.h, h)
	})
}

// RemoveAllRoutes removes every route.
func (s *Server) RemoveAllRoutes() {
	s.removeRoutes(func(*routeEntry) bool { return true })
}

// Routes lists the routes in order, as "METHOD: path", for example "GET: /test".
func (s *Server) Routes() []string {
	rs := *s.routes.Load()
	out := make([]string, len(rs))
	for i, e := range rs {
		out[i] = e.String()
	}
	return out
}

// addRoutes appends entries, first removing any route with the same method, path and
// handler (so re-adding moves a route to the end).
func (s *Server) addRoutes(es ...*routeEntry) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	old := *s.routes.Load()
	next := make([]*routeEntry, 0, len(old)+len(es))
	for _, o := range old {
		if !slices.ContainsFunc(es, func(e *routeEntry) bool {
			return o.method == e.method && o.pattern == e.pattern && o.isRe == e.isRe && o.parent == e.parent && sameHandler(o.h, e.h)
		}) {
			next = append(next, o)
		}
	}
	next = append(next, es...)
	s.routes.Store(&next)
}

func (s *Server) removeRoutes(drop func(*routeEntry) bool) bool {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	old := *s.routes.Load()
	next := make([]*routeEntry, 0, len(old))
	var closers []io.Closer
	for _, e := range old {
		if drop(e) {
			if e.closer != nil && !slices.Contains(closers, e.closer) {
				closers = append(closers, e.closer)
			}
			continue
		}
		next = append(next, e)
	}
	if len(next) == len(old) {
		return false
	}
	s.routes.Store(&next)
	for _, c := range closers {
		// A directory served by several routes stays open while one of them remains.
		if !slices.ContainsFunc(next, func(e *routeEntry) bool { return e.closer == c }) {
			c.Close()
		}
	}
	return true
}

// checkMethod returns the upper-case method, or an error for a method that is not "*" and
// not an HTTP token.
func checkMethod(method string) (string, error) {
	if method == "*" {
		return method, nil
	}
	if method == "" {
		return "", errors.New("missing method")
	}
	for i := 0; i < len(method); i++ {
		if !isTokenChar(method[i]) {
			return "", fmt.Errorf("invalid method %q: not an HTTP token", method)
		}
	}
	return strings.ToUpper(method), nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isNilHandler reports a typed nil inside a Handler interface (a nil func or pointer).
func isNilHandler(h Handler) bool {
	v := reflect.ValueOf(h)
	switch v.Kind() {
	case reflect.Func, reflect.Pointer, reflect.Map, reflect.Interface, reflect.Chan, reflect.Slice:
		return v.IsNil()
	}
	return false
}

// sameHandler compares handlers without panicking on uncomparable dynamic types such as
// functions: functions are equal when they are the same code and closure.
func sameHandler(a, b Handler) bool {
	if ca, ok := a.(*controller); ok {
		if cb, ok := b.(*controller); ok {
			return ca == cb || (ca.comparable && cb.comparable && ca.v == cb.v)
		}
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	if va.Kind() == reflect.Func {
		// A func value is pointer-shaped: the interface's data word is the closure itself,
		// so two closures of one literal with different captures stay apart.
		return (*[2]unsafe.Pointer)(unsafe.Pointer(&a))[1] == (*[2]unsafe.Pointer)(unsafe.Pointer(&b))[1]
	}
	if !va.Comparable() || !vb.Comparable() {
		return false
	}
	return va.Equal(vb)
}
