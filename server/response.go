package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"unsafe"

	"github.com/httpskit/httpskit/internal/fileserve"
)

// Response wraps the http.ResponseWriter of one request (the seed's HTTPSResponse). It is not
// safe for concurrent use; see Handler for its lifetime.
//
// A response is finished once End or a Write* helper (or Serve, PipeFrom) completes it; the
// router then runs no further route.
type Response struct {
	w        trackingWriter
	r        *http.Request
	finished bool
	hv       headerValues // the Content-Type and Content-Length values the writers set
}

func (res *Response) init(w http.ResponseWriter, r *http.Request) {
	res.w.ResponseWriter = w
	res.w.status = http.StatusOK
	res.r = r
}

// Original returns the response writer. It passes every call to net/http's writer and
// records whether headers were sent, so the router never writes them twice; it implements
// http.Flusher and http.Pusher where the connection does, and Unwrap for
// http.ResponseController. A handler that writes through it should call End to stop the chain.
func (res *Response) Original() http.ResponseWriter { return &res.w }

// Finished reports whether the response was ended.
func (res *Response) Finished() bool { return res.finished }

// HeadersSent reports whether the status line and headers were written.
func (res *Response) HeadersSent() bool { return res.w.wroteHeader }

// StatusCode returns the status written, or 200 before WriteHead.
func (res *Response) StatusCode() int { return res.w.status }

// Headers returns the response headers to be sent; changes after WriteHead have no effect.
func (res *Response) Headers() http.Header { return res.w.Header() }

// SetHeader sets one header, replacing earlier values whatever their case.
func (res *Response) SetHeader(name, value string) {
	res.w.Header().Set(name, value)
}

// WriteHead sends the status and headers. Header names in headers are case-insensitive and
// replace those already set. It returns ErrHeadersSent on a second call, ErrFinished after
// End, and an error for a status outside 100-999.
func (res *Response) WriteHead(status int, headers http.Header) error {
	if res.finished {
		return ErrFinished
	}
	if res.w.wroteHeader {
		return ErrHeadersSent
	}
	if status < 100 || status > 999 {
		return fmt.Errorf("server: invalid status code %d", status)
	}
	h := res.w.Header()
	mergeHeaders(h, headers)
	canonicalize(h)
	res.w.WriteHeader(status)
	return nil
}

// Write writes body bytes, sending status 200 and the headers first if WriteHead was not
// called. It returns ErrFinished after End.
func (res *Response) Write(p []byte) (int, error) {
	if res.finished {
		return 0, ErrFinished
	}
	if !res.w.wroteHeader {
		canonicalize(res.w.Header())
	}
	return res.w.Write(p)
}

// End writes the given bytes, if any, and finishes the response. It returns ErrFinished when
// the response was already finished.
func (res *Response) End(data ...[]byte) error {
	if res.finished {
		return ErrFinished
	}
	if !res.w.wroteHeader {
		n := 0
		for _, d := range data {
			n += len(d)
		}
		h := res.w.Header()
		if _, ok := h["Content-Length"]; !ok && h.Get("Transfer-Encoding") == "" {
			h["Content-Length"] = res.hv.lengthSlice(n)
		}
	}
	for _, d := range data {
		if _, err := res.Write(d); err != nil {
			res.finished = true
			return err
		}
	}
	if !res.w.wroteHeader {
		canonicalize(res.w.Header())
		res.w.WriteHeader(res.w.status)
	}
	res.finished = true
	return nil
}

// begin checks that a whole response may still be written and returns its status: 0
// means 200, and a status outside 100-999 is an error.
func (res *Response) begin(status int) (int, error) {
	switch {
	case res.finished:
		return 0, ErrFinished
	case res.w.wroteHeader:
		return 0, ErrHeadersSent
	case status == 0:
		return http.StatusOK, nil
	case status < 100 || status > 999:
		return 0, fmt.Errorf("server: invalid status code %d", status)
	}
	return status, nil
}

