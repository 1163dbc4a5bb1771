package fileserve

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// fixListingZone shows listing times in a fixed zone for the test (the server's local zone
// otherwise).
func fixListingZone(t *testing.T) {
	old := listingLocation
	listingLocation = time.FixedZone("CEST", 2*3600)
	t.Cleanup(func() { listingLocation = old })
}

func TestListingGolden(t *testing.T) {
	fixListingZone(t)
	tr := newTree(t)
	d := tr.open(t, Options{Listing: true})
	if err := os.Remove(filepath.Join(tr.served, "index.html")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, urlPath, sub, golden string }{
		{"root", "/files/", "", "listing_root.golden"},
		{"folder", "/files/nolist/", "nolist/", "listing_folder.golden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := serve(d, "GET", tt.urlPath, tt.sub, nil)
			if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("Serve(GET %q) = %d %q, want 200 text/html", tt.sub, w.Code, w.Header().Get("Content-Type"))
			}
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, w.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Body.String(); got != string(want) {
				t.Errorf("Serve(GET %q) listing =\n%s\nwant (%s):\n%s", tt.sub, got, golden, want)
			}
		})
	}
}

var hrefRE = regexp.MustCompile(`<a href="([^"]*)">([^<]*)</a>`)

func TestListing(t *testing.T) {
	tr := newTree(t)
	d := tr.open(t, Options{Listing: true})
	w, _ := serve(d, "GET", "/files/", "/", nil)
	body := w.Body.String()
	// The listing replaces index.html only where there is none.
	if body != files["index.html"] {
		t.Fatalf("root with index.html gave a listing: %q", body)
	}
	if err := os.Remove(filepath.Join(tr.served, "index.html")); err != nil {
		t.Fatal(err)
	}
	w, _ = serve(d, "GET", "/files/", "/", nil)
	body = w.Body.String()
	if !strings.HasPrefix(body, "<!DOCTYPE html>") || !strings.Contains(body, "<title>Index of /files/</title>") {
		t.Errorf("listing lacks doctype or title:\n%s", body)
	}
	for _, bad := range []string{"<script>", `"c"`, secret, tr.base} {
		if strings.Contains(body, bad) {
			t.Errorf("listing contains %q:\n%s", bad, body)
		}
	}
	var hrefs, names []string
	_, rows, _ := strings.Cut(body, "<tbody>")
	for _, m := range hrefRE.FindAllStringSubmatch(rows, -1) {
		hrefs, names = append(hrefs, m[1]), append(names, m[2])
	}
	wantNames := []string{".well-known/", "a/", "empty/", "link-in-dir/", "nolist/", "sub/",
		"100%.txt", "&lt;script&gt;alert(1)&lt;\\script&gt;.txt", "a&amp;b &#34;c&#34;.txt",
		"hello.txt", "javascript:alert(1)", "link-in", "noext"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("listing names =\n%q\nwant (dirs first, sorted, no hidden, no links out):\n%q", names, wantNames)
	}
	wantHrefs := []string{"./.well-known/", "./a/", "./empty/", "./link-in-dir/", "./nolist/", "./sub/",
		"./100%25.txt", "./%3Cscript%3Ealert%281%29%3C%5Cscript%3E.txt", "./a&amp;b%20%22c%22.txt",
		"./hello.txt", "./javascript:alert%281%29", "./link-in", "./noext"}
	if !slices.Equal(hrefs, wantHrefs) {
		t.Errorf("listing hrefs =\n%q\nwant:\n%q", hrefs, wantHrefs)
	}

	// "../" everywhere but the top.
	w, _ = serve(d, "GET", "/files/a/", "a/", nil)
	if !strings.Contains(w.Body.String(), `<a href="../">../</a>`) {
		t.Errorf("listing of a/ lacks ../:\n%s", w.Body)
	}
	if strings.Contains(body, `href="../"`) {
		t.Errorf("listing of the top has ../:\n%s", body)
	}

	// The top directory without a trailing slash links through its name,
	// and its title is escaped.
	w, _ = serve(d, "GET", "/<b>", "", nil)
	if got := w.Body.String(); !strings.Contains(got, "<title>Index of /&lt;b&gt;</title>") ||
		!strings.Contains(got, `href="./%3Cb%3E/hello.txt"`) {
		t.Errorf("listing of /<b> (no trailing slash):\n%s", got)
	}
}

