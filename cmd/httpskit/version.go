package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// runVersion implements `httpskit version`.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintln(stdout, versionString())
	return nil
}

// versionString is "httpskit VERSION (REVISION) GOVERSION OS/ARCH", from the build
// information that go build stamps with -buildvcs (release/build sets it): VERSION is a tag
// or a pseudo-version such as v0.0.0-20260101120000-0123456789ab+dirty, "(devel)" without
// VCS information; " (REVISION)" is left out when VERSION already holds the revision. A build
// without the Redis client (build tag noredis, as the release binaries are) says "noredis"
// before GOVERSION: "httpskit v1.2.0 noredis go1.26.8 linux/arm".
func versionString() string {
	version, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
				if len(rev) > 12 {
					rev = rev[:12]
				}
			case "vcs.modified":
				if s.Value == "true" && rev != "" {
					rev += "+dirty"
				}
			}
		}
	}
	s := "httpskit " + version
	if rev != "" && !strings.Contains(version, strings.TrimSuffix(rev, "+dirty")) {
		s += " (" + rev + ")"
	}
	if !redisSupport {
		s += " noredis"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// userAgent is the default User-Agent of get and request:
// "httpskit/VERSION", "httpskit/dev" for a build without a version.
func userAgent() string {
	version := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	return "httpskit/" + version
}
