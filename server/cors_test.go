package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORS: preflights from allowed origins are answered with the CORS headers and 204;
// hostile origins, methods and header lists get 204 without them; actual requests from
// allowed origins are marked and answered by the next route.
func TestCORS(t *testing.T) {
	s := New(Config{})
	must(t, s.CORS("/api/*", CORSOptions{
		Origins:       []string{"https://app.example.com", "http://localhost:3000"},
		Methods:       []string{"GET", "PUT"},
		Headers:       []string{"Content-Type", "X-Token"},
		ExposeHeaders: []string{"X-Total"},
		Credentials:   true,
	}))
	must(t, s.CORS("/open/*", CORSOptions{Origins: []string{"*"}, Headers: []string{"*"}}))
	must(t, s.RouteFunc("*", "/api/*|/open/*", func(_ string, req *Request, res *Response) error {
		return res.WriteText(0, "answer "+req.Method(), nil)
	}))
	pre := func(origin, method, headers string) http.Header {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return h
	}
	for _, tg := range startTargets(t, s) {
		// Allowed preflight.
		resp, body := tg.do(t, "OPTIONS", "/api/x", nil, pre("https://app.example.com", "PUT", "X-Token, content-type"))
		h := resp.Header
		if resp.StatusCode != 204 || body != "" || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			h.Get("Access-Control-Allow-Methods") != "GET, PUT" || h.Get("Access-Control-Allow-Headers") != "x-token, content-type" ||
			h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Max-Age") != "300" || !strings.Contains(h.Get("Vary"), "Origin") {
			t.Errorf("%s: allowed preflight = %d %q %v", tg.name, resp.StatusCode, body, h)
		}
		// Refused preflights: 204, and no Allow header at all.
		for _, bad := range []struct {
			name string
			hdr  http.Header
		}{
			{"other origin", pre("https://evil.example", "GET", "")},
			{"origin prefix trick", pre("https://app.example.com.evil.example", "GET", "")},
			{"origin with path", pre("https://app.example.com/x", "GET", "")},
			{"null origin", pre("null", "GET", "")},
			{"method not allowed", pre("https://app.example.com", "DELETE", "")},
			{"header not allowed", pre("https://app.example.com", "GET", "X-Token, Cookie")},
			{"header list not tokens", pre("https://app.example.com", "GET", "X-Token, a b")},
			{"huge header list", pre("https://app.example.com", "GET", strings.Repeat("x-token,", 500)+"x-token")},
			{"empty names", pre("https://app.example.com", "GET", ",,,")},
			{"huge origin", pre("https://"+strings.Repeat("a", 20000)+".example", "GET", "")},
		} {
			resp, _ := tg.do(t, "OPTIONS", "/api/x", nil, bad.hdr)
			if resp.StatusCode != 204 {
				t.Errorf("%s: %s preflight = %d, want 204", tg.name, bad.name, resp.StatusCode)
			}
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-Allow") {
					t.Errorf("%s: %s preflight has %s: %q", tg.name, bad.name, k, resp.Header.Get(k))
				}
			}
		}
		// Actual requests.
		resp, body = tg.do(t, "GET", "/api/x", nil, http.Header{"Origin": {"http://localhost:3000"}})
		if resp.StatusCode != 200 || body != "answer GET" || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
			resp.Header.Get("Access-Control-Expose-Headers") != "X-Total" || resp.Header.Get("Vary") != "Origin" {
			t.Errorf("%s: GET from an allowed origin = %d %q %v", tg.name, resp.StatusCode, body, resp.Header)
		}
		resp, body = tg.do(t, "GET", "/api/x", nil, http.Header{"Origin": {"https://evil.example"}})
		if resp.StatusCode != 200 || body != "answer GET" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: GET from another origin = %d %q %v; want the answer without CORS headers", tg.name, resp.StatusCode, body, resp.Header)
		}
		resp, _ = tg.do(t, "OPTIONS", "/api/x", nil, nil) // not a preflight: the next route
		if resp.StatusCode != 200 {
			t.Errorf("%s: plain OPTIONS = %d, want the next route's 200", tg.name, resp.StatusCode)
		}
		// "*": answered with "*", never the origin; any header.
		resp, _ = tg.do(t, "OPTIONS", "/open/y", nil, pre("https://whoever.example", "POST", "X-Anything"))
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Headers") != "x-anything" ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: preflight to \"*\" = %d %v", tg.name, resp.StatusCode, resp.Header)
		}
		resp, _ = tg.do(t, "GET", "/open/y", nil, http.Header{"Origin": {"https://whoever.example"}})
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Vary") != "" {
			t.Errorf("%s: GET to \"*\" = %v, want Allow-Origin * and no Vary", tg.name, resp.Header)
		}
	}
}

// TestCORSOptionsErrors: bad options are refused when the route is added.
func TestCORSOptionsErrors(t *testing.T) {
	s := New(Config{})
	for _, tt := range []struct {
		name string
		opt  CORSOptions
		want string
	}{
		{"no origins", CORSOptions{}, "no origins"},
		{"star and credentials", CORSOptions{Origins: []string{"*"}, Credentials: true}, "cannot go with Credentials"},
		{"star among others", CORSOptions{Origins: []string{"*", "https://a.example"}}, "stands alone"},
		{"origin with path", CORSOptions{Origins: []string{"https://a.example/app"}}, "invalid origin"},
		{"origin without scheme", CORSOptions{Origins: []string{"a.example"}}, "invalid origin"},
		{"trailing slash", CORSOptions{Origins: []string{"https://a.example/"}}, "invalid origin"},
		{"bad method", CORSOptions{Origins: []string{"*"}, Methods: []string{"GE T"}}, "invalid method"},
		{"bad header", CORSOptions{Origins: []string{"*"}, Headers: []string{"X:Y"}}, "invalid header"},
		{"any header with credentials", CORSOptions{Origins: []string{"https://a.example"}, Headers: []string{"*"}, Credentials: true}, "cannot go with Credentials"},
	} {
		if err := s.CORS("/x", tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CORS(%s) = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	if n := len(s.Routes()); n != 0 {
		t.Errorf("failed CORS calls added %d routes", n)
	}
}

// TestRouteHandler: an http.Handler route, a ServeMux mounted below a prefix, HEAD on its
// GET patterns, and body limits.
func TestRouteHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("user " + r.PathValue("id")))
	})
	s := New(Config{})
	must(t, s.RouteHandler("*", "/api/*", http.StripPrefix("/api", mux)))
	must(t, s.RouteHandler("GET", "/plain", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	if err := s.RouteHandler("GET", "/nil", nil); err == nil {
		t.Error("RouteHandler(nil) = nil, want an error")
	}
	for _, tg := range startTargets(t, s) {
		if resp, body := tg.get(t, "/api/users/7"); resp.StatusCode != 200 || body != "user 7" {
			t.Errorf("%s GET /api/users/7 = %d %q", tg.name, resp.StatusCode, body)
		}
		if resp, body := tg.do(t, "HEAD", "/api/users/7", nil, nil); resp.StatusCode != 200 || body != "" {
			t.Errorf("%s HEAD /api/users/7 = %d %q", tg.name, resp.StatusCode, body)
		}
		if resp, _ := tg.get(t, "/api/nope"); resp.StatusCode != 404 {
			t.Errorf("%s GET /api/nope = %d, want the mux's 404", tg.name, resp.StatusCode)
		}
		if resp, body := tg.get(t, "/plain"); resp.StatusCode != 200 || body != "" {
			t.Errorf("%s GET /plain = %d %q, want 200 and no body", tg.name, resp.StatusCode, body)
		}
	}
}
