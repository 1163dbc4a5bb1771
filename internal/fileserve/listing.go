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
	"time"
)

// listingCSS is the listing's whole style: readable on a phone (the viewport tag), in light
// and dark mode (prefers-color-scheme), with a visible focus ring for keyboard users.
const listingCSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--dim:#59636e;--line:#d1d9e0;--row:#f6f8fa;--link:#0969da;--focus:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--dim:#9198a1;--line:#30363d;--row:#151b23;--link:#4493f8;--focus:#4493f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.25rem;font-weight:600;margin:0 0 .25rem;overflow-wrap:anywhere}
p{margin:0 0 1rem;color:var(--dim);font-size:.875rem}
table{width:100%;border-collapse:collapse}
th,td{padding:.4rem .6rem;text-align:left;border-bottom:1px solid var(--line)}
th{font-size:.8125rem;font-weight:600;white-space:nowrap}
th a{color:var(--dim)}
th[aria-sort] a{color:var(--fg)}
td:first-child{overflow-wrap:anywhere}
td:nth-child(2),th:nth-child(2){text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td:nth-child(3){white-space:nowrap;color:var(--dim);font-variant-numeric:tabular-nums}
tbody tr:hover{background:var(--row)}
a{color:var(--link);text-decoration:none}
a:hover{text-decoration:underline}
a:focus-visible{outline:2px solid var(--focus);outline-offset:2px;border-radius:3px}
tr.d a{font-weight:600}
@media (max-width:36rem){td:nth-child(3),th:nth-child(3){display:none}}`

// htmlEscaper escapes text for HTML element content and quoted attribute
// values, with html/template's table (NUL becomes U+FFFD). The listing is
// written without html/template: linking text/template, whose method lookup
// by name keeps every exported method of the binary, costs httpskit 1.7 MB.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// writeListing writes the directory listing. Every name is escaped; hrefs are
// built with url.PathEscape and start with "./" so that no name (such as
// "javascript:x" or "a:b") can be read as a URL scheme. The column headers
// are links that sort the page (?sort=name|size|date&order=asc|desc), so
// sorting works without JavaScript, of which the page has none.
func writeListing(b *bytes.Buffer, page listing) {
	title := htmlEscaper.Replace(page.Path)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<meta name=\"color-scheme\" content=\"light dark\">\n")
	b.WriteString("<title>Index of " + title + "</title>\n<style>\n" + listingCSS + "\n</style>\n</head>\n<body>\n<main>\n")
	b.WriteString("<h1>Index of " + title + "</h1>\n<p>")
	htmlEscaper.WriteString(b, page.Summary)
	b.WriteString("</p>\n<table>\n<thead><tr>")
	for _, col := range [...]struct{ key, label string }{{sortName, "Name"}, {sortSize, "Size"}, {sortDate, "Modified"}} {
		b.WriteString("<th scope=\"col\"")
		next, arrow := defaultOrder(col.key), ""
		if col.key == page.Sort {
			dir := "ascending"
			arrow, next = " \u2191", "desc" // ↑
			if page.Desc {
				dir, arrow, next = "descending", " \u2193", "asc" // ↓
			}
			b.WriteString(" aria-sort=\"" + dir + "\"")
		}
		b.WriteString("><a href=\"?sort=" + col.key + "&amp;order=" + next + "\">" + col.label + arrow + "</a></th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	if page.Parent {
		b.WriteString("<tr class=\"d\"><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n")
	}
	for _, e := range page.Entries {
		if e.dir {
			b.WriteString(`<tr class="d"><td><a href="`)
		} else {
			b.WriteString(`<tr><td><a href="`)
		}
		htmlEscaper.WriteString(b, e.Href)
		b.WriteString(`">`)
		htmlEscaper.WriteString(b, e.Name)
		if e.SizeTitle != "" {
			b.WriteString(`</a></td><td title="`)
			htmlEscaper.WriteString(b, e.SizeTitle)
			b.WriteString(`">`)
		} else {
			b.WriteString(`</a></td><td>`)
		}
		htmlEscaper.WriteString(b, e.Size)
		b.WriteString(`</td><td><time datetime="`)
		htmlEscaper.WriteString(b, e.DateTime)
		b.WriteString(`">`)
		htmlEscaper.WriteString(b, e.Modified)
		b.WriteString("</time></td></tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n</main>\n</body>\n</html>\n")
}

