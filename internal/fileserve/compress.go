package fileserve

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Compression (Options.Compress). A file is sent compressed when all hold:
//
//   - its type is compressible: text/*, JavaScript, JSON, XML, SVG, WebAssembly, and the
//     other types of compressibleTypes; images, fonts in woff/woff2, archives, audio and
//     video are already compressed and are sent as they are;
//   - the request has no Range header: a range always applies to the file as it is, never
//     to a compressed form (RFC 9110 section 14.1.1);
//   - the client accepts a coding by Accept-Encoding (q-values honoured; "*" covers the
//     codings not named; malformed entries are skipped; past maxAcceptEntries entries the
//     rest of the header is ignored);
//   - the file has at least MinCompressSize bytes (smaller ones are sent as they are, without
//     looking for siblings: three failed opens would cost more than the bytes saved);
//   - a precompressed sibling exists for an accepted coding, name.br, name.zst or name.gz,
//     a regular file in the same directory, tried in the order of the client's q-values
//     (ties: br, zstd, gzip; which siblings exist is remembered with the directory's
//     modification time, see siblingCache); or else gzip is accepted and the file has at most
//     MaxCompressSize bytes, and it is gzipped on the fly (the result is kept in a small
//     cache keyed by name and ETag).
//
// Every response for a compressible file carries "Vary: Accept-Encoding", compressed or
// not, so that shared caches keep the encodings apart. A compressed response has its own
// ETag (etag.go) and answers HEAD and conditional requests; http.ServeContent sends no
// Content-Length with a Content-Encoding (net/http frames the body itself).

const (
	// MinCompressSize is the smallest file gzipped on the fly: below it the gzip header
	// and trailer cost more than they save.
	MinCompressSize = 1024
	// MaxCompressSize is the largest file gzipped on the fly (it is compressed in memory);
	// larger files are compressed only through a precompressed sibling.
	MaxCompressSize = 8 << 20
	// maxAcceptEntries bounds the Accept-Encoding entries looked at.
	maxAcceptEntries = 32
	// gzipCacheBytes bounds the compressed bodies kept by one Dir.
	gzipCacheBytes = 16 << 20
)

// compressibleTypes are the media types, without parameters, worth compressing besides text/*.
var compressibleTypes = map[string]bool{
	"application/javascript":        true,
	"application/json":              true,
	"application/ld+json":           true,
	"application/manifest+json":     true,
	"application/xml":               true,
	"application/xhtml+xml":         true,
	"application/rss+xml":           true,
	"application/atom+xml":          true,
	"application/wasm":              true,
	"application/vnd.ms-fontobject": true,
	"image/svg+xml":                 true,
	"image/x-icon":                  true,
	"image/bmp":                     true,
	"font/ttf":                      true,
	"font/otf":                      true,
}

// compressible reports whether a file of type ctype is worth compressing.
func compressible(ctype string) bool {
	mt, _, _ := strings.Cut(ctype, ";")
	mt = strings.TrimSpace(mt)
	return strings.HasPrefix(mt, "text/") || compressibleTypes[mt]
}

// varyAcceptEncoding is the Vary value of compressible files, shared as nosniff is.
var varyAcceptEncoding = []string{"Accept-Encoding"}

// coding is a content coding the Dir can send, in the server's order of preference.
type coding struct {
	name, ext string
}

var codings = [...]coding{{"br", ".br"}, {"zstd", ".zst"}, {"gzip", ".gz"}}

// acceptedCodings parses Accept-Encoding header values and returns the q-value, in
// thousandths, of each of codings (0: not acceptable).
func acceptedCodings(values []string) [len(codings)]int {
	var q [len(codings)]int
	var named [len(codings)]bool
	star := 0
	entries := 0
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if entries++; entries > maxAcceptEntries {
				break
			}
			name, params, _ := strings.Cut(item, ";")
			name = strings.TrimSpace(name)
			qv, ok := parseQ(params)
			if !ok || name == "" {
				continue // malformed: as if absent
			}
			if name == "*" {
				star = qv
				continue
			}
			if strings.EqualFold(name, "x-gzip") {
				name = "gzip"
			}
			for i, c := range codings {
				if strings.EqualFold(name, c.name) {
					q[i], named[i] = qv, true
				}
			}
		}
	}
	for i := range q {
		if !named[i] {
			q[i] = star
		}
	}
	return q
}

// parseQ reads the parameters of one Accept-Encoding entry (";q=0.8"). No q parameter
// means 1000; a q-value that is not 0, 1, or 0./1. with at most three digits is malformed.
func parseQ(params string) (int, bool) {
	params = strings.TrimSpace(params)
	if params == "" {
		return 1000, true
	}
	k, v, ok := strings.Cut(params, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
		return 0, false
	}
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 5 || (v[0] != '0' && v[0] != '1') {
		return 0, false
	}
	n := int(v[0]-'0') * 1000
	if len(v) > 1 {
		if v[1] != '.' {
			return 0, false
		}
		scale := 100
		for _, c := range v[2:] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n += int(c-'0') * scale
			scale /= 10
		}
	}
	if n > 1000 {
		return 0, false
	}
	return n, true
}

