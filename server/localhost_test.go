package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ipv6Loopback skips the test when [::1] cannot be bound here.
func ipv6Loopback(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
}

// TestLocalhostBothFamilies: a listener on "localhost" (the default host) answers on
// 127.0.0.1 and on [::1] at the same port, over plain HTTP, HTTPS/1.1 and HTTP/2, whatever
// /etc/hosts says localhost is; Stop closes both sockets.
func TestLocalhostBothFamilies(t *testing.T) {
	ipv6Loopback(t)
	p := getPKI(t)
	s := New(Config{})
	must(t, s.RouteFunc("GET", "*", func(_ string, req *Request, res *Response) error {
		return res.WriteText(200, "hello from "+req.Original().Context().Value(http.LocalAddrContextKey).(net.Addr).String(), nil)
	}))
	hl, err := s.AddHTTPServer(HTTPConfig{Port: RandomPort})
	must(t, err)
	sl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Port: RandomPort}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	must(t, err)
	must(t, s.Start(context.Background()))
	plain := &http.Client{Transport: &http.Transport{}}
	h1, h2 := clientFor(p.pool, false), clientFor(p.pool, true)
	defer func() {
		for _, c := range []*http.Client{plain, h1, h2} {
			c.CloseIdleConnections()
		}
	}()
	for _, ip := range []string{"127.0.0.1", "::1"} {
		for _, tt := range []struct {
			scheme string
			l      *Listener
			c      *http.Client
		}{{"http", hl, plain}, {"https", sl, h1}, {"https", sl, h2}} {
			u := tt.scheme + "://" + net.JoinHostPort(ip, strconv.Itoa(tt.l.Port())) + "/"
			resp, err := tt.c.Get(u)
			if err != nil {
				t.Errorf("GET %s: %v", u, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := "hello from " + net.JoinHostPort(ip, strconv.Itoa(tt.l.Port())); string(body) != want {
				t.Errorf("GET %s = %q, want %q", u, body, want)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, s.Stop(ctx))
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if c, err := net.Dial("tcp", net.JoinHostPort(ip, strconv.Itoa(sl.Port()))); err == nil {
			c.Close()
			t.Errorf("[%s]:%d still accepts after Stop", ip, sl.Port())
		}
	}
}

// TestLocalhostPortTakenOnIPv6: a fixed port that another program holds on [::1] is a
// start error naming it, and nothing is left listening on 127.0.0.1.
func TestLocalhostPortTakenOnIPv6(t *testing.T) {
	ipv6Loopback(t)
	busy, err := net.Listen("tcp6", "[::1]:0")
	must(t, err)
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	s := New(Config{})
	_, err = s.AddHTTPServer(HTTPConfig{Port: port})
	must(t, err)
	err = s.Start(context.Background())
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), fmt.Sprintf("localhost:%d", port)) {
		t.Fatalf("Start with [::1]:%d taken = %v, want address in use naming localhost:%d", port, err, port)
	}
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("127.0.0.1:%d left bound after the failed start: %v", port, err)
	}
	ln.Close()
}
