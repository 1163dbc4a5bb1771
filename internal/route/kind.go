package route

import "strconv"

// Kind names the way a [Matcher] compares paths. The zero Kind is not a
// valid kind; its String is "Kind(0)".
type Kind int

// The kinds of matcher, in the order of the upstream documentation.
const (
	Exact      Kind = iota + 1 // "/a": the whole path, case-sensitive
	Prefix                     // "/a/*": paths starting with "/a/"
	Suffix                     // "*/a": paths ending with "/a"
	Contains                   // "*/a/*": paths containing "/a/"
	Or                         // "/a|/b/*": the first part that matches
	Positional                 // "/a/:id": named segments read as params
	RegexpKind                 // a *regexp.Regexp (the name Regexp is the constructor)
	Any                        // "*": every path
)

var kindNames = [...]string{
	Exact:      "exact",
	Prefix:     "prefix",
	Suffix:     "suffix",
	Contains:   "contains",
	Or:         "or",
	Positional: "positional",
	RegexpKind: "regexp",
	Any:        "any",
}

// String returns the lower-case name of k ("exact", "prefix", ...), or
// "Kind(n)" for a value that is not one of the constants.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}
