package fileserve

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestListingGolden(t *testing.T) {
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
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
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
