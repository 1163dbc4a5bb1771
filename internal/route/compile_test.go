package route

import (
	"errors"
	"regexp"
	"testing"
)

// Upstream PathMatcherTest "getMatcher": which kind each pattern compiles to.
func TestCompileKind(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    Kind
	}{
		{"or", "/abc|/xyz", Or},
		{"exact", "/asdf", Exact},
		{"suffix", "*/asdf", Suffix},
		{"prefix", "/asdf/*", Prefix},
		{"contains", "*/asdf/*", Contains},
		{"positional", "/asdf/:id", Positional},
		{"or of positionals", "/:abc/:id|/xyz/:id", Or},
		{"wildcard beats positional: suffix", "*/asdf/:id", Suffix},
		{"wildcard beats positional: prefix", "/asdf/:id/*", Prefix},
		{"wildcard beats positional: contains", "*/asdf/:id/*", Contains},
		{"any", "*", Any},
		{"double star is contains", "**", Contains},
		{"colon without name is exact", "/a:", Exact},
		{"colon before slash is exact", "/a:/b", Exact},
		{"colon before dash is exact", "/a/:-", Exact},
		{"bare name is positional", ":id", Positional},
		{"digit name is positional", "/:1", Positional},
		{"or of any", "*|/a", Or},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.pattern)
			if err != nil {
				t.Fatalf("Compile(%q) error %v", tt.pattern, err)
			}
			if got := m.Kind(); got != tt.want {
				t.Errorf("Compile(%q).Kind() = %v, want %v", tt.pattern, got, tt.want)
			}
			if got := m.String(); got != tt.pattern {
				t.Errorf("Compile(%q).String() = %q, want the pattern", tt.pattern, got)
			}
		})
	}
	re := regexp.MustCompile(`^\/test\/$`)
	if m := Regexp(re); m.Kind() != RegexpKind || m.String() != `^\/test\/$` {
		t.Errorf("Regexp(%q) = %v %q, want regexp %q", re, m.Kind(), m.String(), re.String())
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    error
	}{
		{"empty", "", ErrEmptyPattern},
		{"leading bar", "|/a", ErrEmptyPart},
		{"trailing bar", "/a|", ErrEmptyPart},
		{"double bar", "/a||/b", ErrEmptyPart},
		{"only bar", "|", ErrEmptyPart},
		{"repeated name", "/a/:id/:id", ErrDuplicateParam},
		{"repeated name in or part", "/x|/a/:id/b/:id", ErrDuplicateParam},
		{"invalid UTF-8", "/a/:id/\xff", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.pattern)
			if !errors.Is(err, tt.want) || m != nil {
				t.Errorf("Compile(%q) = %v, %v, want nil, %v", tt.pattern, m, err, tt.want)
			}
			if err != nil && err.Error()[:7] != "route: " {
				t.Errorf("Compile(%q) error %q lacks the \"route: \" prefix", tt.pattern, err)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{
		Exact: "exact", Prefix: "prefix", Suffix: "suffix", Contains: "contains",
		Or: "or", Positional: "positional", RegexpKind: "regexp", Any: "any",
		0: "Kind(0)", 99: "Kind(99)",
	}
	for k, w := range want {
		if got := k.String(); got != w {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, w)
		}
	}
}
