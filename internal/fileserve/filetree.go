package fileserve

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// fileTree is what a Dir reads from: a directory opened as an [os.Root] (OpenDir) or any
// [fs.FS] (OpenFS). Names are slash-separated, cleaned and relative ("." is the top).
type fileTree interface {
	Open(name string) (file, error)
	Stat(name string) (fs.FileInfo, error)
	Close() error
}

// file is an open file or directory of a tree: *os.File has every method.
type file interface {
	io.ReadSeeker
	Stat() (fs.FileInfo, error)
	ReadDir(n int) ([]fs.DirEntry, error)
	Close() error
}

// rootTree reads through an os.Root, which refuses names leading outside it.
type rootTree struct{ root *os.Root }

func (t rootTree) Open(name string) (file, error) {
	f, err := t.root.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (t rootTree) Stat(name string) (fs.FileInfo, error) { return t.root.Stat(name) }
func (t rootTree) Close() error                          { return t.root.Close() }

// fsTree reads an fs.FS, such as an embed.FS.
type fsTree struct{ fsys fs.FS }

func (t fsTree) Open(name string) (file, error) {
	f, err := t.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	return fsFile{f}, nil
}

func (t fsTree) Stat(name string) (fs.FileInfo, error) { return fs.Stat(t.fsys, name) }
func (t fsTree) Close() error                          { return nil }

var (
	errNoSeek    = errors.New("fileserve: file cannot seek")
	errNoReadDir = errors.New("fileserve: directory cannot be listed")
)

// fsFile gives an fs.File the methods of file; a file of an fs.FS that cannot seek (or a
// directory that cannot list) fails those calls.
type fsFile struct{ fs.File }

func (f fsFile) Seek(offset int64, whence int) (int64, error) {
	if s, ok := f.File.(io.Seeker); ok {
		return s.Seek(offset, whence)
	}
	return 0, errNoSeek
}

func (f fsFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d, ok := f.File.(fs.ReadDirFile); ok {
		return d.ReadDir(n)
	}
	return nil, errNoReadDir
}
