package https

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestRedirectRules(t *testing.T) {
	base := Options{Host: "a.test", Port: 8443, Method: "POST", Path: "/x/y?q", Auth: "u:p", ServerName: "sni.test",
		Headers: http.Header{"Authorization": {"Bearer t"}, "Cookie": {"c=1"}, "Content-Type": {"text/plain"}, "Content-Length": {"3"}, "X-Keep": {"1"}}}
	for _, tt := range []struct {
		name     string
		status   int
		loc      string
		ok       bool
		err      bool
		host     string
		port     int
		path     string
		method   string
		creds    bool // Auth, Authorization and Cookie kept
		withBody bool // Content-Length and Content-Type kept
	}{
		{"200 is no redirect", 200, "/z", false, false, "", 0, "", "", false, false},
		{"no Location", 302, "", false, false, "", 0, "", "", false, false},
		{"relative path", 307, "z?r=1", true, false, "a.test", 8443, "/x/z?r=1", "POST", true, true},
		{"absolute path", 308, "/z", true, false, "a.test", 8443, "/z", "POST", true, true},
		{"303 becomes GET", 303, "/z", true, false, "a.test", 8443, "/z", "GET", true, false},
		{"302 after POST becomes GET", 302, "/z", true, false, "a.test", 8443, "/z", "GET", true, false},
		{"301 after POST becomes GET", 301, "/z", true, false, "a.test", 8443, "/z", "GET", true, false},
		{"another host", 307, "https://b.test/z", true, false, "b.test", 0, "/z", "POST", false, true},
		{"another port", 307, "https://a.test:9443/z", true, false, "a.test", 9443, "/z", "POST", false, true},
		{"same host spelled absolute", 307, "https://A.test:8443/z#f", true, false, "A.test", 8443, "/z", "POST", true, true},
		{"no downgrade to http", 302, "http://a.test/z", false, true, "", 0, "", "", false, false},
		{"bad Location", 302, "https://a b/", false, true, "", 0, "", "", false, false},
	} {
		next, ok, err := Redirect(base, tt.status, tt.loc)
		if tt.err {
			wantRedirectError(t, tt.name, err)
			continue
		}
		if err != nil || ok != tt.ok {
			t.Errorf("%s: ok %v, err %v; want ok %v", tt.name, ok, err, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if next.Host != tt.host || next.Port != tt.port || next.Path != tt.path || next.Method != tt.method {
			t.Errorf("%s: %s %s:%d %s, want %s %s:%d %s", tt.name, next.Method, next.Host, next.Port, next.Path, tt.method, tt.host, tt.port, tt.path)
		}
		creds := next.Auth == "u:p" && next.Headers.Get("Authorization") != "" && next.Headers.Get("Cookie") != "" && next.ServerName != ""
		if creds != tt.creds {
			t.Errorf("%s: credentials kept %v, want %v (%+v)", tt.name, creds, tt.creds, next)
		}
		withBody := next.Headers.Get("Content-Length") != "" && next.Headers.Get("Content-Type") != ""
		if withBody != tt.withBody || next.Headers.Get("X-Keep") != "1" {
			t.Errorf("%s: body headers kept %v, want %v; X-Keep %q", tt.name, withBody, tt.withBody, next.Headers.Get("X-Keep"))
		}
	}
	if len(base.Headers) != 5 {
		t.Errorf("Redirect changed the caller's headers: %v", base.Headers)
	}
}

// wantRedirectError checks that the case name failed with ErrRedirect.
func wantRedirectError(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", name)
		return
	}
	wantKind(t, err, ErrRedirect)
}

// TestRedirectPlain: the opt-in to http:// Locations follows them as curl
// -L does, with Redirect's rules, and a change of scheme drops credentials.
func TestRedirectPlain(t *testing.T) {
	base := Options{Host: "a.test", Method: "POST", Path: "/x/y", Auth: "u:p",
		Headers: http.Header{"Authorization": {"Bearer t"}, "Content-Type": {"text/plain"}}}
	for _, tt := range []struct {
		name       string
		plain      bool // base sent as http://
		status     int
		loc        string
		err        bool
		nextPlain  bool
		host       string
		port       int
		path       string
		method     string
		creds      bool
		bodyHeader bool
	}{
		{"https to http", false, 307, "http://a.test/z", false, true, "a.test", 80, "/z", "POST", false, true},
		{"https to http, port given", false, 302, "http://a.test:8080/z", false, true, "a.test", 8080, "/z", "GET", false, false},
		{"http, relative", true, 307, "z", false, true, "a.test", 80, "/x/z", "POST", true, true},
		{"http, same host spelled :80", true, 308, "http://a.test:80/z", false, true, "a.test", 80, "/z", "POST", true, true},
		{"http to https, same host", true, 301, "https://a.test/z", false, false, "a.test", 0, "/z", "GET", false, false},
		{"https stays https", false, 303, "/z", false, false, "a.test", 443, "/z", "GET", true, false},
		{"another host over http", true, 307, "http://b.test/z", false, true, "b.test", 80, "/z", "POST", false, true},
		{"ftp", false, 302, "ftp://a.test/z", true, false, "", 0, "", "", false, false},
	} {
		next, nextPlain, ok, err := RedirectPlain(base, tt.plain, tt.status, tt.loc)
		if tt.err {
			wantRedirectError(t, tt.name, err)
			continue
		}
		if err != nil || !ok {
			t.Errorf("%s: ok %v, err %v", tt.name, ok, err)
			continue
		}
		if nextPlain != tt.nextPlain || next.Host != tt.host || next.Port != tt.port || next.Path != tt.path || next.Method != tt.method {
			t.Errorf("%s: plain %v %s %s:%d %s, want plain %v %s %s:%d %s", tt.name, nextPlain, next.Method, next.Host, next.Port, next.Path,
				tt.nextPlain, tt.method, tt.host, tt.port, tt.path)
		}
		if creds := next.Auth == "u:p" && next.Headers.Get("Authorization") != ""; creds != tt.creds {
			t.Errorf("%s: credentials kept %v, want %v", tt.name, creds, tt.creds)
		}
		if got := next.Headers.Get("Content-Type") != ""; got != tt.bodyHeader {
			t.Errorf("%s: Content-Type kept %v, want %v", tt.name, got, tt.bodyHeader)
		}
	}
	if _, _, err := Redirect(base, 302, "http://a.test/z"); err == nil {
		t.Error("Redirect followed an http:// Location")
	}
}

// TestRedirectFollow: with MaxRedirects the request follows redirects before
// its one 'response'; without, the redirect is the response.
func TestRedirectFollow(t *testing.T) {
	checkGoroutines(t)
	var s *server
	s = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusFound)
		case "/b":
			http.Redirect(w, r, "https://localhost:"+strconv.Itoa(s.Port)+"/c", http.StatusMovedPermanently)
		case "/see":
			io.ReadAll(r.Body)
			http.Redirect(w, r, "/c", http.StatusSeeOther)
		case "/keep":
			io.ReadAll(r.Body)
			http.Redirect(w, r, "/c", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/plain":
			http.Redirect(w, r, "http://localhost/", http.StatusFound)
		default:
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %s auth=%q body=%q", r.Method, r.Host, r.URL.Path, r.Header.Get("Authorization"), b)
		}
	}), serverConfig{})
	port := strconv.Itoa(s.Port)
	for _, tt := range []struct {
		name, method, path, body string
		max                      int
		want                     string // body, or the status of the response
		url                      string // the response's URL
		kind                     error
	}{
		{"off by default", "GET", "/a", "", 0, "302", "https://127.0.0.1:" + port + "/a", nil},
		{"two hops to another host", "GET", "/a", "", 2, `GET localhost:` + port + ` /c auth="" body=""`, "https://localhost:" + port + "/c", nil},
		{"one too many", "GET", "/a", "", 1, "", "", ErrRedirect},
		{"loop", "GET", "/loop", "", 5, "", "", ErrRedirect},
		{"no downgrade", "GET", "/plain", "", 5, "", "", ErrRedirect},
		{"303 after POST is a GET, credentials kept on the same host", "POST", "/see", "data", 5, `GET 127.0.0.1:` + port + ` /c auth="Basic dTpw" body=""`, "https://127.0.0.1:" + port + "/c", nil},
		{"307 without body", "DELETE", "/keep", "", 5, `DELETE 127.0.0.1:` + port + ` /c auth="Basic dTpw" body=""`, "https://127.0.0.1:" + port + "/c", nil},
		{"307 with a streamed body is the response", "PUT", "/keep", "data", 5, "307", "https://127.0.0.1:" + port + "/keep", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := s.opts(t, tt.method, tt.path)
			o.Auth, o.MaxRedirects = "u:p", tt.max
			r, err := Request(context.Background(), o, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := record(r, true)
			if tt.body != "" {
				if _, err := r.Write([]byte(tt.body)); err != nil {
					t.Fatal(err)
				}
			}
			r.End()
			events := rec.wait(t)
			if tt.kind != nil {
				wantKind(t, rec.Err(), tt.kind)
				if events != "socket,finish,error,close" {
					t.Errorf("events %s", events)
				}
				return
			}
			if strings.Replace(events, "data*,", "", 1) != "socket,finish,response,end,res.close,close" { // a 307 to a PUT has no body
				t.Errorf("events %s", events)
			}
			got := rec.Body()
			if rec.msg.StatusCode != 200 {
				got = strconv.Itoa(rec.msg.StatusCode)
			}
			if got != tt.want || rec.msg.URL != tt.url {
				t.Errorf("got %q from %s, want %q from %s", got, rec.msg.URL, tt.want, tt.url)
			}
			if tt.method != "POST" && rec.msg.Method != tt.method || tt.method == "POST" && rec.msg.Method != "GET" {
				t.Errorf("message method %s", rec.msg.Method)
			}
		})
	}
	_, err := Request(context.Background(), Options{MaxRedirects: -1}, nil)
	wantKind(t, err, ErrInvalidRequest)
}
