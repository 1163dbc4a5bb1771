package https

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/httpskit/httpskit/certs"
)

// BenchmarkPlanTLS is the per-request cost of checking options that name a CA, a client
// certificate and its key as files, as a program sending many requests pays it.
func BenchmarkPlanTLS(b *testing.B) {
	ca, err := certs.NewCA("bench CA", 0)
	if err != nil {
		b.Fatal(err)
	}
	c, k, err := ca.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	opts := Options{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem"), Path: "/x"}
	for name, data := range map[string][]byte{opts.CA: ca.CertPEM, opts.Cert: c, opts.Key: k} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := newPlan(opts)
		if err != nil {
			b.Fatal(err)
		}
		transportFor(p.tls)
	}
}
