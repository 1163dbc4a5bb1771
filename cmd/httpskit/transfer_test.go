package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/https"
)

// TestExpandShort: curl's combined short flags become separate ones; values
// of flags are left alone.
func TestExpandShort(t *testing.T) {
	var f fetchFlags
	fs := fetchFlagSet("get", "", &f, io.Discard)
	tests := []struct {
		in, want string
	}{
		{"-fsSL URL", "-f -s -S -L URL"},
		{"-sSo out URL", "-s -S -o out URL"},
		{"-oout URL", "-o out URL"},
		{"-so- URL", "-s -o - URL"},
		{"-sI", "-s -I"},
		{"-H -fsSL URL", "-H -fsSL URL"},   // a value, not flags
		{"-d @file -kv", "-d @file -k -v"}, // after a value
		{"-key k -cert c", "-key k -cert c"},
		{"--max-time 3 -sS", "--max-time 3 -s -S"},
		{"-X=POST -ik", "-X=POST -i -k"},
		{"-- -fsSL", "-- -fsSL"},
		{"-1", "-1"},
	}
	for _, tt := range tests {
		got, err := expandShort(fs, strings.Fields(tt.in))
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("expandShort(%q) = %q, %v; want %q", tt.in, strings.Join(got, " "), err, tt.want)
		}
	}
	if _, err := expandShort(fs, []string{"-fsZ"}); err == nil || !strings.Contains(err.Error(), "unknown flag -Z in -fsZ") {
		t.Errorf("expandShort(-fsZ) error = %v, want it to name -Z", err)
	}
}

// TestSeconds: --max-time and friends read seconds as curl does, and Go
// durations.
func TestSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"3": 3 * time.Second, "2.5": 2500 * time.Millisecond, "0.001": time.Millisecond,
		"0": 0, "200ms": 200 * time.Millisecond, "1m30s": 90 * time.Second,
	} {
		var s seconds
		if err := s.Set(in); err != nil || time.Duration(s) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(s), err, want)
		}
	}
	for _, in := range []string{"", "-1", "soon", "NaN", "1e300", "-2s"} {
		var s seconds
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) = %v, want an error", in, time.Duration(s))
		}
	}
}

// TestUnknownFlagOneLine: an unknown flag is one line naming it as typed,
// with a hint, and no usage text.
func TestUnknownFlagOneLine(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "--nope", "https://localhost/"}, `unknown flag --nope (run "httpskit get -h" for the flags)`},
		{[]string{"request", "-Q", "https://localhost/"}, `unknown flag -Q (run "httpskit request -h" for the flags)`},
		{[]string{"get", "https://localhost/", "--max-time"}, `flag needs an argument: -max-time (run "httpskit get -h" for the flags)`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, &stderr)
		var msg bytes.Buffer
		if code := exitCode(err, &msg); code != 2 || msg.String() != "httpskit: "+tt.want+"\n" || stderr.Len() != 0 {
			t.Errorf("%q: exit %d, message %q, stderr %q; want 2, %q, nothing", tt.args, code, msg.String(), stderr.String(), tt.want)
		}
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"get", "-h"}, io.Discard, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("get -h: %v", err)
	}
	help := stderr.String()
	for _, want := range []string{"-fsSL", "--max-time", "exit codes (curl's):", "  28  timed out", "  60  the server's certificate", "%{http_code}"} {
		if !strings.Contains(help, want) {
			t.Errorf("get -h does not mention %q", want)
		}
	}
	for _, seed := range []string{"IoT.js", "seed", "https.get", "https.request"} {
		if strings.Contains(help, seed) {
			t.Errorf("get -h mentions %q", seed)
		}
	}
}

