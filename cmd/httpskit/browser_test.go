//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// A real browser against `httpskit serve`: headless Chromium, trusting the development CA the
// way a user does on Linux (the CA added to the NSS database in $HOME/.pki/nssdb), renders the
// directory listing; with the CA left out it refuses the certificate.

var updateScreenshots = flag.Bool("update-screenshots", false, "write the listing's screenshots to docs/")

// browserTimeout bounds one Chromium run: starting a browser is slow on a loaded machine.
const browserTimeout = 60 * time.Second

// nssHome makes a HOME whose NSS database ($HOME/.pki/nssdb, where Chromium on Linux keeps
// the user's certificates) trusts caFile to identify web sites; "" leaves the database empty.
func nssHome(t *testing.T, certutil, caFile string) string {
	t.Helper()
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	must(t, os.MkdirAll(db, 0o700))
	steps := [][]string{{"-N", "--empty-password"}}
	if caFile != "" {
		steps = append(steps, []string{"-A", "-t", "C,,", "-n", "httpskit-dev", "-i", caFile}, []string{"-L"})
	}
	for _, step := range steps {
		out, err := runPeer(t, "", certutil, append([]string{"-d", "sql:" + db}, step...)...)
		if err != nil {
			t.Fatalf("certutil %s: %v\n%s", strings.Join(step, " "), err, out)
		}
		if step[0] == "-L" && !strings.Contains(out, "httpskit-dev") {
			t.Fatalf("certutil -L does not list the CA:\n%s", out)
		}
	}
	return home
}

// runChromium runs headless Chromium with home as HOME (for it alone) and a fresh profile,
// bounded by browserTimeout. Chromium starts helper processes; the whole process group is
// killed when the run ends, however it ends.
func runChromium(t *testing.T, chromium, home string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := chromiumCommand(ctx, t, chromium, home, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Start()
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	err = cmd.Wait()
	if kerr := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
		t.Errorf("kill chromium's process group: %v", kerr)
	}
	if ctx.Err() != nil {
		t.Fatalf("chromium %s did not finish in %v: %v\nstderr: %s", strings.Join(args, " "), browserTimeout, err, browserErrors(errOut.String()))
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\nstderr: %s", strings.Join(args, " "), err, browserErrors(errOut.String()))
	}
	return out.String(), errOut.String()
}

