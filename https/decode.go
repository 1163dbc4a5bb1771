package https

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// acceptEncoding is the Accept-Encoding that Options.Decompress sends.
var acceptEncoding = []string{"gzip, zstd"}

// zstdMaxWindow bounds the memory a zstd stream may ask of the decoder, as
// RFC 9659 asks of HTTP: a server cannot make the client hold more.
const zstdMaxWindow = 8 << 20

// decodable reports whether the body of a response with header h is
// decoded under Options.Decompress, and by what: "gzip" or "zstd".
func decodable(h http.Header) string {
	ce := h["Content-Encoding"]
	if len(ce) != 1 {
		return "" // none, or several stacked: left as sent
	}
	switch enc := strings.ToLower(strings.TrimSpace(ce[0])); enc {
	case "gzip", "x-gzip":
		return "gzip"
	case "zstd":
		return "zstd"
	}
	return ""
}

// decodeResponse makes resp's body the decoded one when it is encoded with
// gzip or zstd: the Content-Encoding and Content-Length headers go (the
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
	zd  *zstd.Decoder
	err error // sticky error of the decoder's start
}

// errCorrupt marks a body whose encoding is broken (ErrMalformedResponse).
var errCorrupt = errors.New("content encoding is corrupt")

func (b *decodedBody) Read(p []byte) (int, error) {
	if b.dec == nil && b.err == nil {
		switch b.enc {
		case "gzip":
			zr, err := gzip.NewReader(b.raw)
			if err != nil {
				b.err = decodeError(err)
				return 0, b.err
			}
			b.dec = zr
		case "zstd":
			zd, err := zstd.NewReader(b.raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxWindow(zstdMaxWindow))
			if err != nil {
				b.err = err
				return 0, err
			}
			b.dec, b.zd = zd, zd
		}
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
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), isDecoderError(err):
		return errors.Join(errCorrupt, err)
	}
	return err
}

// isDecoderError reports whether err comes from a decoder rather than the
// connection under it.
func isDecoderError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "flate: ") || strings.HasPrefix(msg, "zstd: ") ||
		errors.Is(err, zstd.ErrMagicMismatch) || errors.Is(err, zstd.ErrWindowSizeExceeded) ||
		errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrBlockTooSmall)
}

func (b *decodedBody) Close() error {
	if b.zd != nil {
		b.zd.Close()
	}
	return b.raw.Close()
}
