package route

import (
	"reflect"
	"regexp"
	"strconv"
	"testing"
)

// result is what one Match call gives.
type result struct {
	ok     bool
	rest   string
	params []Param
}

// checkMatch runs m.Match(path) with and without a reusable params slice and
// reports any difference from want. desc names the matcher in messages,
// e.g. `Compile("/a")`.
func checkMatch(t *testing.T, desc string, m Matcher, path string, want result) {
	t.Helper()
	rest, params, ok := m.Match(path, nil)
	if ok != want.ok || rest != want.rest || !reflect.DeepEqual(params, want.params) {
		t.Errorf("%s.Match(%q) = %q, %v, %v, want %q, %v, %v",
			desc, path, rest, params, ok, want.rest, want.params, want.ok)
	}
	buf := make([]Param, 3, 30)
	rest2, params2, ok2 := m.Match(path, buf[:0])
	if rest2 != rest || ok2 != ok || !reflect.DeepEqual(params2, params) {
		t.Errorf("%s.Match(%q, buf) = %q, %v, %v, differs from Match(%q, nil)",
			desc, path, rest2, params2, ok2, path)
	}
}

func mustCompile(t *testing.T, pattern string) Matcher {
	t.Helper()
	m, err := Compile(pattern)
	if err != nil {
		t.Fatalf("Compile(%q) error %v", pattern, err)
	}
	return m
}

// Upstream PathMatcherTest: six matchers over eight inputs; each cell is
// match → subtract.
func TestMatchUpstreamTable(t *testing.T) {
	y := func(rest string) result { return result{ok: true, rest: rest} }
	n := func(path string) result { return result{rest: path} }
	patterns := []string{"/test", "/test/*", "*/test/", "*/test/*", "/test|/abc/*", `^\/test\/$`}
	tests := []struct {
		name string
		path string
		want [6]result
	}{
		{"empty", "", [6]result{n(""), n(""), n(""), n(""), n(""), n("")}},
		{"root", "/", [6]result{n("/"), n("/"), n("/"), n("/"), n("/"), n("/")}},
		{"test", "/test", [6]result{y(""), n("/test"), n("/test"), n("/test"), y(""), n("/test")}},
		{"test slash", "/test/", [6]result{n("/test/"), y(""), y(""), y(""), n("/test/"), y("")}},
		{"test first", "/test/abc/xyz", [6]result{
			n("/test/abc/xyz"), y("abc/xyz"), n("/test/abc/xyz"), y("abc/xyz"), n("/test/abc/xyz"), n("/test/abc/xyz")}},
		{"test middle", "/abc/test/xyz", [6]result{
			n("/abc/test/xyz"), n("/abc/test/xyz"), n("/abc/test/xyz"), y("/abcxyz"), y("test/xyz"), n("/abc/test/xyz")}},
		{"test last", "/abc/xyz/test", [6]result{
			n("/abc/xyz/test"), n("/abc/xyz/test"), n("/abc/xyz/test"), n("/abc/xyz/test"), y("xyz/test"), n("/abc/xyz/test")}},
		{"test slash last", "/abc/xyz/test/", [6]result{
			n("/abc/xyz/test/"), n("/abc/xyz/test/"), y("/abc/xyz"), y("/abc/xyz"), y("xyz/test/"), n("/abc/xyz/test/")}},
	}
	matchers := make([]Matcher, len(patterns))
	for i, p := range patterns[:5] {
		matchers[i] = mustCompile(t, p)
	}
	matchers[5] = Regexp(regexp.MustCompile(patterns[5]))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, m := range matchers {
				desc := "Compile(" + strconv.Quote(patterns[i]) + ")"
				if i == 5 {
					desc = "Regexp(" + strconv.Quote(patterns[i]) + ")"
				}
				checkMatch(t, desc, m, tt.path, tt.want[i])
			}
		})
	}
}

func TestMatchLiteral(t *testing.T) {
	tests := []struct {
		name, pattern, path string
		want                result
	}{
		{"exact is case-sensitive", "/test", "/TEST", result{rest: "/TEST"}},
		{"exact trailing slash matters", "/test", "/test/", result{rest: "/test/"}},
		{"prefix upstream doc", "/api/*", "/api/a/b", result{ok: true, rest: "a/b"}},
		{"prefix without slash", "/api*", "/apix", result{ok: true, rest: "x"}},
		{"suffix upstream doc", "*/ends", "/x/y/ends", result{ok: true, rest: "/x/y"}},
		{"contains upstream doc", "*/contains/*", "/a/contains/b", result{ok: true, rest: "/ab"}},
		{"contains first occurrence", "*/a/*", "/x/a/y/a/z", result{ok: true, rest: "/xy/a/z"}},
		{"contains at start", "*/a/*", "/a/z", result{ok: true, rest: "z"}},
		{"contains at end", "*/a/*", "/x/a/", result{ok: true, rest: "/x"}},
		{"double star matches all", "**", "/x", result{ok: true, rest: "/x"}},
		{"double star matches empty", "**", "", result{ok: true, rest: ""}},
		{"any keeps path", "*", "/a/b?c", result{ok: true, rest: "/a/b?c"}},
		{"any matches empty", "*", "", result{ok: true, rest: ""}},
		{"wildcard beats positional", "*/asdf/:id", "/x/asdf/:id", result{ok: true, rest: "/x"}},
		{"wildcard positional is literal", "*/asdf/:id", "/x/asdf/5", result{rest: "/x/asdf/5"}},
		{"or first part wins", "/a/*|/a/b/*", "/a/b/c", result{ok: true, rest: "b/c"}},
		{"or with any", "/a|*", "/zzz", result{ok: true, rest: "/zzz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatch(t, "Compile("+strconv.Quote(tt.pattern)+")", mustCompile(t, tt.pattern), tt.path, tt.want)
		})
	}
}

func TestMatchRegexp(t *testing.T) {
	tests := []struct {
		name, expr, path string
		want             result
	}{
		{"anchored", `^/test/$`, "/test/", result{ok: true, rest: ""}},
		{"unanchored removes match", `/b/`, "/a/b/c", result{ok: true, rest: "/ac"}},
		{"first match only", `x`, "axbxc", result{ok: true, rest: "abxc"}},
		{"no groups no params", `^/a`, "/a/b", result{ok: true, rest: "/b"}},
		{"numbered group", `^/user/(\d+)$`, "/user/42", result{ok: true, params: []Param{{"1", "42"}}}},
		{"named group by name and number", `^/user/(?P<id>\d+)/(\w+)$`, "/user/42/edit",
			result{ok: true, params: []Param{{"id", "42"}, {"1", "42"}, {"2", "edit"}}}},
		{"unmatched optional group", `^/a(/(?P<x>\d+))?$`, "/a",
			result{ok: true, params: []Param{{"x", ""}, {"1", ""}, {"2", ""}}}},
		{"empty match leaves path", `z*`, "/a", result{ok: true, rest: "/a"}},
		{"no match", `^/b`, "/a", result{rest: "/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatch(t, "Regexp("+strconv.Quote(tt.expr)+")", Regexp(regexp.MustCompile(tt.expr)), tt.path, tt.want)
		})
	}
}

func TestRegexpNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Regexp(nil) did not panic")
		}
	}()
	Regexp(nil)
}
