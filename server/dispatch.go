package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/httpskit/httpskit/internal/route"
)

// exchange holds the per-request state: the Request and Response wrappers handed to the
// handlers, the route parameters and the response's header values, in one allocation per
// request. Exchanges are not pooled: a handler that wrongly keeps its Request or Response
// past its return must never reach another client's request.
type exchange struct {
	req    Request
	res    Response
	params [4]route.Param
}

// dispatch runs the matching routes in order until one finishes the response.
//
// lengthEnforced says that net/http delivers exactly r.ContentLength body bytes when that is
// not negative, which is true of requests straight from our listeners (HTTP/1.1 reads a
// Content-Length body through a limited reader; HTTP/2 resets a stream that sends more than
// it declared). Such a body, already checked against maxBody, needs no MaxBytesReader; every
// HTTP/2 request has a non-nil Body, so this saves an allocation per HTTP/2 request.
//
// ex is the request's fresh exchange; its response writer records the status and the body
// bytes for an Observer (observe.go).
func (s *Server) dispatch(ex *exchange, w http.ResponseWriter, r *http.Request, maxBody int64, lengthEnforced bool) {
	ex.req.r = r
	ex.res.init(w, r)
	if mustClose(r) { // chunked or HTTP/1.0: no request may follow on this connection (framing.go)
		closeAfterResponse(w, r)
	}
	if maxBody > 0 {
		if r.ContentLength > maxBody {
			writePlain(&ex.res.w, http.StatusRequestEntityTooLarge, "Request body too large.\n")
			return
		}
		if r.Body != nil && r.Body != http.NoBody && (r.ContentLength < 0 || !lengthEnforced) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
	}
	s.route(ex, r)
}

func (s *Server) route(ex *exchange, r *http.Request) {
	req, res := &ex.req, &ex.res

	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	for _, e := range *s.routes.Load() {
		if res.finished {
			break
		}
		if e.method != "*" && e.method != r.Method && (e.method != http.MethodGet || r.Method != http.MethodHead) {
			continue // a GET route answers HEAD too
		}
		rest, params, ok := e.m.Match(path, ex.params[:0])
		if !ok {
			continue
		}
		req.params = params
		if err := s.call(e, rest, req, res); err != nil {
			s.fail(req, res, err)
			return
		}
	}
	if res.finished {
		return
	}
	if res.w.wroteHeader {
		// A route started the response and none ended it: end it cleanly.
		res.finished = true
		return
	}
	if s.logger.Enabled(r.Context(), slog.LevelDebug) { // spares boxing the arguments
		s.logger.Debug("no route finished the request", "method", r.Method, "url", r.RequestURI)
	}
	writePlain(&res.w, http.StatusNotFound, "Not found "+r.Method+" "+requestURI(r)+".")
}

// call runs one handler, turning a panic into an error. http.ErrAbortHandler passes through.
func (s *Server) call(e *routeEntry, rest string, req *Request, res *Response) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.Error("handler panic", "route", e.String(), "method", req.r.Method,
				"url", req.r.RequestURI, "panic", v, "stack", string(debug.Stack()))
			err = &panicError{v}
		}
	}()
	return e.h.Handle(rest, req, res)
}

type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("server: handler panic: %v", p.v) }

// fail answers a handler error: 413, 400, 408 or 500 when nothing was sent yet, otherwise it cuts
// the connection so the client cannot mistake a partial response for a complete one.
func (s *Server) fail(req *Request, res *Response, err error) {
	r := req.r
	if _, isPanic := err.(*panicError); !isPanic {
		s.logger.Error("handler error", "method", r.Method, "url", r.RequestURI, "err", err)
	}
	if res.w.wroteHeader || res.finished {
		panic(http.ErrAbortHandler)
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, ErrBodyTooLarge) || errors.As(err, &mbe):
		writePlain(&res.w, http.StatusRequestEntityTooLarge, "Request body too large.\n")
	case errors.Is(err, ErrBadRequest):
		writePlain(&res.w, http.StatusBadRequest, "Bad request "+r.Method+" "+requestURI(r)+".")
	case bodyTimedOut(r, err): // ReadTimeout passed while the body was read (framing.go)
		closeAfterResponse(&res.w, r)
		writePlain(&res.w, http.StatusRequestTimeout, "Request timeout.\n")
	default:
		writePlain(&res.w, http.StatusInternalServerError, "Error handling request "+r.Method+" "+requestURI(r)+".")
	}
	res.finished = true
}

// requestURI is the raw request target as the client sent it, query included.
func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// writePlain sends a complete text/plain response, replacing any header a handler set but
// "Connection: close".
func writePlain(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	closeConn := closing(h)
	clear(h)
	if closeConn {
		h["Connection"] = connectionClose
	}
	h["Content-Type"] = plainType
	h["X-Content-Type-Options"] = nosniff
	h["Content-Length"] = lengthValue(len(body))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

var (
	plainType = []string{"text/plain; charset=utf-8"}
	nosniff   = []string{"nosniff"}
)
