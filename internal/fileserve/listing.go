package fileserve

import (
	"bytes"
	"cmp"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// htmlEscaper escapes text for HTML element content and quoted attribute
// values, with html/template's table (NUL becomes U+FFFD). The listing is
// written without html/template: linking text/template, whose method lookup
// by name keeps every exported method of the binary, costs httpskit 1.7 MB.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// writeListing writes the directory listing. Every name is escaped; hrefs are
// built with url.PathEscape and start with "./" so that no name (such as
// "javascript:x" or "a:b") can be read as a URL scheme.
func writeListing(b *bytes.Buffer, page listing) {
	title := htmlEscaper.Replace(page.Path)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<title>Index of " + title + "</title>\n</head>\n<body>\n")
	b.WriteString("<h1>Index of " + title + "</h1>\n<table>\n")
	b.WriteString("<thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>\n<tbody>\n")
	if page.Parent {
		b.WriteString("<tr><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n")
	}
	for _, e := range page.Entries {
		b.WriteString(`<tr><td><a href="`)
		htmlEscaper.WriteString(b, e.Href)
		b.WriteString(`">`)
		htmlEscaper.WriteString(b, e.Name)
		b.WriteString("</a></td><td>")
		htmlEscaper.WriteString(b, e.Size)
		b.WriteString("</td><td>")
		htmlEscaper.WriteString(b, e.Modified)
		b.WriteString("</td></tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n</body>\n</html>\n")
}

type listing struct {
	Path    string // the request path, shown in the title
	Parent  bool   // show "../"
	Entries []listEntry
}

type listEntry struct {
	Name, Href, Size, Modified string
	dir                        bool
}

// serveListing answers with the HTML listing of the directory name.
func (d *Dir) serveListing(w http.ResponseWriter, r *http.Request, name string) {
	f, err := d.root.Open(name)
	if err != nil {
		notFound(w, r)
		return
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		notFound(w, r)
		return
	}
	// Links are relative to the page. Only the top directory may be asked
	// for without a trailing slash; then the links go through its name.
	base := "./"
	if p := r.URL.Path; name == "." && p != "" && !strings.HasSuffix(p, "/") {
		base += url.PathEscape(path.Base(p)) + "/"
	}
	page := listing{Path: r.URL.Path, Parent: name != "."}
	for _, e := range entries {
		if d.hidden(e.Name()) {
			continue
		}
		// Stat through the root follows links that stay inside it and
		// fails for the rest, which are left out like missing files.
		info, err := d.root.Stat(path.Join(name, e.Name()))
		if err != nil {
			continue
		}
		le := listEntry{
			Name:     e.Name(),
			Href:     base + url.PathEscape(e.Name()),
			Size:     "-",
			Modified: info.ModTime().UTC().Format("2006-01-02 15:04:05"),
			dir:      info.IsDir(),
		}
		switch {
		case le.dir:
			le.Name += "/"
			le.Href += "/"
		case info.Mode().IsRegular():
			le.Size = strconv.FormatInt(info.Size(), 10)
		default:
			continue // devices, sockets, pipes are never served
		}
		page.Entries = append(page.Entries, le)
	}
	slices.SortFunc(page.Entries, func(a, b listEntry) int {
		if a.dir != b.dir {
			if a.dir {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	var body bytes.Buffer
	writeListing(&body, page)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body.Bytes())
	}
}
