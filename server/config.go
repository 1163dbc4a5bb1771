package server

import (
	"crypto/tls"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/httpskit/httpskit/storage"
)

// Defaults applied to the zero values of HTTPConfig. Each bounds something a client controls.
const (
	// DefaultHost is the interface a listener binds when HTTPConfig.Host is empty.
	DefaultHost = "localhost"
	// DefaultPort is AwesomeServer's default port, 7080: what serve and a config file use when
	// no port is given. Write it in HTTPConfig.Port to bind 7080; a zero Port means any free
	// port.
	DefaultPort = 7080
	// RandomPort (0) asks the kernel for any free port; Listener.Port reports it once started.
	// A negative port means the same.
	RandomPort = 0

	// DefaultReadHeaderTimeout bounds how long a client may take to send request headers
	// (slowloris protection).
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the time to read a whole request, headers and body.
	DefaultReadTimeout = 2 * time.Minute
	// DefaultWriteTimeout bounds the time from the end of the request headers to the end of
	// the response. Raise it (or set -1) to serve very large files to slow clients.
	DefaultWriteTimeout = 10 * time.Minute
	// DefaultIdleTimeout bounds how long an idle keep-alive connection stays open.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds the request line and headers (HTTP/1.1) or the header
	// list (HTTP/2). Larger requests get 431.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxBodyBytes bounds request bodies. Larger bodies get 413.
	DefaultMaxBodyBytes = 32 << 20
	// DefaultMaxConns bounds the connections one listener holds open at once.
	DefaultMaxConns = 4096
	// DefaultMaxConnsPerIP bounds the connections one listener holds open at once from one
	// client IP address.
	DefaultMaxConnsPerIP = 256
)

