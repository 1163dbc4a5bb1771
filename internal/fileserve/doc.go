// Package fileserve serves single files and directory trees for the
// server's Serve routes, without ever reading outside the directory given.
//
// [Dir] resolves every request through an [os.Root], so "..", absolute names
// and symbolic links leading outside the directory are refused by the
// operating system layer, on top of Dir's own checks of the path. Every
// failure is the same 404 "Not found.\n": no absolute path, no requested
// name, no stack. Files go through http.ServeContent, which brings Range,
// conditional requests, HEAD and Content-Length, with an ETag (etag.go). [OpenFS]
// serves an fs.FS (an embed.FS) the same way. Options add listings, a
// single-page-app fallback and compression (compress.go: gzip on the fly or
// precompressed siblings, negotiated from Accept-Encoding).
//
//	d, err := fileserve.OpenDir("public", fileserve.Options{Listing: true})
//	if err != nil { ... }
//	defer d.Close()
//	http.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
//		if !d.Serve(w, r, strings.TrimPrefix(r.URL.Path, "/files")) {
//			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
//		}
//	})
//
// Upstream (awesome-server) → here:
//
//	FileServeController        ServeFile
//	DirectoryServeController   Dir.Serve
//	AwesomeUtils.MimeTypes     ContentType
//
// Deliberate differences from upstream: no path traversal ("../", "..%2f",
// "%2e%2e", "//abs", links out); 404 bodies never name a file; HEAD gets the
// same headers as GET; a sub-folder's index.html is found (upstream looked
// relative to the working directory), after a 301 adding the trailing slash;
// a directory or device given to ServeFile is 404, not a crash; dotfiles are
// hidden unless asked for; the type table ignores case, knows mjs, wasm, map
// and md, and adds "; charset=utf-8" to text types.
//
// The listing (Options.Listing) is one small HTML page with inline CSS and no
// script (a Content-Security-Policy says so): a viewport tag for phones, light
// and dark mode by prefers-color-scheme, sizes as people read them ("2.3 MiB",
// the exact count in a tooltip), times in the server's zone with its name, and
// column headers that sort by name, size or date through the query
// (?sort=size&order=desc), folders first. It is written without html/template,
// with the same escaping.
package fileserve
