package h2serve

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// h2specVersion is the h2spec the conformance test builds from the Go module proxy. The
// proxy serves h2spec 2.x only as v2.2.1+incompatible (later tags declare a module path
// without /v2); it runs 145 test cases.
const h2specVersion = "v2.2.1+incompatible"

// h2spec returns the path of the pinned h2spec, building it into the user cache directory
// once. It skips the test when the build is impossible outside CI (no network).
func h2spec(t *testing.T) string {
	t.Helper()
	if testenv.Emulated() {
		t.Skip("h2spec under emulation: too slow, and the protocol logic is not architecture specific")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "httpskit", "h2spec-"+strings.TrimSuffix(h2specVersion, "+incompatible"))
	bin := filepath.Join(dir, "h2spec")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "install", "github.com/summerwind/h2spec/cmd/h2spec@"+h2specVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("build h2spec: %v\n%s", err, out)
		}
		t.Skipf("build h2spec (no module proxy?): %v\n%s", err, out)
	}
	return bin
}

// h2specResult is the summary line of an h2spec run and the failing cases it printed.
type h2specResult struct {
	tests, passed, skipped, failed int
	failures                       string
}

var h2specSummary = regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`)

// runH2spec runs h2spec against the TLS server at addr.
func runH2spec(t testing.TB, bin, addr string) h2specResult {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(5*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "-t", "-k", "-o", "10")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	m := h2specSummary.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("h2spec: %v, no summary in its output:\n%s", err, out.String())
	}
	var r h2specResult
	for i, p := range []*int{&r.tests, &r.passed, &r.skipped, &r.failed} {
		*p, _ = strconv.Atoi(m[i+1])
	}
	if i := strings.Index(out.String(), "Failures:"); i >= 0 {
		r.failures = out.String()[i:]
	}
	return r
}

// conformanceHandler serves what h2spec asks for: a body long enough for its flow-control
// cases.
var conformanceHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, strings.Repeat("h2spec conformance body\n", 64))
})

func TestH2spec(t *testing.T) {
	bin := h2spec(t)
	ts := startServer(t, Config{}, conformanceHandler)
	r := runH2spec(t, bin, ts.addr)
	t.Logf("h2spec %s on h2serve: %d tests, %d passed, %d skipped, %d failed", h2specVersion, r.tests, r.passed, r.skipped, r.failed)
	if r.failed != 0 || r.passed != r.tests {
		t.Errorf("h2spec: %d of %d passed, %d failed:\n%s", r.passed, r.tests, r.failed, r.failures)
	}
	if r.tests != 145 {
		t.Errorf("h2spec ran %d tests, want 145", r.tests)
	}
}

// TestH2specNetHTTP runs h2spec against net/http's own HTTP/2 server, to document the
// baseline the engine improves on. It fails only when h2spec cannot run.
func TestH2specNetHTTP(t *testing.T) {
	bin := h2spec(t)
	cert, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: conformanceHandler, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan error, 1)
	go func() { done <- hs.ServeTLS(ln, "", "") }()
	r := runH2spec(t, bin, ln.Addr().String())
	hs.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("ServeTLS: %v", err)
	}
	t.Logf("h2spec %s on net/http: %d tests, %d passed, %d failed", h2specVersion, r.tests, r.passed, r.failed)
	if testing.Verbose() && r.failures != "" {
		fmt.Println(r.failures)
	}
}
