package route

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Upstream PathMatcherTest "StringPositionalMatcher": /test/:a/:b/:c.
func TestPositionalUpstreamTable(t *testing.T) {
	const pattern = "/test/:a/:b/:c"
	m := mustCompile(t, pattern)
	checkMatch(t, "Compile(\""+pattern+"\")", m, "/test/1/2/3",
		result{ok: true, params: []Param{{"a", "1"}, {"b", "2"}, {"c", "3"}}})
	for _, path := range []string{
		"", "/", "/test", "/test/1", "/test/1/2", "/test/1/2/3/4", "/test/1/2/3/4/5",
		"/test/12345", "/test/1,2,3", "/test/1,2,3,4,5",
	} {
		checkMatch(t, "Compile(\""+pattern+"\")", m, path, result{rest: path})
	}
}

// Upstream AbstractRequestTest "positional", plus the quirks fixed here.
func TestPositional(t *testing.T) {
	letters := "abcdefghijklmnopqrstuvwxyz"
	many := func(sep string) (pattern, path string, params []Param) {
		var pat, p []string
		for i, c := range letters {
			pat = append(pat, ":"+string(c))
			p = append(p, strconv.Itoa(i+1))
			params = append(params, Param{string(c), strconv.Itoa(i + 1)})
		}
		return "/" + strings.Join(pat, sep), "/" + strings.Join(p, sep), params
	}
	slashPattern, slashPath, slashParams := many("/")
	commaPattern, commaPath, commaParams := many(",")
	y := func(params ...Param) result { return result{ok: true, params: params} }
	tests := []struct {
		name, pattern, path string
		want                result
	}{
		{"bare", ":id", "123", y(Param{"id", "123"})},
		{"root", "/:id", "/123", y(Param{"id", "123"})},
		{"one", "/test/:id", "/test/123", y(Param{"id", "123"})},
		{"two by slash", "/test/:id/:value", "/test/123/abc", y(Param{"id", "123"}, Param{"value", "abc"})},
		{"two by comma", "/test/:id,:value", "/test/123,abc", y(Param{"id", "123"}, Param{"value", "abc"})},
		{"26 by slash", slashPattern, slashPath, y(slashParams...)},
		{"26 by comma", commaPattern, commaPath, y(commaParams...)},

		{"value is lazy", "/test/:id,:value", "/test/1,2,3", y(Param{"id", "1"}, Param{"value", "2,3"})},
		{"value needs a char", "/test/:id", "/test/", result{rest: "/test/"}},
		{"value stops at slash", "/test/:id", "/test/1/2", result{rest: "/test/1/2"}},
		{"whole path", "/test/:id", "/x/test/1", result{rest: "/x/test/1"}},
		{"literal after name", "/f/:name.txt", "/f/a.b.txt", y(Param{"name", "a.b"})},
		{"literal after name mismatch", "/f/:name.txt", "/f/a.txtx", result{rest: "/f/a.txtx"}},
		{"adjacent names", "/:a:b", "/xyz", y(Param{"a", "x"}, Param{"b", "yz"})},
		{"colon then name", "/a::id", "/a:5", y(Param{"id", "5"})},
		{"trailing colon literal", "/a/:id:", "/a/5:", y(Param{"id", "5"})},
		{"decoded value", "/u/:name", "/u/a b%c", y(Param{"name", "a b%c"})},
		{"unicode value", "/u/:name", "/u/héllo", y(Param{"name", "héllo"})},
		{"newline value", "/u/:name", "/u/a\nb", y(Param{"name", "a\nb"})},
		{"invalid UTF-8 value", "/u/:name", "/u/\xff", y(Param{"name", "\xff"})},
		{"invalid UTF-8 value regexp", "/u/:name.x", "/u/\xff.x", y(Param{"name", "\xff"})},

		// Regexp metacharacters are literal text.
		{"dot is literal", "/v1.0/:id", "/v1.0/5", y(Param{"id", "5"})},
		{"dot is not any char", "/v1.0/:id", "/v1x0/5", result{rest: "/v1x0/5"}},
		{"plus is literal", "/a+/:id", "/aa/5", result{rest: "/aa/5"}},
		{"plus matches itself", "/a+/:id", "/a+/5", y(Param{"id", "5"})},
		{"brackets are literal", "/[x]/:id", "/x/5", result{rest: "/x/5"}},
		{"parens and dollar", "/(a)$/:id", "/(a)$/5", y(Param{"id", "5"})},
		{"question mark", "/a?/:id", "/a/5", result{rest: "/a/5"}},
		{"backslash", `/a\d/:id`, `/a\d/5`, y(Param{"id", "5"})},
		{"caret and braces", "/^{2}/:id", "/^{2}/5", y(Param{"id", "5"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatch(t, "Compile("+strconv.Quote(tt.pattern)+")", mustCompile(t, tt.pattern), tt.path, tt.want)
		})
	}
}

// An or-pattern returns the params and rest of the part that matched
// (upstream returned a boolean and lost them).
func TestOrPositional(t *testing.T) {
	const pattern = "/:abc/:id|/xyz/:id|/static/*"
	m := mustCompile(t, pattern)
	desc := "Compile(" + strconv.Quote(pattern) + ")"
	checkMatch(t, desc, m, "/q/7", result{ok: true, params: []Param{{"abc", "q"}, {"id", "7"}}})
	checkMatch(t, desc, m, "/xyz/7/8", result{rest: "/xyz/7/8"})
	checkMatch(t, desc, m, "/static/a/b", result{ok: true, rest: "a/b"})
	m = mustCompile(t, "/a/:x/b|/a/:y")
	checkMatch(t, "Compile(\"/a/:x/b|/a/:y\")", m, "/a/1", result{ok: true, params: []Param{{"y", "1"}}})
}

// The hand-written segment matcher and the regexp agree on every simple
// pattern (the fuzz target checks the same on random input).
func TestPositionalSegmentsMatchRegexp(t *testing.T) {
	patterns := []string{"/test/:a/:b/:c", ":id", "/:id", "/a/:id/", "/:a//:b", "x:a/y"}
	paths := []string{"", "/", "/1", "1", "/1/", "/test/1/2/3", "/test/1/2/3/", "/a/1/", "/a//",
		"/1//2", "x1/y", "x/y", "/test/1//3"}
	for _, p := range patterns {
		m := mustCompile(t, p).(*positionalMatcher)
		if !m.simple {
			t.Fatalf("Compile(%q) is not simple", p)
		}
		for _, path := range paths {
			got, gotOK := m.matchSegments(path, nil)
			want, wantOK := m.matchRegexp(path, nil)
			if gotOK != wantOK || !equalParams(got, want) {
				t.Errorf("Compile(%q) on %q: segments %v, %v; regexp %v, %v", p, path, got, gotOK, want, wantOK)
			}
		}
	}
	for _, p := range []string{"/:a,:b", "/:a:b", "/f/:name.txt", "/:a-/x"} {
		if mustCompile(t, p).(*positionalMatcher).simple {
			t.Errorf("Compile(%q) is simple, want the regexp path", p)
		}
	}
}

func equalParams(a, b []Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The regexp built for a positional pattern quotes its literal text.
func TestPositionalRegexpQuoted(t *testing.T) {
	m := mustCompile(t, "/v1.0/:id,:x").(*positionalMatcher)
	want := `^/v1\.0/([^/]+?),([^/]+?)$`
	if got := m.re.String(); got != want {
		t.Errorf("Compile(%q) regexp = %q, want %q", m.pattern, got, want)
	}
	if _, err := regexp.Compile(want); err != nil {
		t.Fatal(err)
	}
}
