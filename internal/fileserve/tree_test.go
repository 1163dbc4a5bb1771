package fileserve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The secret lives beside the served directory; no request may return it.
const secret = "TOPSECRET-do-not-serve"

// tree is a served directory with a secret file and directory beside it:
//
//	base/secret.txt            the secret
//	base/outside/secret2.txt   the secret
//	base/served/...            see files
type tree struct {
	base, served, secretFile string
}

// files are the regular files below served, by slash-separated name.
var files = map[string]string{
	"index.html":                     "<h1>root index</h1>\n",
	"hello.txt":                      "hello, world\n",
	"a/b.txt":                        "b\n",
	"sub/index.html":                 "<h1>sub index</h1>\n",
	"sub/deeper/index.html":          "<h1>deeper</h1>\n",
	"nolist/style.CSS":               "p{}\n",
	"noext":                          "raw\n",
	".hidden":                        "hidden\n",
	".git/config":                    "[core]\n",
	".well-known/acme":               "acme\n",
	".well-known/.private":           "private\n",
	"<script>alert(1)<\\script>.txt": "x\n",
	`a&b "c".txt`:                    "amp\n",
	"javascript:alert(1)":            "js\n",
	"100%.txt":                       "pct\n",
}

// newTree builds the tree under t.TempDir, with fixed modification times.
func newTree(t testing.TB) *tree {
	t.Helper()
	base := t.TempDir()
	tr := &tree{base: base, served: filepath.Join(base, "served"), secretFile: filepath.Join(base, "secret.txt")}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(tr.secretFile, secret)
	write(filepath.Join(base, "outside", "secret2.txt"), secret)
	for name, content := range files {
		write(filepath.Join(tr.served, filepath.FromSlash(name)), content)
	}
	if err := os.MkdirAll(filepath.Join(tr.served, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"link-out-file": "../secret.txt",
		"link-out-abs":  tr.secretFile,
		"link-out-dir":  "../outside",
		"a/link-up":     "../../secret.txt",
		"link-in":       "hello.txt",
		"link-in-dir":   "a",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(tr.served, filepath.FromSlash(name))); err != nil {
			t.Skipf("symlinks unsupported: %v", err)
		}
	}
	mtime := time.Date(2024, 6, 29, 12, 0, 0, 0, time.UTC)
	filepath.WalkDir(tr.served, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, mtime, mtime)
		}
		return nil
	})
	return tr
}

func (tr *tree) open(t testing.TB, opt Options) *Dir {
	t.Helper()
	d, err := OpenDir(tr.served, opt)
	if err != nil {
		t.Fatalf("OpenDir(%q) error %v", tr.served, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// serve runs d.Serve for one request whose URL path is urlPath.
func serve(d *Dir, method, urlPath, sub string, header http.Header) (*httptest.ResponseRecorder, bool) {
	r := httptest.NewRequest(method, "/", nil)
	r.URL.Path = urlPath
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	return w, d.Serve(w, r, sub)
}
