package fileserve

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
)

// ErrNotDir is returned by [OpenDir] when the name is not a directory.
var ErrNotDir = errors.New("fileserve: not a directory")

// Options configures a [Dir]. The zero value serves files and index.html
// pages only: no listings, no dotfiles.
type Options struct {
	// Listing makes a directory without an index.html answer with an HTML
	// list of its entries. Zero: such a directory is 404.
	Listing bool
	// ShowHidden serves and lists names starting with '.'. Zero: any path
	// segment starting with '.', except ".well-known", is 404 and such
	// entries are left out of listings.
	ShowHidden bool
	// SPA (single-page application) answers a GET or HEAD for a path that
	// names nothing, and whose last segment has no extension (no '.'), with
	// the top directory's index.html and status 200, so that a client-side
	// router gets its deep links. A missing "/app.js" stays 404. Zero: 404.
	SPA bool
	// Compress sends compressible files (see compress.go) compressed when
	// the client accepts it: a precompressed sibling (name.br, name.zst,
	// name.gz) when present, else gzip made on the fly. Zero: files are
	// sent as they are.
	Compress bool
}

// Dir serves the files below one directory and never anything outside it.
// Paths are resolved through an [os.Root], so "..", absolute names and
// symbolic links that lead outside the directory are refused by the
// operating system layer as well as by Dir's own checks.
//
// A Dir is safe for concurrent use. The zero Dir serves nothing (every
// request is 404); use [OpenDir].
type Dir struct {
	root     fileTree
	opt      Options
	etags    sync.Map // name → ETag, for files without a modification time (etag.go)
	gz       gzipCache
	siblings siblingCache
}

// OpenDir opens the directory dir for serving. dir is resolved once: if it
// is later moved, the Dir keeps serving it from its new place.
//
// The error wraps [fs.ErrNotExist] when dir does not exist and is
// [ErrNotDir] when it is not a directory; errors name dir, and are for the
// program, never for clients. The caller must [Dir.Close] the Dir.
func OpenDir(dir string, opt Options) (*Dir, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("fileserve: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fileserve: %w", err)
	}
	return &Dir{root: rootTree{root}, opt: opt}, nil
}

// OpenFS serves the files of fsys, such as an [embed.FS], as OpenDir serves a
// directory: the same name checks, and nothing outside fsys. Links are
// followed as fsys follows them (os.DirFS follows links out of its directory:
// use OpenDir for a directory on disk). A file of fsys that cannot seek is 404.
// Files without a modification time (embed.FS has none) get no Last-Modified
// and an ETag from a hash of their content, made once: such an fsys must not
// change while it is served. Close does nothing to fsys.
func OpenFS(fsys fs.FS, opt Options) (*Dir, error) {
	if fsys == nil {
		return nil, errors.New("fileserve: nil fs.FS")
	}
	return &Dir{root: fsTree{fsys}, opt: opt}, nil
}

// Close releases the directory. Requests served after Close are 404.
func (d *Dir) Close() error {
	if d == nil || d.root == nil {
		return nil
	}
	return d.root.Close()
}