// chromiumCommand is headless Chromium with args, home as HOME (for it alone) and a fresh
// profile, in a process group of its own that ctx's end kills whole.
func chromiumCommand(ctx context.Context, t *testing.T, chromium, home string, args ...string) *exec.Cmd {
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-dev-shm-usage", "--disable-extensions", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, chromium, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// browserErrors is Chromium's stderr without the noise of a machine with no D-Bus, for
// failure messages.
func browserErrors(stderr string) string {
	var keep []string
	for _, line := range strings.Split(stderr, "\n") {
		if line != "" && !strings.Contains(line, "dbus") && !strings.Contains(line, "unexpected operator") {
			keep = append(keep, line)
		}
	}
	return clip(strings.Join(keep, "\n"))
}

// TestBrowserListing: headless Chromium opens `httpskit serve` over HTTPS with the development
// CA trusted in its NSS database, and the DOM it rendered holds the directory listing (and no
// dotfile), a subdirectory's listing and a file; a screenshot of the listing is a real
// picture. With an empty NSS database Chromium refuses the certificate and renders nothing.
func TestBrowserListing(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium-browser") // the Debian or the Ubuntu name
	certutil := testenv.LookPath(t, "certutil")
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "alpha.txt"), []byte("alpha contents\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "beta.md"), []byte("# beta\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".secret"), []byte("SECRET=1\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "nested.txt"), []byte("nested\n"), 0o644))
	// More files, of sizes people see, for the sorting test and the screenshot in docs/.
	for name, size := range map[string]int64{"photo 2024-06.jpg": 2_400_000, "release-v1.2.tar.gz": 48_500_000, "notes & ideas.html": 5_300} {
		f, err := os.Create(filepath.Join(dir, name))
		must(t, err)
		must(t, f.Truncate(size)) // sparse
		must(t, f.Close())
	}
	for i, name := range []string{"alpha.txt", "beta.md", "notes & ideas.html", "photo 2024-06.jpg", "release-v1.2.tar.gz", "sub"} {
		mod := time.Date(2026, 11, 20+i, 9+i, 41, 0, 0, time.Local)
		must(t, os.Chtimes(filepath.Join(dir, name), mod, mod))
	}
	site := startServe(t, "--port", "0", "--host", "127.0.0.1", "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	trusted := nssHome(t, certutil, site.caFile)

	tests := []struct {
		name, path   string
		want, absent []string // substrings of the dumped DOM
	}{
		{"listing", "", []string{"<title>Index of /</title>", `<a href="./alpha.txt">alpha.txt</a>`,
			`<a href="./beta.md">beta.md</a>`, `<a href="./sub/">sub/</a>`, `<td title="48500000 bytes">46.3 MiB</td>`,
			`<a href="./notes%20&amp;%20ideas.html">notes &amp; ideas.html</a>`, "<p>1 folder, 5 files, 48.5 MiB</p>",
			`<th scope="col" aria-sort="ascending"><a href="?sort=name&amp;order=desc">Name ↑</a></th>`}, []string{"secret", "SECRET"}},
		{"subdirectory", "sub/", []string{"<title>Index of /sub/</title>", `<a href="./nested.txt">nested.txt</a>`}, []string{"alpha.txt"}},
		{"file", "alpha.txt", []string{"alpha contents"}, []string{"Index of"}},
		{"sorted by size", "?sort=size&order=desc", []string{`aria-sort="descending"><a href="?sort=size&amp;order=asc">Size ↓</a>`,
			`<a href="./sub/">sub/</a></td><td>-</td>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dom, stderr := runChromium(t, chromium, trusted, "--dump-dom", site.url+tt.path)
			for _, w := range tt.want {
				if !strings.Contains(dom, w) {
					t.Errorf("DOM of %s lacks %q\nDOM: %s\nstderr: %s", site.url+tt.path, w, clip(dom), browserErrors(stderr))
				}
			}
			if tt.name == "sorted by size" {
				order := []string{"sub/", "release-v1.2.tar.gz", "photo 2024-06.jpg", "notes &amp; ideas.html", "alpha.txt", "beta.md"}
				for i := 1; i < len(order); i++ {
					if a, b := strings.Index(dom, ">"+order[i-1]+"</a>"), strings.Index(dom, ">"+order[i]+"</a>"); a < 0 || b < a {
						t.Errorf("sorted by size, %q is not before %q\nDOM: %s", order[i-1], order[i], clip(dom))
					}
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(dom, a) {
					t.Errorf("DOM of %s holds %q\nDOM: %s", site.url+tt.path, a, clip(dom))
				}
			}
		})
	}

	for _, mode := range []struct {
		name  string
		flags []string
		dark  bool
	}{{"light", nil, false}, {"dark", []string{"--force-dark-mode", "--blink-settings=preferredColorScheme=0"}, true}} {
		t.Run("screenshot "+mode.name, func(t *testing.T) {
			shot := filepath.Join(t.TempDir(), "listing.png")
			args := append([]string{"--window-size=800,600", "--screenshot=" + shot}, mode.flags...)
			runChromium(t, chromium, trusted, append(args, site.url)...)
			data, err := os.ReadFile(shot)
			must(t, err)
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("screenshot %s is no PNG: %v", shot, err)
			}
			b := img.Bounds()
			if b.Dx() != 800 || b.Dy() != 600 {
				t.Errorf("screenshot is %dx%d, want 800x600", b.Dx(), b.Dy())
			}
			// The listing is text on a plain background: count the pixels unlike the corner.
			bg := img.At(b.Min.X, b.Min.Y)
			inked := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					if img.At(x, y) != bg {
						inked++
					}
				}
			}
			if inked < 500 {
				t.Errorf("screenshot has %d pixels unlike the background, want the listing's text (>= 500)", inked)
			}
			// prefers-color-scheme picks the background: near white, or near black.
			r, g, bl, _ := bg.RGBA()
			if lum := (299*r + 587*g + 114*bl) / 1000 >> 8; mode.dark != (lum < 64) || !mode.dark && lum < 192 {
				t.Errorf("%s mode: background luminance %d of 255", mode.name, lum)
			}
			if *updateScreenshots {
				must(t, os.WriteFile(filepath.Join("..", "..", "docs", "listing-"+mode.name+".png"), data, 0o644))
			}
		})
	}

	t.Run("CA not trusted", func(t *testing.T) {
		dom, stderr := runChromium(t, chromium, nssHome(t, certutil, ""), "--dump-dom", site.url)
		if strings.Contains(dom, "alpha.txt") || strings.Contains(dom, "Index of") {
			t.Errorf("Chromium rendered the listing without trusting the CA:\n%s", clip(dom))
		}
		if !strings.Contains(dom+stderr, "ERR_CERT_AUTHORITY_INVALID") {
			t.Errorf("Chromium without the CA reports no ERR_CERT_AUTHORITY_INVALID\nDOM: %s\nstderr: %s", clip(dom), browserErrors(stderr))
		}
	})
}
