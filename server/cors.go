package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORSOptions configures Server.CORS (cross-origin resource sharing: which other web sites'
// scripts may call this server from a browser).
type CORSOptions struct {
	// Origins are the origins allowed, exactly as browsers send them in the Origin header
	// ("https://app.example.com", "http://localhost:3000": scheme, host and port, no path),
	// or the single entry "*" for any origin, which is then answered with "*" and never
	// echoed. Required.
	Origins []string
	// Methods are the methods a preflight may allow. Empty means GET, HEAD and POST.
	Methods []string
	// Headers are the request headers a preflight may allow beyond the CORS-safelisted
	// ones (Accept, Accept-Language, Content-Language, and Content-Type of a form or text),
	// compared without regard to case; "*" allows any header (not with Credentials).
	// Empty means none.
	Headers []string
	// ExposeHeaders are the response headers scripts may read beyond the safelisted ones.
	ExposeHeaders []string
	// Credentials lets browsers send cookies and HTTP authentication, and scripts read the
	// response (Access-Control-Allow-Credentials: true). It needs a list of Origins, not "*".
	Credentials bool
	// MaxAge is how long a browser may reuse a preflight answer. Zero means 5 minutes;
	// negative means the header is not sent (browsers then use 5 seconds).
	MaxAge time.Duration
}

// Limits on what a preflight request may ask, so that a hostile header list costs little.
const (
	corsMaxRequestHeaders = 64
	corsDefaultMaxAge     = 5 * time.Minute
)

// CORS adds a route for path, any method, that answers CORS for the routes after it:
//
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered at once,
//     204 No Content. When the origin, the method and every requested header are allowed,
//     the answer carries Access-Control-Allow-Origin, -Methods, -Headers (the requested
//     headers, in lower case), -Max-Age and, with Credentials, -Credentials; otherwise it
//     carries none of them, and the browser refuses the call. A list of more than 64
//     requested headers, or one that is not a list of header names, is refused.
//   - Any other request from an allowed origin gets Access-Control-Allow-Origin (and
//     -Credentials and -Expose-Headers when set) and goes on to the next routes, which
//     answer it. Requests without Origin, or from other origins, go on untouched.
//
// Responses that depend on the origin carry "Vary: Origin". An Origin header is never
// echoed unless it equals one of Origins. CORS returns an error for an empty or malformed
// origin, "*" with Credentials, or a method or header name that is not an HTTP token.
func (s *Server) CORS(path string, opt CORSOptions) error {
	c, err := newCORS(opt)
	if err != nil {
		return routeError("cors", "*", path, err)
	}
	return s.Route("*", path, c)
}

type cors struct {
	any          bool
	origins      []string // lower case
	methods      []string
	methodsValue []string // Access-Control-Allow-Methods
	headers      []string // lower case; nil with anyHeader
	anyHeader    bool
	expose       []string
	credentials  bool
	maxAge       []string // nil: not sent
}

func newCORS(opt CORSOptions) (*cors, error) {
	c := &cors{credentials: opt.Credentials}
	if len(opt.Origins) == 0 {
		return nil, errors.New("no origins: give the allowed origins, or \"*\"")
	}
	for _, o := range opt.Origins {
		if o == "*" {
			c.any = true
			continue
		}
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		c.origins = append(c.origins, strings.ToLower(o))
	}
	if c.any && (len(c.origins) > 0 || opt.Credentials) {
		return nil, errors.New("origin \"*\" stands alone and cannot go with Credentials: list the origins instead")
	}
	c.methods = slices.Clone(opt.Methods)
	if len(c.methods) == 0 {
		c.methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	for i, m := range c.methods {
		mm, err := checkMethod(m)
		if err != nil || mm == "*" {
			return nil, fmt.Errorf("invalid method %q", m)
		}
		c.methods[i] = mm
	}
	c.methodsValue = []string{strings.Join(c.methods, ", ")}
	for _, h := range opt.Headers {
		if h == "*" {
			if opt.Credentials {
				return nil, errors.New("header \"*\" cannot go with Credentials: list the headers instead")
			}
			c.anyHeader = true
			continue
		}
		if !isToken(h) {
			return nil, fmt.Errorf("invalid header name %q", h)
		}
		c.headers = append(c.headers, strings.ToLower(h))
	}
	for _, h := range opt.ExposeHeaders {
		if !isToken(h) {
			return nil, fmt.Errorf("invalid expose header name %q", h)
		}
	}
	if len(opt.ExposeHeaders) > 0 {
		c.expose = []string{strings.Join(opt.ExposeHeaders, ", ")}
	}
	switch age := opt.MaxAge; {
	case age == 0:
		c.maxAge = []string{strconv.Itoa(int(corsDefaultMaxAge / time.Second))}
	case age > 0:
		c.maxAge = []string{strconv.FormatInt(int64(age/time.Second), 10)}
	}
	return c, nil
}

// checkOrigin accepts "scheme://host[:port]" with nothing else.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") {
		return fmt.Errorf("invalid origin %q: want scheme://host[:port], such as https://app.example.com", o)
	}
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

var (
	varyOrigin     = "Origin"
	varyPreflight  = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
	allowAnyOrigin = []string{"*"}
	trueValue      = []string{"true"}
)

// Handle answers preflights and marks the responses of allowed origins.
func (c *cors) Handle(_ string, req *Request, res *Response) error {
	r := req.r
	origin, ok := r.Header["Origin"]
	if !ok || len(origin) != 1 || res.HeadersSent() {
		return nil
	}
	allowed := c.allowedOrigin(origin[0])
	h := res.w.Header()
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h["Vary"] = append(h["Vary"], varyPreflight...)
		if allowed != nil && c.preflightOK(r) {
			h["Access-Control-Allow-Origin"] = allowed
			h["Access-Control-Allow-Methods"] = c.methodsValue
			if list := r.Header.Get("Access-Control-Request-Headers"); list != "" {
				h["Access-Control-Allow-Headers"] = []string{strings.ToLower(list)}
			}
			if c.credentials {
				h["Access-Control-Allow-Credentials"] = trueValue
			}
			if c.maxAge != nil {
				h["Access-Control-Max-Age"] = c.maxAge
			}
		}
		h["Content-Length"] = []string{"0"}
		if err := res.WriteHead(http.StatusNoContent, nil); err != nil {
			return err
		}
		return res.End()
	}
	if !c.any {
		h["Vary"] = append(h["Vary"], varyOrigin)
	}
	if allowed == nil {
		return nil
	}
	h["Access-Control-Allow-Origin"] = allowed
	if c.credentials {
		h["Access-Control-Allow-Credentials"] = trueValue
	}
	if c.expose != nil {
		h["Access-Control-Expose-Headers"] = c.expose
	}
	return nil
}

// allowedOrigin returns the Access-Control-Allow-Origin value for origin, or nil.
func (c *cors) allowedOrigin(origin string) []string {
	if c.any {
		return allowAnyOrigin
	}
	for _, o := range c.origins {
		if len(o) == len(origin) && strings.EqualFold(o, origin) {
			return []string{o}
		}
	}
	return nil
}

// preflightOK reports whether the preflight's method and headers are all allowed.
func (c *cors) preflightOK(r *http.Request) bool {
	if len(r.Header["Access-Control-Request-Method"]) != 1 || !slices.Contains(c.methods, r.Header.Get("Access-Control-Request-Method")) {
		return false
	}
	lists := r.Header["Access-Control-Request-Headers"]
	if len(lists) > 1 {
		return false
	}
	if len(lists) == 0 || strings.TrimSpace(lists[0]) == "" {
		return true
	}
	n := 0
	for name := range strings.SplitSeq(lists[0], ",") {
		name = strings.TrimSpace(name)
		if n++; n > corsMaxRequestHeaders || !isToken(name) {
			return false
		}
		if !c.anyHeader && !slices.ContainsFunc(c.headers, func(h string) bool { return strings.EqualFold(h, name) }) {
			return false
		}
	}
	return true
}
