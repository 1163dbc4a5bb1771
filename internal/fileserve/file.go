package fileserve

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// ServeFile answers a GET or HEAD request with the regular file filename and
// reports true. For any other method it writes nothing and reports false, so
// that a router can try its next route. Otherwise it is [Send] with status 200.
func ServeFile(w http.ResponseWriter, r *http.Request, filename, contentType string) bool {
	if !readable(r) {
		return false
	}
	Send(w, r, filename, contentType, http.StatusOK)
	return true
}

// Send answers r, whatever its method, with the regular file filename and the
// given status; HEAD gets the headers only.
//
// A missing or unreadable file, a directory, a device or a name holding a
// NUL byte gives 404 with the body "Not found.\n"; the name is never sent.
// filename is trusted (it comes from the program, not the request), so
// unlike [Dir.Serve] it may be absolute, contain "..", or name a dotfile.
//
// contentType "" means [ContentType](filename). With status 200 the file is
// sent with http.ServeContent (Range, If-Modified-Since, If-None-Match with
// its ETag, Content-Length; see etag.go);
// with another status it is sent whole, with Content-Length. Both add
// X-Content-Type-Options: nosniff.
func Send(w http.ResponseWriter, r *http.Request, filename, contentType string, status int) {
	if filename == "" || strings.IndexByte(filename, 0) >= 0 {
		notFound(w, r)
		return
	}
	// Stat first: opening a FIFO would block.
	if info, err := os.Stat(filename); err != nil || !info.Mode().IsRegular() {
		notFound(w, r)
		return
	}
	f, err := os.Open(filename)
	if err != nil {
		notFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		notFound(w, r)
		return
	}
	if contentType == "" {
		contentType = ContentType(filename)
	}
	if status == http.StatusOK {
		w.Header()["Etag"] = statETagValue(info)
		serveContent(w, r, f, info.ModTime(), contentType)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.Copy(w, quietFile{f})
	}
}
