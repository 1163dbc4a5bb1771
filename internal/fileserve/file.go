package fileserve

import (
	"net/http"
	"os"
	"strings"
)

// ServeFile answers a GET or HEAD request with the regular file filename and
// reports true. For any other method it writes nothing and reports false, so
// that a router can try its next route.
//
// A missing or unreadable file, a directory, a device or a name holding a
// NUL byte gives 404 with the body "Not found.\n"; the name is never sent.
// filename is trusted (it comes from the program, not the request), so
// unlike [Dir.Serve] it may be absolute, contain "..", or name a dotfile.
//
// contentType "" means [ContentType](filename). The file is sent with
// http.ServeContent (Range, If-Modified-Since, HEAD, Content-Length) and
// X-Content-Type-Options: nosniff.
func ServeFile(w http.ResponseWriter, r *http.Request, filename, contentType string) bool {
	if !readable(r) {
		return false
	}
	if filename == "" || strings.IndexByte(filename, 0) >= 0 {
		notFound(w, r)
		return true
	}
	// Stat first: opening a FIFO would block.
	if info, err := os.Stat(filename); err != nil || !info.Mode().IsRegular() {
		notFound(w, r)
		return true
	}
	f, err := os.Open(filename)
	if err != nil {
		notFound(w, r)
		return true
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		notFound(w, r)
		return true
	}
	if contentType == "" {
		contentType = ContentType(filename)
	}
	serveContent(w, r, f, info.ModTime(), contentType)
	return true
}
