package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/httpskit/httpskit/internal/fileserve"
	"github.com/httpskit/httpskit/internal/route"
)

// Redirect routes method and path to a redirect to `to`: 302 Found when temporary, else 301
// Moved Permanently, with an empty body. `to` is sent as given in the Location header.
func (s *Server) Redirect(method, path, to string, temporary bool) error {
	if to == "" {
		return routeError("redirect", method, path, errors.New("missing target"))
	}
	if strings.ContainsAny(to, "\r\n\x00") {
		return routeError("redirect", method, path, fmt.Errorf("invalid target %q: control character", to))
	}
	status := http.StatusMovedPermanently
	if temporary {
		status = http.StatusFound
	}
	location := []string{to}
	return s.Route(method, path, HandlerFunc(func(_ string, req *Request, res *Response) error {
		if res.HeadersSent() {
			return ErrHeadersSent
		}
		h := res.Headers()
		h["Location"] = location
		h["Content-Length"] = []string{"0"}
		if err := res.WriteHead(status, nil); err != nil {
			return err
		}
		return res.End()
	}))
}

// Serve routes GET and HEAD requests for path to a file or a directory, which must exist now.
// Other methods fall through to later routes.
//
// A file is served at exactly path (any path grammar works) with contentType, or a type
// guessed from the extension when contentType is "".
//
// A directory is served below path: Serve registers path, path+"/" and path+"/*" (as
// AwesomeServer does; Unroute of path removes all three). "path/" and "path/sub/" serve
// index.html; a directory without one is 404 (ServeDirectory can list it instead). Nothing
// outside the directory is ever served: "..", its encoded forms, absolute paths and symbolic
// links leading out all give 404, and no response contains a filesystem path. Dotfiles are
// not served, except below ".well-known". contentType is ignored for directories.
func (s *Server) Serve(path, contentType, filename string) error {
	if filename == "" {
		return routeError("serve", "*", path, errors.New("missing file name"))
	}
	fi, err := os.Stat(filename)
	if err != nil {
		return routeError("serve", "*", path, fmt.Errorf("file or directory not found: %w", err))
	}
	if fi.IsDir() {
		return s.ServeDirectory(path, filename, DirectoryOptions{})
	}
	if !fi.Mode().IsRegular() {
		return routeError("serve", "*", path, fmt.Errorf("%s is neither a file nor a directory", filename))
	}
	abs, err := filepath.Abs(filename)
	if err != nil {
		return routeError("serve", "*", path, err)
	}
	return s.Route("*", path, HandlerFunc(func(_ string, req *Request, res *Response) error {
		if res.HeadersSent() {
			return nil
		}
		if fileserve.ServeFile(&res.w, req.r, abs, contentType) {
			res.finished = true
		}
		return nil
	}))
}

// DirectoryOptions tunes ServeDirectory and ServeFS. The zero value is what Serve uses.
type DirectoryOptions struct {
	// Listing sends an HTML listing, with names escaped, for directories without index.html.
	// Zero: such directories are 404.
	Listing bool
	// ShowHidden serves and lists dotfiles. Zero: dotfiles are 404, except below ".well-known".
	ShowHidden bool
	// SPA (single-page application): a GET or HEAD for a path that names no file or
	// directory, and whose last segment has no extension (no '.'), gets the top
	// index.html with status 200, so a client-side router gets its deep links; a missing
	// "/app.js" stays 404. Zero: 404.
	SPA bool
	// Compress sends text, JavaScript, JSON, SVG and other compressible files compressed
	// when the client's Accept-Encoding allows: a precompressed sibling (x.js.br,
	// x.js.zst, x.js.gz) when there is one, else gzip made on the fly for files from 1 KiB
	// to 8 MiB (kept in memory, up to 16 MiB per route, until the file changes). Never for a
	// Range request or an already-compressed type. Responses for
	// compressible files carry "Vary: Accept-Encoding". See docs/security.md on BREACH
	// before compressing responses that mix secrets with what a client sends. Zero: files
	// are sent as they are.
	Compress bool
}

func (o DirectoryOptions) fileserve() fileserve.Options {
	return fileserve.Options{Listing: o.Listing, ShowHidden: o.ShowHidden, SPA: o.SPA, Compress: o.Compress}
}

// ServeDirectory is Serve for a directory, with options.
//
// Every file is sent with an ETag made from its modification time and size (hexadecimal
// Unix nanoseconds and bytes, "<mtime>-<size>"; a compressed form adds "-gzip", "-br" or
// "-zstd"), and If-None-Match gets 304 Not Modified beside If-Modified-Since.
func (s *Server) ServeDirectory(path, dir string, opt DirectoryOptions) error {
	if path == "" {
		return routeError("serve", "*", path, errors.New("missing path"))
	}
	d, err := fileserve.OpenDir(dir, opt.fileserve())
	if err != nil {
		return routeError("serve", "*", path, err)
	}
	return s.serveDir(path, d)
}