// TestFetchDetails: what get does beyond the curl parity table: the
// default User-Agent, -A "", -D with redirects, -w timings in order,
// --max-time mid-body naming the bytes that arrived, -s and -sS, and the
// exit code of Ctrl-C.
func TestFetchDetails(t *testing.T) {
	site := startFetchSite(t)
	out, _, err := runFetchTest(runGet, "-k", site.url+"/agent")
	if err != nil || !strings.HasPrefix(out, "agent=httpskit/") {
		t.Errorf("default User-Agent: %q, %v", out, err)
	}
	out, _, err = runFetchTest(runGet, "-k", "-A", "", site.url+"/agent")
	if err != nil || !strings.HasPrefix(out, "agent= ") {
		t.Errorf("-A '': %q, %v; want no User-Agent", out, err)
	}

	heads := filepath.Join(t.TempDir(), "heads.txt")
	out, _, err = runFetchTest(runGet, "-k", "-L", "-D", heads, site.url+"/moved")
	dumped, _ := os.ReadFile(heads)
	if err != nil || out != "hello, world\n" || !containsAll(string(dumped), "HTTP/2.0 302 Found\r\n", "Location: /hello\r\n", "HTTP/2.0 200 OK\r\n", "X-Test: yes\r\n") {
		t.Errorf("-D with -L: stdout %q, file %q, %v", out, dumped, err)
	}
	out, _, err = runFetchTest(runGet, "-k", "-D", "-", site.url+"/hello")
	if err != nil || !strings.HasPrefix(out, "HTTP/2.0 200 OK\r\n") || !strings.HasSuffix(out, "\r\n\r\nhello, world\n") {
		t.Errorf("-D -: %q, %v", out, err)
	}

	https.CloseIdleConnections() // a new connection: every phase happens
	out, _, err = runFetchTest(runGet, "-k", "-o", "-", "-s", "-w", `\n%{time_connect}|%{time_appconnect}|%{time_starttransfer}|%{time_total}|%{remote_port}|%{content_type}|%{exitcode}`, site.url+"/hello")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Split(strings.TrimPrefix(out, "hello, world\n\n"), "|")
	if len(fields) != 7 || fields[4] != site.url[strings.LastIndex(site.url, ":")+1:] || fields[5] != "text/plain; charset=utf-8" || fields[6] != "0" {
		t.Fatalf("-w: %q", out)
	}
	var times []float64
	for _, f := range fields[:4] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("-w: %q", out)
		}
		times = append(times, v)
	}
	if !(times[0] > 0 && times[0] <= times[1] && times[1] <= times[2] && times[2] <= times[3]) {
		t.Errorf("-w times connect %v, appconnect %v, starttransfer %v, total %v: want 0 < each <= the next", times[0], times[1], times[2], times[3])
	}

	_, _, err = runFetchTest(runGet, "-k", "--max-time", "0.3", site.url+"/trickle")
	if want := "timed out after --max-time 300ms with 1000 of 5000 bytes received"; err == nil || err.Error() != want {
		t.Errorf("--max-time mid-body: %v, want %q", err, want)
	}
	if code := exitCode(err, io.Discard); code != 28 {
		t.Errorf("--max-time: exit %d, want 28", code)
	}

	for _, tt := range []struct {
		flags []string
		quiet bool
	}{{[]string{"-s"}, true}, {[]string{"-sS"}, false}, {nil, false}} {
		_, _, err := runFetchTest(runGet, append(tt.flags, "https://127.0.0.1:1/")...)
		var msg bytes.Buffer
		code := exitCode(err, &msg)
		if code != 7 || (msg.Len() == 0) != tt.quiet {
			t.Errorf("%v to a closed port: exit %d, message %q; want 7, quiet %v", tt.flags, code, msg.String(), tt.quiet)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	r, w := io.Pipe()
	go func() {
		done <- runGet(ctx, []string{"-k", site.url + "/trickle"}, io.MultiWriter(&stdout, w), &stderr)
	}()
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil { // the first 1000 bytes arrived
		t.Fatal(err)
	}
	go io.Copy(io.Discard, r)
	cancel() // as Ctrl-C does to main's context
	err = <-done
	w.Close()
	if code := exitCode(err, io.Discard); code != 130 || err.Error() != "interrupted with 1000 bytes received" {
		t.Errorf("cancelled: exit %d, %v; want 130, interrupted with 1000 bytes received", code, err)
	}
}

// TestRetry: --retry retries idempotent requests after a status that says
// "try again", waiting what Retry-After says, and not a POST; the last
// answer is written as it is.
func TestRetry(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]time.Time{} // arrival times per path and method
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		key := r.Method + " " + r.URL.Path
		seen[key] = append(seen[key], time.Now())
		n := len(seen[key])
		mu.Unlock()
		switch {
		case r.URL.Path == "/after" && n == 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case r.URL.Path == "/always":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "busy %d\n", n)
		default:
			fmt.Fprintf(w, "ok %d\n", n)
		}
	}))
	defer s.Close()
	defer https.CloseIdleConnections()
	attempts := func(key string) []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return seen[key]
	}

	out, stderr, err := runFetchTest(runGet, "-k", "--retry", "3", "--retry-delay", "0.01", s.URL+"/after")
	if err != nil || out != "ok 2\n" || !strings.Contains(stderr, "HTTP 429; retrying in 1s, 3 retries left") {
		t.Errorf("Retry-After: %q, %v, stderr %q", out, err, stderr)
	}
	if at := attempts("GET /after"); len(at) != 2 || at[1].Sub(at[0]) < time.Second {
		t.Errorf("Retry-After: 1: %d attempts, %v apart; want 2, at least 1s apart", len(at), at[1].Sub(at[0]))
	}

	out, _, err = runFetchTest(runGet, "-k", "-s", "--retry", "2", "--retry-delay", "0.01", s.URL+"/always")
	if err != nil || out != "busy 3\n" || len(attempts("GET /always")) != 3 {
		t.Errorf("always 503: %q, %v after %d attempts; want the third answer", out, err, len(attempts("GET /always")))
	}
	_, _, err = runFetchTest(runGet, "-k", "-sf", "--retry", "1", "--retry-delay", "0.01", s.URL+"/always")
	if code := exitCode(err, io.Discard); code != 22 {
		t.Errorf("always 503 with -f: exit %d, want 22", code)
	}

	out, _, err = runFetchTest(runRequest, "-k", "-s", "--retry", "2", "--retry-delay", "0.01", "-d", "x=1", s.URL+"/always")
	if err != nil || out != "busy 1\n" || len(attempts("POST /always")) != 1 {
		t.Errorf("POST: %q, %v after %d attempts; want one attempt", out, err, len(attempts("POST /always")))
	}

	_, stderr, err = runFetchTest(runGet, "--retry", "1", "--retry-delay", "0.01", "--retry-connrefused", "https://127.0.0.1:1/")
	if code := exitCode(err, io.Discard); code != 7 || strings.Count(stderr, "retrying") != 1 {
		t.Errorf("refused with --retry-connrefused: exit %d, stderr %q; want 7 after one retry", code, stderr)
	}
	_, stderr, _ = runFetchTest(runGet, "--retry", "1", "--retry-delay", "0.01", "https://127.0.0.1:1/")
	if strings.Contains(stderr, "retrying") {
		t.Errorf("refused without --retry-connrefused was retried: %q", stderr)
	}
}

