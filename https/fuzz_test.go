package https

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// FuzzOptions drives the checks Request makes before any I/O (buildPlan:
// host, port, method, path, a header, auth; the TLS options aside, which
// name files) and checks, with net/http's own rules as the independent
// judge, that nothing it accepts can break the request on the wire and
// that everything it refuses is refused clearly:
//
//   - it never panics;
//
//   - an accepted plan has a token method; a target that starts with "/"
//     (or is "*" for OPTIONS) with no space or control character; header
//     names that are tokens and values, Host included, without CR, LF or
//     NUL; the Authorization of Auth decodes back to its user and
//     password; and net/http writes the request, and reads it back, as
//     planned;
//
//   - a refusal is an *Error of kind ErrInvalidRequest whose message is
//     one line and starts with the name of a field that was given.
//
//     go test -run '^$' -fuzz '^FuzzOptions$' -fuzztime 2m ./https/
func FuzzOptions(f *testing.F) {
	seeds := []struct {
		host         string
		port         int
		method, path string
		name, value  string
		auth         string
		viaHostname  bool
	}{
		{"", 0, "", "", "", "", "", false},
		{"example.com", 8443, "POST", "/a?b=c", "Content-Type", "text/plain", "user:pass", false},
		{"::1", 443, "OPTIONS", "*", "", "", "", false},
		{"[::1]", 1, "PATCH", "/%20x", "X-A", "v\tw", "user", true},
		{"127.0.0.1", 65535, "BREW", "/\u00e9", "Content-Length", "5", "a:b:c", false},
		{"localhost", 0, "get", "/index.html?page=12#frag", "X-Empty", "", "user:p\u00e4ss", false},
		{"h.example", 0, "GET", "/", "Host", "virtual.example:8443", "", false},
		{"h.example", 0, "GET", "/", "Authorization", "Bearer token", "u:p", false},
		{"h.example", 0, "PUT", "/", "Content-Length", "1, 2", "", false},
		// Regressions: both were accepted, then refused by net/http on the
		// wire (an invalid Host header; a host name outside ASCII, now sent
		// in its IDNA form).
		{"h.example", 0, "GET", "/", "Host", "a b", "", false},
		{"b\u00fccher.example", 0, "GET", "/", "", "", "", false},
		// Found by the 10-minute run: a host with a quote passed the check and
		// net/http then dropped the Host header it made.
		{"\"", 8443, "0", "/", "0", "0", "0", false},
		// A caller's Authorization in another case wins over Auth (the
		// check compared names case-sensitively).
		{"0", 0, "0", "/", "AuthoriZAtion", "0", "0", true},
		{"exa mple", -1, "GET /", "/a b", "X Y", "a\r\nX-Evil: 1", "u:p\n", false},
		{"h.example", 65536, "G\u00c9T", "index.html", "X:Y", "\x00", ":secret", false},
		{"h.example:8443", 0, "GET", "*", "", "", "", false},
		{"[1.2.3.4]", 0, "GET", "/%zz", "", "", "", false},
		{"h/x", 0, "", "/a\x7f", "X-A", "1\x7f", "u\x7fp", true},
		{"h.example", 0, "OPTIONS", "*x", "Content-Length", "-1", "", false},
		{"h.example", 0, "M-SEARCH", "//double/slash", "User-Agent", "fuzz/1.0", "", false},
	}
	for _, s := range seeds {
		f.Add(s.host, s.port, s.method, s.path, s.name, s.value, s.auth, s.viaHostname)
	}
	f.Fuzz(func(t *testing.T, host string, port int, method, path, name, value, auth string, viaHostname bool) {
		opts := Options{Host: host, Port: port, Method: method, Path: path, Auth: auth}
		if viaHostname {
			opts.Host, opts.Hostname = "ignored.example", host
		}
		if name != "" {
			opts.Headers = http.Header{name: {value}}
		}
		p, err := buildPlan(opts)
		if err != nil {
			checkRefusal(t, opts, err)
			return
		}
		checkPlan(t, opts, p)
	})
}

// refusedFields are the fields a refusal may name, each with whether opts
// gave it (a default cannot be at fault).
var refusedFields = []struct {
	prefix string
	given  func(Options) bool
}{
	{"method ", func(o Options) bool { return o.Method != "" }},
	{"host ", func(o Options) bool { return o.Host != "" || o.Hostname != "" }},
	{"port ", func(o Options) bool { return o.Port != 0 }},
	{"path ", func(o Options) bool { return o.Path != "" }},
	{"header ", func(o Options) bool { return len(o.Headers) > 0 }},
	{"auth: ", func(o Options) bool { return o.Auth != "" }},
}

