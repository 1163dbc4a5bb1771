package fileserve

import (
	"bytes"
	"html/template"
	"net/url"
	"testing"
)

// templatePage is the listing as html/template would write it (writeListing replaced
// html/template to keep text/template out of the binary); writeListing must write the same
// bytes. The header is the one of a page sorted by name, A to Z.
var templatePage = template.Must(template.New("listing").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Index of {{.Path}}</title>
<style>
` + listingCSS + `
</style>
</head>
<body>
<main>
<h1>Index of {{.Path}}</h1>
<p>{{.Summary}}</p>
<table>
<thead><tr><th scope="col" aria-sort="ascending"><a href="?sort=name&amp;order=desc">Name ↑</a></th><th scope="col"><a href="?sort=size&amp;order=desc">Size</a></th><th scope="col"><a href="?sort=date&amp;order=desc">Modified</a></th></tr></thead>
<tbody>
{{- if .Parent}}
<tr class="d"><td><a href="../">../</a></td><td>-</td><td></td></tr>
{{- end}}
{{- range .Entries}}
<tr><td><a href="{{.Href}}">{{.Name}}</a></td><td title="{{.SizeTitle}}">{{.Size}}</td><td><time datetime="{{.DateTime}}">{{.Modified}}</time></td></tr>
{{- end}}
</tbody>
</table>
</main>
</body>
</html>
`))

// sameAsTemplate fails t unless writeListing and templatePage write the same page for a
// directory holding one entry named name.
func sameAsTemplate(t *testing.T, name string, parent bool) {
	t.Helper()
	page := listing{Path: "/" + name, Summary: name + ", 1 file", Sort: sortName, Parent: parent, Entries: []listEntry{
		{Name: name, Href: "./" + url.PathEscape(name), Size: "12 B", SizeTitle: name + " 12 bytes",
			Modified: "2024-06-29 14:00 " + name, DateTime: "2024-06-29T12:00:00Z" + name},
	}}
	var want, got bytes.Buffer
	if err := templatePage.Execute(&want, page); err != nil {
		t.Fatal(err)
	}
	writeListing(&got, page)
	if got.String() != want.String() {
		t.Errorf("listing of %q:\n%s\nwant (html/template):\n%s", name, got.String(), want.String())
	}
}

// TestListingSameAsTemplate: writeListing escapes as html/template did, for names holding every
// character html/template escapes in text and in a quoted href.
func TestListingSameAsTemplate(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		parent     bool
	}{
		{"plain", "hello.txt", false},
		{"markup", `<script>alert(1)</script>`, true},
		{"quotes and ampersand", `a&b "c" 'd'.txt`, false},
		{"plus", "c++ notes+1.txt", true},
		{"NUL", "a\x00b", false},
		{"scheme-like", "javascript:alert(1)", false},
		{"non-ASCII", "résumé ☃.txt", true},
		{"invalid UTF-8", "bad\xff\xfe.txt", false},
		{"percent", "100%.txt", false},
	} {
		t.Run(tt.name, func(t *testing.T) { sameAsTemplate(t, tt.file, tt.parent) })
	}
}

func FuzzListingSameAsTemplate(f *testing.F) {
	for _, s := range []string{"hello.txt", "<b>&'\"+\x00", "javascript:x", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) { sameAsTemplate(t, name, len(name)%2 == 0) })
}
