// Package route compiles AwesomeServer's path patterns into matchers.
//
// A pattern is compiled once, at route registration, by [Compile] (strings)
// or [Regexp] (a *regexp.Regexp). A [Matcher] then tests percent-decoded
// request paths and reports what the pattern leaves of the path (the "rest",
// which the server hands to the handler) and any parameters it captured.
//
//	m, _ := route.Compile("/users/:id")
//	_, params, ok := m.Match("/users/42", nil) // [{id 42}], true
//
// Matchers are immutable and safe for concurrent use. Exact, prefix, suffix
// and "*" matchers never allocate in Match; a contains matcher allocates once
// when it has to join the text around a needle found inside the path, and a
// positional matcher allocates only to grow the params slice it is given.
//
// Upstream (awesome-server AbstractPathMatcher) → here:
//
//	AbstractPathMatcher.getMatcher   Compile, Regexp
//	match(p) / subtract(p)           Matcher.Match (one call gives both)
//	ExactPathMatcher                 Exact
//	StartsWithPathMatcher            Prefix
//	EndsWithPathMatcher              Suffix
//	ContainsPathMatcher              Contains
//	OrPathMatcher                    Or
//	StringPositionalMatcher          Positional
//	RegExpPathMatcher                Regexp (constructor), RegexpKind
//	WildcardPathMatcher              Any
//	toString()                       Matcher.String (no quotes)
//
// Deliberate differences from upstream:
//   - positional literals are regexp-quoted: "/v1.0/:id" does not match
//     "/v1x0/5";
//   - an or-pattern returns the params (and rest) of the part that matched,
//     so "/a/:id|/b/:id" captures id;
//   - a regexp matcher gives the path with the match removed plus its groups
//     as params, not a match array;
//   - empty patterns, empty or-parts and repeated names are errors.
package route