// startFull checks that a whole response may be written, sets its headers (a default
// Content-Type, which a Content-Type in headers, any case, replaces, and the Content-Length
// of an n-byte body) and sends the status. The caller writes the body and finishes.
func (res *Response) startFull(status int, contentType string, n int, headers http.Header) error {
	status, err := res.begin(status)
	if err != nil {
		return err
	}
	h := res.w.Header()
	// With the map still empty, the handler set no header whose name may need folding:
	// every name below is canonical, and mergeHeaders folds the names it copies.
	fold := len(h) > 0
	// The values live in this response, allocated with it: the header map may be read
	// after the handler returns (by net/http, or by middleware around ServeHTTP), which is
	// safe since a response is never reused, and no two responses share a value slice.
	hv := &res.hv
	hv.v[0] = contentType
	h["Content-Type"] = hv.v[0:1:1]
	mergeHeaders(h, headers)
	if fold {
		canonicalize(h)
	}
	if n == 0 || n > autoLengthMax {
		h["Content-Length"] = hv.lengthSlice(n)
	} else {
		// net/http (HTTP/1.1 and HTTP/2) sends the length of a body this small itself,
		// from its buffer, when the handler returns: setting it here would only cost a
		// header entry to clone and format. (It does not for an empty HEAD answer, hence
		// n == 0 above.)
		delete(h, "Content-Length")
	}
	res.w.WriteHeader(status)
	return nil
}

// autoLengthMax is the largest body net/http buffers whole before it sends the response
// header (its bufferBeforeChunkingSize; HTTP/2 buffers more), and so gives a Content-Length
// itself when the handler returns without flushing.
const autoLengthMax = 2048

// headerValues holds the Content-Type and Content-Length values of one response, with the
// digits of the length, so that setting both costs one allocation.
type headerValues struct {
	v   [2]string
	buf [20]byte
}

// length returns n in decimal. strconv has the numbers below 100 as constants; larger ones
// are written into hv.buf, which is never written again, instead of a separate allocation.
func (hv *headerValues) length(n int) string {
	if n < 100 {
		return strconv.Itoa(n)
	}
	b := strconv.AppendInt(hv.buf[:0], int64(n), 10)
	return unsafe.String(&b[0], len(b))
}

// lengthValue is the Content-Length header value of an n-byte body, in one allocation.
func lengthValue(n int) []string {
	return new(headerValues).lengthSlice(n)
}

// lengthSlice sets hv's second value to n in decimal and returns it as a header value.
func (hv *headerValues) lengthSlice(n int) []string {
	hv.v[1] = hv.length(n)
	return hv.v[1:2:2]
}

// writeString sends a whole response with a string body.
func (res *Response) writeString(status int, contentType, body string, headers http.Header) error {
	if err := res.startFull(status, contentType, len(body), headers); err != nil {
		return err
	}
	_, err := res.w.WriteString(body)
	res.finished = true
	return err
}

// WriteText sends a complete text/plain; charset=utf-8 response. Status 0 means 200.
func (res *Response) WriteText(status int, content string, headers http.Header) error {
	return res.writeString(status, "text/plain; charset=utf-8", content, headers)
}

// WriteHTML sends a complete text/html; charset=utf-8 response. Status 0 means 200.
func (res *Response) WriteHTML(status int, content string, headers http.Header) error {
	return res.writeString(status, "text/html; charset=utf-8", content, headers)
}

// WriteCSS sends a complete text/css; charset=utf-8 response. Status 0 means 200.
func (res *Response) WriteCSS(status int, content string, headers http.Header) error {
	return res.writeString(status, "text/css; charset=utf-8", content, headers)
}

// WriteJSON sends v encoded with encoding/json as a complete application/json response
// (json.RawMessage is sent as is). Status 0 means 200. An encoding error is returned before
// anything is written.
func (res *Response) WriteJSON(status int, v any, headers http.Header) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: encode JSON response: %w", err)
	}
	if err := res.startFull(status, "application/json", len(b), headers); err != nil {
		return err
	}
	_, err = res.w.Write(b)
	res.finished = true
	return err
}

