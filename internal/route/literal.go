package route

import "strings"

// The matchers for literal text and '*' wildcards. None of them allocates
// in Match except containsMatcher, which must build a new string when the
// needle sits strictly inside the path.

// exactMatcher matches the whole path, case-sensitively.
type exactMatcher string

func (m exactMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	if path != string(m) {
		return path, nil, false
	}
	return "", nil, true
}

func (m exactMatcher) String() string { return string(m) }
func (exactMatcher) Kind() Kind       { return Exact }

// prefixMatcher is "prefix*"; rest is what follows the prefix.
type prefixMatcher struct{ pattern, prefix string }

func (m prefixMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	if !strings.HasPrefix(path, m.prefix) {
		return path, nil, false
	}
	return path[len(m.prefix):], nil, true
}

func (m prefixMatcher) String() string { return m.pattern }
func (prefixMatcher) Kind() Kind       { return Prefix }

// suffixMatcher is "*suffix"; rest is what precedes the suffix.
type suffixMatcher struct{ pattern, suffix string }

func (m suffixMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	if !strings.HasSuffix(path, m.suffix) {
		return path, nil, false
	}
	return path[:len(path)-len(m.suffix)], nil, true
}

func (m suffixMatcher) String() string { return m.pattern }
func (suffixMatcher) Kind() Kind       { return Suffix }

// containsMatcher is "*needle*"; rest is path without the first occurrence
// of needle. It allocates only when that occurrence touches neither end.
type containsMatcher struct{ pattern, needle string }

func (m containsMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	i := strings.Index(path, m.needle)
	if i < 0 {
		return path, nil, false
	}
	j := i + len(m.needle)
	switch {
	case i == 0:
		return path[j:], nil, true
	case j == len(path):
		return path[:i], nil, true
	}
	return path[:i] + path[j:], nil, true
}

func (m containsMatcher) String() string { return m.pattern }
func (containsMatcher) Kind() Kind       { return Contains }

// anyMatcher is "*": every path, left unchanged.
type anyMatcher struct{}

func (anyMatcher) Match(path string, ps []Param) (string, []Param, bool) { return path, nil, true }
func (anyMatcher) String() string                                        { return "*" }
func (anyMatcher) Kind() Kind                                            { return Any }

// orMatcher is "a|b|...": the rest and params of the first part that matches.
type orMatcher struct {
	pattern string
	parts   []Matcher
}

func (m *orMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	for _, p := range m.parts {
		if rest, params, ok := p.Match(path, ps); ok {
			return rest, params, true
		}
	}
	return path, nil, false
}

func (m *orMatcher) String() string { return m.pattern }
func (*orMatcher) Kind() Kind       { return Or }
