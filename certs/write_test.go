package certs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// dirNames lists dir, to see that no temporary file is left.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFiles(t *testing.T) {
	ca := testCA(t)
	certPEM, keyPEM := testIssue(t, ca, LeafOptions{})
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")

	// Twice: the second call replaces the files.
	for i := range 2 {
		if i == 1 {
			certPEM, keyPEM = testIssue(t, ca, LeafOptions{Hosts: []string{"second.test"}})
		}
		if err := WriteFiles(certFile, certPEM, keyFile, keyPEM); err != nil {
			t.Fatalf("WriteFiles #%d = %v", i+1, err)
		}
		for _, f := range []struct {
			name string
			data []byte
			mode fs.FileMode
		}{{certFile, certPEM, 0o644}, {keyFile, keyPEM, 0o600}} {
			got, err := os.ReadFile(f.name)
			if err != nil || !bytes.Equal(got, f.data) {
				t.Errorf("WriteFiles #%d: %s holds other data (%v)", i+1, f.name, err)
			}
			if m := fileMode(t, f.name); m != f.mode {
				t.Errorf("WriteFiles #%d: mode of %s = %v, want %v", i+1, f.name, m, f.mode)
			}
		}
		if got, want := dirNames(t, dir), []string{"cert.pem", "key.pem"}; !slices.Equal(got, want) {
			t.Errorf("WriteFiles #%d: dir holds %q, want %q", i+1, got, want)
		}
	}
	c, err := LoadX509KeyPair(certFile, keyFile)
	if err != nil || c.Leaf.DNSNames[0] != "second.test" {
		t.Errorf("LoadX509KeyPair after WriteFiles = %v", err)
	}
}

func TestWriteFilesOneFile(t *testing.T) {
	ca := testCA(t)
	certPEM, keyPEM := testIssue(t, ca, LeafOptions{})
	dir := t.TempDir()

	both := filepath.Join(dir, "both.pem")
	if err := WriteFiles(both, certPEM, both, keyPEM); err != nil {
		t.Fatal(err)
	}
	if m := fileMode(t, both); m != 0o600 {
		t.Errorf("mode of a combined file = %v, want 0600", m)
	}
	if _, err := LoadX509KeyPair(both, both); err != nil {
		t.Errorf("LoadX509KeyPair(combined file) = %v", err)
	}

	only := filepath.Join(dir, "ca.pem")
	if err := WriteFiles(only, ca.CertPEM, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCertPool(only); err != nil {
		t.Errorf("LoadCertPool(certificate only) = %v", err)
	}
	if got, want := dirNames(t, dir), []string{"both.pem", "ca.pem"}; !slices.Equal(got, want) {
		t.Errorf("dir holds %q, want %q", got, want)
	}
}

func TestWriteFilesErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, blocker, "inside", []byte("x"))

	tests := []struct {
		name              string
		certFile, keyFile string
	}{
		{"no names", "", ""},
		{"missing directory", filepath.Join(dir, "nodir", "cert.pem"), filepath.Join(dir, "key.pem")},
		{"certificate onto a directory", blocker, filepath.Join(dir, "key.pem")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteFiles(tt.certFile, []byte("cert"), tt.keyFile, []byte("key"))
			if err == nil {
				t.Fatalf("WriteFiles(%q, %q) = nil, want an error", tt.certFile, tt.keyFile)
			}
			if got, want := dirNames(t, dir), []string{"blocker"}; !slices.Equal(got, want) {
				t.Errorf("after the error dir holds %q, want %q", got, want)
			}
			if got, want := dirNames(t, blocker), []string{"inside"}; !slices.Equal(got, want) {
				t.Errorf("after the error blocker holds %q, want %q", got, want)
			}
		})
	}

	err := WriteFiles(filepath.Join(dir, "nodir", "cert.pem"), nil, "", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFiles(missing dir) = %v, want fs.ErrNotExist", err)
	}
}
