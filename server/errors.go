package server

import (
	"errors"
	"fmt"
)

// Errors returned by the server package. Each can be tested with errors.Is.
var (
	// ErrBodyTooLarge is returned by Request.Read, ReadText and ReadJSON when the request body
	// is larger than the listener's MaxBodyBytes. A handler that returns it (or wraps it) makes
	// the router answer 413 Request Entity Too Large.
	ErrBodyTooLarge = errors.New("server: request body too large")

	// ErrBadRequest wraps request bodies that cannot be read whole (broken chunked framing,
	// a client gone mid-body) or decoded (ReadJSON on invalid or empty JSON). A handler that
	// returns it makes the router answer 400 Bad Request.
	ErrBadRequest = errors.New("server: bad request")

	// ErrHeadersSent is returned by Response.WriteHead and the Write* helpers when the status
	// line and headers have already been written.
	ErrHeadersSent = errors.New("server: response headers already sent")

	// ErrFinished is returned by Response methods that write once End (or a Write* helper)
	// has finished the response.
	ErrFinished = errors.New("server: response already finished")

	// ErrRunning is returned by operations that need a stopped server.
	ErrRunning = errors.New("server: already running")

	// ErrNotListener is returned by RemoveServer for a listener that does not belong to the server.
	ErrNotListener = errors.New("server: listener not part of this server")

	// ErrPushNotSupported is returned by push helpers when the connection is not HTTP/2 or the
	// client disabled server push.
	ErrPushNotSupported = errors.New("server: HTTP/2 push not supported by this connection")
)

// routeError builds the error text for a bad route registration.
func routeError(op, method, path string, err error) error {
	return fmt.Errorf("server: %s %s %q: %w", op, method, path, err)
}
