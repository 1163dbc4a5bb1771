package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ContentType is the media type of the exposition written by WriteTo.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteTo writes every metric in the Prometheus text exposition format. Series with labels
// are all written, zeros included, so that a rate over them never starts from nothing.
func (c *Collector) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	b := bufio.NewWriter(cw)

	head(b, "httpskit_http_requests_total", "counter", "Requests answered, by protocol and status class.")
	for p, proto := range protocols {
		for k, class := range classes {
			series(b, "httpskit_http_requests_total", c.requests[p][k].Load(), "protocol", proto, "code", class)
		}
	}

	const dur = "httpskit_http_request_duration_seconds"
	head(b, dur, "histogram", "Time from a request's arrival to the end of its handler.")
	var cum uint64
	for i, le := range DurationBuckets {
		cum += c.buckets[i].Load()
		series(b, dur+"_bucket", cum, "le", strconv.FormatFloat(le.Seconds(), 'g', -1, 64))
	}
	cum += c.buckets[len(DurationBuckets)].Load()
	series(b, dur+"_bucket", cum, "le", "+Inf")
	b.WriteString(dur + "_sum " + strconv.FormatFloat(float64(c.durSum.Load())/1e9, 'g', -1, 64) + "\n")
	series(b, dur+"_count", cum)

	head(b, "httpskit_http_response_bytes_total", "counter", "Response body bytes written.")
	series(b, "httpskit_http_response_bytes_total", c.bytes.Load())

	head(b, "httpskit_tls_handshakes_total", "counter", "TLS handshakes completed, full or resumed.")
	series(b, "httpskit_tls_handshakes_total", c.full.Load(), "type", "full")
	series(b, "httpskit_tls_handshakes_total", c.resumed.Load(), "type", "resumed")
	head(b, "httpskit_tls_handshake_failures_total", "counter", "TLS handshakes that failed, by reason.")
	for i, r := range reasons {
		series(b, "httpskit_tls_handshake_failures_total", c.failed[i].Load(), "reason", r)
	}

	head(b, "httpskit_connections_open", "gauge", "Connections open now, TLS handshakes in progress included.")
	b.WriteString("httpskit_connections_open " + strconv.FormatInt(c.open.Load(), 10) + "\n")
	head(b, "httpskit_connections_accepted_total", "counter", "Connections accepted.")
	series(b, "httpskit_connections_accepted_total", c.accepted.Load())

	if c.certs != nil {
		const exp = "httpskit_tls_certificate_expiry_timestamp_seconds"
		head(b, exp, "gauge", "When each certificate in service expires, in seconds since the Unix epoch.")
		for _, ct := range c.certs() {
			b.WriteString(exp + "{listener=\"" + escape(ct.Listener) + "\",serial=\"" + escape(ct.Serial) + "\"} " +
				strconv.FormatInt(ct.NotAfter.Unix(), 10) + "\n")
		}
	}
	err := b.Flush()
	return cw.n, err
}

// ServeHTTP answers GET and HEAD with the exposition, and any other method with 405.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	c.WriteTo(w) // a failed write is a client gone away
}

func head(b *bufio.Writer, name, typ, help string) {
	b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// series writes one sample; labels are name, value pairs.
func series(b *bufio.Writer, name string, v uint64, labels ...string) {
	b.WriteString(name)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(labels[i] + "=\"" + escape(labels[i+1]) + "\"")
	}
	if len(labels) > 0 {
		b.WriteByte('}')
	}
	b.WriteString(" " + strconv.FormatUint(v, 10) + "\n")
}

// escape escapes a label value: backslash, double quote and line feed.
func escape(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ParseText reads an exposition as WriteTo writes it into its samples, keyed by series as
// written ("name{label=\"value\",...}"); comment lines are skipped. It is for tests and tools
// that check what a scrape returned, not a parser of every valid exposition.
func ParseText(r io.Reader) (map[string]float64, error) {
	samples := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("metrics: sample line %q has no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: sample line %q: %w", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, sc.Err()
}