func checkRefusal(t *testing.T, opts Options, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrInvalidRequest || e.Err == nil {
		t.Fatalf("buildPlan(%#v) = %v (%T), want an *Error of kind ErrInvalidRequest with a cause", opts, err, err)
	}
	if strings.ContainsAny(err.Error(), "\r\n\x00") {
		t.Errorf("buildPlan(%#v): message %q is not one line", opts, err)
	}
	msg := e.Err.Error()
	for _, f := range refusedFields {
		if strings.HasPrefix(msg, f.prefix) {
			if !f.given(opts) {
				t.Errorf("buildPlan(%#v): %q blames %q, which was not given", opts, msg, strings.TrimSpace(f.prefix))
			}
			return
		}
	}
	t.Errorf("buildPlan(%#v): %q names no field", opts, msg)
}

func checkPlan(t *testing.T, opts Options, p plan) {
	t.Helper()
	if !httpguts.ValidHeaderFieldName(p.method) {
		t.Errorf("%#v: method %q is not a token", opts, p.method)
	}
	target := p.url.RequestURI()
	switch {
	case target == "*":
		if p.method != http.MethodOptions || opts.Path != "*" {
			t.Errorf("%#v: target * for %s %q", opts, p.method, opts.Path)
		}
	case !strings.HasPrefix(target, "/"):
		t.Errorf("%#v: target %q does not start with /", opts, target)
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f {
			t.Errorf("%#v: target %q holds %q", opts, target, c)
		}
	}
	for name, values := range p.header {
		if !httpguts.ValidHeaderFieldName(name) {
			t.Errorf("%#v: header name %q is not a token", opts, name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) || strings.ContainsAny(v, "\r\n\x00") {
				t.Errorf("%#v: header %s: value %q", opts, name, v)
			}
		}
	}
	if !httpguts.ValidHostHeader(p.host) || strings.ContainsAny(p.host, "\r\n\x00 ") {
		t.Errorf("%#v: Host %q", opts, p.host)
	}
	if strings.ContainsAny(p.urlString, "\r\n\x00") {
		t.Errorf("%#v: URL %q", opts, p.urlString)
	}

	// Header names are matched without regard to case, as on the wire:
	// Headers{"authorization": ...} is the caller's Authorization.
	given := ""
	for name, values := range opts.Headers {
		if strings.EqualFold(name, "Authorization") && len(values) > 0 {
			given = values[0]
		}
	}
	switch got := p.header.Get("Authorization"); {
	case given != "" || opts.Auth == "":
		if got != given {
			t.Errorf("%#v: Authorization %q, want %q as given", opts, got, given)
		}
	default:
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, "Basic "))
		user, pass, _ := strings.Cut(opts.Auth, ":")
		if !strings.HasPrefix(got, "Basic ") || err != nil || string(b) != user+":"+pass {
			t.Errorf("%#v: Authorization %q does not decode to %q:%q", opts, got, user, pass)
		}
	}

	// net/http writes the request and reads it back as planned. The body
	// is left out: it is not the plan's (Content-Length is checked apart).
	req := &http.Request{Method: p.method, URL: p.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: p.header, Host: p.host}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatalf("%#v: accepted, but net/http cannot write it: %v", opts, err)
	}
	back, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("%#v: accepted, but net/http cannot read back %q: %v", opts, wire.String(), err)
	}
	if back.Method != p.method || back.RequestURI != target || back.Host != p.host {
		t.Errorf("%#v: read back %s %s Host %s, want %s %s Host %s", opts, back.Method, back.RequestURI, back.Host, p.method, target, p.host)
	}
	for name, values := range p.header {
		switch name {
		case "Content-Length", "User-Agent":
			continue // written by net/http from the request's fields
		}
		got := back.Header[name]
		if len(got) != len(values) {
			t.Errorf("%#v: header %s read back as %q, want %q", opts, name, got, values)
			continue
		}
		for i, v := range values {
			if got[i] != strings.Trim(v, " \t") {
				t.Errorf("%#v: header %s read back as %q, want %q", opts, name, got[i], v)
			}
		}
	}
	if cl, ok := p.header["Content-Length"]; ok && p.contentLength < 0 || !ok && p.contentLength >= 0 {
		t.Errorf("%#v: Content-Length %q but body length %d", opts, cl, p.contentLength)
	}
}
