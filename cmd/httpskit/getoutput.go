package main

import (
	"compress/gzip"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/https"
)

// output writes the final response: headers (-i, -I, -v), then the body to
// standard output or a file, with a progress meter on stderr when the body
// does not go to the terminal and stderr is one.
func (tr *transfer) output(res *https.IncomingMessage) error {
	defer res.Close()
	f := tr.f
	if f.verbose {
		writeHead(tr.stderr, res, "< ")
	}
	if f.include || f.head {
		if err := writeHead(tr.stdout, res, ""); err != nil {
			return failure(errWrite, "cannot write to standard output: %v", err)
		}
	}
	if f.fail && res.StatusCode >= 400 {
		return failure(errHTTPStatus, "the server answered %d %s", res.StatusCode, res.StatusMessage)
	}
	if f.head {
		_, err := io.Copy(io.Discard, res)
		return err
	}
	name := f.output
	if f.remoteName {
		name = path.Base(strings.SplitN(tr.last.opts.Path, "?", 2)[0])
		if name == "/" || name == "." || name == "" {
			name = "index.html"
		}
	}
	if name == "-" {
		name = ""
	}
	tr.expectedLength = -1
	if n, err := strconv.ParseInt(res.Headers.Get("Content-Length"), 10, 64); err == nil {
		tr.expectedLength = n
	}
	var src io.Reader = &countingReader{r: res, n: &tr.stats.size}
	if !f.silent && isTerminal(tr.stderr) && (name != "" || !isTerminal(tr.stdout.w)) {
		p := newProgress(tr.stderr, tr.expectedLength)
		defer p.done()
		src = io.TeeReader(src, p)
	}
	// --compressed decodes here, not with https.Options.Decompress: as curl,
	// -w size_download counts the bytes as they came (compressed), and -i
	// and -D show Content-Encoding and Content-Length as sent; Decompress
	// drops both headers and its body is the decoded one.
	if f.compressed && strings.EqualFold(res.Headers.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(src)
		if err != nil {
			return failure(errBadEncoding, "--compressed: the gzip body does not decode: %v", err)
		}
		defer gz.Close()
		src = gunzipErrors{gz}
	}
	if name == "" {
		_, err := io.Copy(writeErrors{tr.stdout, "standard output"}, src)
		return err
	}
	if err := tr.createDirs(name); err != nil {
		return err
	}
	return writeFileAtomic(name, src)
}

// writeErrors marks the errors of w as write failures (exit 23), apart from
// the errors of reading the body.
type writeErrors struct {
	w    io.Writer
	name string
}

func (w writeErrors) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = failure(errWrite, "cannot write to %s: %v", w.name, err)
	}
	return n, err
}

// gunzipErrors marks the gzip errors of a body (not those of reading it)
// as a bad content encoding (exit 61).
type gunzipErrors struct{ r io.Reader }

func (g gunzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF && !isFetchFailure(err) {
		err = failure(errBadEncoding, "--compressed: the gzip body does not decode: %v", err)
	}
	return n, err
}

// isFetchFailure reports whether err came from reading the response (an
// *https.Error), not from decoding it.
func isFetchFailure(err error) bool {
	var he *https.Error
	return errors.As(err, &he)
}

// countingReader counts the bytes read, for -w size_download and the
// --max-time message.
type countingReader struct {
	r io.Reader
	n interface{ Add(int64) int64 }
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// writeFileAtomic writes src to a temporary file next to name and renames
// it into place once complete; on failure nothing is left behind. A name
// that is a symbolic link is written through (its target is replaced). A
// name that exists and is not a regular file (/dev/null, a FIFO, a
// terminal) is written to directly: renaming over it would replace the
// device with a file.
func writeFileAtomic(name string, src io.Reader) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		if !fi.Mode().IsRegular() {
			return writeSpecial(name, src)
		}
		mode = fi.Mode().Perm()
		if target, err := filepath.EvalSymlinks(name); err == nil {
			name = target
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".part-*")
	if err != nil {
		return failure(errWrite, "cannot write %s: %v", name, unwrapPath(err))
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(writeErrors{tmp, name}, src); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return failure(errWrite, "cannot write %s: %v", name, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return failure(errWrite, "cannot write %s: %v", name, unwrapPath(err))
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return failure(errWrite, "cannot write %s: %v", name, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the operation and path of a *fs.PathError, which the
// message names already.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// writeSpecial copies src into an existing file that is not a regular
// file, such as /dev/null, without creating, truncating or replacing it.
func writeSpecial(name string, src io.Reader) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return failure(errWrite, "cannot write %s: %v", name, unwrapPath(err))
	}
	if _, err := io.Copy(writeErrors{f, name}, src); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return failure(errWrite, "cannot write %s: %v", name, unwrapPath(err))
	}
	return nil
}

// writeHead prints the status line and the headers, sorted, each line
// prefixed, and returns the first write error.
func writeHead(w io.Writer, res *https.IncomingMessage, prefix string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%sHTTP/%s %d %s\r\n", prefix, res.HTTPVersion, res.StatusCode, res.StatusMessage)
	writeHeaderLines(&b, res.Headers, prefix, "\r\n")
	fmt.Fprintf(&b, "%s\r\n", prefix)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHeaderLines writes each value of h as a line "PREFIXName: value" ended by eol,
// names sorted.
func writeHeaderLines(w io.Writer, h http.Header, prefix, eol string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s%s", prefix, k, v, eol)
		}
	}
}

// verboseRequest prints, as curl -v, the connection, TLS details and the
// request head to w.
func verboseRequest(w io.Writer, r *https.ClientRequest, o https.Options) {
	r.OnSocket(func(c net.Conn) {
		fmt.Fprintf(w, "* connected to %s (%s)\n", o.Host, c.RemoteAddr())
		if tc, ok := c.(*tls.Conn); ok {
			st := tc.ConnectionState()
			fmt.Fprintf(w, "* %s, %s, ALPN %q\n", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol)
			if len(st.PeerCertificates) > 0 {
				leaf := st.PeerCertificates[0]
				fmt.Fprintf(w, "* server certificate: %s, issuer %s, expires %s\n",
					leaf.Subject, leaf.Issuer, leaf.NotAfter.Format(time.RFC3339))
			}
		}
		method := o.Method
		if method == "" {
			method = "GET"
		}
		fmt.Fprintf(w, "> %s %s\n", method, o.Path)
		writeHeaderLines(w, o.Headers, "> ", "\n")
		fmt.Fprintln(w, ">")
	})
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line progress bar with rate and ETA; it counts the
// bytes written to it.
type progress struct {
	w            io.Writer
	total, n     int64
	start, drawn time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.drawn) >= 200*time.Millisecond {
		p.drawn = now
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.n) / elapsed
	}
	line := fmt.Sprintf("%s  %s/s", byteSize(float64(p.n)), byteSize(rate))
	if p.total > 0 {
		frac := min(float64(p.n)/float64(p.total), 1)
		const width = 30
		bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
		eta := "--:--"
		if rate > 0 {
			left := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
			eta = fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
		}
		line = fmt.Sprintf("%3.0f%% [%s] %s of %s  %s/s  ETA %s", frac*100, bar,
			byteSize(float64(p.n)), byteSize(float64(p.total)), byteSize(rate), eta)
	}
	fmt.Fprintf(p.w, "\r%-78s", line)
}

// done draws the final state and ends the line.
func (p *progress) done() {
	p.draw()
	fmt.Fprintln(p.w)
}

// byteSize formats n bytes as B, KiB, MiB or GiB.
func byteSize(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
