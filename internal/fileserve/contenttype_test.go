package fileserve

import (
	"mime"
	"testing"
)

func TestContentType(t *testing.T) {
	// Types from the mime package: text/* gets a charset when it has none.
	if err := mime.AddExtensionType(".zzcsv", "text/csv"); err != nil {
		t.Fatal(err)
	}
	if err := mime.AddExtensionType(".zzbin", "application/x-zz"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"index.html", "text/html; charset=utf-8"},
		{"INDEX.HTM", "text/html; charset=utf-8"},
		{"a/b/site.Css", "text/css; charset=utf-8"},
		{"app.js", "text/javascript; charset=utf-8"},
		{"mod.mjs", "text/javascript; charset=utf-8"},
		{"data.json", "application/json"},
		{"notes.txt", "text/plain; charset=utf-8"},
		{"logo.svg", "image/svg+xml"},
		{"a.png", "image/png"},
		{"a.JPG", "image/jpeg"},
		{"a.jpeg", "image/jpeg"},
		{"a.gif", "image/gif"},
		{"favicon.ico", "image/x-icon"},
		{"a.webp", "image/webp"},
		{"m.wasm", "application/wasm"},
		{"app.js.map", "application/json"},
		{"README.md", "text/markdown; charset=utf-8"},
		{"doc.pdf", "application/pdf"},
		{"feed.xml", "text/xml; charset=utf-8"},
		{"f.woff", "font/woff"},
		{"f.woff2", "font/woff2"},
		{"noext", "application/octet-stream"},
		{"dir.d/noext", "application/octet-stream"},
		{"trailing.", "application/octet-stream"},
		{"", "application/octet-stream"},
		{"x.no-such-extension-zz", "application/octet-stream"},
		{".bashrc", "application/octet-stream"},
		{"t.ZZCSV", "text/csv; charset=utf-8"},
		{"t.zzbin", "application/x-zz"},
	}
	for _, tt := range tests {
		if got := ContentType(tt.name); got != tt.want {
			t.Errorf("ContentType(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
