package loadgen

import (
	"crypto/tls"
	"math"
	"time"
)

// Result is what one run measured. Its JSON form is the one "httpskit bench
// --json" prints; the field names are fixed.
type Result struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Connections int     `json:"connections"`
	Streams     int     `json:"streams"`    // H2 only, else 0
	DurationS   float64 `json:"duration_s"` // measured time (Idle: time held)
	Requests    int64   `json:"requests"`   // responses received, any status
	RPS         float64 `json:"rps"`        // Requests per second (Idle: 0)

	// LatencyUS is the time from starting a request (including its
	// connection in New and Idle modes) to the end of its response.
	LatencyUS Latency `json:"latency_us"`

	// Errors counts failed requests by kind: "connect refused", "dns",
	// "timeout", "tls: unknown authority", "tls: name mismatch",
	// "tls: bad certificate", "tls: other", "reset", "eof", "truncated",
	// "protocol", "status 4xx", "status 5xx", "closed while idle", "other".
	// Responses with status 4xx and 5xx count in Requests too. "closed
	// while idle" is, in Idle mode, a held connection the server closed;
	// in KeepAlive mode, a request on a reused connection that ended before
	// any byte of its response, because the server closed the connection
	// while it was idle (RFC 9112 section 9.3.1: the request did not reach
	// a handler, a client may retry it). Empty, not nil, when there were
	// none.
	Errors map[string]int64 `json:"errors"`

	BytesRead    int64 `json:"bytes_read"`    // on the wire: TLS records and handshakes included
	BytesWritten int64 `json:"bytes_written"` // likewise

	Proto      string `json:"proto"`       // "HTTP/1.1" or "HTTP/2.0"; "" when nothing answered
	TLSVersion string `json:"tls_version"` // "TLS 1.3"; "" for http:// or no handshake
	Cipher     string `json:"cipher"`      // "TLS_AES_128_GCM_SHA256"
	Curve      string `json:"curve"`       // key-exchange group, see CurveName
	Handshakes int64  `json:"handshakes"`  // completed during the measured run
	Resumed    int64  `json:"resumed"`     // of those, resumed sessions
	IdleHeld   int    `json:"idle_held"`   // Idle: connections held; else 0

	// ClientCPUS is the user plus system CPU time of this whole process
	// during the measured run, in seconds.
	ClientCPUS float64 `json:"client_cpu_s"`

	// BenchLine is the result in Go benchmark format, for benchstat.
	BenchLine string `json:"bench_line"`

	// OK counts responses with a status below 400; a run where it is zero
	// did not work at all.
	OK int64 `json:"-"`
}

// Latency holds latency statistics in microseconds. Percentiles come from
// a log-bucket histogram and are within about 2 % of the exact value.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// snapshot is the process-wide counters at one moment.
type snapshot struct {
	at                      time.Time
	cpu                     time.Duration
	bytesRead, bytesWritten int64
	handshakes, resumed     int64
}

func (r *runner) snapshot() snapshot {
	return snapshot{
		at:           time.Now(),
		cpu:          cpuTime(),
		bytesRead:    r.bytesRead.Load(),
		bytesWritten: r.bytesWritten.Load(),
		handshakes:   r.handshakes.Load(),
		resumed:      r.resumed.Load(),
	}
}

// result builds the Result from the merged tallies and the counters
// between two snapshots.
func (r *runner) result(from, to snapshot) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.total
	elapsed := max(to.at.Sub(from.at), 0)
	res := &Result{
		Mode:         string(r.cfg.Mode),
		URL:          r.tgt.url,
		Connections:  r.cfg.Connections,
		DurationS:    round(elapsed.Seconds(), 3),
		Requests:     t.requests,
		Errors:       map[string]int64{},
		BytesRead:    to.bytesRead - from.bytesRead,
		BytesWritten: to.bytesWritten - from.bytesWritten,
		Handshakes:   to.handshakes - from.handshakes,
		Resumed:      to.resumed - from.resumed,
		ClientCPUS:   round((to.cpu - from.cpu).Seconds(), 3),
		OK:           t.ok,
	}
	if r.cfg.Mode == H2 {
		res.Streams = r.cfg.Streams
	}
	if elapsed > 0 {
		res.RPS = round(float64(t.requests)/elapsed.Seconds(), 1)
	}
	h := &t.hist
	us := func(ns float64) float64 { return round(ns/1e3, 1) }
	res.LatencyUS = Latency{
		Mean: us(h.mean()),
		P50:  us(h.quantile(0.50)),
		P90:  us(h.quantile(0.90)),
		P99:  us(h.quantile(0.99)),
		P999: us(h.quantile(0.999)),
		Max:  us(float64(h.max)),
	}
	for k, n := range t.errors {
		if n > 0 {
			res.Errors[kind(k).String()] = n
		}
	}
	if t.requests > 0 {
		res.Proto = "HTTP/1.1"
		if r.cfg.Mode == H2 {
			res.Proto = "HTTP/2.0"
		}
	}
	if r.cfg.Mode == Idle {
		res.IdleHeld, res.RPS = r.held, 0
	}
	if r.tlsVersion != 0 {
		res.TLSVersion = tls.VersionName(r.tlsVersion)
		res.Cipher = tls.CipherSuiteName(r.cipher)
		res.Curve = CurveName(r.curve)
	}
	res.BenchLine = benchLine(r.cfg.Name, res, elapsed, to.cpu-from.cpu)
	return res
}

// round rounds x to digits decimals.
func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
