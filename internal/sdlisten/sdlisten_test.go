package sdlisten

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestListenersEnv checks the environment rules; the descriptors themselves are tested by
// cmd/httpskit's TestServeSocketActivation, which execs serve with a socket at descriptor 3.
func TestListenersEnv(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	tests := []struct {
		name, pid, fds string
		wantErr        string // "" for no error and no listener
	}{
		{"unset", "", "", ""},
		{"for another process", "1", "1", ""},
		{"zero", me, "0", ""},
		{"not a number", me, "two", `LISTEN_FDS="two"`},
		{"negative", me, "-1", "from 0 to 64"},
		{"too many", me, "1000", "from 0 to 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(PIDEnv, tt.pid)
			t.Setenv(FDsEnv, tt.fds)
			t.Setenv(NamesEnv, "web")
			lns, err := Listeners()
			if len(lns) != 0 {
				t.Errorf("Listeners() = %d listeners, want none", len(lns))
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Listeners() error = %v, want %q", err, tt.wantErr)
			}
			for _, k := range []string{PIDEnv, FDsEnv, NamesEnv} {
				if v, ok := os.LookupEnv(k); ok {
					t.Errorf("%s = %q after Listeners, want it unset", k, v)
				}
			}
		})
	}
}
