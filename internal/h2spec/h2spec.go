// Package h2spec builds and runs h2spec, the HTTP/2 conformance suite
// (github.com/summerwind/h2spec), for tests: Build installs a pinned version from the Go
// module proxy into the user cache directory once, Run runs it against a TLS server and
// parses its summary and failures.
package h2spec

import (
	"bytes"
	"context"
	"net"
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

// Version is the h2spec Build installs. The module proxy serves h2spec 2.x only as
// v2.2.1+incompatible (later tags declare a module path without /v2); it runs 145 cases.
const Version = "v2.2.1+incompatible"

// Cases is the number of test cases Version runs.
const Cases = 145

// Build returns the path of the pinned h2spec, installing it into the user cache directory
// the first time. It skips the test under emulation (too slow, and the protocol logic does
// not depend on the architecture) and when the build fails outside CI (no module proxy);
// with CI=true a failed build fails the test.
func Build(tb testing.TB) string {
	tb.Helper()
	if testenv.Emulated() {
		tb.Skip("h2spec under emulation: too slow, and the protocol logic is not architecture specific")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "httpskit", "h2spec-"+strings.TrimSuffix(Version, "+incompatible"))
	bin := filepath.Join(dir, "h2spec")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/summerwind/h2spec/cmd/h2spec@"+Version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("build h2spec: %v\n%s", err, out)
		}
		tb.Skipf("build h2spec (no module proxy?): %v\n%s", err, out)
	}
	return bin
}

// Result is the summary line of an h2spec run and the failures it printed.
type Result struct {
	Tests, Passed, Skipped, Failed int
	Failures                       string // h2spec's "Failures:" section, empty when none
}

var summary = regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`)

// Run runs h2spec (from Build) against the TLS server at addr ("host:port"), without
// verifying its certificate, with a 10-second timeout per case. It fails the test when
// h2spec prints no summary.
func Run(tb testing.TB, bin, addr string) Result {
	tb.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatalf("h2spec: address %q: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(5*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "-t", "-k", "-o", "10")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	m := summary.FindStringSubmatch(out.String())
	if m == nil {
		tb.Fatalf("h2spec: %v, no summary in its output:\n%s", err, out.String())
	}
	var r Result
	for i, p := range []*int{&r.Tests, &r.Passed, &r.Skipped, &r.Failed} {
		*p, _ = strconv.Atoi(m[i+1])
	}
	if i := strings.Index(out.String(), "Failures:"); i >= 0 {
		r.Failures = out.String()[i:]
	}
	return r
}

// Check fails the test unless r passed every one of the Cases.
func Check(tb testing.TB, what string, r Result) {
	tb.Helper()
	tb.Logf("h2spec %s on %s: %d tests, %d passed, %d skipped, %d failed", Version, what, r.Tests, r.Passed, r.Skipped, r.Failed)
	if r.Failed != 0 || r.Passed != r.Tests {
		tb.Errorf("h2spec on %s: %d of %d passed, %d failed:\n%s", what, r.Passed, r.Tests, r.Failed, r.Failures)
	}
	if r.Tests != Cases {
		tb.Errorf("h2spec ran %d cases, want %d", r.Tests, Cases)
	}
}
