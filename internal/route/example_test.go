package route_test

import (
	"fmt"
	"regexp"

	"github.com/httpskit/httpskit/internal/route"
)

func ExampleCompile() {
	for _, pattern := range []string{"/api/*", "*.css", "/users/:id/posts/:post", "/a/:id|/b/:id"} {
		m, err := route.Compile(pattern)
		if err != nil {
			panic(err)
		}
		for _, path := range []string{"/api/users", "/users/42/posts/7", "/b/9", "/site.css"} {
			if rest, params, ok := m.Match(path, nil); ok {
				fmt.Printf("%-6s %-22s %-18s rest=%q params=%v\n", m.Kind(), m, path, rest, params)
			}
		}
	}
	// Output:
	// prefix /api/*                 /api/users         rest="users" params=[]
	// suffix *.css                  /site.css          rest="/site" params=[]
	// positional /users/:id/posts/:post /users/42/posts/7  rest="" params=[{id 42} {post 7}]
	// or     /a/:id|/b/:id          /b/9               rest="" params=[{id 9}]
}

func ExampleRegexp() {
	m := route.Regexp(regexp.MustCompile(`/v(?P<version>\d+)`))
	rest, params, ok := m.Match("/api/v2/users", nil)
	fmt.Println(rest, params, ok)
	// Output: /api/users [{version 2} {1 2}] true
}

func ExampleMatcher_Match_reuse() {
	m, _ := route.Compile("/users/:id")
	buf := make([]route.Param, 0, 4) // reused for every request on this goroutine
	for _, path := range []string{"/users/1", "/users/2", "/posts/3"} {
		_, params, ok := m.Match(path, buf[:0])
		fmt.Println(params, ok)
	}
	// Output:
	// [{id 1}] true
	// [{id 2}] true
	// [] false
}
