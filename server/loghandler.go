package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// AccessLogHandler returns a slog.Handler for access logs that writes the lines slog's
// TextHandler writes (JSONHandler's with json true) with default options, in a fraction of
// their CPU time: an access line, with its ten attributes and a browser's User-Agent, costs
// about a third (BenchmarkAccessLog). A log line per request is a cost every request pays,
// so `httpskit serve` uses it; any other handler works too.
//
// The output differs from slog's only in ways a reader of the format cannot tell: text
// values are quoted by the same rule with the same escapes for ASCII, JSON strings are
// escaped by encoding/json's rules. Each record is one Write call to w, serialised by a
// mutex shared with the handlers WithAttrs derives. WithGroup returns slog's own handler
// (text or JSON) on the same writer, with the attributes given so far: groups are rare in
// access logs. Records below slog.LevelInfo are dropped.
func AccessLogHandler(w io.Writer, json bool) slog.Handler {
	return &lineHandler{mu: new(sync.Mutex), w: w, json: json}
}

type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	json  bool
	pre   []byte      // attributes from WithAttrs, formatted, each with its leading separator
	attrs []slog.Attr // the same, for WithGroup's fallback
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	h2 := *h
	h2.pre = append([]byte(nil), h.pre...)
	for _, a := range as {
		h2.pre = h2.appendAttr(h2.pre, "", a)
	}
	h2.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &h2
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	var std slog.Handler
	w := lockedWriter{h.mu, h.w}
	if h.json {
		std = slog.NewJSONHandler(w, nil)
	} else {
		std = slog.NewTextHandler(w, nil)
	}
	return std.WithAttrs(h.attrs).WithGroup(name)
}

// lockedWriter shares the mutex of the handler it falls back from.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	bp := lineBuffers.Get().(*[]byte)
	b := h.appendStart((*bp)[:0], r.Time, r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b = h.appendAttr(b, "", a)
		return true
	})
	return h.finish(bp, b)
}

// access writes the access line of info, the one accessLog.RequestDone would hand to Handle
// as a Record (TestAccessLogHandlerFastPath), appending its values directly.
func (h *lineHandler) access(now time.Time, info RequestInfo) {
	r := info.Request
	bp := lineBuffers.Get().(*[]byte)
	b := h.appendStart((*bp)[:0], now, slog.LevelInfo, "request")
	b = h.appendKey(b, "", "remote", false)
	b = h.appendString(b, r.RemoteAddr)
	b = h.appendKey(b, "", "method", false)
	b = h.appendString(b, r.Method)
	b = h.appendKey(b, "", "path", false)
	b = h.appendString(b, requestURI(r))
	b = h.appendKey(b, "", "proto", false)
	b = h.appendString(b, r.Proto)
	b = h.appendKey(b, "", "status", false)
	b = strconv.AppendInt(b, int64(info.Status), 10)
	b = h.appendKey(b, "", "bytes", false)
	b = strconv.AppendInt(b, info.Bytes, 10)
	b = h.appendKey(b, "", "duration", false)
	if h.json {
		b = strconv.AppendInt(b, int64(info.Duration), 10)
	} else {
		b = appendTextString(b, info.Duration.String())
	}
	version, resumed := "", false
	if r.TLS != nil {
		version, resumed = tls.VersionName(r.TLS.Version), r.TLS.DidResume
	}
	b = h.appendKey(b, "", "tls", false)
	b = h.appendString(b, version)
	b = h.appendKey(b, "", "resumed", false)
	b = strconv.AppendBool(b, resumed)
	b = h.appendKey(b, "", "ua", false)
	b = h.appendString(b, r.Header.Get("User-Agent"))
	if info.Aborted {
		b = h.appendKey(b, "", "aborted", false)
		b = strconv.AppendBool(b, true)
	}
	h.finish(bp, b) // a write error has nowhere to go, as with Logger
}

// appendStart begins a line: time (unless zero), level, message and the WithAttrs attributes.
func (h *lineHandler) appendStart(b []byte, t time.Time, level slog.Level, msg string) []byte {
	if h.json {
		b = append(b, '{')
	}
	first := true
	if !t.IsZero() {
		b = h.appendKey(b, "", "time", first)
		first = false
		if h.json {
			b = append(b, '"')
			b = t.AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		} else {
			b = t.AppendFormat(b, rfc3339Millis)
		}
	}
	b = h.appendKey(b, "", "level", first)
	b = h.appendString(b, level.String())
	b = h.appendKey(b, "", "msg", false)
	b = h.appendString(b, msg)
	return append(b, h.pre...)
}

// finish ends the line b, writes it, and returns its buffer bp to the pool.
func (h *lineHandler) finish(bp *[]byte, b []byte) error {
	if h.json {
		b = append(b, '}')
	}
	b = append(b, '\n')
	h.mu.Lock()
	_, err := h.w.Write(b)
	h.mu.Unlock()
	*bp = b
	if cap(b) <= 16<<10 {
		lineBuffers.Put(bp)
	}
	return err
}

