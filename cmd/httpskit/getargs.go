package main

import (
	"errors"
	"flag"
	"math"
	"strconv"
	"strings"
	"time"
)

// expandShort rewrites curl's combined short flags as package flag reads
// them: "-fsSL" becomes "-f -s -S -L", "-sSo FILE" becomes "-s -S -o FILE",
// and "-ofile" or "-o-" becomes "-o file" or "-o -". An argument that names
// a flag itself ("-help", "-key") is left alone, as is the value of a flag
// that takes one. A letter that is no flag is a usage error naming it.
func expandShort(fs *flag.FlagSet, args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		if !isCluster(fs, a) {
			out = append(out, a)
			if takesValue(fs, a) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		for j := 1; j < len(a); j++ {
			f := fs.Lookup(a[j : j+1])
			if f == nil {
				return nil, usagef("unknown flag -%c in %s", a[j], a)
			}
			out = append(out, "-"+f.Name)
			if isBool(f) {
				continue
			}
			if j+1 < len(a) {
				out = append(out, a[j+1:]) // "-ofile": the rest is the value
			} else if i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			break
		}
	}
	return out, nil
}

// isCluster reports whether a is several short flags in one ("-fsSL") or a
// short flag with its value attached ("-ofile"): one dash, more than one
// letter, no "=", and not the name of a flag.
func isCluster(fs *flag.FlagSet, a string) bool {
	return len(a) > 2 && a[0] == '-' && a[1] != '-' && !strings.Contains(a, "=") &&
		fs.Lookup(a[1:]) == nil && fs.Lookup(a[1:2]) != nil
}

// takesValue reports whether a is a flag whose value is the next argument.
func takesValue(fs *flag.FlagSet, a string) bool {
	if !strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimLeft(a, "-"))
	return f != nil && !isBool(f)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// seconds is a duration flag read as curl reads --max-time: a number of
// seconds ("3", "2.5"); a Go duration ("1m30s", "200ms") works too.
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }

func (s *seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > math.MaxInt64/float64(time.Second) {
			return errors.New("want a number of seconds (2.5) or a duration (1m30s)")
		}
		*s = seconds(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return errors.New("want a number of seconds (2.5) or a duration (1m30s)")
	}
	*s = seconds(d)
	return nil
}

// byteCount is a size flag in bytes, with curl's optional suffixes k, M and
// G (multiples of 1024).
type byteCount int64

func (b *byteCount) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteCount) Set(s string) error {
	mult := int64(1)
	if i := len(s) - 1; i > 0 {
		switch s[i] {
		case 'k', 'K':
			mult, s = 1<<10, s[:i]
		case 'm', 'M':
			mult, s = 1<<20, s[:i]
		case 'g', 'G':
			mult, s = 1<<30, s[:i]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return errors.New("want a number of bytes, optionally with k, M or G")
	}
	*b = byteCount(n * mult)
	return nil
}
