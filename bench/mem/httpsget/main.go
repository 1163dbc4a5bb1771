// Command httpsget is one GET with package https and nothing else, for bench/mem: what the
// client library costs without the CLI around it.
//
//	httpsget CAFILE URL
//
// It reads the body, discards it, and prints its peak RSS to stderr as
// "floor VmHWM: N kB" (Linux).
package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/httpskit/httpskit/https"
)

func main() {
	if err := get(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "httpsget:", err)
		os.Exit(1)
	}
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "VmHWM:") {
			os.Stderr.WriteString("floor " + line)
		}
	}
}

func get(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: httpsget CAFILE URL")
	}
	u, err := url.Parse(args[1])
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return err
	}
	r, err := https.Get(context.Background(), https.Options{Host: u.Hostname(), Port: port, Path: u.Path, CA: args[0]}, nil)
	if err != nil {
		return err
	}
	res, err := r.Response()
	if err != nil {
		return err
	}
	defer res.Close()
	_, err = io.Copy(io.Discard, res)
	return err
}
