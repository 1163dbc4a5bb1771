package server

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// Controller returns a Handler that dispatches to methods of v by request method, the Go form
// of AwesomeServer's AbstractController. v is usually a pointer to a struct. A method is a
// handler when it has the signature
//
//	func(path string, req *Request, res *Response) error
//
// and is named after an HTTP method, in any of these spellings: Get, GET or HandleGet (so
// Propfind, PROPFIND or HandlePropfind for PROPFIND). Three names are special:
//
//   - HEAD without a Head method is handled by Get (net/http drops the body);
//   - Any handles methods that have no method of their own;
//   - Before runs first, and After last, around the chosen method (or Any);
//   - if Before returns an error or finishes the response, the method is not called.
//
// When v has neither a method for the request nor Any, the controller does nothing and the
// next route runs (Before and After do not run either).
//
// Controller panics, at set-up, when v is nil, has no handler method, or has a method named
// like a handler (Get, HandlePost, Any, Before, ...) with another signature: these are
// programming mistakes, caught when the route is built rather than when a request arrives.
func Controller(v any) Handler {
	if v == nil {
		panic("server: Controller(nil)")
	}
	c := &controller{v: v, methods: map[string]HandlerFunc{}}
	rv := reflect.ValueOf(v)
	c.comparable = rv.Comparable()
	fnType := reflect.TypeOf(HandlerFunc(nil))
	rt := rv.Type()
	for i := 0; i < rt.NumMethod(); i++ {
		m := rt.Method(i)
		name := m.Name
		key := strings.TrimPrefix(name, "Handle")
		if key == "" || !isHandlerName(key) {
			continue
		}
		mv := rv.Method(i)
		if !mv.Type().ConvertibleTo(fnType) {
			panic(fmt.Sprintf("server: Controller(%T): method %s has type %s, want func(string, *server.Request, *server.Response) error", v, name, mv.Type()))
		}
		fn := mv.Convert(fnType).Interface().(HandlerFunc)
		switch name {
		case "Before":
			c.before = fn
		case "After":
			c.after = fn
		case "Any":
			c.any = fn
		default:
			c.methods[strings.ToUpper(key)] = fn
		}
	}
	if c.any == nil && len(c.methods) == 0 {
		panic(fmt.Sprintf("server: Controller(%T): no handler methods (Get, Post, ..., Any)", v))
	}
	return c
}

// isHandlerName reports whether a method name (without "Handle") looks like an HTTP method
// or one of the special names: letters only, capitalised or all upper case.
func isHandlerName(s string) bool {
	switch s {
	case "Before", "After", "Any":
		return true
	}
	upper := strings.ToUpper(s)
	if _, ok := knownMethods[upper]; !ok {
		return false
	}
	return s == upper || s == upper[:1]+strings.ToLower(upper[1:])
}

// knownMethods are the method names recognised on controllers.
var knownMethods = map[string]struct{}{
	"GET": {}, "HEAD": {}, "POST": {}, "PUT": {}, "DELETE": {}, "CONNECT": {}, "OPTIONS": {},
	"TRACE": {}, "PATCH": {}, "PROPFIND": {}, "PROPPATCH": {}, "MKCOL": {}, "COPY": {},
	"MOVE": {}, "LOCK": {}, "UNLOCK": {}, "SEARCH": {}, "QUERY": {},
}

type controller struct {
	v                  any
	comparable         bool
	before, after, any HandlerFunc
	methods            map[string]HandlerFunc
}

func (c *controller) Handle(path string, req *Request, res *Response) error {
	fn := c.methods[req.Method()]
	if fn == nil && req.Method() == http.MethodHead {
		fn = c.methods[http.MethodGet] // HEAD is answered by Get, as on GET routes
	}
	if fn == nil {
		fn = c.any
	}
	if fn == nil {
		return nil
	}
	if c.before != nil {
		if err := c.before(path, req, res); err != nil {
			return err
		}
		if res.Finished() {
			return nil
		}
	}
	if err := fn(path, req, res); err != nil {
		return err
	}
	if c.after != nil {
		return c.after(path, req, res)
	}
	return nil
}
