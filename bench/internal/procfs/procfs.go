// Package procfs reads the memory figures of a Linux process from /proc/PID/status, for the
// benchmark programs (bench/suite, bench/soak, bench/mem).
package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseStatus returns the named fields (VmRSS, VmHWM, RssAnon, RssFile, ...) of the text of
// /proc/PID/status, in KiB. Every name must be present.
func ParseStatus(text string, names ...string) (map[string]int64, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	got := make(map[string]int64, len(names))
	for line := range strings.Lines(text) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !want[name] {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("proc status: %s: %w", name, err)
		}
		got[name] = kb
	}
	for _, n := range names {
		if _, ok := got[n]; !ok {
			return nil, fmt.Errorf("proc status: no %s line", n)
		}
	}
	return got, nil
}

// ReadStatus is ParseStatus of /proc/PID/status.
func ReadStatus(pid int, names ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	return ParseStatus(string(b), names...)
}
