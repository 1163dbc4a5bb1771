package main

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/httpskit/httpskit/server"
)

// serve's logs: the access log (one line per request, on by default, --quiet turns it off)
// and, with -v, the server's own events, both on stderr as text or JSON (--log-format).

// logFlush is how long an access log line may wait in the buffer before it is written.
const logFlush = 100 * time.Millisecond

// newLogger returns a logger writing to w in format "text" or "json".
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// newAccessLogger is newLogger for the access log: the same lines, from
// server.AccessLogHandler, which writes them at a quarter of the CPU.
func newAccessLogger(w io.Writer, format string) *slog.Logger {
	return slog.New(server.AccessLogHandler(w, format == "json"))
}

// batchWriter buffers lines for w and writes them at most logFlush after the first one
// came, so that a busy access log costs one write system call per batch instead of one per
// request. It is safe for concurrent use; Close writes what is left.
type batchWriter struct {
	mu      sync.Mutex
	buf     *bufio.Writer
	pending bool
	closed  bool
}

func newBatchWriter(w io.Writer) *batchWriter {
	return &batchWriter{buf: bufio.NewWriterSize(w, 32<<10)}
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed { // after Close: written through at once
		n, err := b.buf.Write(p)
		if err == nil {
			err = b.buf.Flush()
		}
		return n, err
	}
	n, err := b.buf.Write(p)
	if !b.pending {
		b.pending = true
		time.AfterFunc(logFlush, b.flush)
	}
	return n, err
}

func (b *batchWriter) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	b.buf.Flush()
}

// Close writes the buffered lines; later writes go out at once.
func (b *batchWriter) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.buf.Flush()
}