// HTTPConfig configures one plain-HTTP listener, and is embedded in HTTPSConfig.
//
// Every limit's zero value means the documented default; a negative value means no limit.
type HTTPConfig struct {
	// Host is the interface to bind. Zero means "localhost" (loopback only); "0.0.0.0" or
	// "::" bind every interface. "localhost" binds both 127.0.0.1 and [::1] on one port
	// (where the system has IPv6 loopback), since browsers and curl try [::1] first whatever
	// /etc/hosts says.
	Host string
	// Port is the TCP port. Zero (RandomPort), or any negative value, means any free port,
	// reported by Listener.Port after Start, as AwesomeServer's docs ("for a random port, set
	// to 0") and Go's ":0" say. Write DefaultPort for AwesomeServer's 7080. (Until 2026-12
	// zero meant 7080 and -1 any free port: a program that wrote -1 still gets a free port.)
	Port int

	// SocketPath, when set, makes the listener a Unix domain socket at this path instead of
	// TCP on Host and Port (Host is then only the name in Listener.URL), for a reverse proxy
	// or a local client on the same machine (curl --unix-socket PATH). The socket file is
	// created by Start, owned by the process's user and group, with SocketMode; Stop removes
	// it. A socket file left by a process that died is removed first, but only when it is a
	// socket and nothing accepts connections on it: a path held by a running server, or any
	// other kind of file, makes Start fail and is left alone. A path starting with "@" is a
	// Linux abstract socket: no file, no mode. See socket.go for the details.
	SocketPath string
	// SocketMode is the permission bits of the SocketPath file, set right after it is
	// created. Zero means 0660: the owner and its group may connect (put the proxy's user in
	// that group, or the socket in a setgid directory of its group). A client needs write
	// permission to connect. Between creation and this chmod the file briefly has the
	// default mode (0777 less the umask), so keep the socket in a directory that only the
	// intended users can enter when that matters.
	SocketMode fs.FileMode
	// NetListener, when set, is served as it is instead of binding Host and Port or
	// SocketPath: a socket the caller made, such as one inherited from systemd (socket
	// activation: net.FileListener(os.NewFile(3, "")), as "httpskit serve" does with
	// LISTEN_FDS) or a test's. The listener takes it over: Stop and RemoveServer close it,
	// and a Start after that fails, since it cannot be opened again. Listener.Port and Addr
	// report its address. The connection limits apply as for any listener.
	NetListener net.Listener

	// ReadHeaderTimeout bounds the time a client takes to send request headers (HTTP/1.x:
	// from the start of the connection, after its TLS handshake, or from the first byte of a
	// later request on it, to the end of the headers); a client still sending headers then
	// is disconnected without a response. It bounds the TLS handshake too: net/http gives
	// the handshake the smallest of ReadHeaderTimeout, ReadTimeout and WriteTimeout, and
	// drops a client that stalls in it (a partial ClientHello, or nothing). Zero means
	// DefaultReadHeaderTimeout (10s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a whole request, body included (HTTP/2: each
	// stream's body). A handler still reading the body then gets an error wrapping
	// os.ErrDeadlineExceeded; returned to the router, it gets 408 Request Timeout, and an
	// HTTP/1.x connection is closed. Zero means DefaultReadTimeout (2m).
	ReadTimeout time.Duration
	// WriteTimeout: zero means DefaultWriteTimeout (10m).
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its next request
	// (HTTP/2: a connection with no stream open) before the server closes it. Zero means
	// DefaultIdleTimeout (2m).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (HTTP/2: the header list); larger
	// requests get 431. Zero means DefaultMaxHeaderBytes (64 KiB).
	MaxHeaderBytes int
	// MaxBodyBytes caps every request body, whether read with Request.Read, ReadText,
	// ReadJSON or through Request.Original().Body. A request that declares a larger
	// Content-Length gets 413 before any route runs; a chunked body that grows past it makes
	// reads fail with ErrBodyTooLarge and the router answers 413. Zero means
	// DefaultMaxBodyBytes (32 MiB).
	MaxBodyBytes int64

	// MaxConns bounds the connections the listener holds open at once, each counted from
	// accept to close (TLS handshakes in progress included). A new connection past the limit
	// makes the listener close the keep-alive connection idle the longest (HTTP/1.1 between
	// requests, or HTTP/2 with no stream open); when none is idle, the new connection is
	// closed at once. Accepting never waits. While connections are refused the server logs
	// a warning at most once a second. Zero means DefaultMaxConns (4096); negative means no
	// limit.
	MaxConns int
	// MaxConnsPerIP bounds the connections the listener holds open at once from one client
	// IP address; a new connection past it is closed at once. Behind a reverse proxy, a load
	// balancer or a large NAT many clients share a few addresses: raise it, or turn it off.
	// Zero means DefaultMaxConnsPerIP (256); negative means no limit. Connections over a
	// Unix socket have no IP address and count only towards MaxConns.
	MaxConnsPerIP int

	// HTTP/2 limits of TLS listeners (plain HTTP listeners ignore them). They bound what one
	// client connection may hold in server memory; FrugalHTTP2 has values for small devices
	// (what `httpskit serve --frugal` uses). Zero means net/http's default, given for each;
	// negative is an error. Listener.Original().HTTP2 holds them, as an *http.HTTP2Config.
	//
	// HTTP2MaxConcurrentStreams bounds the streams (requests) a client may have open at once
	// on one connection. Zero means 250.
	HTTP2MaxConcurrentStreams int
	// HTTP2MaxReadFrameSize is the largest frame the server accepts, 16 KiB to 16 MiB - 1.
	// Zero means 16 KiB on the batching HTTP/2 engine (the default, HTTP2Engine) and 1 MiB on
	// net/http's.
	HTTP2MaxReadFrameSize int
	// HTTP2StreamWindow bounds the request body bytes a client may send on one stream ahead
	// of the handler reading them (the stream's flow-control window). Zero means 1 MiB.
	HTTP2StreamWindow int
	// HTTP2ConnWindow bounds the request body bytes a client may send ahead of the handlers
	// on one connection, all streams together. Zero means 1 MiB.
	HTTP2ConnWindow int

	// AccessLog receives one line per request, at level Info with the message "request"
	// (see AccessLogObserver for its attributes). Nil means no access log. Lines go through
	// the logger's handler on the request's goroutine: give it a buffered writer when it
	// logs to a file or a terminal.
	AccessLog *slog.Logger
	// Observer is told of every finished request of the listener, after the access log
	// (see Observer). Nil means none.
	Observer Observer
}

