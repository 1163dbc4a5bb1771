package https

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// TestServerAnswersBeforeBody: a server may answer before it has read the
// request body (nginx's "return 200" does, then resets the HTTP/2 stream
// with NO_ERROR; RFC 9113 §8.1). The caller's remaining Writes and End are
// not errors: the response is what the server sent, and the unread rest of
// the body is dropped.
func TestServerAnswersBeforeBody(t *testing.T) {
	for _, h1 := range []bool{false, true} {
		name := map[bool]string{false: "h2", true: "h1"}[h1]
		t.Run(name, func(t *testing.T) {
			answered := make(chan struct{})
			s := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(answered)
				w.Header().Set("Connection", "close") // HTTP/1: no draining of the body
				w.WriteHeader(http.StatusAccepted)
				io.WriteString(w, "early")
			}), serverConfig{h1Only: h1})
			r, err := Request(context.Background(), s.opts(t, "POST", "/"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Write([]byte("first")); err != nil {
				t.Fatal(err)
			}
			<-answered
			// 64 MiB is more than flow control (HTTP/2) or the socket buffers
			// (HTTP/1) take, so these writes meet a transport that has stopped
			// reading the body: they are dropped, not failures.
			chunk := make([]byte, 64<<10)
			for i := 0; i < 1024; i++ {
				if _, err := r.Write(chunk); err != nil {
					t.Fatalf("Write %d after the answer: %v", i, err)
				}
			}
			if err := r.End(); err != nil {
				t.Fatalf("End after the answer: %v", err)
			}
			m, err := r.Response()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(m)
			if err != nil || string(b) != "early" || m.StatusCode != http.StatusAccepted {
				t.Fatalf("response = %d %q, %v; want 202 early", m.StatusCode, b, err)
			}
		})
	}
}
