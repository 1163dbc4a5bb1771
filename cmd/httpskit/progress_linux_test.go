package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal and returns its controlling side (to read
// what was written to the terminal) and the terminal itself.
func openPTY(t *testing.T) (ctl, term *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ctl.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		ctl.Close()
		t.Fatalf("unlock pty: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ctl.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		ctl.Close()
		t.Fatalf("pty number: %v", e)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ctl.Close()
		t.Fatal(err)
	}
	return ctl, term
}

// TestProgressMeter: the progress meter shows on stderr when stderr is a
// terminal and the body goes to a file or a pipe, not when the body goes to
// the terminal itself, and never with -s.
func TestProgressMeter(t *testing.T) {
	site := startFetchSite(t)
	out := filepath.Join(t.TempDir(), "big")
	tests := []struct {
		name         string
		args         []string
		stdoutIsTerm bool
		want         bool
	}{
		{"body to a pipe", []string{site.url + "/big"}, false, true},
		{"body to a file", []string{"-o", out, site.url + "/big"}, true, true},
		{"body to the terminal", []string{site.url + "/big"}, true, false},
		{"silent", []string{"-s", site.url + "/big"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctl, term := openPTY(t)
			read := make(chan string, 1)
			go func() {
				var b bytes.Buffer
				io.Copy(&b, ctl) // ends with EIO once the terminal is closed
				read <- b.String()
			}()
			var stdout io.Writer = new(bytes.Buffer)
			if tt.stdoutIsTerm {
				stdout = term
			}
			err := runGet(t.Context(), append([]string{"--ca", site.caFile}, tt.args...), stdout, term)
			term.Close()
			shown := <-read
			ctl.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(shown, "100% [") && strings.Contains(shown, "of 97.7 KiB"); got != tt.want {
				t.Errorf("progress meter shown %v, want %v; the terminal got %q", got, tt.want, clip(shown))
			}
		})
	}
}
