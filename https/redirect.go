package https

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Redirect returns the Options of the request that follows a redirect: the
// response with statusCode and Location header location to a request made
// with opts. It is the rule Options.MaxRedirects follows, for callers that
// follow redirects themselves (to send a body again, say). ok is false
// when there is nothing to follow: the status is not 301, 302, 303, 307 or
// 308, or there is no Location.
//
// The rules, as curl -L has them:
//   - location is resolved against the URL of opts; it must be https://
//     (a redirect never downgrades to plain text).
//   - 303 makes the next request a GET (HEAD stays HEAD), and so do 301
//     and 302 after a POST; the body is then dropped, with the
//     Content-Length and Content-Type headers. Otherwise the method is
//     kept, and the caller must send the same body again: next.Method ==
//     opts.Method tells.
//   - To another host or port, credentials are not sent: Auth and the
//     Authorization and Cookie headers are dropped, and so is ServerName
//     (it named the first host's certificate). A Host header is dropped
//     too: the new URL's host is sent.
//
// A Location that is not a valid URL, or not https://, is an error of kind
// ErrRedirect. next.Headers is a copy when it differs from opts.Headers.
func Redirect(opts Options, statusCode int, location string) (next Options, ok bool, err error) {
	next, _, ok, err = redirect(opts, false, false, statusCode, location)
	return next, ok, err
}

// RedirectPlain is Redirect for a caller that also makes plain-HTTP
// requests (http:// URLs, through Connect.Plain), as curl -L does: it is
// the explicit opt-in to following a redirect from https:// to http://,
// which Redirect and Options.MaxRedirects never do. plain says whether
// opts was sent as http:// (then Port zero means 80); nextPlain says
// whether next goes to an http:// URL (its Port is then set). The rules are
// Redirect's, and a change of scheme, like one of host or port, drops the
// credentials. A Location neither http:// nor https:// is an error of kind
// ErrRedirect.
func RedirectPlain(opts Options, plain bool, statusCode int, location string) (next Options, nextPlain, ok bool, err error) {
	return redirect(opts, plain, true, statusCode, location)
}

// redirect is Redirect and RedirectPlain: opts was sent as http:// when
// plain, and an http:// Location is followed only when allowPlain.
func redirect(opts Options, plain, allowPlain bool, statusCode int, location string) (next Options, nextPlain, ok bool, err error) {
	switch statusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return opts, plain, false, nil
	}
	if location == "" {
		return opts, plain, false, nil
	}
	from := origin(&opts, plain)
	base, err := url.Parse(from + pathOf(&opts))
	if err != nil {
		return opts, plain, false, &Error{Op: opts.Method, Kind: ErrRedirect, Err: err}
	}
	u, err := base.Parse(location)
	if err != nil {
		return opts, plain, false, &Error{Op: opts.Method, URL: base.String(), Kind: ErrRedirect, Err: fmt.Errorf("location %q: %v", location, err)}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPlain:
		nextPlain = true
		if u.Port() == "" && u.Hostname() != "" {
			u.Host = net.JoinHostPort(u.Hostname(), "80")
		}
		u.Scheme = "https" // for mergeURL; the port says 80
	case allowPlain:
		return opts, plain, false, &Error{Op: opts.Method, URL: base.String(), Kind: ErrRedirect, Err: fmt.Errorf("location %q: not an https:// or http:// URL", location)}
	default:
		return opts, plain, false, &Error{Op: opts.Method, URL: base.String(), Kind: ErrRedirect, Err: fmt.Errorf("location %q: not an https:// URL", location)}
	}
	next = opts
	next.Host, next.Hostname, next.Port, next.Path, next.Auth = "", "", 0, "", ""
	if next, err = mergeURL(u.String(), next); err != nil {
		return opts, plain, false, &Error{Op: opts.Method, URL: base.String(), Kind: ErrRedirect, Err: fmt.Errorf("location %q: %v", location, err)}
	}
	next.Auth = opts.Auth // credentials in the Location are not taken
	method := opts.Method
	if method == "" {
		method = http.MethodGet
	}
	if statusCode == http.StatusSeeOther && method != http.MethodHead ||
		(statusCode == http.StatusMovedPermanently || statusCode == http.StatusFound) && method == http.MethodPost {
		next.Method = http.MethodGet
		next.Headers = withoutHeaders(next.Headers, "Content-Length", "Content-Type")
	}
	if origin(&next, nextPlain) != from {
		next.Auth, next.ServerName = "", ""
		next.Headers = withoutHeaders(next.Headers, "Authorization", "Cookie", "Host")
	}
	return next, nextPlain, true, nil
}

// origin returns "https://host:port" of opts, or "http://host:port" when
// plain, defaults filled in.
func origin(opts *Options, plain bool) string {
	if plain {
		o := *opts
		if o.Port == 0 {
			o.Port = 80
		}
		return "http://" + hostPort(&o)
	}
	return "https://" + hostPort(opts)
}

// pathOf is the request target of opts, the default filled in.
func pathOf(opts *Options) string {
	if opts.Path == "" {
		return "/"
	}
	return opts.Path
}

// hostPort returns "host:port" of opts, defaults filled in, for resolving a
// Location and telling whether it names another server.
func hostPort(opts *Options) string {
	host := opts.Hostname
	if host == "" {
		host = opts.Host
	}
	if host == "" {
		host = "localhost"
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	port := opts.Port
	if port == 0 {
		port = 443
	}
	return net.JoinHostPort(strings.ToLower(host), strconv.Itoa(port))
}

// withoutHeaders returns h without names (a copy, when it holds any of them).
func withoutHeaders(h http.Header, names ...string) http.Header {
	for _, name := range names {
		for k := range h {
			if strings.EqualFold(k, name) {
				h = h.Clone()
				for _, n := range names {
					for k := range h {
						if strings.EqualFold(k, n) {
							delete(h, k)
						}
					}
				}
				return h
			}
		}
	}
	return h
}
