package route

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// FuzzCompileMatch compiles random patterns, matches random paths, and
// checks the invariants of each kind of matcher. Pattern strings that are
// valid regular expressions are also run through Regexp.
func FuzzCompileMatch(f *testing.F) {
	seeds := [][2]string{
		{"/test", "/test"}, {"/test/*", "/test/abc/xyz"}, {"*/test/", "/abc/xyz/test/"},
		{"*/test/*", "/abc/test/xyz"}, {"/test|/abc/*", "/abc/xyz/test"}, {"*", "/x"}, {"**", ""},
		{"/test/:a/:b/:c", "/test/1/2/3"}, {"/test/:id,:value", "/test/123,abc"},
		{"/v1.0/:id", "/v1x0/5"}, {"/:a:b", "/xyz"}, {"/f/:name.txt", "/f/a.b.txt"},
		{"/:abc/:id|/xyz/:id", "/xyz/1"}, {"*/asdf/:id", "/x/asdf/:id"}, {"a||b", "a"},
		{"/a/:id/:id", "/a/1/2"}, {":", ":"}, {"/a::id", "/a:5"}, {"/u/:n", "/u/\xff"},
		{`^/(?P<id>\d+)(x)?$`, "/12"}, {"", ""}, {"|", "|"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if re, err := regexp.Compile(pattern); err == nil {
			checkRegexpInvariants(t, re, path)
		}
		m, err := Compile(pattern)
		if err != nil {
			if m != nil {
				t.Fatalf("Compile(%q) = %v, %v: non-nil matcher with an error", pattern, m, err)
			}
			return
		}
		if m.String() != pattern {
			t.Fatalf("Compile(%q).String() = %q", pattern, m.String())
		}
		rest, params, ok := checkCommon(t, pattern, m, path)
		if !ok {
			rest, params = "", nil // the kind checks below compare hits only
		}
		switch m.Kind() {
		case Exact:
			expect(t, pattern, path, rest, params, ok, "", nil, path == pattern)
		case Prefix:
			prefix := pattern[:len(pattern)-1]
			if strings.HasPrefix(path, prefix) {
				expect(t, pattern, path, rest, params, ok, path[len(prefix):], nil, true)
			} else {
				expect(t, pattern, path, rest, params, ok, "", nil, false)
			}
		case Suffix:
			suffix := pattern[1:]
			if strings.HasSuffix(path, suffix) {
				expect(t, pattern, path, rest, params, ok, path[:len(path)-len(suffix)], nil, true)
			} else {
				expect(t, pattern, path, rest, params, ok, "", nil, false)
			}
		case Contains:
			needle := pattern[1 : len(pattern)-1]
			if strings.Contains(path, needle) {
				expect(t, pattern, path, rest, params, ok, strings.Replace(path, needle, "", 1), nil, true)
			} else {
				expect(t, pattern, path, rest, params, ok, "", nil, false)
			}
		case Any:
			expect(t, pattern, path, rest, params, ok, path, nil, true)
		case Positional:
			checkPositional(t, m.(*positionalMatcher), path, params, ok)
		case Or:
			var wantRest string
			var wantParams []Param
			wantOK := false
			for part := range strings.SplitSeq(pattern, "|") {
				pm, err := Compile(part)
				if err != nil {
					t.Fatalf("Compile(%q) succeeded but its part %q fails: %v", pattern, part, err)
				}
				if r, p, o := pm.Match(path, nil); o {
					wantRest, wantParams, wantOK = r, p, true
					break
				}
			}
			expect(t, pattern, path, rest, params, ok, wantRest, wantParams, wantOK)
		default:
			t.Fatalf("Compile(%q).Kind() = %v", pattern, m.Kind())
		}
	})
}

