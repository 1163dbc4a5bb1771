package main

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/internal/testenv"
)

// hostTarget is the release target of the machine the tests run on; the test skips on others.
func hostTarget(t *testing.T) target {
	t.Helper()
	for _, tt := range targets {
		if runtime.GOOS == "linux" && tt.goarch == runtime.GOARCH && tt.goarch != "arm" {
			return tt
		}
	}
	t.Skipf("no release target runs natively on %s/%s", runtime.GOOS, runtime.GOARCH)
	return target{}
}

// buildTiny builds a small program for the host that prints what `httpskit version` prints,
// with the release's build, and returns its path; with symbols, it leaves out -ldflags='-s -w'.
func buildTiny(t *testing.T, tt target, symbols bool) string {
	t.Helper()
	goCmd := testenv.LookPath(t, "go")
	dir := t.TempDir()
	src := "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\nfunc main() {\n\tfmt.Println(\"httpskit (devel)\", runtime.Version(), runtime.GOOS+\"/\"+runtime.GOARCH)\n}\n"
	for name, content := range map[string]string{"go.mod": "module tiny\n\ngo 1.22\n", "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "tiny")
	if symbols {
		cmd := exec.CommandContext(t.Context(), goCmd, "build", "-o", path, ".")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		return path
	}
	if err := build(t.Context(), dir, ".", path, tt); err != nil {
		t.Fatal(err)
	}
	return path
}

// withInterp copies the ELF at path with its PT_GNU_STACK program header turned into
// PT_INTERP, as a dynamically linked executable has.
func withInterp(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.ByteOrder != binary.LittleEndian {
		t.Skipf("the fixture handles 64-bit little-endian ELF only, not %v %v", f.Class, f.ByteOrder)
	}
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	phentsize := uint64(binary.LittleEndian.Uint16(b[0x36:]))
	for i, p := range f.Progs {
		if p.Type == elf.PT_GNU_STACK {
			binary.LittleEndian.PutUint32(b[phoff+uint64(i)*phentsize:], uint32(elf.PT_INTERP))
			out := filepath.Join(t.TempDir(), "dynamic")
			if err := os.WriteFile(out, b, 0o755); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatalf("%s has no PT_GNU_STACK header to turn into PT_INTERP", path)
	return ""
}

// TestChecks: a static, stripped binary built the release's way passes the ELF and build
// checks and runs; a program interpreter, another machine, another GOARCH, symbols or a file
// that is not ELF each fail with a message that says so.
func TestChecks(t *testing.T) {
	host := hostTarget(t)
	tiny := buildTiny(t, host, false)
	other := targets[1] // armv6: another machine than any host that runs these tests natively
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho httpskit\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		check func() error
		want  string // a piece of the error; empty for none
	}{
		{"static ELF", func() error { return checkELF(tiny, host) }, ""},
		{"release build settings", func() error { return checkBuildInfo(tiny, host) }, ""},
		{"program interpreter", func() error { return checkELF(withInterp(t, tiny), host) }, "dynamically linked"},
		{"other machine", func() error { return checkELF(tiny, other) }, "ELF machine"},
		{"other GOARCH", func() error { return checkBuildInfo(tiny, other) }, "GOARCH="},
		{"symbols", func() error { return checkELF(buildTiny(t, host, true), host) }, "not stripped"},
		{"not ELF", func() error { return checkELF(notELF, host) }, "not an ELF file"},
		{"10,000,000 bytes", func() error { return checkSize(10_000_000, maxBytes) }, ""},
		{"10,000,001 bytes", func() error { return checkSize(10_000_001, maxBytes) }, "over the limit of 10,000,000 bytes (10.00 MB) by 1"},
		{"10 MiB", func() error { return checkSize(10<<20, maxBytes) }, "10,485,760 bytes (10.49 MB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRunVersion: the version line of a binary for the host is read and checked against the
// target; a binary that prints something else fails.
func TestRunVersion(t *testing.T) {
	host := hostTarget(t)
	tiny := buildTiny(t, host, false)
	line, err := runVersion(t.Context(), tiny, host)
	if err != nil || !strings.HasPrefix(line, "ran natively: httpskit (devel) go") {
		t.Errorf("runVersion = %q, %v; want \"ran natively: httpskit (devel) go…\"", line, err)
	}
	prog, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skipf("no /bin/true to stand for a program that prints nothing: %v", err)
	}
	silent := filepath.Join(t.TempDir(), "silent")
	if err := os.WriteFile(silent, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if line, err := runVersion(t.Context(), silent, host); err == nil || !strings.Contains(err.Error(), `want "httpskit`) {
		t.Errorf("runVersion(a program printing nothing) = %q, %v; want an error", line, err)
	}
}

// TestTable: the table and SHA256SUMS list the targets in order with the figures sha256sum
// and the docs use.
func TestTable(t *testing.T) {
	dir := t.TempDir()
	var results []result
	for i, tt := range targets[:2] {
		path := filepath.Join(dir, tt.file())
		if err := os.WriteFile(path, []byte(strings.Repeat("a", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		sum, size, err := hashFile(path)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, result{t: tt, size: size, sum: sum})
	}
	results = append(results, result{t: targets[2]}) // a failed build: no figures
	results[0].size = 9_052_322                      // as a release binary's, for the digit groups

	const (
		empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256sum of nothing
		a     = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" // of "a"
	)
	wantSums := empty + "  httpskit-linux-amd64\n" + a + "  httpskit-linux-armv6\n"
	if got := string(sumsFile(results[:2])); got != wantSums {
		t.Errorf("SHA256SUMS =\n%s\nwant:\n%s", got, wantSums)
	}
	var b strings.Builder
	writeTable(&b, results, "go1.x, commit 0123")
	for _, want := range []string{
		"Built with go1.x, commit 0123:\n",
		"| httpskit-linux-amd64 | linux/amd64 | 9,052,322 | 9.05 | `" + empty + "` |\n",
		"| httpskit-linux-armv6 | linux/arm GOARM=6 | 1 | 0.00 | `" + a + "` |\n",
		"| httpskit-linux-armv7 | linux/arm GOARM=7 | - | - | - |\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
