package https

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/httpskit/httpskit/certs"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/idna"
)

// METHODS lists the methods of the seed's https.METHODS. It is informative:
// Request sends any valid method token, PATCH and extension methods included.
var METHODS = []string{"DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE"}

// Options describes one request, as the seed's options object. The zero value
// is a GET of https://localhost/ that verifies the server's certificate
// against the system roots.
type Options struct {
	// Host is the server's name or IP address, without a port.
	// Zero means "localhost". An IPv6 address may be given with or
	// without brackets.
	Host string
	// Hostname is an alias for Host; it wins when both are set.
	Hostname string
	// Port is the server's TCP port, 1 to 65535. Zero means 443 (the seed's
	// "80" is a slip; upstream code uses 443).
	Port int
	// Method is the request method, sent as given (case is kept). Zero
	// means "GET". Any valid HTTP token is accepted.
	Method string
	// Path is the request target, with its query if any. Zero means "/".
	// It must start with "/" (or be "*" for OPTIONS) and hold no space or
	// control character.
	Path string
	// Headers are sent as given. Host (with the port when it is not 443) and
	// Authorization (from Auth) are added when absent. A Content-Length
	// fixes the body length; without one the body is sent chunked.
	// No User-Agent or Accept-Encoding is added.
	Headers http.Header
	// Auth is "user:password" for HTTP Basic authentication; "user" alone
	// means an empty password. The user must not be empty. Zero sends no
	// Authorization.
	Auth string
	// CA is PEM text or the name of a PEM file with one or more CA
	// certificates. When set, it replaces the system roots; zero uses the
	// system roots.
	CA string
	// Cert is the client certificate for mutual TLS: PEM text or a file
	// name. It needs Key, unless its file holds the key too (PEM with both,
	// or PKCS #12).
	Cert string
	// Key is the private key of Cert: PEM text or a file name.
	Key string
	// PFX is a PKCS #12 (.p12, .pfx) file holding the client certificate
	// chain and its key, as Node's pfx: the name of the file. It replaces
	// Cert and Key (setting both is an error).
	PFX string
	// Passphrase opens PFX or an encrypted Key (PKCS #8 ENCRYPTED PRIVATE
	// KEY), as Node's passphrase. It is ignored for inputs that are not
	// encrypted; a wrong or missing one is an ErrInvalidRequest wrapping
	// certs.ErrPassphrase.
	Passphrase string
	// SocketPath, when set, sends the request over the Unix domain socket
	// at this path instead of TCP to Host and Port, as Node's socketPath:
	// HTTPS to a local daemon. Host still names the server in TLS (SNI and
	// verification) and in the Host header. Zero uses TCP.
	SocketPath string
	// InsecureSkipVerify turns off verification of the server's
	// certificate chain and name: the seed's rejectUnauthorized:false.
	// The zero value verifies.
	InsecureSkipVerify bool
	// MaxHeaderBytes bounds the response's header section: the status line
	// and header lines over HTTP/1.1, the header list over HTTP/2 (as
	// HTTP/2 counts it: each name and value plus 32 bytes, with some slack
	// for that overhead). A server that sends more fails the request with
	// ErrHeaderTooLarge after about that many bytes, never buffering more.
	// Zero means DefaultMaxHeaderBytes (1 MiB); negative means net/http's
	// own bound, 10 MiB (there is no unbounded setting: a larger positive
	// value raises it). It is a setting of the connection: kept-alive
	// connections are shared only between requests with the same bound.
	MaxHeaderBytes int
	// MaxBodyBytes bounds the response body. Read and OnData deliver at
	// most this many bytes; one byte more fails the request with
	// ErrBodyTooLarge ('error', then 'close'; 'end' never fires) and stops
	// the transfer (an HTTP/1.1 connection is closed, an HTTP/2 stream
	// reset). A response whose Content-Length is larger fails at its first
	// Read (or at once in flowing mode) without reading any of its body;
	// its 'response' event has fired, so the status and headers are known.
	// Zero or negative means no limit: downloads are legitimately
	// unbounded, so bound the body when the server is not trusted to stop.
	MaxBodyBytes int64
	// Memory trades speed for memory on the request's connection: see
	// MemoryFrugal. Zero (MemoryAuto) means MemoryFrugal when the process
	// runs with a memory limit (GOMEMLIMIT) and MemoryFast otherwise. It
	// is a setting of the connection: kept-alive connections are shared
	// only between requests whose setting resolves the same way.
	Memory Memory
	// ServerName, if set, replaces Host as the name sent in TLS SNI and the
	// name the server's certificate must be valid for: for a server reached
	// by an address its certificate does not name (an IP address, an
	// internal alias). The Host header and the URL keep Host. Zero means
	// Host. It is a setting of the connection: kept-alive connections are
	// shared only between requests with the same ServerName.
	ServerName string
	// MaxRedirects is how many redirects (301, 302, 303, 307, 308 with a
	// Location) the request follows before its 'response'. Zero means none,
	// the seed's behaviour: a redirect is the response. The rules are
	// Redirect's: https:// only, 303 (and 301/302 after POST) becomes a GET
	// without body, credentials and ServerName are not sent to another
	// host. A redirect that would send the body again (307, 308) is not
	// followed when the request has a body, which was streamed and is gone:
	// it is the response then, as in net/http (Redirect lets a caller that
	// keeps the body follow it). One redirect more than MaxRedirects, or a
	// bad Location, fails the request with ErrRedirect. The response's URL
	// is the last request's.
	MaxRedirects int
	// Decompress asks for a compressed response and decodes it: it sends
	// "Accept-Encoding: gzip" unless Headers has an Accept-Encoding, and a
	// response body encoded with gzip is delivered decoded,
	// without its Content-Encoding and Content-Length headers (the length
	// was the encoded one). Other encodings arrive as sent. MaxBodyBytes
	// bounds the decoded bytes, so a small body that inflates hugely stops
	// at the bound; broken encoded data is ErrMalformedResponse, a cut one
	// ErrTruncated. Zero sends no Accept-Encoding and decodes nothing: the
	// body arrives as the server sent it.
	Decompress bool
	// Agent holds the connection pool, its limits, the proxy settings and
	// the caches this request uses. Nil means DefaultAgent.
	Agent *Agent
}

