package h2serve

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	ts := startServer(t, Config{}, hello)
	c := ts.client()
	for i := 0; i < 3; i++ {
		resp, err := c.Get(ts.url("/x"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 || string(b) != "hello, world\n" {
			t.Fatalf("got %s %q", resp.Proto, b)
		}
	}
}

func TestPostLarge(t *testing.T) {
	ts := startServer(t, Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		w.Write(b)
	}))
	body := strings.Repeat("abcdefghij", 300_000)
	resp, err := ts.client().Post(ts.url("/"), "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != body {
		t.Fatalf("echo: got %d bytes, want %d", len(b), len(body))
	}
}
