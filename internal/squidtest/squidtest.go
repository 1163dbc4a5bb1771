// Package squidtest runs Debian's squid, a real forward proxy, for tests:
// started on free loopback ports by the test that asks for it and stopped
// when that test ends. It is for tests only; squid is found with
// internal/testenv.LookPath (skipped locally when missing, a failure when
// CI=true).
package squidtest

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// Proxy is Debian's squid, a real forward proxy, started by a test on free
// loopback ports and stopped when the test ends.
type Proxy struct {
	URL    *url.URL // http://127.0.0.1:PORT
	TLSURL *url.URL // https://127.0.0.1:PORT, when started with tls
	dir    string

	mu     sync.Mutex
	output strings.Builder // squid's stderr (its cache.log at debug level 1)
}

// Config says how to start squid.
type Config struct {
	Users map[string]string // Basic auth users and passwords; nil: no authentication
	// CertPEM and KeyPEM, when set, open an https_port too, with this
	// certificate (it must name 127.0.0.1).
	CertPEM, KeyPEM []byte
	Hosts           map[string]string // names only squid resolves, to addresses
}

// squidReady is in the line squid writes once it accepts connections on a
// port ("Accepting HTTP Socket connections at ...", "Accepting HTTPS ...").
var squidReady = regexp.MustCompile(`Accepting HTTPS? Socket connections at`)

// Start starts squid with a squid.conf written for cfg in a temporary
// directory that also takes its logs: no cache, no pid file, no DNS server
// (names in cfg.Hosts only). It returns once squid accepts connections on
// its ports, which it says on stderr: no polling.
func Start(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	bin := testenv.LookPath(t, "squid", "/usr/sbin/squid")
	dir := t.TempDir()
	// Started as root, squid drops to its own user ("proxy"), which must
	// write its logs here and read the files below (t.TempDir's parent is
	// private to us too).
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var hosts strings.Builder
	for name, addr := range cfg.Hosts {
		fmt.Fprintf(&hosts, "%s %s\n", addr, name)
	}
	sq := &Proxy{dir: dir, URL: &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(freePort(t))}}
	var conf strings.Builder
	fmt.Fprintf(&conf, "http_port %s\n", sq.URL.Host)
	ready := 1
	if cfg.CertPEM != nil {
		cert, key := cfg.CertPEM, cfg.KeyPEM
		sq.TLSURL = &url.URL{Scheme: "https", Host: "127.0.0.1:" + strconv.Itoa(freePort(t))}
		fmt.Fprintf(&conf, "https_port %s tls-cert=%s tls-key=%s\n", sq.TLSURL.Host, write("proxy.pem", string(cert)), write("proxy-key.pem", string(key)))
		ready++
	}
	fmt.Fprintf(&conf, `pid_filename none
cache deny all
cache_mem 0 MB
cache_store_log none
access_log stdio:%[1]s/access.log
cache_log %[1]s/cache.log
coredump_dir %[1]s
hosts_file %[2]s
dns_nameservers 127.0.0.1
shutdown_lifetime 0 seconds
`, dir, write("hosts", hosts.String()))
	if cfg.Users != nil {
		var passwd strings.Builder
		for user, pass := range cfg.Users {
			sum := md5.Sum([]byte(pass)) // a form basic_ncsa_auth accepts
			fmt.Fprintf(&passwd, "%s:%s\n", user, hex.EncodeToString(sum[:]))
		}
		fmt.Fprintf(&conf, "auth_param basic program %s %s\nacl users proxy_auth REQUIRED\nhttp_access allow users\n",
			testenv.LookPath(t, "/usr/lib/squid/basic_ncsa_auth"), write("passwd", passwd.String()))
	} else {
		conf.WriteString("http_access allow localhost\n")
	}
	conf.WriteString("http_access deny all\n")

	cmd := exec.Command(bin, "-N", "-d", "1", "-f", write("squid.conf", conf.String()))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	exited := make(chan struct{}) // closed once squid has exited; waitErr is set then
	var waitErr error
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			sq.mu.Lock()
			sq.output.WriteString(line + "\n")
			sq.mu.Unlock()
			if squidReady.MatchString(line) {
				if ready--; ready == 0 {
					close(up)
				}
			}
		}
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("squid did not stop on SIGTERM within 20s")
		}
	})
	deadline := time.After(testenv.Scale(60 * time.Second))
	select {
	case <-up:
	case <-exited:
		t.Fatalf("squid exited before accepting connections (%v):\n%s", waitErr, sq.Log())
	case <-deadline:
		t.Fatalf("squid did not accept connections within 60s:\n%s", sq.Log())
	}
	// Squid logs "Accepting" as it schedules the job that calls listen(),
	// so a connection made at once may still be refused: confirm each port
	// by connecting, retrying only while it is refused.
	ports := []string{sq.URL.Host}
	if sq.TLSURL != nil {
		ports = append(ports, sq.TLSURL.Host)
	}
	for _, addr := range ports {
		for {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("squid's port %s: %v", addr, err)
			}
			select {
			case <-exited:
				t.Fatalf("squid exited before accepting connections (%v):\n%s", waitErr, sq.Log())
			case <-deadline:
				t.Fatalf("squid's port %s refused connections for 60s:\n%s", addr, sq.Log())
			case <-time.After(5 * time.Millisecond): // until its listen() ran
			}
		}
	}
	return sq
}

// Log returns what squid wrote on stderr so far.
func (sq *Proxy) Log() string {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	return sq.output.String()
}

// WithUser returns a copy of u with Basic credentials user:pass.
func WithUser(u *url.URL, user, pass string) *url.URL {
	c := *u
	c.User = url.UserPassword(user, pass)
	return &c
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