// TestGetInterrupted: Ctrl-C (SIGINT) during a transfer ends `httpskit get`
// with exit code 130, as a shell reports a command ended by it.
func TestGetInterrupted(t *testing.T) {
	arrived := make(chan struct{}, 1)
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer s.Close()
	p := startHTTPSKit(t, "get", "-k", s.URL+"/stall")
	select {
	case <-arrived:
	case <-p.exited:
		t.Fatalf("httpskit exited before its request arrived: %v\nstderr: %s", p.err, p.stderr)
	}
	must(t, p.cmd.Process.Signal(os.Interrupt))
	if code := p.wait(t); code != 130 {
		t.Errorf("exit code %d after SIGINT, want 130\nstderr: %s", code, p.stderr)
	}
}

// TestTargetURL: a URL goes through targetFromURL and back as curl's
// url_effective prints it.
func TestTargetURL(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":                   "https://example.com/",
		"https://example.com:443/a?b=c": "https://example.com/a?b=c",
		"https://example.com:8443/":     "https://example.com:8443/",
		"http://example.com/x":          "http://example.com/x",
		"http://example.com:80":         "http://example.com/",
		"http://example.com:443/":       "http://example.com:443/",
		"https://[::1]:8443/":           "https://[::1]:8443/",
		"https://[::1]/":                "https://[::1]/",
	} {
		tg, err := targetFromURL(in)
		if err != nil || tg.url() != want {
			t.Errorf("targetFromURL(%q).url() = %q, %v; want %q", in, tg.url(), err, want)
		}
	}
}

// TestExitCodesDocumented: every exit code of get and request is in the
// README's table and in get -h.
func TestExitCodesDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	must(t, err)
	help := exitCodeHelp()
	for _, e := range exitCodes {
		if !strings.Contains(string(readme), fmt.Sprintf("\n| %d | ", e.code)) {
			t.Errorf("README.md has no row for exit code %d", e.code)
		}
		if !strings.Contains(help, fmt.Sprintf(" %d  ", e.code)) {
			t.Errorf("get -h does not list exit code %d", e.code)
		}
	}
}
