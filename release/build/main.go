// Command build makes the release binaries of httpskit and checks them. From anywhere in the
// repository:
//
//	go run ./release/build [-o DIR]
//
// For each target it builds DIR/httpskit-linux-TARGET (DIR is dist by default) with
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=… GOARM=… go build [-tags=noredis] -trimpath -buildvcs=auto -ldflags='-s -w' ./cmd/httpskit
//
// that is: static, free of the build machine's paths, without symbol tables or DWARF, and
// stamped with the commit that `httpskit version` prints. The ARM builds are for devices and
// keep to 10 MB: the build tag noredis leaves out the Redis client of serve --storage
// redis://… (github.com/redis/go-redis/v9), which adds 1.8 to 1.9 MB to every target
// (measured at 11.1 MB for armv6, 10.7 MB for arm64, docs/devices.md). The amd64 build is
// for servers, where several instances share state through Redis: it keeps the client and
// has a limit of its own, 13 MB (11.9 MB measured). The targets:
//
//	amd64   linux/amd64 (GOAMD64=v1)  PCs and servers; with Redis
//	armv6   linux/arm, GOARM=6        Raspberry Pi Zero, Zero W, 1 (ARM1176); noredis
//	armv7   linux/arm, GOARM=7        Raspberry Pi 2, and 3/4/5 running a 32-bit system; noredis
//	arm64   linux/arm64               Raspberry Pi 3, 4, 5, Zero 2 W running a 64-bit system; noredis
//
// Then it checks each binary and fails (exit code 1) when one check fails:
//   - it is at most its target's limit: 10,000,000 bytes for ARM (10 MB, decimal; 10 MiB
//     would be 10,485,760), 13,000,000 for amd64;
//   - the ELF has no program interpreter (PT_INTERP) and needs no shared library, has no
//     symbol table nor DWARF, and its machine is the target's;
//   - the build settings it carries say CGO_ENABLED=0, -trimpath and the target's GOARCH and
//     GOARM;
//   - `httpskit version` runs and names the target: natively when the machine can, otherwise
//     under user-mode emulation (Debian's qemu-user-static) on the CPU of the oldest board the
//     build is for (arm1176 for armv6, cortex-a7 for armv7, cortex-a53 for arm64), so an
//     instruction that board lacks fails the run. Without the emulator the run is skipped with
//     a note; with CI=true a missing emulator fails.
//
// It prints a Markdown table of the files with their sizes and SHA-256 sums, as
// docs/devices.md shows it, and, only when every check passed, writes DIR/SHA256SUMS (verify
// with `cd DIR && sha256sum -c SHA256SUMS`). Bad usage exits with code 2.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

const (
	// maxBytes is the size limit of a release binary for a device (ARM): 10 MB.
	maxBytes = 10_000_000
	// maxServerBytes is the size limit of the amd64 release binary, which keeps the Redis
	// client: 13 MB.
	maxServerBytes = 13_000_000
	// module and mainPackage are what is built.
	module      = "github.com/httpskit/httpskit"
	mainPackage = module + "/cmd/httpskit"
	// deviceTags are the build tags of the ARM releases: see the package documentation.
	deviceTags = "noredis"
)

// target is one release build.
type target struct {
	name    string // in the file name: httpskit-linux-NAME
	goarch  string
	goarm   string // GOARM for arm, empty otherwise
	machine elf.Machine
	qemu    string // the user-mode emulator that runs it on another machine
	cpu     string // the CPU qemu emulates: the oldest board the build is for
	tags    string // build tags
	max     int64  // size limit in bytes
}

var targets = []target{
	{"amd64", "amd64", "", elf.EM_X86_64, "qemu-x86_64-static", "", "", maxServerBytes},
	{"armv6", "arm", "6", elf.EM_ARM, "qemu-arm-static", "arm1176", deviceTags, maxBytes},
	{"armv7", "arm", "7", elf.EM_ARM, "qemu-arm-static", "cortex-a7", deviceTags, maxBytes},
	{"arm64", "arm64", "", elf.EM_AARCH64, "qemu-aarch64-static", "cortex-a53", deviceTags, maxBytes},
}

// file is the name of the target's binary.
func (t target) file() string { return "httpskit-linux-" + t.name }