type listing struct {
	Path    string // the request path, shown in the title
	Summary string // "2 folders, 3 files, 1.2 KiB"
	Sort    string // sortName, sortSize or sortDate
	Desc    bool   // descending
	Parent  bool   // show "../"
	Entries []listEntry
}

type listEntry struct {
	Name, Href string
	Size       string // human: "1.2 KiB"; "-" for a folder
	SizeTitle  string // exact: "1234 bytes"; "" for a folder
	Modified   string // local time with zone: "2024-06-29 14:00 CEST"
	DateTime   string // RFC 3339, for <time datetime>
	dir        bool
	bytes      int64
	mod        time.Time
}

// Sort keys of the listing's ?sort= parameter.
const (
	sortName = "name"
	sortSize = "size"
	sortDate = "date"
)

// listingLocation is the zone the listing shows times in (tests fix it).
var listingLocation = time.Local

// defaultOrder is the order a column sorts in when first clicked: names A to Z, the biggest
// and the newest first.
func defaultOrder(key string) string {
	if key == sortName {
		return "asc"
	}
	return "desc"
}

// sortEntries sorts folders before files, then by key (name, size or date) in the order
// asked, with the name breaking ties. Unknown keys sort by name.
func sortEntries(entries []listEntry, key string, desc bool) {
	slices.SortFunc(entries, func(a, b listEntry) int {
		if a.dir != b.dir {
			if a.dir {
				return -1
			}
			return 1
		}
		c := 0
		switch key {
		case sortSize:
			c = cmp.Compare(a.bytes, b.bytes)
		case sortDate:
			c = a.mod.Compare(b.mod)
		}
		if c == 0 {
			c = cmp.Compare(a.Name, b.Name)
		}
		if desc {
			c = -c
		}
		return c
	})
}

// humanSize writes n bytes the way people read them: "13 B", "1.2 KiB", "340 MiB".
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	unit := 0
	for v >= 1024 && unit < 6 {
		v /= 1024
		unit++
	}
	prec := 1
	if v >= 100 {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + [...]string{"", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}[unit]
}

// countNoun is "1 file", "2 files".
func countNoun(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return strconv.Itoa(n) + " " + noun
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
	q := r.URL.Query()
	page := listing{Path: r.URL.Path, Parent: name != ".", Sort: q.Get("sort")}
	if page.Sort != sortSize && page.Sort != sortDate {
		page.Sort = sortName
	}
	page.Desc = q.Get("order") == "desc"
	var folders, files int
	var total int64
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
		mod := info.ModTime().In(listingLocation)
		le := listEntry{
			Name:     e.Name(),
			Href:     base + url.PathEscape(e.Name()),
			Size:     "-",
			Modified: mod.Format("2006-01-02 15:04 MST"),
			DateTime: mod.Format(time.RFC3339),
			dir:      info.IsDir(),
			mod:      mod,
		}
		switch {
		case le.dir:
			le.Name += "/"
			le.Href += "/"
			folders++
		case info.Mode().IsRegular():
			le.bytes = info.Size()
			le.Size = humanSize(le.bytes)
			le.SizeTitle = strconv.FormatInt(le.bytes, 10) + " bytes"
			files++
			total += le.bytes
		default:
			continue // devices, sockets, pipes are never served
		}
		page.Entries = append(page.Entries, le)
	}
	sortEntries(page.Entries, page.Sort, page.Desc)
	page.Summary = countNoun(folders, "folder") + ", " + countNoun(files, "file") + ", " + humanSize(total)
	var body bytes.Buffer
	writeListing(&body, page)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// The page has inline CSS and nothing else: no script, image, frame or form may run in it.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body.Bytes())
	}
}
