package loadgen

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// userAgent is sent unless Config.Header sets one.
const userAgent = "httpskit-bench"

// buildRequest returns the bytes of one HTTP/1.1 request, built once and
// written as is for every request. close adds "Connection: close".
func buildRequest(method string, t target, h http.Header, body []byte, close bool) []byte {
	host := t.host
	if v := h.Get("Host"); v != "" {
		host = v
	}
	b := make([]byte, 0, 256+len(body))
	b = fmt.Appendf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, t.requestURI, host)
	if h.Get("User-Agent") == "" {
		b = append(b, "User-Agent: "+userAgent+"\r\n"...)
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue
		}
		for _, v := range h[k] {
			b = fmt.Appendf(b, "%s: %s\r\n", k, v)
		}
	}
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		b = append(b, "Content-Length: "+strconv.Itoa(len(body))+"\r\n"...)
	}
	if close {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// checkHeader rejects header fields that would corrupt the pre-built request
// or contradict the body Run sends.
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if !validToken(k) {
			return fmt.Errorf("loadgen: bad header name %q", k)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Transfer-Encoding":
			return fmt.Errorf("loadgen: header %s is set from the body; do not give it", k)
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
					return fmt.Errorf("loadgen: header %s: control character in value %q", k, v)
				}
			}
		}
	}
	return nil
}

// validToken reports whether s is a non-empty RFC 9110 token (a method or a
// header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c < 0x80 && c > ' ' && !isSeparator(c):
		default:
			return false
		}
	}
	return true
}

func isSeparator(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}', 0x7f:
		return true
	}
	return false
}