// platform is GOOS/GOARCH, with GOARM for arm.
func (t target) platform() string {
	if t.goarm != "" {
		return "linux/" + t.goarch + " GOARM=" + t.goarm
	}
	return "linux/" + t.goarch
}

// result is what build found for one target.
type result struct {
	t       target
	size    int64
	sum     string // SHA-256, hex
	version string // the line `httpskit version` printed, or why it did not run
	err     error
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run builds and checks every target; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("release/build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "dist", "write the binaries and SHA256SUMS to this directory")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./release/build [-o DIR]\n\nBuilds static, stripped httpskit binaries for linux/amd64, arm v6, arm v7 and arm64,\nchecks them (at most %d bytes for ARM, static, runs), prints sizes and SHA-256 sums.\n\n", maxBytes)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "release/build: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if err := checkModule(ctx); err != nil {
		fmt.Fprintf(stderr, "release/build: %v\n", err)
		return 1
	}
	dir, err := filepath.Abs(*out)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintf(stderr, "release/build: %v\n", err)
		return 1
	}
	sums := filepath.Join(dir, "SHA256SUMS")
	if err := os.Remove(sums); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "release/build: %v\n", err)
		return 1
	}

	var results []result
	failed := false
	for _, t := range targets {
		r := buildAndCheck(ctx, filepath.Join(dir, t.file()), t)
		if r.err != nil {
			failed = true
			fmt.Fprintf(stderr, "FAIL %s: %s\n", t.file(), strings.ReplaceAll(r.err.Error(), "\n", "\n     "))
		} else {
			fmt.Fprintf(stdout, "ok   %s: static, %s; %s\n", t.file(), t.platform(), r.version)
		}
		results = append(results, r)
	}
	fmt.Fprintln(stdout)
	writeTable(stdout, results, commitOf(filepath.Join(dir, targets[0].file())))
	if failed {
		fmt.Fprintf(stderr, "release/build: failed; no SHA256SUMS written\n")
		return 1
	}
	if err := os.WriteFile(sums, sumsFile(results), 0o644); err != nil {
		fmt.Fprintf(stderr, "release/build: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", sums)
	return 0
}

// buildAndCheck builds httpskit for t into path and runs every check, all of them even when
// one fails.
func buildAndCheck(ctx context.Context, path string, t target) result {
	r := result{t: t}
	if r.err = build(ctx, "", mainPackage, path, t); r.err != nil {
		return r
	}
	if r.sum, r.size, r.err = hashFile(path); r.err != nil {
		return r
	}
	var verr error
	r.version, verr = runVersion(ctx, path, t)
	r.err = errors.Join(checkSize(r.size, t.max), checkELF(path, t), checkBuildInfo(path, t), verr)
	return r
}

// checkModule fails unless the working directory is in the httpskit module, where the go
// command finds mainPackage.
func checkModule(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "list", "-m").Output()
	if err != nil || strings.TrimSpace(string(out)) != module {
		return fmt.Errorf("run it inside the httpskit repository: go list -m said %q (%v)", strings.TrimSpace(string(out)), err)
	}
	return nil
}

// build compiles package pkg for t into path, running the go command in dir (empty: the
// working directory).
func build(ctx context.Context, dir, pkg, path string, t target) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags="+t.tags, "-trimpath", "-buildvcs=auto", "-ldflags=-s -w", "-o", path, pkg)
	cmd.Dir = dir
	// GOAMD64=v1 and GOARM64=v8.0 are the defaults, set so that the environment cannot
	// narrow the machines a release runs on.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.goarch, "GOARM="+t.goarm,
		"GOAMD64=v1", "GOARM64=v8.0")
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errOut, &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, errOut.Bytes())
	}
	return nil
}

// hashFile returns the SHA-256 (hex) and the size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkSize fails when size is over limit.
func checkSize(size, limit int64) error {
	if size > limit {
		return fmt.Errorf("%s bytes (%s MB) is over the limit of %s bytes (%s MB) by %s", groupDigits(size), mb(size), groupDigits(limit), mb(limit), groupDigits(size-limit))
	}
	return nil
}

