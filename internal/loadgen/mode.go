package loadgen

import "fmt"

// Mode is how [Run] loads the server.
type Mode string

// The modes. See the package documentation.
const (
	KeepAlive Mode = "keepalive" // HTTP/1.1 keep-alive, one request at a time per connection
	H2        Mode = "h2"        // HTTP/2, Config.Streams requests in flight per connection
	New       Mode = "new"       // a new TLS connection per request (Connection: close)
	Idle      Mode = "idle"      // open connections, one request each, then hold them idle
)

// Modes lists every mode, in the order the command line documents them.
var Modes = []Mode{KeepAlive, H2, New, Idle}

// ParseMode returns the mode named s, or an error naming the valid ones.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("loadgen: unknown mode %q (want keepalive, h2, new or idle)", s)
}
