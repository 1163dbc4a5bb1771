package fileserve

import (
	"mime"
	"path/filepath"
	"strings"
)

// builtinTypes are the types of common web files. They come first so that
// the answer does not depend on the system's mime.types.
var builtinTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".gif":   "image/gif",
	".htm":   "text/html; charset=utf-8",
	".html":  "text/html; charset=utf-8",
	".ico":   "image/x-icon",
	".jpeg":  "image/jpeg",
	".jpg":   "image/jpeg",
	".js":    "text/javascript; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".md":    "text/markdown; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".pdf":   "application/pdf",
	".png":   "image/png",
	".svg":   "image/svg+xml",
	".txt":   "text/plain; charset=utf-8",
	".wasm":  "application/wasm",
	".webp":  "image/webp",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".xml":   "text/xml; charset=utf-8",
}

// ContentType guesses the media type of the file name from its extension,
// ignoring case: first from a built-in table of web types (html htm css js
// mjs json txt svg png jpg jpeg gif ico webp wasm map md pdf xml woff
// woff2), then from [mime.TypeByExtension]. A text/* type without a charset
// gets "; charset=utf-8". A name without a known extension gives
// "application/octet-stream".
func ContentType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == "" {
		return "application/octet-stream"
	}
	if t, ok := builtinTypes[ext]; ok {
		return t
	}
	t := mime.TypeByExtension(ext)
	switch {
	case t == "":
		return "application/octet-stream"
	case strings.HasPrefix(t, "text/") && !strings.Contains(t, "charset="):
		return t + "; charset=utf-8"
	}
	return t
}
