package server

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
)

// Request framing defences that net/http leaves to the handler (TestHostileSmuggling and
// TestHostileMalformedFraming show each case).
//
// net/http already refuses, before any route runs and closing the connection: differing
// Content-Length values, an invalid Content-Length, more than one Transfer-Encoding or one
// other than "chunked" (501), white space before a header's colon, and CR or NUL in a header.
// It accepts, harmlessly: identical repeated Content-Length values (taken as one), obs-fold
// (replaced with a space, as RFC 9112 section 5.2 allows), and bare LF line ends. Two cases
// it accepts are closed here:
//
//   - A request with Transfer-Encoding. net/http reads such a body as chunked even when it
//     also has a Content-Length, which it deletes, and then keeps the connection for the next
//     request. A proxy in front that framed the body by its Content-Length sees the rest as
//     part of the body; net/http parses it as a second request (request smuggling). RFC 9112
//     section 6.1 says to close the connection after answering such a request. As the deleted
//     header cannot be seen any more, every HTTP/1.1 request with a chunked body closes its
//     connection after the response; clients open a new one.
//   - An HTTP/1.0 request: net/http ignores, and hides, its Transfer-Encoding (which RFC 9112
//     says is faulty framing that must close the connection), and would keep a keep-alive
//     HTTP/1.0 connection open with the chunked bytes read as the next request. HTTP/1.0
//     connections are therefore closed after each response (HTTP/1.0 keep-alive is off).
//
// dispatch sets "Connection: close" on the response before any route runs; writePlain keeps
// it, and a route must not remove it. The check costs a few integer comparisons and nothing
// else for a normal HTTP/1.1 or HTTP/2 request.

// connectionClose is the response header value that makes net/http close an HTTP/1.x
// connection after the response.
var connectionClose = []string{"close"}

// mustClose reports whether r's connection must be closed after the response: an HTTP/1.x
// request whose framing a proxy could read differently (see above).
func mustClose(r *http.Request) bool {
	return r.ProtoMajor == 1 && (r.ProtoMinor == 0 || len(r.TransferEncoding) != 0)
}

// closeAfterResponse makes net/http close r's HTTP/1.x connection once the response is sent.
// It does nothing for HTTP/2, where a Connection header would close every stream of the
// connection.
func closeAfterResponse(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header()["Connection"] = connectionClose
	}
}

// closing reports whether the response headers h ask to close the connection.
func closing(h http.Header) bool {
	for _, v := range h["Connection"] {
		if strings.EqualFold(strings.TrimSpace(v), "close") {
			return true
		}
	}
	return false
}

// bodyTimedOut reports whether err comes from reading r's body past the listener's
// ReadTimeout: HTTP/1.x returns the client connection's read error (a *net.OpError whose
// address is the client's), HTTP/2 closes the stream's body with an error wrapping
// os.ErrDeadlineExceeded. A deadline that a handler's own outgoing connection hit is not one.
func bodyTimedOut(r *http.Request, err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		return r.ProtoMajor == 2
	}
	return oe.Op == "read" && oe.Addr != nil && oe.Addr.String() == r.RemoteAddr
}
