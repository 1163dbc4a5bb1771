package https

import (
	"context"
	"net/url"
	"strconv"
)

// RequestURL is Request for a URL, the seed's https.request(url[, options]):
// rawURL gives Host, Port, Path (with its query) and, from "user:password@",
// Auth; opts gives the rest. As in Node, where both name something the
// options win: a non-zero Host, Hostname, Port, Path or Auth in opts is
// kept. rawURL must be an absolute https:// URL; its fragment is dropped.
// A bad URL is an *Error of kind ErrInvalidRequest, like every problem
// Request finds before any I/O.
func RequestURL(ctx context.Context, rawURL string, opts Options, onResponse func(*IncomingMessage)) (*ClientRequest, error) {
	o, err := mergeURL(rawURL, opts)
	if err != nil {
		return nil, err
	}
	return Request(ctx, o, onResponse)
}

// GetURL is RequestURL followed by End, as Get is for Request.
func GetURL(ctx context.Context, rawURL string, opts Options, onResponse func(*IncomingMessage)) (*ClientRequest, error) {
	r, err := RequestURL(ctx, rawURL, opts, onResponse)
	if err != nil {
		return nil, err
	}
	return r, r.End()
}

// mergeURL fills the fields of opts that rawURL names and opts leaves zero.
func mergeURL(rawURL string, opts Options) (Options, error) {
	method := opts.Method
	if method == "" {
		method = "GET"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return opts, invalid(method, "", "URL: %v", err)
	}
	shown := u.Redacted()
	switch {
	case u.Scheme != "https":
		return opts, invalid(method, shown, "URL: scheme %q, want https", u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return opts, invalid(method, shown, "URL: no host")
	}
	if opts.Host == "" && opts.Hostname == "" {
		opts.Host = u.Hostname()
	}
	if p := u.Port(); p != "" && opts.Port == 0 {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return opts, invalid(method, shown, "URL: port %q out of range 1-65535", p)
		}
		opts.Port = n
	}
	if opts.Path == "" {
		opts.Path = u.EscapedPath()
		if opts.Path == "" {
			opts.Path = "/"
		}
		if u.RawQuery != "" || u.ForceQuery {
			opts.Path += "?" + u.RawQuery
		}
	}
	if u.User != nil && opts.Auth == "" {
		opts.Auth = u.User.Username()
		if pass, ok := u.User.Password(); ok {
			opts.Auth += ":" + pass
		}
	}
	return opts, nil
}
