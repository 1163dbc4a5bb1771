//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestGetOutputSpecialFiles: -o writes through to what is already there. A FIFO (standing in
// for /dev/null, which a test must not risk) is written to, not replaced by a regular file; a
// symbolic link keeps pointing at its target, which gets the body; an existing file keeps its
// permissions; a new file gets 0644.
func TestGetOutputSpecialFiles(t *testing.T) {
	site := startFetchSite(t)
	dir := t.TempDir()

	fifo := filepath.Join(dir, "fifo")
	must(t, syscall.Mkfifo(fifo, 0o600))
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until get opens it for writing
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if _, _, err := runFetchTest(runGet, "--ca", site.caFile, "-o", fifo, site.url+"/hello"); err != nil {
		t.Fatalf("get -o FIFO: %v", err)
	}
	// Checked first: a FIFO replaced by a file would leave the reader waiting forever.
	if fi, err := os.Lstat(fifo); err != nil {
		t.Fatal(err)
	} else if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("after get -o FIFO: mode %v; want the FIFO still there", fi.Mode())
	}
	if b := <-got; b != "hello, world\n" {
		t.Errorf("FIFO reader got %q", b)
	}

	target := filepath.Join(dir, "target.txt")
	must(t, os.WriteFile(target, []byte("old"), 0o640))
	link := filepath.Join(dir, "link.txt")
	must(t, os.Symlink(target, link))
	if _, _, err := runFetchTest(runGet, "--ca", site.caFile, "-o", link, site.url+"/hello"); err != nil {
		t.Fatalf("get -o symlink: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil {
		t.Fatal(err)
	} else if fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("after get -o symlink: mode %v; want the link kept", fi.Mode())
	}
	if b, _ := os.ReadFile(target); string(b) != "hello, world\n" {
		t.Errorf("link target holds %q", b)
	}
	if fi, err := os.Stat(target); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o640 {
		t.Errorf("link target mode %v; want 0640 kept", fi.Mode().Perm())
	}

	fresh := filepath.Join(dir, "fresh.txt")
	if _, _, err := runFetchTest(runGet, "--ca", site.caFile, "-o", fresh, site.url+"/hello"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v; want 0644", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("directory holds %d entries, want fifo, target, link and fresh (no temporary left)", len(entries))
	}
}
