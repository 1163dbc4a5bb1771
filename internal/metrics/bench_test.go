package metrics

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/server"
)

// BenchmarkObserveRequest is the hot path alone: one request recorded. 0 allocs/op.
func BenchmarkObserveRequest(b *testing.B) {
	c := New(nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.ObserveRequest("HTTP/1.1", 200, 13, 300*time.Microsecond)
		}
	})
}

// BenchmarkRequestDone is what a package server listener adds per request with a Collector
// as its Observer: the call with its RequestInfo. 0 allocs/op.
func BenchmarkRequestDone(b *testing.B) {
	c := New(nil)
	var obs server.Observer = c
	info := server.RequestInfo{Request: httptest.NewRequest("GET", "/", nil), Status: 200, Bytes: 13, Duration: 300 * time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		obs.RequestDone(info)
	}
}

// BenchmarkKeepAlive is one small GET per op over an HTTP/1.1 keep-alive TLS connection on
// loopback to a package server listener, with and without every hook of a Collector (its
// Observer, ConnState and ErrorLog): the figure users see. Compare with -count and benchstat;
// the machine's noise is larger than the difference.
func BenchmarkKeepAlive(b *testing.B) {
	ca, err := certs.NewCA("bench CA", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := ca.IssueTLS(certs.LeafOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, withMetrics := range []bool{false, true} {
		name := "bare"
		if withMetrics {
			name = "metrics"
		}
		b.Run(name, func(b *testing.B) {
			s := server.New(server.Config{})
			err := s.RouteFunc("GET", "/", func(_ string, _ *server.Request, res *server.Response) error {
				return res.WriteText(http.StatusOK, "hello, world\n", nil)
			})
			if err != nil {
				b.Fatal(err)
			}
			hc := server.HTTPSConfig{HTTPConfig: server.HTTPConfig{Host: "127.0.0.1"}, TLSConfig: &tls.Config{Certificates: []tls.Certificate{leaf}}}
			c := New(nil)
			if withMetrics {
				hc.Observer = c
			}
			l, err := s.AddHTTPSServer(hc)
			if err != nil {
				b.Fatal(err)
			}
			if withMetrics {
				hs := l.Original()
				hs.ConnState = c.ConnState
				hs.ErrorLog = c.ErrorLog(nil)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer s.Stop(context.Background())
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
			defer client.CloseIdleConnections()
			url := "https://" + l.Addr() + "/"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