// checkCommon checks what holds for every matcher: the result does not
// depend on the slice passed in, and a miss gives back path and nil params.
func checkCommon(t *testing.T, desc string, m Matcher, path string) (string, []Param, bool) {
	t.Helper()
	rest, params, ok := m.Match(path, nil)
	buf := make([]Param, 2, 8)
	rest2, params2, ok2 := m.Match(path, buf[:0])
	if rest2 != rest || ok2 != ok || !reflect.DeepEqual(params, params2) {
		t.Fatalf("%q.Match(%q) = %q, %v, %v with nil and %q, %v, %v with a buffer",
			desc, path, rest, params, ok, rest2, params2, ok2)
	}
	if !ok && (rest != path || params != nil) {
		t.Fatalf("%q.Match(%q) = %q, %v, false: a miss must give the path and nil params", desc, path, rest, params)
	}
	return rest, params, ok
}

func expect(t *testing.T, pattern, path, rest string, params []Param, ok bool, wantRest string, wantParams []Param, wantOK bool) {
	t.Helper()
	if ok != wantOK || rest != wantRest || !reflect.DeepEqual(params, wantParams) {
		t.Fatalf("Compile(%q).Match(%q) = %q, %v, %v, want %q, %v, %v",
			pattern, path, rest, params, ok, wantRest, wantParams, wantOK)
	}
}

// checkPositional checks a positional hit against the pattern's tokens and
// the two ways of matching against each other.
func checkPositional(t *testing.T, m *positionalMatcher, path string, params []Param, ok bool) {
	t.Helper()
	rp, rok := m.matchRegexp(path, nil)
	if rok != ok || !equalParams(rp, params) {
		t.Fatalf("Compile(%q).Match(%q) = %v, %v; regexp gives %v, %v", m.pattern, path, params, ok, rp, rok)
	}
	if m.simple {
		sp, sok := m.matchSegments(path, nil)
		if sok != ok || !equalParams(sp, params) {
			t.Fatalf("Compile(%q).Match(%q) = %v, %v; segments give %v, %v", m.pattern, path, params, ok, sp, sok)
		}
	}
	if !ok {
		return
	}
	if len(params) != len(m.names) {
		t.Fatalf("Compile(%q).Match(%q) params %v, want names %v", m.pattern, path, params, m.names)
	}
	var rebuilt strings.Builder
	i := 0
	for _, tok := range m.tokens {
		if tok.name == "" {
			rebuilt.WriteString(tok.lit)
			continue
		}
		p := params[i]
		i++
		if p.Name != tok.name || p.Value == "" || strings.Contains(p.Value, "/") {
			t.Fatalf("Compile(%q).Match(%q) param %v: wrong name, empty, or holds '/'", m.pattern, path, p)
		}
		rebuilt.WriteString(p.Value)
	}
	if rebuilt.String() != path {
		t.Fatalf("Compile(%q).Match(%q) params %v rebuild %q", m.pattern, path, params, rebuilt.String())
	}
}

func checkRegexpInvariants(t *testing.T, re *regexp.Regexp, path string) {
	t.Helper()
	m := Regexp(re)
	if m.String() != re.String() || m.Kind() != RegexpKind {
		t.Fatalf("Regexp(%q) = %q, %v", re, m.String(), m.Kind())
	}
	rest, params, ok := checkCommon(t, re.String(), m, path)
	loc := re.FindStringSubmatchIndex(path)
	if ok != (loc != nil) {
		t.Fatalf("Regexp(%q).Match(%q) ok = %v, want %v", re, path, ok, loc != nil)
	}
	if !ok {
		return
	}
	if want := path[:loc[0]] + path[loc[1]:]; rest != want {
		t.Fatalf("Regexp(%q).Match(%q) rest = %q, want %q", re, path, rest, want)
	}
	named := 0
	for _, n := range re.SubexpNames()[1:] {
		if n != "" {
			named++
		}
	}
	if n := named + re.NumSubexp(); len(params) != n || (n == 0) != (params == nil) {
		t.Fatalf("Regexp(%q).Match(%q) params %v, want %d", re, path, params, n)
	}
}
