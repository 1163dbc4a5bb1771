package acmecert

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/storage"
)

func TestRenewAt(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{NotBefore: start, NotAfter: start.Add(90 * 24 * time.Hour)}
	for _, tc := range []struct {
		before time.Duration
		want   time.Time
	}{
		{0, start.Add(60 * 24 * time.Hour)}, // a third of 90 days left
		{7 * 24 * time.Hour, start.Add(83 * 24 * time.Hour)},
		{90 * 24 * time.Hour, start},                           // the whole lifetime: due at once
		{100 * 24 * time.Hour, start.Add(60 * 24 * time.Hour)}, // past it: the default
	} {
		m := &Manager{cfg: Config{RenewBefore: tc.before}}
		if got := m.renewAt(leaf); !got.Equal(tc.want) {
			t.Errorf("renewAt with RenewBefore %v = %v, want %v", tc.before, got, tc.want)
		}
	}
}

func TestStorageKeys(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"https://acme-v02.api.letsencrypt.org/directory", "acme/acme-v02.api.letsencrypt.org-directory/sites/a.test/cert.pem"},
		{"https://127.0.0.1:14000/dir", "acme/127.0.0.1-14000-dir/sites/a.test/cert.pem"},
		{"https://CA.example/", "acme/ca.example/sites/a.test/cert.pem"},
	} {
		m, err := New(Config{Domains: []string{"a.test"}, DirectoryURL: tc.dir, Storage: storage.NewDir(t.TempDir())})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.StorageKey(); got != tc.want {
			t.Errorf("%s: key %s, want %s", tc.dir, got, tc.want)
		}
		if err := storage.CheckKey(m.lockName()); err != nil || !strings.HasPrefix(m.lockName(), "acme/") {
			t.Errorf("%s: lock name %s: %v", tc.dir, m.lockName(), err)
		}
	}
	if _, err := New(Config{Domains: []string{"a.test"}, DirectoryURL: "https://ca.test/dir", Storage: storage.NewDir(t.TempDir()), Email: "a b@c"}); err == nil {
		t.Error("an email with a space makes a storage key")
	}
}
