package siteconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// unknownField finds the first object key in b that no field of Site takes (encoding/json
// matches keys to fields case-insensitively, and so does this) and describes it: its line, the
// entry it is in, and the known field it is most likely a slip for. It returns nil when it
// finds none, or when b is not a well-formed document.
func unknownField(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	err := walkFields(dec, reflect.TypeFor[Site](), "")
	if u, ok := err.(*unknownFieldError); ok {
		u.line = 1 + bytes.Count(b[:min(u.offset, int64(len(b)))], []byte("\n"))
		return u
	}
	return nil
}

// refused are the fields a config file is refused on purpose, by lower-case name, and why.
var refused = map[string]string{
	"passphrase": "a passphrase written in the config file is read by whoever reads the file (copies, backups, version control): " +
		"write it as the first line of a file only the server's user can read and name that file with \"passphraseFile\", " +
		"or set $HTTPSKIT_PASSPHRASE",
}

// unknownFieldError is an object key that no field takes.
type unknownFieldError struct {
	key    string
	at     string // the entry, such as "listeners[0]"; "" at the top level
	known  []string
	offset int64  // just past the key
	why    string // the key is refused on purpose, for this reason
	line   int
}

func (e *unknownFieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d: ", e.line)
	if e.at != "" {
		b.WriteString(e.at + ": ")
	}
	if e.why != "" {
		fmt.Fprintf(&b, "field %q is not taken: %s", e.key, e.why)
		return b.String()
	}
	fmt.Fprintf(&b, "unknown field %q", e.key)
	if s := closest(e.key, e.known); s != "" {
		fmt.Fprintf(&b, " (did you mean %q?)", s)
	} else {
		fmt.Fprintf(&b, " (known fields: %s)", strings.Join(e.known, ", "))
	}
	return b.String()
}

// walkFields reads one JSON value from dec, which t describes (nil: anything), and returns an
// *unknownFieldError for the first key of an object of struct type that no field takes.
func walkFields(dec *json.Decoder, t reflect.Type, at string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch d {
	case '{':
		fields := map[string]reflect.Type{}
		var known []string
		if t != nil && t.Kind() == reflect.Struct {
			for f := range t.Fields() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if f.IsExported() && name != "-" && name != "" {
					fields[strings.ToLower(name)] = f.Type
					known = append(known, name)
				}
			}
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := k.(string)
			var ft reflect.Type
			if known != nil {
				var ok bool
				if ft, ok = fields[strings.ToLower(key)]; !ok {
					return &unknownFieldError{key: key, at: at, known: known, offset: dec.InputOffset(), why: refused[strings.ToLower(key)]}
				}
			}
			sub := key
			if at != "" {
				sub = at + "." + key
			}
			if err := walkFields(dec, ft, sub); err != nil {
				return err
			}
		}
	case '[':
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkFields(dec, et, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// closest returns the name in known that key is most likely a slip for (a typing slip of up
// to two letters, or a different case or separator), or "".
func closest(key string, known []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	k := norm(key)
	best, bestD := "", 3
	if len(k) <= 3 {
		bestD = 2
	}
	for _, name := range known {
		if d := editDistance(k, norm(name)); d < bestD {
			best, bestD = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, counting a swap of two neighbouring
// letters as one edit (so "prot" is one edit from "port").
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
