package route

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// positionalMatcher matches a pattern such as "/users/:id/posts/:post"
// against the whole path. Each ":name" captures one or more characters other
// than '/', as few as possible (the regexp `[^/]+?`); all other text is
// literal.
//
// The anchored regexp is built once by Compile. When every name is followed
// by the end of the pattern or by text starting with '/', a value can only
// end at the next '/', so Match walks the path directly and never runs the
// regexp; other patterns ("/:a,:b", "/:name.txt") use the regexp.
type positionalMatcher struct {
	pattern string
	tokens  []token  // literal text and names, in pattern order
	names   []string // the names, in pattern order (= regexp group order)
	re      *regexp.Regexp
	simple  bool // every name ends at '/' or at the end: no regexp needed
}

// token is literal text (name == "") or a named parameter.
type token struct{ lit, name string }

func compilePositional(p string) (*positionalMatcher, error) {
	if !utf8.ValidString(p) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidUTF8, p)
	}
	m := &positionalMatcher{pattern: p, simple: true}
	var expr strings.Builder
	expr.WriteByte('^')
	start := 0 // start of the pending literal
	for i := 0; i < len(p); {
		if p[i] != ':' || i+1 == len(p) || !isNameChar(p[i+1]) {
			i++
			continue
		}
		if start < i {
			m.addLiteral(p[start:i], &expr)
		}
		j := i + 1
		for j < len(p) && isNameChar(p[j]) {
			j++
		}
		name := p[i+1 : j]
		for _, n := range m.names {
			if n == name {
				return nil, fmt.Errorf("%w %q in %q", ErrDuplicateParam, name, p)
			}
		}
		m.names = append(m.names, name)
		m.tokens = append(m.tokens, token{name: name})
		expr.WriteString(`([^/]+?)`)
		i, start = j, j
	}
	if start < len(p) {
		m.addLiteral(p[start:], &expr)
	}
	expr.WriteByte('$')
	re, err := regexp.Compile(expr.String())
	if err != nil { // cannot happen: every literal is quoted
		return nil, fmt.Errorf("route: compile %q: %w", p, err)
	}
	m.re = re
	for i, t := range m.tokens {
		if t.name == "" {
			continue
		}
		if i+1 < len(m.tokens) && !strings.HasPrefix(m.tokens[i+1].lit, "/") {
			m.simple = false
		}
	}
	return m, nil
}

func (m *positionalMatcher) addLiteral(lit string, expr *strings.Builder) {
	m.tokens = append(m.tokens, token{lit: lit})
	expr.WriteString(regexp.QuoteMeta(lit))
}

func (m *positionalMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	var ok bool
	if m.simple {
		ps, ok = m.matchSegments(path, ps)
	} else {
		ps, ok = m.matchRegexp(path, ps)
	}
	if !ok {
		return path, nil, false
	}
	return "", ps, true
}

// matchSegments is Match for simple patterns: literals must match in place
// and each value runs to the next '/' or the end of the path.
func (m *positionalMatcher) matchSegments(path string, ps []Param) ([]Param, bool) {
	for _, t := range m.tokens {
		if t.name == "" {
			if !strings.HasPrefix(path, t.lit) {
				return nil, false
			}
			path = path[len(t.lit):]
			continue
		}
		n := strings.IndexByte(path, '/')
		if n < 0 {
			n = len(path)
		}
		if n == 0 {
			return nil, false
		}
		ps = append(ps, Param{Name: t.name, Value: path[:n]})
		path = path[n:]
	}
	if path != "" {
		return nil, false
	}
	return ps, true
}

// matchRegexp is Match through the compiled regexp; it works for every
// pattern.
func (m *positionalMatcher) matchRegexp(path string, ps []Param) ([]Param, bool) {
	idx := m.re.FindStringSubmatchIndex(path)
	if idx == nil {
		return nil, false
	}
	for i, name := range m.names {
		ps = append(ps, Param{Name: name, Value: path[idx[2*i+2]:idx[2*i+3]]})
	}
	return ps, true
}

func (m *positionalMatcher) String() string { return m.pattern }
func (*positionalMatcher) Kind() Kind       { return Positional }
