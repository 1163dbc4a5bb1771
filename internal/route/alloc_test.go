package route

import (
	"regexp"
	"strconv"
	"testing"
)

// Exact, prefix, suffix, contains (needle at an end) and "*" never allocate;
// neither does a simple positional pattern given a slice with room.
func TestMatchDoesNotAllocate(t *testing.T) {
	tests := []struct{ name, pattern, path string }{
		{"exact hit", "/api/users", "/api/users"},
		{"exact miss", "/api/users", "/api/user"},
		{"prefix hit", "/api/*", "/api/users/42"},
		{"prefix miss", "/api/*", "/static/x"},
		{"suffix hit", "*.css", "/static/site.css"},
		{"suffix miss", "*.css", "/static/site.js"},
		{"contains at start", "*/api/*", "/api/x"},
		{"contains at end", "*/api/*", "/x/api/"},
		{"contains miss", "*/api/*", "/x/y"},
		{"any", "*", "/anything"},
		{"or", "/a|/b/*|*.css", "/x/y.css"},
		{"positional simple", "/users/:id/posts/:post", "/users/42/posts/7"},
		{"positional miss", "/users/:id/posts/:post", "/users/42/pots/7"},
	}
	buf := make([]Param, 0, 4)
	for _, tt := range tests {
		m := mustCompile(t, tt.pattern)
		allocs := testing.AllocsPerRun(100, func() { m.Match(tt.path, buf[:0]) })
		if allocs != 0 {
			t.Errorf("Compile(%q).Match(%q) allocates %v times, want 0", tt.pattern, tt.path, allocs)
		}
	}
}

// A contains matcher must build the rest when the needle is inside the
// path: one allocation, the returned string.
func TestContainsMiddleAllocatesOnce(t *testing.T) {
	m := mustCompile(t, "*/api/*")
	if allocs := testing.AllocsPerRun(100, func() { m.Match("/v1/api/users", nil) }); allocs > 1 {
		t.Errorf("Compile(%q).Match(%q) allocates %v times, want at most 1", "*/api/*", "/v1/api/users", allocs)
	}
}

var sink string

// benchCases holds one hit for each kind of matcher.
var benchCases = []struct{ name, pattern, path string }{
	{"exact", "/api/users", "/api/users"},
	{"prefix", "/api/*", "/api/users/42"},
	{"suffix", "*.css", "/static/site.css"},
	{"contains_end", "*/api/*", "/v1/api/"},
	{"contains_middle", "*/api/*", "/v1/api/users"},
	{"or", "/a|/b/*|*.css", "/x/y.css"},
	{"positional_segments", "/users/:id/posts/:post", "/users/42/posts/7"},
	{"positional_regexp", "/users/:id,:name", "/users/42,ann"},
	{"any", "*", "/anything"},
}

func BenchmarkMatch(b *testing.B) {
	buf := make([]Param, 0, 4)
	for _, bc := range benchCases {
		m, err := Compile(bc.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rest, _, ok := m.Match(bc.path, buf[:0])
				if !ok {
					b.Fatal("no match")
				}
				sink = rest
			}
		})
	}
	m := Regexp(regexp.MustCompile(`^/users/(?P<id>\d+)$`))
	b.Run("regexp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, ps, _ := m.Match("/users/42", buf[:0])
			sink = ps[0].Value
		}
	})
}

// BenchmarkTableScan matches one path against 20 typical routes in order, as
// the server does (every route is tried; most miss).
func BenchmarkTableScan(b *testing.B) {
	patterns := []string{"/", "/index.html", "/favicon.ico", "/robots.txt", "/login", "/logout",
		"/static/*", "*.css", "*.js", "/api/health", "/api/users", "/api/users/:id",
		"/api/users/:id/posts", "/api/users/:id/posts/:post", "/api/orders/:id", "/admin|/admin/*",
		"*/debug/*", "/files/*", "/ws", "*"}
	var table []Matcher
	for _, p := range patterns {
		m, err := Compile(p)
		if err != nil {
			b.Fatal(err)
		}
		table = append(table, m)
	}
	buf := make([]Param, 0, 4)
	for _, path := range []string{"/api/users/42/posts/7", "/nothing/here/at/all"} {
		b.Run(strconv.Quote(path), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for _, m := range table {
					if _, _, ok := m.Match(path, buf[:0]); ok {
						n++
					}
				}
				if n == 0 {
					b.Fatal("no route")
				}
			}
		})
	}
}
