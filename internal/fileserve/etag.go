package fileserve

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"strconv"
	"unsafe"
)

// How ETags are made. Every file served gets a strong ETag, which
// http.ServeContent compares with If-None-Match (304 Not Modified) and
// If-Range, beside If-Modified-Since:
//
//   - A file with a modification time: its time in Unix nanoseconds and its
//     size, both in hexadecimal, "<mtime>-<size>" in quotes, as nginx does
//     with seconds. Rewriting a file changes its time, so its ETag.
//   - A file without one (an embed.FS has none): "h" and the first 16 bytes
//     of the SHA-256 of its content in hexadecimal, computed on its first
//     request and kept while the Dir is open (the fs.FS must not change).
//   - A compressed representation: the ETag of the file sent (the
//     precompressed sibling, or the file itself when compressed on the fly)
//     with "-br", "-zstd" or "-gzip" before the closing quote, so that a
//     cache never takes one encoding for another.

// statETag is the ETag of a file with a modification time.
func statETag(info fs.FileInfo) string {
	return statETagValue(info)[0]
}

// etagValue holds an ETag header value and its bytes, so that making one costs a single
// allocation per response.
type etagValue struct {
	buf [40]byte // '"' + 16 hex digits + '-' + 16 hex digits + '"' at most
	v   [1]string
}

// statETagValue is statETag as a header value ([]string of one).
func statETagValue(info fs.FileInfo) []string {
	e := new(etagValue)
	b := append(e.buf[:0], '"')
	b = strconv.AppendInt(b, info.ModTime().UnixNano(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, info.Size(), 16)
	b = append(b, '"')
	e.v[0] = unsafe.String(&b[0], len(b)) // e.buf is never written again
	return e.v[:]
}

// etag returns the ETag of the open regular file f named name; false when
// its content could not be read to hash it. f is left at offset 0.
func (d *Dir) etag(name string, info fs.FileInfo, f file) (string, bool) {
	if !info.ModTime().IsZero() {
		return statETag(info), true
	}
	if v, ok := d.etags.Load(name); ok {
		return v.(string), true
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", false
	}
	tag := `"h` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	d.etags.Store(name, tag)
	return tag, true
}

// etagValue is etag as a header value.
func (d *Dir) etagValue(name string, info fs.FileInfo, f file) ([]string, bool) {
	if !info.ModTime().IsZero() {
		return statETagValue(info), true
	}
	tag, ok := d.etag(name, info, f)
	return []string{tag}, ok
}

// codingETag is the ETag of a representation in the content coding c.
func codingETag(tag, c string) string {
	return tag[:len(tag)-1] + "-" + c + `"`
}