// sendCompressed answers r with a compressed form of the open regular file f (name, its
// info, type and ETag) and reports true, or sets Vary and reports false when the file is to
// be sent as it is.
func (d *Dir) sendCompressed(w http.ResponseWriter, r *http.Request, name string, info fs.FileInfo, f file, ctype, etag string) bool {
	if !compressible(ctype) {
		return false
	}
	h := w.Header()
	if v := h["Vary"]; len(v) == 0 {
		h["Vary"] = varyAcceptEncoding
	} else {
		h["Vary"] = append(v[:len(v):len(v)], "Accept-Encoding")
	}
	ae := r.Header["Accept-Encoding"]
	if len(ae) == 0 || r.Header.Get("Range") != "" || info.Size() < MinCompressSize {
		return false
	}
	q := acceptedCodings(ae)
	tried := [len(codings)]bool{}
	has := d.siblings.of(d.root, name)
	for {
		best := -1
		for i := range codings {
			if !tried[i] && q[i] > 0 && (best < 0 || q[i] > q[best]) {
				best = i
			}
		}
		if best < 0 {
			return false
		}
		tried[best] = true
		c := codings[best]
		if has[best] && d.sendSibling(w, r, name+c.ext, c.name, ctype) {
			return true
		}
		if c.name == "gzip" && info.Size() <= MaxCompressSize {
			body, ok := d.gz.get(name, etag, f)
			if !ok {
				return false
			}
			h["Content-Encoding"] = []string{"gzip"}
			h["Etag"] = []string{codingETag(etag, "gzip")}
			serveContent(w, r, bytes.NewReader(body), info.ModTime(), ctype)
			return true
		}
	}
}

// sendSibling sends the precompressed file sib, if it is a regular file, as the coding c of
// a file of type ctype. sib is a cleaned name checked by Dir.clean plus a fixed suffix, so it
// stays in the same directory as the file.
func (d *Dir) sendSibling(w http.ResponseWriter, r *http.Request, sib, c, ctype string) bool {
	f, err := d.root.Open(sib)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	etag, ok := d.etag(sib, info, f)
	if !ok {
		return false
	}
	h := w.Header()
	h["Content-Encoding"] = []string{c}
	h["Etag"] = []string{codingETag(etag, c)}
	serveContent(w, r, f, info.ModTime(), ctype)
	return true
}

// siblingCache remembers which precompressed siblings each file has, with the modification
// time of its directory (adding, removing or renaming a file in it changes that time), so
// that a compressible file without siblings costs one stat of its directory per request
// instead of a failed open per coding. A tree whose directories have no time (an embed.FS)
// never changes, and its entries stay. At most siblingCacheSize names are kept; when full
// it starts over.
type siblingCache struct {
	mu sync.Mutex
	m  map[string]siblingEntry
}

type siblingEntry struct {
	dirMod time.Time
	has    [len(codings)]bool
}

const siblingCacheSize = 4096

// of reports which of name's siblings (name.br, name.zst, name.gz) are regular files of t.
// When the directory cannot be read it reports all of them, and the opens decide.
func (c *siblingCache) of(t fileTree, name string) [len(codings)]bool {
	all := [len(codings)]bool{true, true, true}
	di, err := t.Stat(path.Dir(name))
	if err != nil {
		return all
	}
	mod := di.ModTime()
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && e.dirMod.Equal(mod) {
		return e.has
	}
	e = siblingEntry{dirMod: mod}
	for i, cd := range codings {
		fi, err := t.Stat(name + cd.ext)
		e.has[i] = err == nil && fi.Mode().IsRegular()
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= siblingCacheSize {
		c.m = map[string]siblingEntry{}
	}
	c.m[name] = e
	c.mu.Unlock()
	return e.has
}

// gzipCache keeps files gzipped on the fly, by name and ETag, up to gzipCacheBytes in all;
// when full it starts over.
type gzipCache struct {
	mu    sync.Mutex
	m     map[string]gzipEntry
	bytes int
}

type gzipEntry struct {
	etag string
	body []byte
}

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// get returns the gzipped content of f, whose name and ETag are given.
func (c *gzipCache) get(name, etag string, f io.Reader) ([]byte, bool) {
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && e.etag == etag {
		return e.body, true
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, err := io.Copy(zw, io.LimitReader(f, MaxCompressSize+1))
	if err == nil {
		err = zw.Close()
	}
	gzipWriters.Put(zw)
	if err != nil {
		return nil, false
	}
	body := buf.Bytes()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+len(body) > gzipCacheBytes {
		c.m, c.bytes = map[string]gzipEntry{}, 0
	}
	if old, ok := c.m[name]; ok {
		c.bytes -= len(old.body)
	}
	if len(body) <= gzipCacheBytes {
		c.m[name] = gzipEntry{etag, body}
		c.bytes += len(body)
	}
	return body, true
}
