package fileserve

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// notFoundBody is the whole body of every 404: it never names the file.
const notFoundBody = "Not found.\n"

// readable reports whether r asks for content: GET or HEAD.
func readable(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead
}

// notFound answers 404 with a fixed plain-text body (none for HEAD).
func notFound(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(notFoundBody)))
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		io.WriteString(w, notFoundBody)
	}
}

// serveContent sends the open regular file f through http.ServeContent,
// which handles HEAD, Range, conditional requests (with the ETag set in w's
// header, if any) and Content-Length.
func serveContent(w http.ResponseWriter, r *http.Request, f io.ReadSeeker, modTime time.Time, contentType string) {
	h := w.Header()
	h["Content-Type"] = typeValue(contentType)
	h["X-Content-Type-Options"] = nosniff
	http.ServeContent(w, r, "", modTime, quietFile{f})
}

// nosniff is the X-Content-Type-Options value, shared by every response: net/http and
// the router only read header values, never change them in place.
var nosniff = []string{"nosniff"}

// typeValues are the header values of the built-in types, shared as nosniff is.
var typeValues = func() map[string][]string {
	m := map[string][]string{"application/octet-stream": {"application/octet-stream"}}
	for _, t := range builtinTypes {
		m[t] = []string{t}
	}
	return m
}()

// typeValue is the Content-Type header value for t.
func typeValue(t string) []string {
	if v, ok := typeValues[t]; ok {
		return v
	}
	return []string{t}
}

// quietFile hides f's errors, which name its absolute path, from
// http.ServeContent, which may send a Seek error's text to the client.
type quietFile struct{ f io.ReadSeeker }

var (
	errRead = errors.New("fileserve: read failed")
	errSeek = errors.New("fileserve: seek failed")
)

func (q quietFile) Read(p []byte) (int, error) {
	n, err := q.f.Read(p)
	if err != nil && err != io.EOF {
		err = errRead
	}
	return n, err
}

func (q quietFile) Seek(offset int64, whence int) (int64, error) {
	n, err := q.f.Seek(offset, whence)
	if err != nil {
		err = errSeek
	}
	return n, err
}
