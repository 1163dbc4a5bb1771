package fileserve_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/httpskit/httpskit/internal/fileserve"
)

func ExampleDir_Serve() {
	base, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(base)
	dir := filepath.Join(base, "public")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(base, "secret.txt"), []byte("secret\n"), 0o644)

	d, err := fileserve.OpenDir(dir, fileserve.Options{})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	for _, sub := range []string{"hello.txt", "../secret.txt", "missing.txt"} {
		w := httptest.NewRecorder()
		d.Serve(w, httptest.NewRequest("GET", "/files/"+sub, nil), sub)
		fmt.Printf("%-14s %d %s %q\n", sub, w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	w := httptest.NewRecorder()
	fmt.Println("POST handled:", d.Serve(w, httptest.NewRequest("POST", "/files/hello.txt", nil), "hello.txt"))
	// Output:
	// hello.txt      200 text/plain; charset=utf-8 "hello\n"
	// ../secret.txt  404 text/plain; charset=utf-8 "Not found.\n"
	// missing.txt    404 text/plain; charset=utf-8 "Not found.\n"
	// POST handled: false
}

func ExampleServeFile() {
	f, _ := os.CreateTemp("", "example-*.css")
	defer os.Remove(f.Name())
	f.WriteString("p { color: red }\n")
	f.Close()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fileserve.ServeFile(w, r, f.Name(), "") {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("HEAD", "/style.css", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Length"), w.Body.Len())
	// Output: 200 text/css; charset=utf-8 17 0
}

func ExampleContentType() {
	for _, name := range []string{"index.HTML", "app.mjs", "data.json", "font.woff2", "README", "notes.md"} {
		fmt.Println(name, fileserve.ContentType(name))
	}
	// Output:
	// index.HTML text/html; charset=utf-8
	// app.mjs text/javascript; charset=utf-8
	// data.json application/json
	// font.woff2 font/woff2
	// README application/octet-stream
	// notes.md text/markdown; charset=utf-8
}
