package route

import (
	"regexp"
	"strconv"
)

// Regexp returns a [Matcher] of kind [RegexpKind] for re. It is unanchored unless
// re is: Match succeeds when re matches anywhere in the path.
//
// rest is the path with the leftmost match removed. params holds first every
// named group by its name, then every group by its number ("1", "2", ...), in
// group order; a group that took no part in the match gives "". A regexp
// without groups captures nothing and returns nil params.
//
// String returns re's source. Regexp panics if re is nil.
func Regexp(re *regexp.Regexp) Matcher {
	if re == nil {
		panic("route: Regexp(nil)")
	}
	m := &regexpMatcher{re: re}
	for i, name := range re.SubexpNames() {
		if i > 0 && name != "" {
			m.named = append(m.named, i)
		}
	}
	m.numbers = make([]string, re.NumSubexp()+1)
	for i := 1; i < len(m.numbers); i++ {
		m.numbers[i] = strconv.Itoa(i)
	}
	return m
}

type regexpMatcher struct {
	re      *regexp.Regexp
	named   []int    // indexes of the named groups
	numbers []string // numbers[i] is strconv.Itoa(i)
}

func (m *regexpMatcher) Match(path string, ps []Param) (string, []Param, bool) {
	idx := m.re.FindStringSubmatchIndex(path)
	if idx == nil {
		return path, nil, false
	}
	group := func(i int) string {
		if idx[2*i] < 0 {
			return ""
		}
		return path[idx[2*i]:idx[2*i+1]]
	}
	if len(m.numbers) > 1 {
		names := m.re.SubexpNames()
		for _, i := range m.named {
			ps = append(ps, Param{Name: names[i], Value: group(i)})
		}
		for i := 1; i < len(m.numbers); i++ {
			ps = append(ps, Param{Name: m.numbers[i], Value: group(i)})
		}
	} else {
		ps = nil
	}
	start, end := idx[0], idx[1]
	switch {
	case start == end:
		return path, ps, true
	case start == 0:
		return path[end:], ps, true
	case end == len(path):
		return path[:start], ps, true
	}
	return path[:start] + path[end:], ps, true
}

func (m *regexpMatcher) String() string { return m.re.String() }
func (*regexpMatcher) Kind() Kind       { return RegexpKind }