// WriteError sends a text/plain error response with the given status (0 means 500) and the
// error's message only: never a stack trace, and file errors name the file without its
// directory. A nil err sends the status text.
func (res *Response) WriteError(status int, err error) error {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg := http.StatusText(status)
	if err != nil {
		msg = publicMessage(err)
	}
	return res.writeString(status, "text/plain; charset=utf-8", msg, nil)
}

// Serve sends the file with the given status (0 means 200) and Content-Type (empty: guessed
// from the extension; a Content-Type in headers wins), and finishes the response. A missing
// or unreadable file, or a directory, gives 404 "Not found."; no path is ever sent. With
// status 200 it answers range and conditional requests.
func (res *Response) Serve(status int, contentType, filename string, headers http.Header) error {
	status, err := res.begin(status)
	if err != nil {
		return err
	}
	h := res.w.Header()
	mergeHeaders(h, headers)
	canonicalize(h)
	if ct := h.Get("Content-Type"); ct != "" {
		contentType = ct
	}
	res.finished = true
	fileserve.Send(&res.w, res.r, filename, contentType, status)
	return nil
}

// PipeFrom copies src to the response and ends it. A read or write error is returned; the
// router then cuts the connection, since the status was already sent.
func (res *Response) PipeFrom(src io.Reader) error {
	if src == nil {
		return errors.New("server: PipeFrom: nil reader")
	}
	if res.finished {
		return ErrFinished
	}
	if !res.w.wroteHeader {
		canonicalize(res.w.Header())
	}
	if _, err := io.Copy(&res.w, src); err != nil {
		return fmt.Errorf("server: pipe response: %w", err)
	}
	return res.End()
}

// PushSupported reports whether the request arrived over HTTP/2 on a connection that
// supports server push. The client may still refuse pushes (most do today).
func (res *Response) PushSupported() bool {
	_, ok := res.w.ResponseWriter.(http.Pusher)
	return ok && res.r.ProtoMajor == 2
}

// mergeHeaders copies src into dst, replacing values key by key, whatever the case of the
// names in src.
func mergeHeaders(dst, src http.Header) {
	for k, v := range src {
		dst[http.CanonicalHeaderKey(k)] = v
	}
}

// canonicalize folds header names that were set directly in the map with a non-canonical
// case into their canonical form, so one name reaches the wire once. A value set under the
// non-canonical name replaces the canonical one.
func canonicalize(h http.Header) {
	for k, v := range h {
		if ck := http.CanonicalHeaderKey(k); ck != k {
			delete(h, k)
			h[ck] = v
		}
	}
}

// publicMessage is the error text safe to send to a client: file errors keep only the base
// name of the file.
func publicMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + filepath.Base(pe.Path) + ": " + pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Op + " " + filepath.Base(le.Old) + ": " + le.Err.Error()
	}
	return err.Error()
}

// trackingWriter passes calls to the net/http writer and records the status and whether the
// headers went out.
type trackingWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	written     int64 // body bytes passed to the net/http writer (RequestInfo.Bytes)
}

// WriteHeader records and sends the status; later calls are ignored.
func (t *trackingWriter) WriteHeader(status int) {
	if t.wroteHeader {
		return
	}
	if status >= 200 || status == http.StatusSwitchingProtocols {
		t.wroteHeader = true
		t.status = status
	}
	t.ResponseWriter.WriteHeader(status)
}

// Write sends body bytes, and status 200 first if none was sent.
func (t *trackingWriter) Write(p []byte) (int, error) {
	t.wroteHeader = true
	n, err := t.ResponseWriter.Write(p)
	t.written += int64(n)
	return n, err
}

// WriteString is Write for a string, without copying it when the net/http writer has
// WriteString too (its HTTP/1.1 and HTTP/2 writers do).
func (t *trackingWriter) WriteString(s string) (int, error) {
	t.wroteHeader = true
	n, err := io.WriteString(t.ResponseWriter, s)
	t.written += int64(n)
	return n, err
}

// Flush sends buffered data to the client if the connection supports it.
func (t *trackingWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		t.wroteHeader = true
		f.Flush()
	}
}

// Push starts an HTTP/2 server push; http.ErrNotSupported when the connection cannot.
func (t *trackingWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := t.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the net/http writer, for http.ResponseController.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