// DefaultMaxHeaderBytes is the bound on a response's header section when
// Options.MaxHeaderBytes is zero: far above what real servers send, far
// below what would hurt a client to hold.
const DefaultMaxHeaderBytes = 1 << 20

// netHTTPMaxHeaderBytes is net/http's own bound on a response's header
// section, used for a negative Options.MaxHeaderBytes.
const netHTTPMaxHeaderBytes = 10 << 20

// plan is a validated request, ready for the wire.
type plan struct {
	method        string
	url           *url.URL
	urlString     string
	host          string // value of the Host header
	header        http.Header
	contentLength int64 // -1: not given, chunked
	maxHeader     int64 // bound on the response header section, resolved
	maxBody       int64 // bound on the response body; 0: none
	memory        Memory
	serverName    string // Options.ServerName, checked
	decompress    bool   // Options.Decompress
	tls           tlsSettings
	tlsText       bool   // tls came from PEM text alone (tlsAsText): reusable as it is
	socket        string // Options.SocketPath
}

func invalid(method, u string, format string, args ...any) error {
	return &Error{Op: method, URL: u, Kind: ErrInvalidRequest, Err: fmt.Errorf(format, args...)}
}

// newPlan checks opts and builds the request it describes. Every problem it
// reports is an *Error of kind ErrInvalidRequest (wrapping a *certs.Error for
// CA, Cert and Key problems).
//
// Plans of recent Options are reused (the agent remembers them): a program
// sending many requests with the same Options checks them, parses the path
// and builds the header once. A plan's URL and header are shared by the
// requests made from it: nothing modifies them (RoundTrip only reads its
// request). TLS options given as files are loaded for every request (the
// files are read again); TLS options given as PEM text (or not at all) are
// kept with the plan, so a request with the very same ones reuses its
// settings without looking at them again.
func newPlan(opts Options) (plan, error) {
	a := agentOf(&opts)
	sameTLS := false
	p, ok := a.plans.find(func(k *Options) bool {
		if !sameRequest(k, &opts) {
			return false
		}
		sameTLS = sameTLSText(k, &opts)
		return true
	})
	p.socket = opts.SocketPath
	if ok && sameTLS && p.tlsText && stillValid(p.tls) {
		return p, nil
	}
	if !ok {
		var err error
		if p, err = buildPlan(opts); err != nil {
			return plan{}, err
		}
		p.socket = opts.SocketPath
	}
	cert, key, err := a.clientPair(&opts) // pfx.go
	if err == nil {
		p.tls, err = a.loadTLS(opts.CA, cert, key, opts.InsecureSkipVerify)
	}
	if err != nil {
		return plan{}, &Error{Op: p.method, URL: p.urlString, Kind: ErrInvalidRequest, Err: err}
	}
	if !ok {
		p.tlsText = tlsAsText(&opts)
		key := opts
		key.Headers = opts.Headers.Clone() // the caller may change its map later
		a.plans.add(key, p)
	}
	return p, nil
}

