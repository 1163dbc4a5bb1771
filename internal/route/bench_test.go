package route

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Benchmarks of Match alone, one per kind of matcher, each on a path that matches and on
// one that does not. Run with -benchmem: a miss never allocates, and a hit allocates only
// to join the text around an inner needle or regexp match, and for the index slice that
// regexp.FindStringSubmatchIndex returns (regexp routes, and positional patterns that need
// a regexp such as "/files/:name.:ext").
//
//	go test -run '^$' -bench . -benchmem ./internal/route/

var (
	restSink  string
	paramSink []Param
)

// kindCases pairs each pattern with a path it matches and one it does not.
var kindCases = []struct {
	kind      string
	pattern   string
	re        *regexp.Regexp // RegexpKind only
	hit, miss string
	hitAllocs float64 // allocations a hit may make: the joined rest, regexp's index slice
}{
	{kind: "exact", pattern: "/api/users", hit: "/api/users", miss: "/api/userz"},
	{kind: "prefix", pattern: "/static/*", hit: "/static/css/site.css", miss: "/api/users"},
	{kind: "suffix", pattern: "*.css", hit: "/static/css/site.css", miss: "/static/js/app.js"},
	{kind: "contains-edge", pattern: "*/api/*", hit: "/v1/api/", miss: "/v1/web/users"},
	{kind: "contains-inner", pattern: "*/api/*", hit: "/v1/api/users", miss: "/v1/web/users", hitAllocs: 1},
	{kind: "or", pattern: "/a|/b/*|*.css", hit: "/x/y.css", miss: "/x/y.js"},
	{kind: "positional", pattern: "/users/:id/posts/:post", hit: "/users/42/posts/7", miss: "/users/42/pots/7"},
	{kind: "positional-regexp", pattern: "/files/:name.:ext", hit: "/files/report.pdf", miss: "/files/report", hitAllocs: 1},
	{kind: "regexp", re: regexp.MustCompile(`^/users/(?P<id>\d+)$`), hit: "/users/42", miss: "/users/ann", hitAllocs: 1},
	{kind: "regexp-inner", re: regexp.MustCompile(`/v\d+/`), hit: "/api/v2/users", miss: "/api/users", hitAllocs: 2},
	{kind: "any", pattern: "*", hit: "/anything/at/all", miss: ""},
}

func BenchmarkMatchKind(b *testing.B) {
	buf := make([]Param, 0, 4)
	for _, kc := range kindCases {
		var m Matcher
		if kc.re != nil {
			m = Regexp(kc.re)
		} else {
			var err error
			if m, err = Compile(kc.pattern); err != nil {
				b.Fatal(err)
			}
		}
		for _, hit := range []bool{true, false} {
			path, name := kc.hit, kc.kind+"/hit"
			if !hit {
				if kc.kind == "any" {
					continue // "*" has no miss
				}
				path, name = kc.miss, kc.kind+"/miss"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rest, ps, ok := m.Match(path, buf[:0])
					if ok != hit {
						b.Fatalf("Match(%q) = %v, want %v", path, ok, hit)
					}
					restSink, paramSink = rest, ps
				}
				want := kc.hitAllocs
				if !hit {
					want = 0
				}
				if a := testing.AllocsPerRun(10, func() { m.Match(path, buf[:0]) }); a > want {
					b.Errorf("Match(%q) allocates %v times, want at most %v", path, a, want)
				}
			})
		}
	}
}

// benchTable builds a table of n patterns in the server's style (site pages, a static
// prefix, an API with positional routes) and one path that hits each pattern, so that
// cycling through the paths hits every position of the table in turn.
func benchTable(n int) (ms []Matcher, paths []string) {
	add := func(pattern, path string) {
		m, err := Compile(pattern)
		if err != nil {
			panic(err)
		}
		ms = append(ms, m)
		paths = append(paths, path)
	}
	add("/", "/")
	add("/favicon.ico", "/favicon.ico")
	add("/static/*", "/static/site.css")
	for i := 0; len(ms) < n; i++ {
		res := "/api/r" + strconv.Itoa(i)
		switch i % 4 {
		case 0:
			add(res, res)
		case 1:
			add(res+"/:id", res+"/42")
		case 2:
			add(res+"/:id/items/:item", res+"/42/items/7")
		case 3:
			add(res+"/*", res+"/a/b")
		}
	}
	return ms[:n], paths[:n]
}

// BenchmarkMatchTable scans a table in order, as the server's router does, stopping at
// the first route that matches; "all" cycles through a path for every route, "miss"
// scans the whole table in vain. ns/op divided by the table size is the cost of one
// rejected route.
func BenchmarkMatchTable(b *testing.B) {
	for _, n := range []int{20, 200} {
		ms, paths := benchTable(n)
		buf := make([]Param, 0, 4)
		scan := func(path string) int {
			for i, m := range ms {
				if _, _, ok := m.Match(path, buf[:0]); ok {
					return i
				}
			}
			return -1
		}
		for i, p := range paths {
			if got := scan(p); got != i {
				b.Fatalf("table %d: path %q matched route %d, want %d", n, p, got, i)
			}
		}
		b.Run("routes="+strconv.Itoa(n)+"/all", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if scan(paths[i]) < 0 {
					b.Fatal("no route")
				}
				if i++; i == len(paths) {
					i = 0
				}
			}
		})
		b.Run("routes="+strconv.Itoa(n)+"/miss", func(b *testing.B) {
			b.ReportAllocs()
			miss := "/nothing/" + strings.Repeat("x", 10)
			for b.Loop() {
				if scan(miss) >= 0 {
					b.Fatal("matched")
				}
			}
		})
	}
}