// ServeFS is ServeDirectory for the files of fsys, such as an embed.FS:
//
//	//go:embed static
//	var static embed.FS
//	sub, _ := fs.Sub(static, "static")
//	s.ServeFS("/", sub, server.DirectoryOptions{Compress: true})
//
// The same names are refused as by ServeDirectory; links are followed as fsys follows them
// (os.DirFS follows links out of its directory: use ServeDirectory for a directory on
// disk). Files of fsys must be able to seek (embed.FS and os.DirFS files can); one that
// cannot is 404. A file without a modification time (every embed.FS file) gets no
// Last-Modified and an ETag from a hash of its content, made on its first request and kept:
// fsys must not change while it is served.
func (s *Server) ServeFS(path string, fsys fs.FS, opt DirectoryOptions) error {
	if path == "" {
		return routeError("serve", "*", path, errors.New("missing path"))
	}
	d, err := fileserve.OpenFS(fsys, opt.fileserve())
	if err != nil {
		return routeError("serve", "*", path, err)
	}
	return s.serveDir(path, d)
}

// serveDir routes path, path+"/" and path+"/*" to d.
func (s *Server) serveDir(path string, d *fileserve.Dir) error {
	h := HandlerFunc(func(rest string, req *Request, res *Response) error {
		if res.HeadersSent() {
			return nil
		}
		if d.Serve(&res.w, req.r, rest) {
			res.finished = true
		}
		return nil
	})
	var entries []*routeEntry
	for _, p := range directoryPatterns(path) {
		m, err := route.Compile(p)
		if err != nil {
			d.Close()
			return routeError("serve", "*", path, err)
		}
		entries = append(entries, &routeEntry{method: "*", pattern: p, parent: path, m: m, h: h, closer: d})
	}
	s.addRoutes(entries...)
	return nil
}

// directoryPatterns gives the routes of a directory served at path, as AwesomeServer does:
// "/files" → "/files", "/files/", "/files/*"; "/" → "/", "/*"; "/static/*" → "/static/*",
// "/static/".
func directoryPatterns(path string) []string {
	collapse := func(p string) string {
		for strings.Contains(p, "//") {
			p = strings.ReplaceAll(p, "//", "/")
		}
		return strings.ReplaceAll(p, "/*/", "/")
	}
	var out []string
	add := func(p string) {
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	add(path)
	add(collapse(path + "/"))
	add(collapse(path + "/" + "*"))
	return out
}

// Push routes requests for path to an HTTP/2 server push of referencePath, whose content is
// filename (contentType "" guesses it). The push route never finishes the response: a later
// route must answer path. The same route answers GET and HEAD of referencePath with the file,
// so the pushed stream (and a client that asks for it normally) gets it. Where push is not
// possible (HTTP/1.1, or a client that disabled push, as curl and browsers do) nothing is
// pushed and nothing fails. filename must be an existing file.
func (s *Server) Push(path, referencePath, contentType, filename string) error {
	if referencePath == "" || !strings.HasPrefix(referencePath, "/") {
		return routeError("push", "*", path, fmt.Errorf("invalid reference path %q: must start with /", referencePath))
	}
	if filename == "" {
		return routeError("push", "*", path, errors.New("missing file name"))
	}
	fi, err := os.Stat(filename)
	if err != nil {
		return routeError("push", "*", path, fmt.Errorf("file not found: %w", err))
	}
	if !fi.Mode().IsRegular() {
		return routeError("push", "*", path, fmt.Errorf("%s is not a file", filename))
	}
	abs, err := filepath.Abs(filename)
	if err != nil {
		return routeError("push", "*", path, err)
	}
	m, err := route.Compile(path)
	if err != nil {
		return routeError("push", "*", path, err)
	}
	h := HandlerFunc(func(_ string, req *Request, res *Response) error {
		r := req.r
		if r.URL.Path == referencePath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			if !res.HeadersSent() && fileserve.ServeFile(&res.w, r, abs, contentType) {
				res.finished = true
			}
			return nil
		}
		if r.Method == http.MethodGet && res.PushSupported() && r.Header.Get(pushHeader) == "" {
			err := res.w.Push(referencePath, &http.PushOptions{Header: http.Header{pushHeader: {"1"}}})
			if err != nil && !errors.Is(err, http.ErrNotSupported) {
				s.logger.Debug("push refused", "target", referencePath, "err", err)
			}
		}
		return nil
	})
	s.addRoutes(&routeEntry{method: "*", pattern: path, m: pushMatcher{m, referencePath}, h: h})
	return nil
}

// pushHeader marks pushed requests so they never push again.
const pushHeader = "X-Httpskit-Push"

// pushMatcher matches the trigger path and the pushed reference path.
type pushMatcher struct {
	route.Matcher
	ref string
}

func (p pushMatcher) Match(path string, ps []route.Param) (string, []route.Param, bool) {
	if path == p.ref {
		return "", nil, true
	}
	return p.Matcher.Match(path, ps)
}
