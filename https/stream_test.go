package https

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// streamBytes is the size of the streaming tests: $HTTPSKIT_STREAM_BYTES,
// else 64 MiB (16 MiB with -short). Run the full GiB once with
//
//	HTTPSKIT_STREAM_BYTES=1073741824 go test -run TestStream -v ./https/
func streamBytes(t *testing.T) int64 {
	if v := os.Getenv("HTTPSKIT_STREAM_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("HTTPSKIT_STREAM_BYTES=%q: want a positive integer", v)
		}
		return n
	}
	if testing.Short() {
		return 16 << 20
	}
	return 64 << 20
}

// heapCeiling is how much HeapInuse may grow while streaming, whatever the
// size: nothing may hold the body whole.
const heapCeiling = 16 << 20

// memWatch samples HeapInuse while a stream runs.
type memWatch struct {
	base, peak, alloc0 uint64
	start              time.Time
}

func newMemWatch() *memWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &memWatch{base: ms.HeapInuse, peak: ms.HeapInuse, alloc0: ms.TotalAlloc, start: time.Now()}
}

func (w *memWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peak = max(w.peak, ms.HeapInuse)
}

func (w *memWatch) check(t *testing.T, what string, n int64) {
	t.Helper()
	w.sample()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	d := time.Since(w.start)
	growth := int64(w.peak) - int64(w.base)
	t.Logf("%s %d bytes in %v (%.0f MB/s); HeapInuse peak +%.1f MiB, TotalAlloc +%.0f MiB",
		what, n, d.Round(time.Millisecond), float64(n)/d.Seconds()/1e6, float64(growth)/(1<<20),
		float64(ms.TotalAlloc-w.alloc0)/(1<<20))
	if growth > heapCeiling {
		t.Errorf("%s: HeapInuse grew by %d bytes, more than %d: the body is being held", what, growth, heapCeiling)
	}
}

// sampleEvery is how often (in bytes) the streams sample memory.
const sampleEvery = 8 << 20

func TestStreamUpload(t *testing.T) {
	checkGoroutines(t)
	n := streamBytes(t)
	counter := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, strconv.FormatInt(got, 10))
	})
	forBothProtocols(t, counter, func(t *testing.T, s *server, h2 bool) {
		for _, withLength := range []bool{false, true} {
			o := s.opts(t, "POST", "/")
			what := "upload chunked"
			if withLength {
				o.Headers = http.Header{"Content-Length": {strconv.FormatInt(n, 10)}}
				what = "upload with Content-Length"
			}
			w := newMemWatch()
			r, err := Request(context.Background(), o, nil)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			for sent := int64(0); sent < n; {
				chunk := buf[:min(int64(len(buf)), n-sent)]
				if _, err := r.Write(chunk); err != nil {
					t.Fatal(err)
				}
				if sent/sampleEvery != (sent+int64(len(chunk)))/sampleEvery {
					w.sample()
				}
				sent += int64(len(chunk))
			}
			if err := r.End(); err != nil {
				t.Fatal(err)
			}
			m, err := r.Response()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(m)
			if err != nil || string(b) != strconv.FormatInt(n, 10) {
				t.Fatalf("server counted %q, %v; want %d", b, err, n)
			}
			w.check(t, what, n)
		}
	})
}

func TestStreamDownload(t *testing.T) {
	checkGoroutines(t)
	n := streamBytes(t)
	source := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		buf := make([]byte, 64<<10)
		for sent := int64(0); sent < n; {
			k, err := w.Write(buf[:min(int64(len(buf)), n-sent)])
			if err != nil {
				return
			}
			sent += int64(k)
		}
	})
	forBothProtocols(t, source, func(t *testing.T, s *server, h2 bool) {
		t.Run("Read", func(t *testing.T) {
			w := newMemWatch()
			r, err := Get(context.Background(), s.opts(t, "GET", "/"), nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Response()
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			var got int64
			for {
				k, err := m.Read(buf)
				if got/sampleEvery != (got+int64(k))/sampleEvery {
					w.sample()
				}
				got += int64(k)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got != n {
				t.Fatalf("read %d bytes, want %d", got, n)
			}
			w.check(t, "download Read", n)
		})
		t.Run("OnData", func(t *testing.T) {
			w := newMemWatch()
			var got int64
			end := make(chan struct{})
			_, err := Get(context.Background(), s.opts(t, "GET", "/"), func(m *IncomingMessage) {
				m.OnData(func(p []byte) {
					if got/sampleEvery != (got+int64(len(p)))/sampleEvery {
						w.sample()
					}
					got += int64(len(p))
				})
				m.OnEnd(func() { close(end) })
			})
			if err != nil {
				t.Fatal(err)
			}
			<-end
			if got != n {
				t.Fatalf("OnData got %d bytes, want %d", got, n)
			}
			w.check(t, "download OnData", n)
		})
	})
}
