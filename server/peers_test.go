package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// curlRun runs curl with args against our test CA and returns its output (headers with -i or
// -D -, then the body).
func curlRun(t *testing.T, args ...string) string {
	t.Helper()
	curl := testenv.LookPath(t, "curl")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(ca, getPKI(t).ca.CertPEM, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, append([]string{"-sS", "--cacert", ca}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %q: %v: %s", args, err, stderr.String())
	}
	return string(out)
}

// TestCurlCompressedAndCORS: curl, an independent client, decodes what we gzip on the fly
// and a precompressed .gz sibling (--compressed, HTTP/1.1 and HTTP/2), and sees our
// preflight answer.
func TestCurlCompressedAndCORS(t *testing.T) {
	testenv.LookPath(t, "curl")
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 256)
	must(t, os.WriteFile(filepath.Join(dir, "big.txt"), big, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "pre.js"), bytes.Repeat([]byte("x"), 2000), 0o644))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("from the .gz sibling"))
	zw.Close()
	must(t, os.WriteFile(filepath.Join(dir, "pre.js.gz"), gz.Bytes(), 0o644))
	s := New(Config{})
	must(t, s.CORS("*", CORSOptions{Origins: []string{"https://app.example.com"}, Headers: []string{"X-Token"}}))
	must(t, s.ServeDirectory("/", dir, DirectoryOptions{Compress: true}))
	ts := startTargets(t, s)
	base := "https://localhost:" + strconv.Itoa(ts[1].l.Port())
	resolve := "localhost:" + strconv.Itoa(ts[1].l.Port()) + ":127.0.0.1"
	for _, proto := range []string{"--http1.1", "--http2"} {
		for _, tt := range []struct{ path, body string }{{"/big.txt", string(big)}, {"/pre.js", "from the .gz sibling"}} {
			out := curlRun(t, proto, "--resolve", resolve, "--compressed", "-D", "-", base+tt.path)
			head, body, _ := strings.Cut(out, "\r\n\r\n")
			if !strings.Contains(strings.ToLower(head), "content-encoding: gzip") || body != tt.body {
				t.Errorf("curl %s --compressed %s: headers %q, body of %d bytes; want gzip and %d bytes", proto, tt.path, head, len(body), len(tt.body))
			}
		}
		out := curlRun(t, proto, "--resolve", resolve, "-X", "OPTIONS", "-D", "-", "-o", os.DevNull,
			"-H", "Origin: https://app.example.com", "-H", "Access-Control-Request-Method: GET",
			"-H", "Access-Control-Request-Headers: x-token", base+"/big.txt")
		low := strings.ToLower(out)
		for _, want := range []string{" 204", "access-control-allow-origin: https://app.example.com", "access-control-allow-headers: x-token", "vary: origin"} {
			if !strings.Contains(low, want) {
				t.Errorf("curl %s preflight: headers %q lack %q", proto, out, want)
			}
		}
	}
}
