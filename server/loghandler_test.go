package server

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

// TestAccessLogHandlerSlogtest: the JSON form passes the standard library's handler tests.
func TestAccessLogHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	h := AccessLogHandler(&buf, true)
	err := slogtest.TestHandler(h, func() []map[string]any {
		var out []map[string]any
		for line := range strings.Lines(buf.String()) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line %q is not JSON: %v", line, err)
			}
			out = append(out, m)
		}
		return out
	})
	if err != nil {
		t.Error(err)
	}
}

// TestAccessLogHandlerMatchesSlog: for the values an access log has, and a few more, the
// lines are byte for byte those of slog's TextHandler and JSONHandler.
func TestAccessLogHandlerMatchesSlog(t *testing.T) {
	when := time.Date(2026, 12, 7, 12, 0, 0, 123456789, time.UTC)
	records := [][]slog.Attr{
		{slog.String("remote", "127.0.0.1:5555"), slog.String("method", "GET"), slog.String("path", "/a?b=c&d=<e>"),
			slog.String("proto", "HTTP/2.0"), slog.Int("status", 200), slog.Int64("bytes", 1234),
			slog.Duration("duration", 1234567*time.Nanosecond), slog.String("tls", "TLS 1.3"), slog.Bool("resumed", true),
			slog.String("ua", `Mozilla/5.0 (X11; Linux x86_64) "quoted" \\ back`)},
		{slog.String("empty", ""), slog.String("eq", "a=b"), slog.String("ctl", "a\nb\x00"), slog.String("utf8", "héllo wörld"),
			slog.String("bad", "\xff\xfe"), slog.Uint64("u", 7), slog.Float64("f", 1.5), slog.Time("t", when),
			slog.Any("err", errors.New("boom here")), slog.Any("list", []int{1, 2}), slog.Group("g", slog.Int("a", 1), slog.Group("h", slog.String("b", "x y"))),
			slog.Group("", slog.Int("inline", 3)), slog.Group("nothing"), slog.Attr{}},
	}
	for _, asJSON := range []bool{false, true} {
		for i, attrs := range records {
			var ours, theirs bytes.Buffer
			var std slog.Handler = slog.NewTextHandler(&theirs, nil)
			if asJSON {
				std = slog.NewJSONHandler(&theirs, nil)
			}
			for _, h := range []slog.Handler{AccessLogHandler(&ours, asJSON).WithAttrs([]slog.Attr{slog.String("pre", "set")}), std.WithAttrs([]slog.Attr{slog.String("pre", "set")})} {
				r := slog.NewRecord(when, slog.LevelInfo, "request", 0)
				r.AddAttrs(attrs...)
				if err := h.Handle(t.Context(), r); err != nil {
					t.Fatal(err)
				}
			}
			if ours.String() != theirs.String() {
				t.Errorf("json=%v record %d:\n ours   %s slog's %s", asJSON, i, ours.String(), theirs.String())
			}
		}
	}
	// WithGroup falls back to slog's handler on the same writer.
	var buf bytes.Buffer
	AccessLogHandler(&buf, false).WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g").Handle(t.Context(), slog.NewRecord(when, slog.LevelWarn, "m", 0))
	if got := buf.String(); got != "time=2026-12-07T12:00:00.123Z level=WARN msg=m a=1\n" {
		t.Errorf("WithGroup line = %q", got)
	}
}

// TestAccessLogHandlerFastPath: the access line AccessLogHandler writes directly is the one
// it writes from the Record that any other handler gets.
func TestAccessLogHandlerFastPath(t *testing.T) {
	r := benchRequest("GET", "/a b?c=\"d\"")
	r.RemoteAddr = "[::1]:5555"
	r.Header.Set("User-Agent", "curl/8 \"x\" é")
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS12, DidResume: true}
	for _, aborted := range []bool{false, true} {
		info := RequestInfo{Request: r, Duration: 1500 * time.Microsecond, Status: 206, Bytes: 99, Aborted: aborted}
		for _, asJSON := range []bool{false, true} {
			var fast, slow bytes.Buffer
			AccessLogObserver(slog.New(AccessLogHandler(&fast, asJSON))).RequestDone(info)
			// Through the Record: any handler but ours takes this path.
			AccessLogObserver(slog.New(wrapped{AccessLogHandler(&slow, asJSON)})).RequestDone(info)
			f, s := stripTime(fast.String()), stripTime(slow.String())
			if f != s || f == "" {
				t.Errorf("json=%v aborted=%v:\n fast   %s record %s", asJSON, aborted, f, s)
			}
		}
	}
}

// wrapped hides a handler's type, so that the observer builds a Record for it.
type wrapped struct{ slog.Handler }

// stripTime drops the time value (the two lines are a moment apart).
func stripTime(line string) string {
	if i := strings.Index(line, "level"); i > 0 {
		return line[i:]
	}
	return line
}