// sameTLSText reports whether a and b have the same TLS options, compared as
// strings: for options given as PEM text that means the same settings.
func sameTLSText(a, b *Options) bool {
	return a.CA == b.CA && a.Cert == b.Cert && a.Key == b.Key && a.PFX == b.PFX &&
		a.Passphrase == b.Passphrase && a.InsecureSkipVerify == b.InsecureSkipVerify
}

// tlsAsText reports whether the TLS options of opts are all PEM text or
// unset: none names a file that could change between requests.
func tlsAsText(opts *Options) bool {
	for _, s := range [...]string{opts.CA, opts.Cert, opts.Key, opts.PFX} {
		if s != "" && !certs.IsPEM(s) {
			return false
		}
	}
	return true
}

// sameRequest reports whether a and b describe the same request, TLS options
// aside.
func sameRequest(a, b *Options) bool {
	if a.Host != b.Host || a.Hostname != b.Hostname || a.Port != b.Port || a.Method != b.Method ||
		a.Path != b.Path || a.Auth != b.Auth || len(a.Headers) != len(b.Headers) ||
		a.MaxHeaderBytes != b.MaxHeaderBytes || a.MaxBodyBytes != b.MaxBodyBytes || a.Memory != b.Memory ||
		a.ServerName != b.ServerName || a.MaxRedirects != b.MaxRedirects || a.Decompress != b.Decompress {
		return false
	}
	for name, av := range a.Headers {
		bv, ok := b.Headers[name]
		if !ok || !slices.Equal(av, bv) {
			return false
		}
	}
	return true
}

// buildPlan checks opts, TLS options aside, and builds the plan.
func buildPlan(opts Options) (plan, error) {
	p := plan{method: opts.Method, contentLength: -1}
	if p.method == "" {
		p.method = http.MethodGet
	}
	if !isToken(p.method) {
		return plan{}, invalid("", "", "method %q is not a valid token", p.method)
	}

	host := opts.Hostname
	if host == "" {
		host = opts.Host
	}
	if host == "" {
		host = "localhost"
	}
	host, err := checkHost(host)
	if err != nil {
		return plan{}, invalid(p.method, "", "%v", err)
	}
	port := opts.Port
	if port == 0 {
		port = 443
	}
	if port < 1 || port > 65535 {
		return plan{}, invalid(p.method, "", "port %d out of range 1-65535", opts.Port)
	}
	authority := net.JoinHostPort(host, strconv.Itoa(port))
	if port == 443 {
		authority = host
		if strings.Contains(host, ":") {
			authority = "[" + host + "]"
		}
	}

	path := opts.Path
	if path == "" {
		path = "/"
	}
	p.urlString = "https://" + authority + path
	if err := checkPath(p.method, path); err != nil {
		return plan{}, invalid(p.method, "", "path %q: %v", path, err)
	}
	if path == "*" {
		p.url = &url.URL{Scheme: "https", Host: authority, Opaque: "*"}
	} else {
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return plan{}, invalid(p.method, "", "path %q: %v", path, errors.Unwrap(err))
		}
		u.Scheme, u.Host = "https", authority
		p.url = u
	}

	p.header = make(http.Header, len(opts.Headers)+2)
	for name, values := range opts.Headers {
		if !isToken(name) {
			return plan{}, invalid(p.method, p.urlString, "header name %q is not a valid token", name)
		}
		for _, v := range values {
			if !validHeaderValue(v) {
				return plan{}, invalid(p.method, p.urlString, "header %s: value %q holds a control character", name, v)
			}
		}
		p.header[http.CanonicalHeaderKey(name)] = append(p.header[http.CanonicalHeaderKey(name)], values...)
	}
	p.host = authority
	if h := p.header.Get("Host"); h != "" {
		// As net/http checks it when it writes the request.
		ascii, err := httpguts.PunycodeHostPort(h)
		if err != nil || !httpguts.ValidHostHeader(ascii) {
			return plan{}, invalid(p.method, p.urlString, "header Host: %q is not a valid host", h)
		}
		p.host = ascii
	}
	p.header.Del("Host")
	if cl, ok := p.header["Content-Length"]; ok {
		n, err := parseContentLength(cl)
		if err != nil {
			return plan{}, invalid(p.method, p.urlString, "%v", err)
		}
		p.contentLength = n
	}
	if opts.Auth != "" && p.header.Get("Authorization") == "" {
		a, err := basicAuth(opts.Auth)
		if err != nil {
			return plan{}, invalid(p.method, p.urlString, "%v", err)
		}
		p.header.Set("Authorization", a)
	}
	if opts.Decompress {
		p.decompress = true
		if _, ok := p.header["Accept-Encoding"]; !ok {
			p.header["Accept-Encoding"] = acceptEncoding
		}
	}
	if _, ok := p.header["User-Agent"]; !ok {
		p.header["User-Agent"] = noUserAgent
	}
	if opts.MaxRedirects < 0 {
		return plan{}, invalid(p.method, p.urlString, "MaxRedirects %d is negative", opts.MaxRedirects)
	}
	if err := p.connSettings(&opts); err != nil {
		return plan{}, invalid(p.method, p.urlString, "%v", err)
	}
	return p, nil
}

