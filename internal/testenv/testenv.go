// Package testenv tells tests how they are being run: natively, or as a test binary for another
// architecture under user-mode emulation (.ci/emulated runs the suite for ARM Linux through
// qemu-user-static). It is for tests only.
//
// Under emulation a test cannot start a binary of its own architecture directly (there is no
// binfmt registration: the kernel refuses it), has no Go toolchain for that architecture, and
// leaves the outside programs (curl, openssl, nginx, node, chromium) to the native run. The
// runner says so in the environment:
//
//	HTTPSKIT_EMULATED=1               the test binary runs under an emulator
//	HTTPSKIT_EXEC_WRAPPER=/usr/bin/qemu-arm-static
//	                                  the command that runs a binary built for the tests'
//	                                  architecture ([Command] puts it first)
//	HTTPSKIT_TEST_HTTPSKIT=path       an httpskit built for the tests' architecture, runnable as is
//	                                  (tests that would `go build` it use it instead)
//
// Emulated code runs several times slower, so [Scale] stretches the time a test gives work
// that must get done in a set time. Without these variables (a plain `go test`) every function
// here does what a native run needs.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Environment variables set by the runner of emulated tests.
const (
	// EmulatedEnv set to "1" says the test binary runs under an emulator.
	EmulatedEnv = "HTTPSKIT_EMULATED"
	// ExecWrapperEnv is the command, split on spaces, that runs a binary of the test binary's
	// architecture. Empty means the binary runs directly.
	ExecWrapperEnv = "HTTPSKIT_EXEC_WRAPPER"
	// HTTPSKitEnv is the path of an httpskit binary that runs as is. Empty means tests that need
	// one build it with the go command, or skip under emulation.
	HTTPSKitEnv = "HTTPSKIT_TEST_HTTPSKIT"
)

// Emulated reports whether the test binary runs under an emulator (HTTPSKIT_EMULATED=1).
func Emulated() bool { return os.Getenv(EmulatedEnv) == "1" }

// EmulatedSlowdown is how many times longer than native a test gives work that must get done
// in a set time under emulation (see [Scale]). qemu-user runs Go code 5 to 30 times slower,
// but the tests spend much of their time waiting, not computing.
const EmulatedSlowdown = 4

// Scale returns d, or d times [EmulatedSlowdown] under emulation: for a test that runs work
// for a set time and then asserts that it got something done.
func Scale(d time.Duration) time.Duration {
	if Emulated() {
		return d * EmulatedSlowdown
	}
	return d
}

// LookPath returns the path of the first of names found on PATH: an outside program the test
// talks to. The test skips when none is found, except with CI=true, where the CI installs them
// and a missing one fails the test. Under emulation the test always skips: the native run of
// the same suite tests against the outside programs.
func LookPath(tb testing.TB, names ...string) string {
	tb.Helper()
	if Emulated() {
		tb.Skipf("%s: outside programs are left to the native run under emulation (%s=1)", names[0], EmulatedEnv)
	}
	var err error
	for _, name := range names {
		var p string
		if p, err = exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required in CI (installed by .ci/run): %v", names[0], err)
	}
	tb.Skipf("%s not installed: %v", names[0], err)
	return ""
}

// Command is [exec.Command] for a binary built for the test binary's architecture, such as the
// test binary itself (os.Args[0]): under emulation it runs through the emulator.
func Command(name string, arg ...string) *exec.Cmd {
	return CommandContext(context.Background(), name, arg...)
}

// CommandContext is [exec.CommandContext] for a binary built for the test binary's
// architecture: under emulation it runs through the emulator. The process is the emulator,
// which passes signals on to the program it runs.
func CommandContext(ctx context.Context, name string, arg ...string) *exec.Cmd {
	wrapper := strings.Fields(os.Getenv(ExecWrapperEnv))
	if len(wrapper) == 0 {
		return exec.CommandContext(ctx, name, arg...)
	}
	args := append(append(wrapper[1:len(wrapper):len(wrapper)], name), arg...)
	return exec.CommandContext(ctx, wrapper[0], args...)
}
