package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// runMainEnv makes the test binary run main instead of the tests: startHTTPSKit runs the test
// binary again with it set and the httpskit arguments as its own, so that `httpskit serve`
// runs as a real process that can be sent signals, built with the same flags as the tests
// (-race included: a race in the child makes it exit 66).
const runMainEnv = "HTTPSKIT_TEST_RUN_MAIN"

func init() {
	if os.Getenv(runMainEnv) == "1" {
		main() // exits
	}
}

// httpskitProc is httpskit running as a child process.
type httpskitProc struct {
	cmd            *exec.Cmd
	stdout, stderr *lineWriter
	exited         chan struct{} // closed when the process has exited; err is then set
	err            error
}

// startHTTPSKit runs `httpskit args...`; the process is killed when the test ends if it is
// still running.
func startHTTPSKit(t *testing.T, args ...string) *httpskitProc {
	t.Helper()
	cmd := testenv.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return startHTTPSKitCmd(t, cmd)
}

// startHTTPSKitCmd starts cmd, made to run httpskit (the test binary with runMainEnv set), as
// startHTTPSKit does.
func startHTTPSKitCmd(t *testing.T, cmd *exec.Cmd) *httpskitProc {
	t.Helper()
	p := &httpskitProc{cmd: cmd, stdout: newLineWriter(), stderr: newLineWriter(), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitLine waits for the next line of standard output that starts with prefix, and returns
// it; lines before it are skipped. It fails the test if the process exits first or after 60s.
func (p *httpskitProc) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case line := <-p.stdout.lines:
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-p.exited:
			t.Fatalf("httpskit exited (%v) before printing %q\nstdout: %s\nstderr: %s", p.err, prefix, p.stdout, p.stderr)
		case <-timeout.C:
			t.Fatalf("httpskit printed no %q line in 60s\nstdout: %s\nstderr: %s", prefix, p.stdout, p.stderr)
		}
	}
}

// wait waits for the process to exit (at most a minute) and returns its exit code.
func (p *httpskitProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("httpskit did not exit within a minute\nstdout: %s\nstderr: %s", p.stdout, p.stderr)
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("httpskit: %v", p.err)
	return -1
}

// startServeProcess runs `httpskit serve` over dir on 127.0.0.1 with a fresh development CA,
// and returns the process, its URL and its CA file.
func startServeProcess(t *testing.T, dir string, flags ...string) (p *httpskitProc, base, caFile string) {
	t.Helper()
	args := append([]string{"serve", "--host", "127.0.0.1", "--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca")}, flags...)
	p = startHTTPSKit(t, append(args, dir)...)
	base = strings.TrimSpace(strings.TrimPrefix(p.waitLine(t, "HTTPS "), "HTTPS "))
	caFile = strings.TrimPrefix(p.waitLine(t, "CA file: "), "CA file: ")
	return p, base, caFile
}

// bigFile writes a sparse file of size bytes with marks spread over it, and returns its
// SHA-256.
func bigFile(t *testing.T, name string, size int64) [32]byte {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	must(t, f.Truncate(size))
	for off := int64(0); off+64 < size; off += size / 7 {
		if _, err := f.WriteAt([]byte(fmt.Sprintf("mark at %d;", off)), off); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteAt([]byte("the end"), size-7); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// addrOf is the host:port of a URL.
func addrOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// waitRefused waits until connections to addr are refused (the listener is closed).
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.Close()
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections to %s still not refused after a minute (last: %v)", addr, err)
		}
	}
}

const downloadSize = 64 << 20

