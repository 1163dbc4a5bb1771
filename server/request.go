package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/httpskit/httpskit/internal/route"
)

// Request wraps the incoming *http.Request of one route call (the seed's HTTPSRequest). It is
// not safe for concurrent use; see Handler for its lifetime.
type Request struct {
	r      *http.Request
	params []route.Param

	body    []byte
	bodyErr error
	read    bool
}

// Original returns the net/http request.
func (r *Request) Original() *http.Request { return r.r }

// Context returns the request's context, cancelled when the client goes away.
func (r *Request) Context() context.Context { return r.r.Context() }

// Method returns the request method, such as "GET".
func (r *Request) Method() string { return r.r.Method }

// URL returns the parsed request URL (path and query; scheme and host are empty on server
// requests, as in net/http).
func (r *Request) URL() *url.URL { return r.r.URL }

// Path returns the percent-decoded path, without the query.
func (r *Request) Path() string { return r.r.URL.Path }

// Query returns the parsed query; an empty map when there is none.
func (r *Request) Query() url.Values { return r.r.URL.Query() }

// QueryString returns the raw query without the "?", or "" when there is none.
func (r *Request) QueryString() string { return r.r.URL.RawQuery }

// Headers returns the request headers. Lookups with Get are case-insensitive.
func (r *Request) Headers() http.Header { return r.r.Header }

// ContentType returns the media type of the Content-Type header, lower case and without
// parameters; "application/octet-stream" when absent.
func (r *Request) ContentType() string {
	ct := r.r.Header.Get("Content-Type")
	if ct == "" {
		return "application/octet-stream"
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// Charset returns the charset parameter of the Content-Type header; "utf-8" when absent.
func (r *Request) Charset() string {
	ct := r.r.Header.Get("Content-Type")
	if strings.IndexByte(ct, ';') < 0 {
		return "utf-8"
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil || params["charset"] == "" {
		return "utf-8"
	}
	return params["charset"]
}

// UserAgent returns the User-Agent header, or "".
func (r *Request) UserAgent() string { return r.r.UserAgent() }

// Origin returns the client's address, "ip:port".
func (r *Request) Origin() string { return r.r.RemoteAddr }

// TLS returns the state of the TLS connection the request came on (version, cipher suite,
// negotiated protocol, server name, the client's certificates); nil for plain HTTP. Do not
// modify it.
func (r *Request) TLS() *tls.ConnectionState { return r.r.TLS }

// ClientCertificate returns the client's certificate when the handshake verified it: the leaf
// of the first verified chain, whose Subject (CommonName), DNSNames, EmailAddresses and URIs
// identify the client. That needs a listener that verifies client certificates against its
// client CAs (HTTPSConfig.CA with ClientAuth tls.RequireAndVerifyClientCert, or
// tls.VerifyClientCertIfGiven). It returns nil on plain HTTP, when the client sent no
// certificate, and when the listener accepted one without verifying it (tls.RequestClientCert,
// tls.RequireAnyClientCert): such a certificate proves nothing about who the client is, so it
// is only in TLS().PeerCertificates, never returned here. A connection resumed from a session
// ticket has the certificate verified in its first handshake (crypto/tls resumes only while
// that chain is still valid and rooted in the client CAs in service).
func (r *Request) ClientCertificate() *x509.Certificate {
	if st := r.r.TLS; st != nil && len(st.VerifiedChains) > 0 && len(st.VerifiedChains[0]) > 0 {
		return st.VerifiedChains[0][0]
	}
	return nil
}

// Param returns the value captured for name by the route that is running (":name" in a
// positional path, a named or numbered group in a regular expression), or "".
func (r *Request) Param(name string) string {
	for _, p := range r.params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Params returns every value the running route captured, by name.
func (r *Request) Params() map[string]string {
	m := make(map[string]string, len(r.params))
	for _, p := range r.params {
		m[p.Name] = p.Value
	}
	return m
}

// Read reads the whole request body, bounded by the listener's MaxBodyBytes. Past the limit
// it returns an error wrapping ErrBodyTooLarge (the router answers 413 if the handler returns
// it); a body cut short or with broken chunked framing returns an error wrapping
// ErrBadRequest (400); a body still arriving at the listener's ReadTimeout, one wrapping
// os.ErrDeadlineExceeded (408). The body is read once; later calls return the same bytes (or error).
func (r *Request) Read() ([]byte, error) {
	if r.read {
		return r.body, r.bodyErr
	}
	r.read = true
	if r.r.Body == nil {
		r.body = []byte{}
		return r.body, nil
	}
	b, err := io.ReadAll(r.r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			err = fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, mbe.Limit)
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = fmt.Errorf("server: read request body: %w", err) // the router answers 408
		default:
			// Broken chunked framing, or a client that went away mid-body: the request as
			// sent is not a whole one.
			err = fmt.Errorf("%w: read request body: %w", ErrBadRequest, err)
		}
		r.bodyErr = err
		return nil, err
	}
	r.body = b
	return b, nil
}

// ReadText reads the whole body as a string (see Read).
func (r *Request) ReadText() (string, error) {
	b, err := r.Read()
	return string(b), err
}

// ReadJSON reads the whole body (see Read) and decodes it into v. An empty body or invalid
// JSON returns an error wrapping ErrBadRequest (the router answers 400 if the handler returns
// it). Unlike upstream, JSON false, 0, null and "" decode as themselves.
func (r *Request) ReadJSON(v any) error {
	b, err := r.Read()
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return fmt.Errorf("%w: empty body where JSON was expected", ErrBadRequest)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: invalid JSON body: %v", ErrBadRequest, err)
	}
	return nil
}
