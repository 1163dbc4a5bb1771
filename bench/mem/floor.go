package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// floor is a small program that shows what a GET costs a Go program at all, whatever
// httpskit does: each is built and run like httpskit, and prints its own VmHWM to stderr
// as "floor VmHWM: N kB" as it ends (GNU time's figure is used when there is one).
type floor struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
	src  string // the program, in a module of its own; "" for pkg
	pkg  string // a package of this module
}

// floors: hello is the baseline of every table; the others GET the 4 KiB file (arguments:
// CA file, URL).
var floors = []floor{
	{Name: "hello", Doc: "a static hello-world: the Go runtime alone", src: helloSrc},
	{Name: "tls-get", Doc: "crypto/tls and a hand-written HTTP/1.1 GET", src: tlsGetSrc},
	{Name: "nethttp-get", Doc: "net/http's Client (HTTP/2 by ALPN)", src: netHTTPGetSrc},
	{Name: "https-get", Doc: "package https alone, without the CLI (bench/mem/httpsget)", pkg: "./bench/mem/httpsget"},
}

const reportHWM = `
func reportHWM() {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "VmHWM:") {
			os.Stderr.WriteString("floor " + line)
		}
	}
}
`

// roots reads the CA file named by the first argument.
const roots = `
func roots() *x509.CertPool {
	pem, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}
`

const helloSrc = `package main

import (
	"os"
	"strings"
)

func main() { reportHWM() }
` + reportHWM

const tlsGetSrc = `package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

func main() {
	u, err := url.Parse(os.Args[2])
	if err != nil {
		panic(err)
	}
	c, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: roots(), ServerName: u.Hostname()})
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", u.Path, u.Host)
	if _, err := io.Copy(io.Discard, c); err != nil {
		panic(err)
	}
	reportHWM()
}
` + reportHWM + roots

const netHTTPGetSrc = `package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	t := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots()}, ForceAttemptHTTP2: true}
	res, err := (&http.Client{Transport: t}).Get(os.Args[2])
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		panic(err)
	}
	res.Body.Close()
	reportHWM()
}
` + reportHWM + roots

// writeProgram writes src as the module "floor" in dir.
func writeProgram(dir, src string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module floor\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)
}

// floorHWM reads a floor program's report of its peak RSS.
func floorHWM(stderr string) (int64, bool) {
	for line := range strings.Lines(stderr) {
		if rest, ok := strings.CutPrefix(line, "floor VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
