package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB whose Skipf and Fatalf record the message and stop the goroutine,
// as the real ones do.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// lookPath runs LookPath on a recorder in its own goroutine, so that Skipf and Fatalf can stop it.
func lookPath(names ...string) (path string, r *recorder) {
	r = &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		path = LookPath(r, names...)
	}()
	<-done
	return path, r
}

// TestLookPath: a program found on PATH is returned; a missing one skips, or fails with
// CI=true; under emulation the test skips whether or not the program is there.
func TestLookPath(t *testing.T) {
	bin := t.TempDir()
	prog := filepath.Join(bin, "prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		names    []string
		ci, emul string
		want     string // the path returned, or "skip: ..." or "fail: ..." with a part of the message
	}{
		{"found", []string{"prog"}, "", "", prog},
		{"found in CI", []string{"prog"}, "true", "", prog},
		{"second name found", []string{"missing", "prog"}, "", "", prog},
		{"missing", []string{"missing"}, "", "", "skip: missing not installed"},
		{"missing, CI not true", []string{"missing"}, "1", "", "skip: missing not installed"},
		{"missing in CI", []string{"missing"}, "true", "", "fail: missing is required in CI"},
		{"emulated", []string{"prog"}, "", "1", "skip: prog: outside programs are left to the native run"},
		{"emulated in CI, missing", []string{"missing"}, "true", "1", "skip: missing: outside programs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", bin)
			t.Setenv("CI", tt.ci)
			t.Setenv(EmulatedEnv, tt.emul)
			path, r := lookPath(tt.names...)
			var got string
			switch {
			case r.failed != "":
				got = "fail: " + r.failed
			case r.skipped != "":
				got = "skip: " + r.skipped
			default:
				got = path
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("LookPath(%q) with CI=%q %s=%q: %q, want %q", tt.names, tt.ci, EmulatedEnv, tt.emul, got, tt.want)
			}
		})
	}
}

func TestCommandArgs(t *testing.T) {
	tests := []struct {
		name, wrapper string
		want          []string
	}{
		{"native", "", []string{"/bin/x.test", "-a", "b"}},
		{"blank", "  ", []string{"/bin/x.test", "-a", "b"}},
		{"emulator", "/usr/bin/qemu-arm-static", []string{"/usr/bin/qemu-arm-static", "/bin/x.test", "-a", "b"}},
		{"emulator with flags", "qemu-arm-static -cpu arm1176", []string{"qemu-arm-static", "-cpu", "arm1176", "/bin/x.test", "-a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(ExecWrapperEnv, tt.wrapper)
			if got := Command("/bin/x.test", "-a", "b").Args; !slices.Equal(got, tt.want) {
				t.Errorf("%s=%q: Command args %q, want %q", ExecWrapperEnv, tt.wrapper, got, tt.want)
			}
		})
	}
}

// TestCommandRunsSelf runs the test binary again through Command: natively, and under the
// emulator when .ci/emulated runs this test.
func TestCommandRunsSelf(t *testing.T) {
	if os.Getenv("HTTPSKIT_TESTENV_CHILD") == "1" {
		fmt.Println("child", runtime.GOARCH)
		return
	}
	cmd := CommandContext(t.Context(), os.Args[0], "-test.run=^TestCommandRunsSelf$", "-test.v")
	cmd.Env = append(os.Environ(), "HTTPSKIT_TESTENV_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "child "+runtime.GOARCH) {
		t.Errorf("%q: %v\n%s", cmd.Args, err, out)
	}
}

func TestScale(t *testing.T) {
	for _, tt := range []struct {
		emul string
		want time.Duration
	}{{"", 5 * time.Second}, {"0", 5 * time.Second}, {"1", 20 * time.Second}} {
		t.Setenv(EmulatedEnv, tt.emul)
		if got := Scale(5 * time.Second); got != tt.want {
			t.Errorf("%s=%q: Scale(5s) = %v, want %v", EmulatedEnv, tt.emul, got, tt.want)
		}
	}
}
