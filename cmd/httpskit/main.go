// Command httpskit serves files over HTTPS with a local development CA, fetches URLs with the
// httpskit client, manages the CA, loads a server with requests, and prints its version.
//
// Usage:
//
//	httpskit serve [DIR]        HTTPS on localhost:7080 serving DIR (default .)
//	httpskit get URL            fetch a URL and print the body, with curl's flags and exit codes
//	httpskit request URL        any method, headers, body, auth, CA, client certificate
//	httpskit cert               show, create or issue from the development CA
//	httpskit bench URL          load generator: keep-alive, HTTP/2, new-connection and idle modes
//	httpskit version            print the version
//
// Run "httpskit COMMAND -h" for a command's flags. Exit codes: 0 success, 1 the request or
// server failed (the message says why), 2 bad usage; get and request exit with curl's code for
// the same failure (6 resolve, 7 connect, 22 --fail, 23 write, 28 timeout, 35 TLS handshake,
// 58 client certificate, 60 peer certificate, 63 max filesize, 130 Ctrl-C; "get -h" lists them).
//
// serve stops on Ctrl-C (SIGINT) or SIGTERM: it refuses new connections at once, lets the
// requests in flight finish for up to --grace (10s), prints "stopped" and exits 0; requests
// still running after the grace have their connections closed and the exit code is 1. A
// second Ctrl-C or SIGTERM during the grace ends the process at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// usageError marks a mistake in the command line: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// command is one subcommand: it parses its own flags from args.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve a directory over HTTPS (localhost:7080, development CA)", runServe},
		{"get", "fetch a URL and print the body (like curl)", runGet},
		{"request", "send a request with any method, headers, body, auth, CA or client certificate", runRequest},
		{"cert", "show, create or issue from the development CA; trust it", runCert},
		{"bench", "load a URL: keep-alive, HTTP/2, new-connection or idle; req/s, latency, TLS", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one ends the process at once: serve's graceful stop
	// may wait up to --grace.
	context.AfterFunc(ctx, stop)
	if len(os.Args) > 1 && (os.Args[1] == "get" || os.Args[1] == "request") {
		// A closed pipe on stdout ("| head") is a write failure with curl's exit code 23,
		// not death by SIGPIPE.
		signal.Ignore(syscall.SIGPIPE)
	}
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return nil
	case "-version", "--version":
		return runVersion(ctx, nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	printUsage(stderr)
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: httpskit COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "httpskit COMMAND -h" for the flags of a command.`)
}

// exitCode prints err (if any) as one line and maps it to the exit code.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "httpskit: %v\n", err)
		return 2
	}
	var coded exitError
	if errors.As(err, &coded) {
		if !coded.quiet {
			fmt.Fprintf(stderr, "httpskit: %v\n", err)
		}
		return coded.code
	}
	fmt.Fprintf(stderr, "httpskit: %v\n", err)
	return 1
}

// exitError is a failure with an exit code of its own (get and request
// use curl's).
type exitError struct {
	code  int
	err   error
	quiet bool // print no message (curl's -s)
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// newFlagSet makes a flag set for a subcommand that reports errors instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: httpskit %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors of one
// line with a hint (the full usage only for -h).
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag " + asTyped(args, name)
	}
	return usagef("%s (run \"httpskit %s -h\" for the flags)", msg, fs.Name())
}

// asTyped returns flag name as it appears in args ("-x" or "--x").
func asTyped(args []string, name string) string {
	for _, a := range args {
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			return "--" + name
		}
	}
	return "-" + name
}

// parseInterleaved parses args allowing flags after positional arguments
// ("issue example.test --client", "get URL -i") and returns the positional
// ones in order; "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