// FrugalHTTP2 sets the HTTP/2 limits of c for small devices, as `httpskit serve --frugal`
// does: 32 streams per connection, frames of at most 16 KiB, and 256 KiB of request body
// ahead of the handlers per stream and per connection.
func (c *HTTPConfig) FrugalHTTP2() {
	c.HTTP2MaxConcurrentStreams = 32
	c.HTTP2MaxReadFrameSize = 16 << 10
	c.HTTP2StreamWindow = 256 << 10
	c.HTTP2ConnWindow = 256 << 10
}

// http2Config checks the HTTP/2 limits and returns them for http.Server.HTTP2 (nil when all
// are zero).
func (c HTTPConfig) http2Config() (*http.HTTP2Config, error) {
	if c.HTTP2MaxConcurrentStreams == 0 && c.HTTP2MaxReadFrameSize == 0 && c.HTTP2StreamWindow == 0 && c.HTTP2ConnWindow == 0 {
		return nil, nil
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"HTTP2MaxConcurrentStreams", c.HTTP2MaxConcurrentStreams}, {"HTTP2MaxReadFrameSize", c.HTTP2MaxReadFrameSize},
		{"HTTP2StreamWindow", c.HTTP2StreamWindow}, {"HTTP2ConnWindow", c.HTTP2ConnWindow}} {
		if v.n < 0 {
			return nil, fmt.Errorf("server: %s %d is negative (zero means net/http's default)", v.name, v.n)
		}
	}
	if f := c.HTTP2MaxReadFrameSize; f != 0 && (f < 16<<10 || f >= 16<<20) {
		return nil, fmt.Errorf("server: HTTP2MaxReadFrameSize %d out of range (16384 to 16777215, or 0 for 1 MiB)", f)
	}
	if w := c.HTTP2StreamWindow; w != 0 && w < 65535 {
		return nil, fmt.Errorf("server: HTTP2StreamWindow %d below HTTP/2's initial 65535", w)
	}
	if w := c.HTTP2ConnWindow; w != 0 && w < 65535 {
		return nil, fmt.Errorf("server: HTTP2ConnWindow %d below HTTP/2's initial 65535", w)
	}
	return &http.HTTP2Config{
		MaxConcurrentStreams:          c.HTTP2MaxConcurrentStreams,
		MaxReadFrameSize:              c.HTTP2MaxReadFrameSize,
		MaxReceiveBufferPerStream:     c.HTTP2StreamWindow,
		MaxReceiveBufferPerConnection: c.HTTP2ConnWindow,
	}, nil
}

