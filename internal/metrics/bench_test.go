package metrics

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// nullWriter is the least ResponseWriter: what is left to measure is the wrapping.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nullWriter) WriteHeader(int)             {}

var body13 = []byte("hello, world\n")

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

// BenchmarkHandler is a handler writing 13 bytes, bare and wrapped by Collector.Handler, with
// no network: the wrapper's whole cost (the recorder, two clock reads, the counters).
func BenchmarkHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body13) })
	r := httptest.NewRequest("GET", "/", nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", h}, {"metrics", New(nil).Handler(h)}} {
		b.Run(bc.name, func(b *testing.B) {
			w := &nullWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkKeepAlive is one small GET per op over an HTTP/1.1 keep-alive TLS connection on
// loopback, with and without every hook of a Collector: the figure users see. Compare with
// -count and benchstat; the machine's noise is larger than the difference.
func BenchmarkKeepAlive(b *testing.B) {
	ca, err := certs.NewCA("bench CA", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := ca.IssueTLS(certs.LeafOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body13) })
	for _, withMetrics := range []bool{false, true} {
		name := "bare"
		if withMetrics {
			name = "metrics"
		}
		b.Run(name, func(b *testing.B) {
			c := New(nil)
			ts := httptest.NewUnstartedServer(h)
			ts.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
			if withMetrics {
				ts.Config.Handler = c.Handler(h)
				ts.Config.ConnState = c.ConnState
				ts.Config.ErrorLog = c.ErrorLog(nil)
			}
			ts.StartTLS()
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
			defer client.CloseIdleConnections()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(ts.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
