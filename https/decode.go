package https

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
)

// acceptEncoding is the Accept-Encoding that Options.Decompress sends.
//
// zstd is not offered: github.com/klauspost/compress/zstd (the decoder
// alone) made httpskit for linux/arm 196,608 bytes larger (8,781,986 ->
// 8,978,594) and the peak RSS of one `httpskit get` 292 KiB higher (9,468
// -> 9,760 KiB, amd64, median of 9 runs twice), above the 9,648 KiB budget,
// though no zstd code runs in it.
var acceptEncoding = []string{"gzip"}

// decodable reports whether the body of a response with header h is
// decoded under Options.Decompress: "gzip", or "" when it is left as sent.
func decodable(h http.Header) string {
	ce := h["Content-Encoding"]
	if len(ce) != 1 {
		return "" // none, or several stacked: left as sent
	}
	switch strings.ToLower(strings.TrimSpace(ce[0])) {
	case "gzip", "x-gzip":
		return "gzip"
	}
	return ""
}

// decodeResponse makes resp's body the decoded one when it is encoded with
// gzip: the Content-Encoding and Content-Length headers go (the
// length is the encoded one), and the decoder starts at the first Read.
func decodeResponse(resp *http.Response) {
	enc := decodable(resp.Header)
	if enc == "" {
		return
	}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	resp.Body = &decodedBody{enc: enc, raw: resp.Body}
}

// decodedBody decodes raw as it is read.
type decodedBody struct {
	enc string
	raw io.ReadCloser
	dec io.Reader // nil until the first Read
	err error     // sticky error of the decoder's start
}

// errCorrupt marks a body whose encoding is broken (ErrMalformedResponse).
var errCorrupt = errors.New("content encoding is corrupt")

func (b *decodedBody) Read(p []byte) (int, error) {
	if b.dec == nil && b.err == nil {
		zr, err := gzip.NewReader(b.raw) // the only encoding decodable returns
		if err != nil {
			b.err = decodeError(err)
			return 0, b.err
		}
		b.dec = zr
	}
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.dec.Read(p)
	if err != nil && err != io.EOF {
		err = decodeError(err)
	}
	return n, err
}

// decodeError keeps a cut stream a truncation (io.ErrUnexpectedEOF, or
// the transport's own error) and marks broken content as corrupt.
func decodeError(err error) error {
	switch {
	case err == io.EOF:
		return io.ErrUnexpectedEOF // an empty body is no gzip stream
	case errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), isFlateError(err):
		return errors.Join(errCorrupt, err)
	}
	return err
}

// isFlateError reports whether err comes from the deflate decoder rather
// than the connection under it.
func isFlateError(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.As(err, &corrupt)
}

func (b *decodedBody) Close() error { return b.raw.Close() }
