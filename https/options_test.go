package https

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/httpskit/httpskit/certs"
)

// TestValidation: Request returns these errors before any I/O (the port is
// closed, so any I/O would show up as ErrRefused instead).
func TestValidation(t *testing.T) {
	ca := testCA(t)
	certPEM, keyPEM, err := ca.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := ca.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	os.WriteFile(certFile, certPEM, 0o600)

	tests := []struct {
		name  string
		opts  Options
		certs error // a certs.ErrX the error must also match, if any
	}{
		{"path with a space", Options{Path: "/a b"}, nil},
		{"path with a tab", Options{Path: "/a\tb"}, nil},
		{"path with CR LF", Options{Path: "/a\r\nX-Evil: 1"}, nil},
		{"path with NUL", Options{Path: "/a\x00"}, nil},
		{"path with DEL", Options{Path: "/a\x7f"}, nil},
		{"path not starting with /", Options{Path: "index.html"}, nil},
		{"path * without OPTIONS", Options{Path: "*"}, nil},
		{"path with bad escape", Options{Path: "/%zz"}, nil},
		{"method with a space", Options{Method: "GET /"}, nil},
		{"method with a slash", Options{Method: "GE/T"}, nil},
		{"method non-ASCII", Options{Method: "GÉT"}, nil},
		{"header name with a space", Options{Headers: http.Header{"X Y": {"1"}}}, nil},
		{"header name with colon", Options{Headers: http.Header{"X:Y": {"1"}}}, nil},
		{"header value with CR LF", Options{Headers: http.Header{"X-A": {"1\r\nX-Evil: 2"}}}, nil},
		{"header value with NUL", Options{Headers: http.Header{"X-A": {"1\x00"}}}, nil},
		{"Content-Length not a number", Options{Headers: http.Header{"Content-Length": {"ten"}}}, nil},
		{"Content-Length negative", Options{Headers: http.Header{"Content-Length": {"-1"}}}, nil},
		{"conflicting Content-Length", Options{Headers: http.Header{"Content-Length": {"1", "2"}}}, nil},
		{"auth with empty user", Options{Auth: ":secret"}, nil},
		{"auth with a control character", Options{Auth: "user:pa\nss"}, nil},
		{"port negative", Options{Port: -1}, nil},
		{"port too large", Options{Port: 65536}, nil},
		{"host with a port", Options{Host: "example.com:8443"}, nil},
		{"host with a slash", Options{Host: "example.com/x"}, nil},
		{"host with a space", Options{Host: "exa mple.com"}, nil},
		{"host with a quote", Options{Host: `exa"mple.com`}, nil},
		{"host with a brace", Options{Host: "{example}.com"}, nil},
		{"host not a valid international name", Options{Host: "b\u00fccher\u00a0.example"}, nil},
		{"Host header with a space", Options{Headers: http.Header{"Host": {"a b"}}}, nil},
		{"Host header with a slash", Options{Headers: http.Header{"Host": {"a/b"}}}, nil},
		{"cert without key", Options{Cert: string(certPEM)}, nil},
		{"key without cert", Options{Key: string(keyPEM)}, nil},
		{"cert file missing", Options{Cert: filepath.Join(dir, "missing.pem"), Key: string(keyPEM)}, certs.ErrNotFound},
		{"key file missing", Options{Cert: certFile, Key: filepath.Join(dir, "missing.pem")}, certs.ErrNotFound},
		{"CA file missing", Options{CA: filepath.Join(dir, "missing-ca.pem")}, certs.ErrNotFound},
		{"CA not PEM", Options{CA: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}, nil},
		{"CA is a key", Options{CA: string(keyPEM)}, certs.ErrBlockType},
		{"cert unparsable", Options{Cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", Key: string(keyPEM)}, nil},
		{"key does not match", Options{Cert: certFile, Key: string(otherKey)}, certs.ErrKeyMismatch},
	}
	port := closedPort(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			if o.Host == "" {
				o.Host = "127.0.0.1"
			}
			if o.Port == 0 {
				o.Port = port
			}
			r, err := Request(context.Background(), o, nil)
			if err == nil {
				r.Abort()
				t.Fatalf("Request(%+v) = nil error, want ErrInvalidRequest", tt.opts)
			}
			wantKind(t, err, ErrInvalidRequest)
			if tt.certs != nil && !errors.Is(err, tt.certs) {
				t.Errorf("error %v does not match %v", err, tt.certs)
			}
			if tt.certs != nil {
				var ce *certs.Error
				if !errors.As(err, &ce) {
					t.Errorf("error %v does not wrap a *certs.Error", err)
				}
			}
			if _, err := Get(context.Background(), o, nil); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("Get: %v, want ErrInvalidRequest", err)
			}
		})
	}
}

// TestDefaults pins the defaults and choices where the seed is silent or
// wrong: port 443, host localhost, Hostname wins, GET, "/", Host header.
func TestDefaults(t *testing.T) {
	tests := []struct {
		name              string
		opts              Options
		method, url, host string
	}{
		{"zero value", Options{}, "GET", "https://localhost/", "localhost"},
		{"hostname wins", Options{Host: "a.example", Hostname: "b.example"}, "GET", "https://b.example/", "b.example"},
		{"port in Host when not 443", Options{Host: "h.example", Port: 8443}, "GET", "https://h.example:8443/", "h.example:8443"},
		{"port 443 stays out of Host", Options{Host: "h.example", Port: 443}, "GET", "https://h.example/", "h.example"},
		{"IPv6", Options{Host: "::1", Port: 8443}, "GET", "https://[::1]:8443/", "[::1]:8443"},
		{"IPv6 in brackets", Options{Host: "[::1]"}, "GET", "https://[::1]/", "[::1]"},
		{"method as given", Options{Method: "patch"}, "patch", "https://localhost/", "localhost"},
		{"extension method", Options{Method: "BREW"}, "BREW", "https://localhost/", "localhost"},
		{"query kept", Options{Path: "/index.html?page=12"}, "GET", "https://localhost/index.html?page=12", "localhost"},
		{"OPTIONS *", Options{Method: "OPTIONS", Path: "*"}, "OPTIONS", "https://localhost*", "localhost"},
		{"Host header given", Options{Headers: http.Header{"Host": {"virtual.example"}}}, "GET", "https://localhost/", "virtual.example"},
		{"international host name", Options{Host: "b\u00fccher.example", Port: 8443}, "GET", "https://xn--bcher-kva.example:8443/", "xn--bcher-kva.example:8443"},
		{"international Host header", Options{Headers: http.Header{"Host": {"b\u00fccher.example"}}}, "GET", "https://localhost/", "xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p.method != tt.method || p.urlString != tt.url || p.host != tt.host {
				t.Errorf("plan = %s %s Host %s, want %s %s Host %s", p.method, p.urlString, p.host, tt.method, tt.url, tt.host)
			}
		})
	}
}

func TestMETHODS(t *testing.T) {
	want := []string{"DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE"}
	if len(METHODS) != len(want) {
		t.Fatalf("METHODS = %q, want %q", METHODS, want)
	}
	for i := range want {
		if METHODS[i] != want[i] {
			t.Errorf("METHODS[%d] = %q, want %q", i, METHODS[i], want[i])
		}
	}
}