// Serve answers a GET or HEAD request for sub and reports true. For any
// other method it writes nothing and reports false, so that a router can
// try its next route.
//
// sub is the percent-decoded rest of the URL path below the route, such as
// "", "/", "a/b.txt" or "/a/b.txt"; leading slashes are dropped, so "//etc"
// names "etc" inside the directory. sub "" or "/" is the directory itself.
//
// The answer is 404 with the body "Not found.\n" (never a path) when sub has
// a ".." segment (split on '/' and '\'), holds a NUL byte, names a hidden
// file (see [Options]), a missing file, something that is neither a file nor
// a directory, or a file with a trailing slash; or when the operating system
// refuses the name because it leads outside the directory.
//
// A file is sent with http.ServeContent (Range, If-Modified-Since, HEAD,
// Content-Length), the type from [ContentType], and
// X-Content-Type-Options: nosniff.
//
// A directory other than the top one, asked for without a trailing slash in
// r.URL.Path, is 301 to that path plus "/" (the query kept). Then it is its
// index.html; else, with Options.Listing, an HTML listing; else 404.
func (d *Dir) Serve(w http.ResponseWriter, r *http.Request, sub string) bool {
	if !readable(r) {
		return false
	}
	name, ok := d.clean(sub)
	if !ok || d.root == nil {
		notFound(w, r)
		return true
	}
	info, err := d.root.Stat(name)
	switch {
	case err != nil && d.opt.SPA && path.Ext(name) == "" && d.serveIndex(w, r, "."):
	case err != nil:
		notFound(w, r)
	case info.IsDir():
		d.serveDir(w, r, name)
	case info.Mode().IsRegular() && !strings.HasSuffix(sub, "/"):
		d.serveFile(w, r, name)
	default:
		notFound(w, r)
	}
	return true
}

// clean turns sub into a name for the os.Root, or reports false when sub
// must be refused.
func (d *Dir) clean(sub string) (string, bool) {
	if strings.IndexByte(sub, 0) >= 0 {
		return "", false
	}
	name := strings.TrimLeft(sub, "/")
	isSep := func(r rune) bool { return r == '/' || r == '\\' }
	for seg := range strings.FieldsFuncSeq(name, isSep) {
		if seg == ".." {
			return "", false
		}
		if !d.opt.ShowHidden && seg[0] == '.' && seg != "." && seg != ".well-known" {
			return "", false
		}
	}
	if name == "" {
		return ".", true
	}
	return path.Clean(name), true
}

// hidden reports whether a directory entry is left out of listings.
func (d *Dir) hidden(name string) bool {
	return !d.opt.ShowHidden && strings.HasPrefix(name, ".") && name != ".well-known"
}

// serveFile sends the regular file name, compressed when Options.Compress
// and the client allow it, with its ETag.
func (d *Dir) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	f, err := d.root.Open(name)
	if err != nil {
		notFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() { // replaced since the Stat
		notFound(w, r)
		return
	}
	ctype := ContentType(name)
	etag, ok := d.etagValue(name, info, f)
	if !ok {
		notFound(w, r)
		return
	}
	if d.opt.Compress && d.sendCompressed(w, r, name, info, f, ctype, etag[0]) {
		return
	}
	w.Header()["Etag"] = etag
	serveContent(w, r, f, info.ModTime(), ctype)
}

// serveIndex sends the index.html of the directory name and reports
// whether there was one.
func (d *Dir) serveIndex(w http.ResponseWriter, r *http.Request, name string) bool {
	index := path.Join(name, "index.html")
	if info, err := d.root.Stat(index); err != nil || !info.Mode().IsRegular() {
		return false
	}
	d.serveFile(w, r, index)
	return true
}

// serveDir answers for the directory name.
func (d *Dir) serveDir(w http.ResponseWriter, r *http.Request, name string) {
	if name != "." && !strings.HasSuffix(r.URL.Path, "/") {
		redirectSlash(w, r)
		return
	}
	if d.serveIndex(w, r, name) {
		return
	}
	if !d.opt.Listing {
		notFound(w, r)
		return
	}
	d.serveListing(w, r, name)
}

// redirectSlash answers 301 to r.URL.Path + "/", keeping the query. A
// path that is not absolute (a handler below http.StripPrefix) gets a
// relative Location that resolves to the same place.
func redirectSlash(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	var loc string
	if strings.HasPrefix(p, "/") {
		loc = (&url.URL{Path: p + "/"}).EscapedPath()
		// "//host" or "/\host" would send a browser to another site; '\'
		// is escaped, so collapse the leading slashes.
		loc = "/" + strings.TrimLeft(loc, "/")
	} else {
		loc = "./" + url.PathEscape(path.Base(p)) + "/"
	}
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusMovedPermanently)
}
