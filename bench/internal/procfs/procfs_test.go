package procfs

import (
	"os"
	"testing"
)

func TestParseStatus(t *testing.T) {
	text := "Name:\tx\nVmHWM:\t   9648 kB\nVmRSS:\t    8412 kB\nRssAnon:\t    1500 kB\nRssFile:\t    6912 kB\n"
	got, err := ParseStatus(text, "VmHWM", "VmRSS", "RssAnon", "RssFile")
	if err != nil || got["VmHWM"] != 9648 || got["VmRSS"] != 8412 || got["RssAnon"] != 1500 || got["RssFile"] != 6912 {
		t.Errorf("ParseStatus = %v, %v", got, err)
	}
	for _, tt := range []struct{ name, text string }{
		{"missing field", "Name:\tx\nVmRSS:\t1 kB\n"},
		{"not a number", "VmRSS:\tmany kB\nVmHWM:\t1 kB\n"},
	} {
		if _, err := ParseStatus(tt.text, "VmRSS", "VmHWM"); err == nil {
			t.Errorf("%s: ParseStatus(%q) succeeded", tt.name, tt.text)
		}
	}
}

func TestReadStatus(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	got, err := ReadStatus(os.Getpid(), "VmRSS")
	if err != nil || got["VmRSS"] <= 0 {
		t.Errorf("ReadStatus(self) = %v, %v", got, err)
	}
}