// HTTPSConfig configures a TLS listener (AddHTTPSServer, AddHTTP2Server).
//
// The certificate and key come from, in order of precedence: TLSConfig (its Certificates,
// GetCertificate or GetConfigForClient), CertPEM/KeyPEM, then Cert/Key or PFX. Cert and Key
// follow the certs package rule: text that starts with "-----BEGIN" is PEM, anything else is
// the name of a file that must exist, holding PEM, DER or PKCS #12 (see package certs).
type HTTPSConfig struct {
	HTTPConfig

	// Cert is the certificate chain as PEM text or a file name.
	Cert string
	// Key is the private key as PEM text or a file name. It may be an encrypted PKCS #8 key
	// (ENCRYPTED PRIVATE KEY) opened with Passphrase. Empty with Cert set means the key is in
	// Cert's file (a PKCS #12 file, or PEM holding both).
	Key string
	// CertPEM and KeyPEM are the seed's "buffer" form; they win over Cert and Key. They may
	// hold PEM or DER; CertPEM may hold the bytes of a PKCS #12 file, KeyPEM then left empty.
	CertPEM, KeyPEM []byte
	// PFX is the name of a PKCS #12 (.p12, .pfx) file holding the certificate chain and its
	// key, Node's pfx option: the same as Cert with Key empty. Setting it with Cert, Key,
	// CertPEM or KeyPEM is an error. It is reloaded like Cert and Key.
	PFX string
	// Passphrase opens PFX or an encrypted Key, Node's passphrase option. It is ignored for
	// inputs that are not encrypted; a wrong or missing one makes AddHTTPSServer fail with an
	// error saying so (certs.ErrPassphrase). It is kept in memory for reloads.
	Passphrase string

	// CA holds the certificate authorities client certificates must chain to, as PEM text or
	// a file name. Setting CA requires a ClientAuth that asks for certificates.
	CA string
	// ClientAuth is the client-certificate policy (Node's requestCert + rejectUnauthorized):
	// tls.RequireAndVerifyClientCert for mutual TLS. Zero asks for none.
	ClientAuth tls.ClientAuthType

	// MinVersion and MaxVersion bound the TLS versions. Zero MinVersion means TLS 1.2;
	// anything below TLS 1.2 is refused with an error. Zero MaxVersion means the newest.
	MinVersion, MaxVersion uint16

	// Storage keeps the state that outlives the process and that several instances of one
	// site share: TLS session-ticket keys and, with ACME, the account, certificates and
	// order locks. Give every instance behind one load balancer the same Storage (a
	// storage/redisstore.Store) and a client resumes its TLS session on any of them. Nil
	// means ACME state in DefaultStorage (a directory in the user's config directory).
	//
	// Session-ticket keys rotate every TicketKeyRotation (an hour) and still decrypt for
	// TicketKeyLifetime (a day) after; with a Storage they are kept under TicketKeysKey, so
	// every instance encrypts with the same key. The listener reads them when it starts
	// (waiting 5 seconds at most) and then on a goroutine of its own, never in a handshake.
	// When the Storage fails the listener keeps serving with the keys it has, rotating them
	// itself, logs the failure once and tries again every 30 seconds. Nil means the keys
	// live in the listener, rotated on the same schedule; nil with a TLSConfig leaves
	// tickets to crypto/tls and TLSConfig (keys set on it are kept; crypto/tls rotates its
	// own daily). With a Storage, keys set on TLSConfig are replaced, unless it disables
	// tickets or encrypts them itself (WrapSession, UnwrapSession).
	Storage storage.Storage

	// ACME, when set, obtains and renews the certificate from an ACME certificate authority
	// (Let's Encrypt by default) for ACME.Domains, kept in Storage; see ACMEConfig. Set no
	// certificate or key with it. Nil means the certificate comes from the fields above.
	ACME *ACMEConfig

	// HTTP2Engine selects what serves HTTP/2 connections: HTTP2Batching (httpskit's
	// engine) or HTTP2NetHTTP (net/http's server). Zero means HTTP2Default: the
	// HTTPSKIT_HTTP2_ENGINE environment variable ("nethttp" or "batching"), else the
	// batching engine.
	HTTP2Engine HTTP2Engine

	// TLSConfig gives full control. It is cloned; the fields above fill only what it leaves
	// empty (certificates, ClientCAs, ClientAuth, versions, NextProtos). Empty CipherSuites
	// limit TLS 1.2 to ECDHE key exchange with AES-GCM or ChaCha20-Poly1305; clients that
	// offer only CBC, 3DES or RSA key exchange suites are refused.
	TLSConfig *tls.Config
}

// limits are the resolved, non-zero limits of one listener (negative: none).
type limits struct {
	readHeader, read, write, idle time.Duration
	maxHeader                     int
	maxBody                       int64
	maxConns, maxConnsPerIP       int               // zero: no limit
	http2                         *http.HTTP2Config // nil: net/http's defaults
}

func pickDuration(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0 // net/http: zero means no timeout
	}
	return v
}

func (c HTTPConfig) limits() limits {
	l := limits{
		readHeader: pickDuration(c.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		read:       pickDuration(c.ReadTimeout, DefaultReadTimeout),
		write:      pickDuration(c.WriteTimeout, DefaultWriteTimeout),
		idle:       pickDuration(c.IdleTimeout, DefaultIdleTimeout),
		maxHeader:  c.MaxHeaderBytes,
		maxBody:    c.MaxBodyBytes,
	}
	switch {
	case l.maxHeader == 0:
		l.maxHeader = DefaultMaxHeaderBytes
	case l.maxHeader < 0:
		l.maxHeader = 1 << 30
	}
	if l.maxBody == 0 {
		l.maxBody = DefaultMaxBodyBytes
	}
	l.maxConns = pickCount(c.MaxConns, DefaultMaxConns)
	l.maxConnsPerIP = pickCount(c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	return l
}

// pickCount resolves a count limit: zero means def, negative means none (zero).
func pickCount(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (c HTTPConfig) hostPort() (string, int) {
	host, port := c.Host, c.Port
	if host == "" {
		host = DefaultHost
	}
	if port < 0 {
		port = RandomPort
	}
	return host, port
}
