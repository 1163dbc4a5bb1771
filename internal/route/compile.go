package route

import (
	"errors"
	"fmt"
	"strings"
)

// Param is one named value captured by a positional or regexp matcher.
type Param struct{ Name, Value string }

// Matcher matches a percent-decoded URL path (no query).
//
// The matchers returned by [Compile] and [Regexp] are immutable and safe for
// concurrent use.
type Matcher interface {
	// Match reports whether path matches. rest is what the matcher leaves
	// (the "subtract" of upstream): exact → "", prefix "/api/*" on
	// "/api/a/b" → "a/b", suffix "*/end" on "/x/y/end" → "/x/y", contains →
	// path with the first occurrence removed, "*" → path unchanged,
	// positional → "", regexp → path with the match removed.
	//
	// params is nil unless the matcher captures. When path does not match,
	// rest is path and params is nil.
	//
	// Captured params are appended to ps, which may be nil; pass ps[:0] to
	// reuse a slice and avoid allocation.
	Match(path string, ps []Param) (rest string, params []Param, ok bool)
	// String returns the pattern as written (for a regexp, its source),
	// without quotes.
	String() string
	// Kind reports how the matcher compares paths.
	Kind() Kind
}

// Errors returned by [Compile], possibly wrapped with the pattern; test for
// them with [errors.Is].
var (
	ErrEmptyPattern   = errors.New("route: empty pattern")
	ErrEmptyPart      = errors.New("route: empty part in or-pattern")
	ErrDuplicateParam = errors.New("route: duplicate parameter name")
	ErrInvalidUTF8    = errors.New("route: positional pattern is not valid UTF-8")
)

// Compile compiles a string pattern by AwesomeServer's precedence:
//
//  1. contains '|': [Or]; each part is compiled on its own and an empty part
//     is an error;
//  2. exactly "*": [Any];
//  3. ends with '*' but does not start with it: [Prefix];
//  4. starts with '*' but does not end with it: [Suffix];
//  5. starts and ends with '*': [Contains] ("**" has an empty needle and so
//     matches every path);
//  6. contains ':' followed by a name character [A-Za-z0-9_]: [Positional];
//  7. anything else: [Exact].
//
// Wildcards therefore beat positional names: "*/a/:id" is a Suffix matcher
// for the literal text "/a/:id".
//
// A positional pattern matches the whole path; each ":name" captures one or
// more characters other than '/', as few as possible, and every other
// character stands for itself (so "/v1.0/:id" does not match "/v1x0/5").
// A ':' not followed by a name character is literal text.
//
// Compile returns [ErrEmptyPattern] for "", [ErrEmptyPart] for an or-pattern
// with an empty part ("/a||/b", "|/a"), [ErrDuplicateParam] when a positional
// name repeats, and [ErrInvalidUTF8] for a positional pattern that is not
// valid UTF-8.
func Compile(pattern string) (Matcher, error) {
	if pattern == "" {
		return nil, ErrEmptyPattern
	}
	if strings.IndexByte(pattern, '|') >= 0 {
		return compileOr(pattern)
	}
	return compileSingle(pattern)
}

// compileSingle compiles a pattern that holds no '|'.
func compileSingle(p string) (Matcher, error) {
	if p == "" {
		return nil, ErrEmptyPattern
	}
	star := func(i int) bool { return p[i] == '*' }
	first, last := star(0), star(len(p)-1)
	switch {
	case p == "*":
		return anyMatcher{}, nil
	case last && !first:
		return prefixMatcher{pattern: p, prefix: p[:len(p)-1]}, nil
	case first && !last:
		return suffixMatcher{pattern: p, suffix: p[1:]}, nil
	case first && last:
		return containsMatcher{pattern: p, needle: p[1 : len(p)-1]}, nil
	case isPositional(p):
		m, err := compilePositional(p)
		if err != nil {
			return nil, err // not a typed nil in a non-nil Matcher
		}
		return m, nil
	}
	return exactMatcher(p), nil
}

func compileOr(pattern string) (Matcher, error) {
	m := &orMatcher{pattern: pattern}
	for part := range strings.SplitSeq(pattern, "|") {
		if part == "" {
			return nil, fmt.Errorf("%w: %q", ErrEmptyPart, pattern)
		}
		pm, err := compileSingle(part)
		if err != nil {
			return nil, err
		}
		m.parts = append(m.parts, pm)
	}
	return m, nil
}

// isNameChar reports whether c may appear in a positional parameter name.
func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// isPositional reports whether p holds a ':' followed by a name character.
func isPositional(p string) bool {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == ':' && isNameChar(p[i+1]) {
			return true
		}
	}
	return false
}