// checkELF fails unless path is an ELF executable for t's machine, stripped (no symbol table,
// no DWARF) and linked statically: no program interpreter (PT_INTERP, the dynamic loader) and
// no shared library needed.
func checkELF(path string, t target) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	if f.Machine != t.machine {
		return fmt.Errorf("ELF machine %v, want %v", f.Machine, t.machine)
	}
	for _, sec := range f.Sections {
		if sec.Name == ".symtab" || strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
			return fmt.Errorf("not stripped: the ELF has a %s section (build with -ldflags='-s -w')", sec.Name)
		}
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked: the ELF has a program interpreter (PT_INTERP)")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("reading the ELF's dynamic section: %w", err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("dynamically linked: needs %s", strings.Join(libs, ", "))
	}
	return nil
}

// checkBuildInfo fails unless the build settings in the binary at path are the release's for t.
func checkBuildInfo(path string, t target) error {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("no Go build information: %w", err)
	}
	got := map[string]string{}
	for _, s := range bi.Settings {
		got[s.Key] = s.Value
	}
	want := map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux", "GOARCH": t.goarch, "-tags": t.tags}
	if t.goarm != "" {
		want["GOARM"] = t.goarm
	}
	for _, k := range []string{"GOOS", "GOARCH", "GOARM", "CGO_ENABLED", "-trimpath", "-tags"} {
		if v, ok := want[k]; ok && got[k] != v {
			return fmt.Errorf("built with %s=%q, want %q", k, got[k], v)
		}
	}
	return nil
}

// runVersion runs `path version` natively or under qemu and checks that it names t. It returns
// the line and how it ran, or why it was skipped.
func runVersion(ctx context.Context, path string, t target) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	how := "ran natively"
	switch {
	case runtime.GOOS == "linux" && runtime.GOARCH == t.goarch && t.goarch != "arm":
		cmd = exec.CommandContext(ctx, path, "version")
	default: // arm always through qemu: the machine might be ARMv7 and the build ARMv6
		qemu, err := exec.LookPath(t.qemu)
		if err != nil {
			if os.Getenv("CI") == "true" {
				return "", fmt.Errorf("%s is required in CI (apt-get install qemu-user-static): %w", t.qemu, err)
			}
			return "not run: " + t.qemu + " not installed (apt-get install qemu-user-static)", nil
		}
		args := []string{path, "version"}
		how = "ran under " + t.qemu
		if t.cpu != "" {
			args = append([]string{"-cpu", t.cpu}, args...)
			how += " -cpu " + t.cpu
		}
		cmd = exec.CommandContext(ctx, qemu, args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	line := strings.TrimSpace(out.String())
	if err != nil {
		return "", fmt.Errorf("%s version (%s): %w: %s", filepath.Base(path), how, err, line)
	}
	if !strings.HasPrefix(line, "httpskit ") || !strings.HasSuffix(line, " linux/"+t.goarch) {
		return "", fmt.Errorf("%s version (%s) printed %q, want \"httpskit … linux/%s\"", filepath.Base(path), how, line, t.goarch)
	}
	return how + ": " + line, nil
}

// commitOf describes the commit stamped in the binary at path, for the table's heading.
func commitOf(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "commit unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return bi.GoVersion + ", commit unknown (not built in a git checkout)"
	case dirty:
		return bi.GoVersion + ", commit " + rev + " with uncommitted changes"
	}
	return bi.GoVersion + ", commit " + rev
}

// writeTable prints the results as a Markdown table under a line naming the build.
func writeTable(w io.Writer, results []result, heading string) {
	fmt.Fprintf(w, "Built with %s:\n\n", heading)
	fmt.Fprintf(w, "| file | target | bytes | MB | SHA-256 |\n|---|---|---:|---:|---|\n")
	for _, r := range results {
		size, mbs, sum := "-", "-", "-"
		if r.sum != "" {
			size, mbs, sum = groupDigits(r.size), mb(r.size), "`"+r.sum+"`"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.t.file(), r.t.platform(), size, mbs, sum)
	}
}

// sumsFile is the content of SHA256SUMS, in the format of sha256sum.
func sumsFile(results []result) []byte {
	var b bytes.Buffer
	for _, r := range results {
		fmt.Fprintf(&b, "%s  %s\n", r.sum, r.t.file())
	}
	return b.Bytes()
}

// mb is n in decimal megabytes with two decimals.
func mb(n int64) string { return fmt.Sprintf("%.2f", float64(n)/1e6) }

// groupDigits writes n with commas between groups of three digits: 9,052,322.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