func TestListingHidden(t *testing.T) {
	d := newTree(t).open(t, Options{Listing: true, ShowHidden: true})
	w, _ := serve(d, "GET", "/files/nolist/", "nolist/", nil)
	if w.Code != 200 {
		t.Fatalf("Serve(GET nolist/) = %d", w.Code)
	}
	w, _ = serve(d, "GET", "/files/.well-known/", ".well-known/", nil)
	if !strings.Contains(w.Body.String(), `href="./.private"`) {
		t.Errorf("ShowHidden listing lacks .private:\n%s", w.Body)
	}
}

func TestHumanSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {13, "13 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{100 * 1024, "100 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}, {1 << 62, "4.0 EiB"},
	} {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestListingSort: ?sort=name|size|date&order=asc|desc sorts the rows (folders first, the
// name breaking ties), marks the column with aria-sort and links each header to its next
// order; anything else sorts by name.
func TestListingSort(t *testing.T) {
	fixListingZone(t)
	dir := t.TempDir()
	base := time.Date(2024, 6, 29, 12, 0, 0, 0, time.UTC)
	for i, f := range []struct {
		name string
		size int
	}{{"b.txt", 3000}, {"a.txt", 10}, {"c.txt", 200}} {
		name := filepath.Join(dir, f.name)
		if err := os.WriteFile(name, make([]byte, f.size), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := base.Add(time.Duration(3-i) * time.Hour) // b.txt newest, then a.txt, then c.txt
		if err := os.Chtimes(name, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "z"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir, Options{Listing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tt := range []struct {
		query, sorted string
		want          []string
		headers       []string // the header links and the aria-sort attribute
	}{
		{"", "name", []string{"z/", "a.txt", "b.txt", "c.txt"},
			[]string{`<th scope="col" aria-sort="ascending"><a href="?sort=name&amp;order=desc">Name ↑</a>`, `<a href="?sort=size&amp;order=desc">Size</a>`, `<a href="?sort=date&amp;order=desc">Modified</a>`}},
		{"?sort=name&order=desc", "name", []string{"z/", "c.txt", "b.txt", "a.txt"},
			[]string{`aria-sort="descending"><a href="?sort=name&amp;order=asc">Name ↓</a>`}},
		{"?sort=size&order=desc", "size", []string{"z/", "b.txt", "c.txt", "a.txt"},
			[]string{`aria-sort="descending"><a href="?sort=size&amp;order=asc">Size ↓</a>`, `<a href="?sort=name&amp;order=asc">Name</a>`}},
		{"?sort=size", "size", []string{"z/", "a.txt", "c.txt", "b.txt"}, nil},
		{"?sort=date&order=desc", "date", []string{"z/", "b.txt", "a.txt", "c.txt"}, nil},
		{"?sort=date&order=asc", "date", []string{"z/", "c.txt", "a.txt", "b.txt"}, nil},
		{"?sort=%3Cscript%3E&order=sideways", "name", []string{"z/", "a.txt", "b.txt", "c.txt"}, nil},
	} {
		r := httptest.NewRequest("GET", "/"+tt.query, nil)
		w := httptest.NewRecorder()
		d.Serve(w, r, "/")
		body := w.Body.String()
		_, rows, _ := strings.Cut(body, "<tbody>")
		var names []string
		for _, m := range hrefRE.FindAllStringSubmatch(rows, -1) {
			names = append(names, m[2])
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("GET /%s: rows %q, want %q", tt.query, names, tt.want)
		}
		if n := strings.Count(body, "aria-sort="); n != 1 {
			t.Errorf("GET /%s: %d columns with aria-sort, want 1", tt.query, n)
		}
		for _, h := range tt.headers {
			if !strings.Contains(body, h) {
				t.Errorf("GET /%s: page lacks %q:\n%s", tt.query, h, body)
			}
		}
		if strings.Contains(body, "script") {
			t.Errorf("GET /%s: the query reached the page:\n%s", tt.query, body)
		}
	}

	w, _ := serve(d, "GET", "/", "/", nil)
	body := w.Body.String()
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"@media (prefers-color-scheme:dark)",
		"a:focus-visible{outline",
		"<p>1 folder, 3 files, 3.1 KiB</p>",
		`<td title="3000 bytes">2.9 KiB</td><td><time datetime="2024-06-29T17:00:00&#43;02:00">2024-06-29 17:00 CEST</time></td>`,
		`<td title="10 bytes">10 B</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("listing lacks %q:\n%s", want, body)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; style-src 'unsafe-inline'") {
		t.Errorf("Content-Security-Policy = %q, want inline style and nothing else", csp)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, dir) {
		t.Errorf("listing holds a script or the directory's path:\n%s", body)
	}
}