// appendKey appends the separator and the key (with its group prefix in text).
func (h *lineHandler) appendKey(b []byte, prefix, key string, first bool) []byte {
	if h.json {
		if !first {
			b = append(b, ',')
		}
		b = appendJSONString(b, key)
		return append(b, ':')
	}
	if !first {
		b = append(b, ' ')
	}
	if prefix != "" {
		key = prefix + "." + key
	}
	b = appendTextString(b, key)
	return append(b, '=')
}

func (h *lineHandler) appendString(b []byte, s string) []byte {
	if h.json {
		return appendJSONString(b, s)
	}
	return appendTextString(b, s)
}

// appendAttr appends one attribute with its leading separator, as slog's handlers do: an
// empty attribute is left out, a group is inlined (text: keys "g.k"; JSON: an object), a
// group with an empty key is flattened, and an empty group is left out.
func (h *lineHandler) appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	v := a.Value.Resolve()
	if a.Key == "" && v.Kind() != slog.KindGroup {
		return b
	}
	if v.Kind() == slog.KindGroup {
		g := v.Group()
		if len(g) == 0 {
			return b
		}
		if a.Key == "" {
			for _, ga := range g {
				b = h.appendAttr(b, prefix, ga)
			}
			return b
		}
		if h.json {
			b = h.appendKey(b, "", a.Key, false)
			b = append(b, '{')
			mark := len(b)
			for _, ga := range g {
				b = h.appendAttr(b, "", ga)
			}
			if len(b) > mark && b[mark] == ',' { // the first member has no comma
				b = append(b[:mark], b[mark+1:]...)
			}
			return append(b, '}')
		}
		p := a.Key
		if prefix != "" {
			p = prefix + "." + a.Key
		}
		for _, ga := range g {
			b = h.appendAttr(b, p, ga)
		}
		return b
	}
	b = h.appendKey(b, prefix, a.Key, false)
	switch v.Kind() {
	case slog.KindString:
		return h.appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		if h.json {
			return strconv.AppendInt(b, int64(v.Duration()), 10)
		}
		return appendTextString(b, v.Duration().String())
	case slog.KindFloat64:
		if h.json {
			if m, err := json.Marshal(v.Float64()); err == nil {
				return append(b, m...)
			}
			return appendJSONString(b, strconv.FormatFloat(v.Float64(), 'g', -1, 64))
		}
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
	case slog.KindTime:
		if h.json {
			b = append(b, '"')
			b = v.Time().AppendFormat(b, time.RFC3339Nano)
			return append(b, '"')
		}
		return v.Time().AppendFormat(b, rfc3339Millis)
	}
	// KindAny: as slog does, an error's text, encoding/json for JSON, fmt otherwise.
	x := v.Any()
	if h.json {
		if err, ok := x.(error); ok {
			return appendJSONString(b, err.Error())
		}
		if m, err := json.Marshal(x); err == nil {
			return append(b, m...)
		}
		return appendJSONString(b, fmt.Sprintf("%+v", x))
	}
	return appendTextString(b, fmt.Sprintf("%+v", x))
}

// rfc3339Millis is how slog's TextHandler writes times (its JSONHandler: time.RFC3339Nano).
const rfc3339Millis = "2006-01-02T15:04:05.000Z07:00"

// Byte classes for the string writers: what a byte asks of the text and JSON forms.
const (
	textQuote = 1 << iota // space, '=', '"', control or non-ASCII: text quotes the string
	textSlow              // control or non-ASCII: strconv.AppendQuote escapes it
	backslash             // '"' or '\\': escaped with a backslash in quotes
	jsonSlow              // control or non-ASCII: encoding/json escapes it
)

var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c < ' ' || c >= 0x7f:
			t[c] = textQuote | textSlow | jsonSlow
		case c == ' ' || c == '=':
			t[c] = textQuote
		case c == '"':
			t[c] = textQuote | backslash
		case c == '\\':
			t[c] = backslash
		}
	}
	return t
}()

// classOf ORs the classes of the bytes of s.
func classOf(s string) uint8 {
	var acc uint8
	for i := 0; i < len(s); i++ {
		acc |= byteClass[s[i]]
	}
	return acc
}

// appendTextString appends s as slog's TextHandler does: bare when it is non-empty printable
// ASCII without space, '=' or '"'; quoted otherwise (Go syntax, strconv.Quote's escapes).
func appendTextString(b []byte, s string) []byte {
	c := classOf(s)
	switch {
	case s == "":
		return append(b, `""`...)
	case c&textQuote == 0:
		return append(b, s...)
	case c&textSlow != 0:
		return strconv.AppendQuote(b, s)
	}
	b = append(b, '"')
	if c&backslash == 0 {
		b = append(b, s...)
		return append(b, '"')
	}
	for i := 0; i < len(s); i++ {
		if byteClass[s[i]]&backslash != 0 {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// appendJSONString appends s as a JSON string, as slog's JSONHandler does: encoding/json's
// escapes, without HTML escaping, for anything but plain printable ASCII.
func appendJSONString(b []byte, s string) []byte {
	if classOf(s)&(jsonSlow|backslash) != 0 {
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.Encode(s) // never fails for a string
		return append(b, bytes.TrimSuffix(out.Bytes(), []byte("\n"))...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