// connSettings checks and sets the settings of opts that are the
// connection's and the response's, not the request's: bounds, memory, server
// name.
func (p *plan) connSettings(opts *Options) error {
	switch {
	case opts.MaxHeaderBytes == 0:
		p.maxHeader = DefaultMaxHeaderBytes
	case opts.MaxHeaderBytes < 0:
		p.maxHeader = netHTTPMaxHeaderBytes
	default:
		p.maxHeader = int64(opts.MaxHeaderBytes)
	}
	p.maxBody = max(opts.MaxBodyBytes, 0)
	if opts.Memory < MemoryAuto || opts.Memory > MemoryFrugal {
		return fmt.Errorf("memory %v is not MemoryAuto, MemoryFast or MemoryFrugal", opts.Memory)
	}
	p.memory = opts.Memory
	if opts.ServerName != "" {
		name, err := checkHost(opts.ServerName)
		if err != nil {
			return fmt.Errorf("server name: %v", err)
		}
		p.serverName = name
	}
	return nil
}

// checkHost checks host and returns it as it goes on the wire: without
// brackets, and a name outside ASCII in its IDNA (punycode) form, as net/http
// would send it.
func checkHost(host string) (string, error) {
	if !isASCII(host) {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", fmt.Errorf("host %q: %v", host, err)
		}
		host = ascii
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "", fmt.Errorf("host %q: not an IPv6 address", host)
		}
	}
	for i := 0; i < len(host); i++ {
		// RFC 3986 reg-name, IP literal and pct-encoded bytes only (net/http's Host rule,
		// which would otherwise refuse the request on the wire), and no delimiter of a URL.
		if c := host[i]; c <= ' ' || c == 0x7f || strings.IndexByte("/?#@[]\\", c) >= 0 || !httpguts.ValidHostHeader(host[i:i+1]) {
			return "", fmt.Errorf("host %q: illegal character %q", host, c)
		}
	}
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return "", fmt.Errorf("host %q: put the port in Options.Port", host)
	}
	return host, nil
}

// checkPath enforces the seed's "illegal characters" rule: no space, no
// control character, and an origin-form target (or "*" for OPTIONS).
func checkPath(method, path string) error {
	for i := 0; i < len(path); i++ {
		if c := path[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("illegal character %q at %d", c, i)
		}
	}
	if path == "*" {
		if method != http.MethodOptions {
			return errors.New(`"*" is only valid with OPTIONS`)
		}
		return nil
	}
	if !strings.HasPrefix(path, "/") {
		return errors.New(`must start with "/"`)
	}
	return nil
}

func parseContentLength(values []string) (int64, error) {
	n := int64(-1)
	for _, v := range values {
		m, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || m < 0 {
			return 0, fmt.Errorf("header Content-Length: %q is not a non-negative integer", v)
		}
		if n >= 0 && m != n {
			return 0, fmt.Errorf("header Content-Length: conflicting values %q", values)
		}
		n = m
	}
	if n < 0 {
		return 0, errors.New("header Content-Length: no value")
	}
	return n, nil
}

func basicAuth(auth string) (string, error) {
	user, _, _ := strings.Cut(auth, ":")
	if user == "" {
		return "", errors.New(`auth: empty user name (want "user:password")`)
	}
	for i := 0; i < len(auth); i++ {
		if c := auth[i]; c < ' ' || c == 0x7f {
			return "", errors.New("auth: control character")
		}
	}
	if !strings.Contains(auth, ":") {
		auth += ":"
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(auth)), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token (method and header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters other than horizontal tab, so
// no value can split a header line (CR, LF) or smuggle a NUL.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// noUserAgent is the User-Agent value that makes net/http send none. Plans
// share it: nothing modifies a plan's header once built.
var noUserAgent = []string{""}
