package main

import (
	"errors"
	"testing"
)

// TestNoProxyMatch: --noproxy as curl reads it: names and their
// subdomains, a leading dot ignored, IP addresses and CIDR prefixes, *.
func TestNoProxyMatch(t *testing.T) {
	for _, tt := range []struct {
		list, host string
		want       bool
	}{
		{"", "example.com", false},
		{"*", "example.com", true},
		{"example.com", "example.com", true},
		{"example.com", "www.Example.COM", true},
		{"example.com", "notexample.com", false},
		{".example.com", "example.com", true},
		{"a.test, example.com ", "example.com", true},
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "11.1.2.3", false},
		{"127.0.0.1", "127.0.0.1", true},
		{"[::1]", "::1", true},
		{"127.0.0.1", "localhost", false},
		{"example.com.", "example.com", true},
	} {
		if got := noProxyMatch(tt.list, tt.host); got != tt.want {
			t.Errorf("noProxyMatch(%q, %q) = %v, want %v", tt.list, tt.host, got, tt.want)
		}
	}
}

// TestParseProxy: -x's URL with curl's defaults, and clear usage errors.
func TestParseProxy(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"127.0.0.1:3128", "http://127.0.0.1:3128"},
		{"proxy.test", "http://proxy.test:1080"},
		{"https://proxy.test", "https://proxy.test:443"},
		{"http://u:p@proxy.test:8080/", "http://u:p@proxy.test:8080"},
		{"http://[::1]:3128", "http://[::1]:3128"},
	} {
		u, err := parseProxy(tt.in)
		if err != nil || u.String() != tt.want {
			t.Errorf("parseProxy(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
	for _, bad := range []string{"socks5://127.0.0.1:1080", "http://", "http://proxy.test/path", "http://a b"} {
		if _, err := parseProxy(bad); !errors.As(err, new(usageError)) {
			t.Errorf("parseProxy(%q): %v, want a usage error", bad, err)
		}
	}
}