// TestServeSignals: SIGTERM and SIGINT (Ctrl-C) stop `httpskit serve` gracefully, over
// HTTP/1.1 and HTTP/2: with a 64 MiB download in flight that the client has not read yet,
// serve prints "stopping", refuses new connections at once and keeps running; the download
// then completes in full (length and SHA-256); serve prints "stopped" and exits 0.
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	sum := bigFile(t, filepath.Join(dir, "big.bin"), downloadSize)
	tests := []struct {
		name string
		sig  syscall.Signal
		h2   bool
	}{
		{"SIGTERM over HTTP/1.1", syscall.SIGTERM, false},
		{"SIGTERM over HTTP/2", syscall.SIGTERM, true},
		{"SIGINT over HTTP/1.1", syscall.SIGINT, false},
		{"SIGINT over HTTP/2", syscall.SIGINT, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A grace far above what the download needs: the test checks that serve waits,
			// not how fast the machine is.
			p, base, caFile := startServeProcess(t, dir, "--grace", "5m")
			if strings.Contains(p.stdout.String(), "debug ") {
				t.Errorf("serve without --debug-addr announced a debug endpoint:\n%s", p.stdout)
			}
			c := caClient(t, caFile, tt.h2)
			c.Timeout = 0 // the download waits for the test
			resp, err := c.Get(base + "big.bin")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength != downloadSize || (resp.ProtoMajor == 2) != tt.h2 {
				t.Fatalf("GET /big.bin = %d, %d bytes, %s; want 200, %d bytes, h2=%v", resp.StatusCode, resp.ContentLength, resp.Proto, downloadSize, tt.h2)
			}
			h := sha256.New()
			n, err := io.CopyN(h, resp.Body, 1<<20)
			if err != nil {
				t.Fatalf("first MiB: %v", err)
			}

			must(t, p.cmd.Process.Signal(tt.sig))
			p.waitLine(t, "stopping")
			waitRefused(t, addrOf(t, base))
			select {
			case <-p.exited:
				t.Fatalf("serve exited (%v) with a download in flight\nstdout: %s\nstderr: %s", p.err, p.stdout, p.stderr)
			default:
			}

			m, err := io.Copy(h, resp.Body)
			if n += m; err != nil || n != downloadSize || [32]byte(h.Sum(nil)) != sum {
				t.Errorf("download after %v: %d bytes (%v), SHA-256 match %v; want %d bytes, the file", tt.sig, n, err, [32]byte(h.Sum(nil)) == sum, int64(downloadSize))
			}
			if code := p.wait(t); code != 0 {
				t.Errorf("serve exit code %d after %v, want 0\nstderr: %s", code, tt.sig, p.stderr)
			}
			if out := p.stdout.String(); !strings.Contains(out, "\nstopped\n") {
				t.Errorf("serve printed no \"stopped\" line:\n%s", out)
			}
		})
	}
}

// startBigDownload starts serve with --grace grace over a directory holding a file of
// downloadSize bytes, and a download of it that waits for the test to read it. The response
// body is closed when the test ends.
func startBigDownload(t *testing.T, grace string) (*httpskitProc, *http.Response) {
	t.Helper()
	dir := t.TempDir()
	bigFile(t, filepath.Join(dir, "big.bin"), downloadSize)
	p, base, caFile := startServeProcess(t, dir, "--grace", grace)
	c := caClient(t, caFile, false)
	c.Timeout = 0 // the download waits for the test
	resp, err := c.Get(base + "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return p, resp
}

// TestServeGraceExpires: when requests in flight outlast --grace, serve closes their
// connections, says so, and exits 1; the client sees the download cut, never a short body
// passed off as complete.
func TestServeGraceExpires(t *testing.T) {
	p, resp := startBigDownload(t, "100ms")
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatalf("first MiB: %v", err)
	}
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	if code := p.wait(t); code != 1 {
		t.Errorf("serve exit code %d with a stalled download past the grace, want 1", code)
	}
	if got, want := p.stderr.String(), "still in flight after the 100ms grace were cut off"; !strings.Contains(got, want) {
		t.Errorf("stderr %q, want it to contain %q", got, want)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || n+1<<20 >= downloadSize {
		t.Errorf("download cut by the stop: read %d more bytes, err %v; want an error before the end", n, err)
	}
}

// TestServeSecondSignal: a second SIGINT or SIGTERM during the grace ends serve at once,
// without waiting for the download in flight.
func TestServeSecondSignal(t *testing.T) {
	p, _ := startBigDownload(t, "5m")
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.waitLine(t, "stopping")
	// serve restores the default action of the signals just after the first one arrived:
	// send the second until it takes.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for exited := false; !exited; {
		p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.exited:
			exited = true
		case <-tick.C:
		case <-deadline:
			t.Fatalf("serve still running a minute after a second signal\nstdout: %s", p.stdout)
		}
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("serve ended with %v, want killed by the second signal (SIGINT)", p.err)
	}
	if strings.Contains(p.stdout.String(), "\nstopped\n") {
		t.Errorf("serve printed \"stopped\" although the download was still in flight:\n%s", p.stdout)
	}
}

// TestServeGraceUsage: a bad --grace is a usage error (exit 2) that says what is wrong.
func TestServeGraceUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative", []string{"--grace", "-1s"}, "--grace must not be negative"},
		{"not a duration", []string{"--grace", "soon"}, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), append([]string{"serve"}, tt.args...), io.Discard, &stderr)
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve %q = %v, want a usage error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
