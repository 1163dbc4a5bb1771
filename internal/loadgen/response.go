package loadgen

import (
	"bytes"
	"errors"
	"io"
)

// Limits of the response parser. A response past them is a protocol error,
// so a broken or hostile server cannot make the load generator grow.
const (
	initialBufSize = 4 << 10  // per connection, grown only for long headers
	maxHeaderBytes = 64 << 10 // status line and header fields together
	maxLineBytes   = 8 << 10  // one chunk-size or trailer line
)

// errTruncated is a connection that ended in the middle of a response.
var errTruncated = errors.New("loadgen: response truncated")

// protocolError is a response that does not parse as HTTP/1.1.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "loadgen: bad response: " + e.msg }

func errProtocol(msg string) error { return &protocolError{msg} }

// response is what the load generator keeps of one response.
type response struct {
	status int
	close  bool // the server closes the connection after this response
}

// respReader reads HTTP/1.1 responses from one connection. It keeps no
// header or body: fields it needs are picked out while scanning, the body is
// counted and dropped. Bytes after a response stay buffered for the next.
type respReader struct {
	r          io.Reader
	buf        []byte
	start, end int  // unread bytes are buf[start:end]
	began      bool // a byte of the response being read has arrived
}

func newRespReader(r io.Reader) *respReader {
	return &respReader{r: r, buf: make([]byte, initialBufSize)}
}

// read reads one whole response (skipping 1xx interim responses). head says
// the request was HEAD, so the response has no body. A connection closed
// before any byte of the response is io.EOF; closed later, errTruncated.
func (rr *respReader) read(head bool) (response, error) {
	rr.began = rr.start < rr.end
	for {
		res, err := rr.readOne(head)
		if err != nil || res.status >= 200 {
			return res, err
		}
	}
}

func (rr *respReader) readOne(head bool) (response, error) {
	var res response
	total := 0
	line, err := rr.line(maxHeaderBytes, true)
	if err != nil {
		return res, err
	}
	total += len(line)
	http10, status, ok := parseStatusLine(line)
	if !ok {
		return res, errProtocol("bad status line")
	}
	res.status = status
	res.close = http10
	var (
		length  int64 = -1
		chunked bool
	)
	for {
		line, err := rr.line(maxHeaderBytes-total, false)
		if err != nil {
			return res, err
		}
		total += len(line) + 2
		if total > maxHeaderBytes {
			return res, errProtocol("header too large")
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return res, errProtocol("bad header line")
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		switch {
		case equalFold(name, "content-length"):
			n, ok := parseLength(value)
			if !ok || length >= 0 && n != length {
				return res, errProtocol("bad Content-Length")
			}
			length = n
		case equalFold(name, "transfer-encoding"):
			if !hasLastToken(value, "chunked") {
				return res, errProtocol("unsupported Transfer-Encoding")
			}
			chunked = true
		case equalFold(name, "connection"):
			if hasToken(value, "close") {
				res.close = true
			} else if http10 && hasToken(value, "keep-alive") {
				res.close = false
			}
		}
	}
	switch {
	case status == 101:
		return res, errProtocol("unexpected 101 Switching Protocols")
	case status < 200:
		return res, nil // interim: its header only
	case head || status == 204 || status == 304:
		return res, nil
	case chunked:
		return res, rr.chunkedBody()
	case length >= 0:
		return res, rr.discard(length)
	}
	res.close = true // the body runs to the end of the connection
	for {
		rr.start, rr.end = 0, 0
		if err := rr.fill(); err == io.EOF {
			return res, nil
		} else if err != nil {
			return res, err
		}
	}
}

// chunkedBody drops a chunked body, its extensions and trailers.
func (rr *respReader) chunkedBody() error {
	for {
		line, err := rr.line(maxLineBytes, false)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseHex(bytes.TrimRight(line, " \t"))
		if !ok {
			return errProtocol("bad chunk size")
		}
		if size == 0 {
			break
		}
		if err := rr.discard(size); err != nil {
			return err
		}
		if line, err := rr.line(2, false); err != nil {
			return err
		} else if len(line) != 0 {
			return errProtocol("chunk data longer than its size")
		}
	}
	for total := 0; ; { // trailer fields, up to an empty line
		line, err := rr.line(maxLineBytes, false)
		if err != nil {
			return err
		}
		if total += len(line); total > maxHeaderBytes {
			return errProtocol("trailer too large")
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// line returns the next CRLF-terminated line without its CRLF; it is valid
// until the next call. A line longer than limit is a protocol error. first
// says this is the first line of a response, where a clean end of the
// connection is io.EOF rather than errTruncated.
func (rr *respReader) line(limit int, first bool) ([]byte, error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(rr.buf[rr.start+scanned:rr.end], '\n'); i >= 0 {
			end := rr.start + scanned + i
			if end == rr.start || rr.buf[end-1] != '\r' {
				return nil, errProtocol("line not ended by CRLF")
			}
			line := rr.buf[rr.start : end-1]
			rr.start = end + 1
			return line, nil
		}
		scanned = rr.end - rr.start
		if scanned > limit {
			return nil, errProtocol("header or line too long")
		}
		if err := rr.fill(); err != nil {
			if err == io.EOF && !(first && scanned == 0) {
				err = errTruncated
			}
			return nil, err
		}
	}
}

// discard drops n body bytes.
func (rr *respReader) discard(n int64) error {
	for n > 0 {
		if rr.start == rr.end {
			rr.start, rr.end = 0, 0
			if err := rr.fill(); err != nil {
				if err == io.EOF {
					err = errTruncated
				}
				return err
			}
		}
		k := min(n, int64(rr.end-rr.start))
		rr.start += int(k)
		n -= k
	}
	return nil
}

// fill reads more bytes after buf[end], first moving unread bytes to the
// front and, when the buffer is full, doubling it (line limits keep it
// under twice the header limit).
func (rr *respReader) fill() error {
	if rr.start > 0 {
		rr.end = copy(rr.buf, rr.buf[rr.start:rr.end])
		rr.start = 0
	}
	if rr.end == len(rr.buf) {
		if len(rr.buf) >= 2*maxHeaderBytes { // unreachable: line limits come first
			return errProtocol("header or line too long")
		}
		rr.buf = append(rr.buf, make([]byte, len(rr.buf))...)
	}
	for range 100 {
		n, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += n
		if n > 0 {
			rr.began = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// parseStatusLine parses "HTTP/1.x NNN reason".
func parseStatusLine(b []byte) (http10 bool, status int, ok bool) {
	if len(b) < 12 || string(b[:7]) != "HTTP/1." || b[8] != ' ' || len(b) > 12 && b[12] != ' ' {
		return false, 0, false
	}
	switch b[7] {
	case '0':
		http10 = true
	case '1':
	default:
		return false, 0, false
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return false, 0, false
		}
		status = status*10 + int(c-'0')
	}
	return http10, status, status >= 100
}

// parseLength parses a Content-Length value.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseHex parses a chunk size.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

// equalFold reports whether b equals the lower-case ASCII string s, ignoring
// case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token (any case).
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if equalFold(bytes.Trim(item, " \t"), token) {
			return true
		}
	}
	return false
}

// hasLastToken reports whether the last item of the comma-separated list v
// is token.
func hasLastToken(v []byte, token string) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return equalFold(bytes.Trim(v, " \t"), token)
}
