package storage_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/httpskit/httpskit/storage"
	"github.com/httpskit/httpskit/storage/storagetest"
)

func TestDirContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) (storage.Storage, storage.Storage) {
		root := filepath.Join(t.TempDir(), "store")
		return storage.NewDir(root), storage.NewDir(root)
	})
}

func TestDirModes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	d := storage.NewDir(root)
	if err := d.Put(context.Background(), "a/b/c.pem", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{
		root:                                   0o700 | fs.ModeDir,
		filepath.Join(root, "a"):               0o700 | fs.ModeDir,
		filepath.Join(root, "a", "b"):          0o700 | fs.ModeDir,
		filepath.Join(root, "a", "b", "c.pem"): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes through permission bits; use a path under a regular file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		err := storage.NewDir(f).Put(context.Background(), "k", []byte("x"))
		if err == nil {
			t.Fatal("Put under a regular file succeeded")
		}
		return
	}
	root := t.TempDir()
	os.Chmod(root, 0o500)
	defer os.Chmod(root, 0o700)
	err := storage.NewDir(filepath.Join(root, "sub")).Put(context.Background(), "k", []byte("x"))
	if err == nil {
		t.Fatal("Put into a read-only folder succeeded")
	}
}
