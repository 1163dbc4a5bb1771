// Package https is an HTTPS client with the shape of the IoT.js https module:
// Request and Get return a ClientRequest whose body is streamed with Write
// and End, and whose response arrives as an IncomingMessage, with the
// module's events (socket, finish, response, data, end, close, error) as
// On… callbacks. It is built on net/http's Transport: connections are kept
// alive and reused by an Agent, HTTP/2 is negotiated by ALPN, and nothing is
// held whole in memory.
//
//	r, err := https.Get(ctx, https.Options{Host: "example.com", Path: "/"}, nil)
//	if err != nil { ... }            // bad options: nothing was sent
//	res, err := r.Response()         // or r.OnResponse(func(res *https.IncomingMessage) { ... })
//	if err != nil { ... }            // an *https.Error: refused, timeout, certificate, ...
//	io.Copy(os.Stdout, res)          // the body; a cut body is an error, never a short read
//
// GetURL and RequestURL take a URL as Node's https.get(url[, options])
// does. Go code that speaks net/http uses the same client through
// Agent.RoundTripper:
//
//	rt, err := https.DefaultAgent.RoundTripper(https.Options{CA: "ca.pem"})
//	client := &http.Client{Transport: rt} // our CA loading, bounds and typed errors
//
// # Agents: pool, proxy, sessions
//
// An Agent (Node's https.Agent) holds what requests share: the kept-alive
// connections and their limits (MaxConnsPerHost, MaxIdleConnsPerHost,
// MaxIdleConns, IdleConnTimeout), the proxy, the checked TLS settings,
// client pairs opened with a passphrase (PFX, encrypted keys; the files are
// still read on every request) and request plans of recent Options, and a
// TLS session cache per TLS setting,
// so a new connection resumes its session with a short handshake.
// Options.Agent chooses it; nil means DefaultAgent. CloseIdleConnections
// closes an agent's idle connections (the package function, DefaultAgent's).
//
// Proxies are used as curl and net/http use them: by default HTTPS_PROXY
// (or https_proxy) for https:// requests, with NO_PROXY naming exceptions,
// read once per agent; never for localhost and loopback addresses.
// Agent.Proxy sets one (http.ProxyURL) or none (NoProxy). A request goes
// through a CONNECT tunnel, so the proxy sees the host and port only; the
// proxy URL may be https:// (its certificate is checked against the
// request's CA, or the system roots) and may carry user:password for its
// Basic authentication. A proxy that refuses the tunnel (407 asks for
// credentials) fails the request with ErrProxy and a *ProxyError.
//
// # From the seed to Go
//
//	seed (IoT.js https)                 here
//	https.request(options[, callback])  Request(ctx, Options, onResponse)
//	https.get(options[, callback])      Get(ctx, Options, onResponse)
//	https.METHODS                       METHODS
//	options.host (default localhost)    Options.Host ("localhost")
//	options.hostname                    Options.Hostname (wins over Host)
//	options.port (doc: 80)              Options.Port (443: the "80" is a slip)
//	options.method (default GET)        Options.Method ("GET"; any token, sent as given)
//	options.path (default /)            Options.Path ("/"; illegal characters are an error)
//	options.headers                     Options.Headers (http.Header)
//	options.auth                        Options.Auth ("user:password" -> Basic)
//	options.ca                          Options.CA (file or PEM text; replaces system roots)
//	options.cert, options.key           Options.Cert, Options.Key (file or PEM text)
//	(Node) options.pfx, passphrase      Options.PFX (a .p12/.pfx file), Options.Passphrase
//	(Node) options.socketPath           Options.SocketPath (a Unix socket; Host still names the server)
//	options.rejectUnauthorized: false   Options.InsecureSkipVerify: true
//	(none: bounds on a response)        Options.MaxHeaderBytes, Options.MaxBodyBytes
//	(none: memory on small devices)     Options.Memory (MemoryFrugal; automatic under GOMEMLIMIT)
//	(none: name checked, SNI)           Options.ServerName (overrides Host for TLS only)
//	(none: follow redirects)            Options.MaxRedirects (0: not followed, as IoT.js), Redirect
//	                                    (RedirectPlain: also to http://, as curl -L)
//	(none: compressed responses)        Options.Decompress (gzip; off by default)
//	https.request(url[, options], cb)   RequestURL(ctx, url, Options, onResponse); GetURL
//	https.Agent, options.agent          Agent, Options.Agent (nil: DefaultAgent)
//	agent.maxSockets                    Agent.MaxConnsPerHost
//	agent.maxFreeSockets                Agent.MaxIdleConnsPerHost
//	agent.destroy()                     Agent.CloseIdleConnections (idle ones; busy ones finish)
//	(none: proxies)                     Agent.Proxy (nil: HTTPS_PROXY, NO_PROXY)
//	(none: Go's http.Client)            Agent.RoundTripper(Options)
//	"an exception is thrown"            Request returns an *Error of kind ErrInvalidRequest
//	ClientRequest                       *ClientRequest
//	request.write(data)                 ClientRequest.Write (io.Writer)
//	request.end([data])                 ClientRequest.End(data...)
//	request.abort()                     ClientRequest.Abort
//	request.aborted                     ClientRequest.Aborted() time.Time
//	request.setTimeout(ms, cb)          ClientRequest.SetTimeout(d, cb)
//	event 'response'                    ClientRequest.OnResponse, or Response() (blocking)
//	event 'socket'                      ClientRequest.OnSocket(func(net.Conn))
//	event 'finish'                      ClientRequest.OnFinish
//	event 'close'                       ClientRequest.OnClose
//	event 'error'                       ClientRequest.OnError(func(error))
//	IncomingMessage                     *IncomingMessage
//	message.headers                     IncomingMessage.Headers (http.Header)
//	message.method                      IncomingMessage.Method
//	message.statusCode                  IncomingMessage.StatusCode
//	message.statusMessage               IncomingMessage.StatusMessage
//	message.url                         IncomingMessage.URL
//	message.httpVersion                 IncomingMessage.HTTPVersion ("1.1", "2.0")
//	message.setTimeout(ms, cb)          IncomingMessage.SetTimeout(d, cb)
//	readable.read()                     IncomingMessage.Read (io.Reader)
//	event 'data'                        IncomingMessage.OnData (flowing mode)
//	event 'end'                         IncomingMessage.OnEnd
//	event 'close' (message)             IncomingMessage.OnClose
//	(destroying the message)            IncomingMessage.Close
//	(none: close kept-alive sockets)    CloseIdleConnections (DefaultAgent's)
//
// # Choices where the seed is silent or wrong
//
//   - Port 443 by default, host "localhost" by default (upstream code used
//     127.0.0.1; the doc says localhost). The Host header carries the port
//     when it is not 443.
//   - CA, Cert and Key are each PEM text or a file name, by one rule (package
//     certs): text starting with "-----BEGIN" is PEM, anything else is a file
//     that must exist. CA replaces the system roots; without it the system
//     roots are used. Cert needs Key unless its file holds the key too (PEM
//     with both, or PKCS #12), as curl's --cert. A file may hold PEM, DER or
//     PKCS #12; Passphrase opens an encrypted Key (PKCS #8) or PFX, a
//     PKCS #12 file that replaces Cert and Key, as Node's pfx.
//   - Path must start with "/" (or be "*" for OPTIONS) and may not hold a
//     space or a control character; bytes outside ASCII are percent-encoded.
//     Methods are sent as given, case included; any RFC 9110 token works.
//   - Auth "user" without a colon means an empty password; an empty user is
//     an error. An Authorization header in Headers wins over Auth.
//   - Headers are sent as given; Host and Authorization are added when
//     absent, and nothing else (no User-Agent; no Accept-Encoding unless
//     Options.Decompress: bodies arrive as the server sent them). Response
//     header names are canonical.
//   - With a Content-Length header the body must have exactly that length
//     (ErrContentLength); without one it is sent chunked over HTTP/1.1. A
//     request ended without a Write sends no body.
//   - Redirects are not followed unless Options.MaxRedirects asks (then by
//     curl's rules; see Redirect). The proxy is the environment's unless
//     the Agent says otherwise.
//   - SetTimeout is an inactivity timeout, not a wall-clock one, and never
//     fires after the response ended. Cancelling the context is Abort: close
//     and no 'error' event; the error Response, Read and Write then return
//     keeps why (see Errors).
//   - 'finish' fires once, after the whole request was sent; 'response'
//     always follows it. HEAD, 204 and 304 responses end at once.
//   - A body cut short (short Content-Length, cut chunks, a reset) is an
//     error of kind ErrTruncated, never a silent short read.
//   - Hostile servers are bounded: a response header section past
//     Options.MaxHeaderBytes (1 MiB by default) fails with
//     ErrHeaderTooLarge; a body past Options.MaxBodyBytes (no bound by
//     default: downloads may be large) fails with ErrBodyTooLarge. Neither
//     is ever buffered past its bound.
//   - Every request ends with exactly one 'close', also after Abort before
//     End (IoT.js had no socket to close then).
//   - Memory is bounded for small devices when asked (Options.Memory:
//     MemoryFrugal) or when the program runs with a memory limit
//     (GOMEMLIMIT): HTTP/2 windows of 256 KiB instead of 4 MiB, so a body
//     read more slowly than it arrives holds at most that much, and few idle
//     connections. Otherwise net/http's throughput-tuned settings apply.
//
// # Events and concurrency
//
// For one request, callbacks run one at a time on a goroutine of the
// request (never the caller's, never net/http's), in the order socket,
// finish, response, data (zero or more), end, the message's close, close.
// On failure: error, then close. A callback registered after its event
// happened runs at once, like a settled promise, so registering right after
// Get returns never misses an event. A callback may call any method,
// including Abort; one that blocks holds up the request's later events and,
// in flowing mode, the body (this is the back-pressure). All methods of
// ClientRequest and IncomingMessage are safe for concurrent use; different
// requests are independent.
//
// # Who closes what
//
// The caller ends the request body (End, or Get) and consumes the response
// body: Read to io.EOF, OnData, or Close. Once the body ends, the
// connection goes back to its agent's pool for the next request with the
// same TLS settings (CA, Cert, Key, InsecureSkipVerify, ServerName);
// CloseIdleConnections closes the pooled idle ones. Abort, Close and a
// failed request drop their connection. The net.Conn given to OnSocket
// belongs to the pool: do not read, write or close it.
//
// # Errors
//
// Request fails before any I/O with an *Error of kind ErrInvalidRequest.
// Everything after is an *Error delivered to OnError and returned by
// Response, Read and Write; its Kind (ErrRefused, ErrDNS, ErrTimeout,
// ErrUnknownAuthority, ErrSelfSigned, ErrNameMismatch, ErrExpired,
// ErrNotYetValid, ErrClientCertRefused, ErrHandshake, ErrClosed,
// ErrMalformedResponse, ErrHeaderTooLarge, ErrTruncated, ErrBodyTooLarge, …)
// says what failed and works with errors.Is; the cause (a
// *x509.HostnameError, a *net.OpError, …) works with errors.As. A status of
// 4xx or 5xx is not an error.
//
// A request whose context ends keeps the kind of why it ended and also
// matches the context's error: a deadline is ErrTimeout and
// context.DeadlineExceeded, a cancellation ErrAborted and context.Canceled
// (errors.Is works for both of each pair). The same holds for the
// RoundTripper, behind http.Client's *url.Error. ErrProxy says a proxy
// refused the tunnel, ErrRedirect that a redirect could not be followed.
//
// Each fault of the server's certificate has its kind: ErrExpired,
// ErrNotYetValid, ErrNameMismatch, ErrUnknownAuthority, ErrSelfSigned,
// ErrBadCertificate; ErrClientCertRefused when the server refuses our
// client certificate or wants one we did not send. crypto/x509 checks the
// validity period first, then the name, then the issuer, and the first
// fault found is the kind. Two kinds refine older ones and match them
// too: errors.Is(err, ErrExpired) is true for ErrNotYetValid, and
// errors.Is(err, ErrUnknownAuthority) for ErrSelfSigned; compare Kind with
// == to tell them apart.
package https
