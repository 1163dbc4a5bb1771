package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/pebbletest"
	"github.com/httpskit/httpskit/internal/redistest"
	"github.com/httpskit/httpskit/internal/testenv"
	"github.com/httpskit/httpskit/server"
	"github.com/httpskit/httpskit/storage"
)

// TestServeStorageFlag: --storage DIR is said on start and holds the session-ticket keys; a
// bad value is one clear error.
func TestServeStorageFlag(t *testing.T) {
	site := t.TempDir()
	store := filepath.Join(t.TempDir(), "state")
	s := startServe(t, "--host", "127.0.0.1", "--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca"), "--storage", store, site)
	if !strings.Contains(s.stdout.String(), "storage: "+store+"\n") {
		t.Fatalf("serve did not say its storage:\n%s", s.stdout)
	}
	if _, err := os.Stat(filepath.Join(store, filepath.FromSlash(server.TicketKeysKey))); err != nil {
		t.Fatalf("no session-ticket keys in the storage folder: %v", err)
	}
	must(t, s.stop())

	notDir := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(notDir, nil, 0o600))
	bad := []struct{ value, want string }{
		{"ftp://example.com/x", "give a directory or a redis:// or rediss:// URL"},
		{filepath.Join(notDir, "sub"), "--storage:"},
		{"redis://h:99999", `port "99999"`},
		{"redis://user:s3cret@h:6379/x", `database "x"`},
	}
	if !redisSupport {
		bad = append(bad[:2], struct{ value, want string }{"redis://h:6379", "built without Redis (build tag noredis)"})
	}
	for _, c := range bad {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"serve", "--storage", c.value, site}, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve --storage %s = %v, want an error with %q", c.value, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestServeStorageRedisDownAtStart: a Redis that does not answer at start costs one line on
// stderr, and serve serves.
func TestServeStorageRedisDownAtStart(t *testing.T) {
	if !redisSupport {
		t.Skip("built without Redis (noredis)")
	}
	addr := "127.0.0.1:" + freePort(t) // nothing listens there
	site := t.TempDir()
	must(t, os.WriteFile(filepath.Join(site, "hello.txt"), []byte("hello"), 0o644))
	p := startHTTPSKit(t, "serve", "--quiet", "--host", "127.0.0.1", "--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca"),
		"--storage", "redis://"+addr+"/0", site) // --quiet: no access log on stderr

	base := strings.TrimSpace(strings.TrimPrefix(p.waitLine(t, "HTTPS "), "HTTPS "))
	caFile := strings.TrimPrefix(p.waitLine(t, "CA file: "), "CA file: ")
	res, err := caClient(t, caFile, false).Get(base + "hello.txt")
	must(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("GET = %q", b)
	}
	errLines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	if len(errLines) != 1 || !strings.Contains(errLines[0], "redis://"+addr+"/0 does not answer") || !strings.Contains(errLines[0], "connection refused") {
		t.Fatalf("stderr = %q, want one line saying the Redis at %s does not answer", p.stderr, addr)
	}
	if !strings.Contains(p.stdout.String(), "storage: redis://"+addr+"/0\n") {
		t.Fatalf("serve did not say its storage:\n%s", p.stdout)
	}
}

// instance is one `httpskit serve` behind the balancer.
type instance struct {
	name string
	port string // chosen before the balancer starts
	p    *httpskitProc
}

// startInstance runs `httpskit serve` for in on its port, serving a folder whose file "who"
// holds its name, with args, and waits until it serves.
func startInstance(t *testing.T, in *instance, args ...string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), in.name)
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "who"), []byte(in.name), 0o644))
	in.p = startHTTPSKit(t, append([]string{"serve", "--host", "127.0.0.1", "--port", in.port, dir}, args...)...)
	in.p.waitLine(t, "storage: redis://")
	if line := in.p.waitLine(t, "HTTPS "); !strings.HasSuffix(line, "https://127.0.0.1:"+in.port+"/") {
		t.Fatalf("instance %s serves %q, want port %s", in.name, line, in.port)
	}
}

// balancer is HAProxy in TCP mode, round robin, in front of two instances.
type balancer struct {
	t          *testing.T
	front      string // HOST:PORT
	out        *bytes.Buffer
	roots      *x509.CertPool
	serverName string
	a, b       *instance
}

// startBalancer runs HAProxy on a free port of 127.0.0.1 in front of the ports of a and b,
// which need not listen yet, and waits until it accepts connections.
func startBalancer(t *testing.T, a, b *instance) *balancer {
	t.Helper()
	haproxy := testenv.LookPath(t, "haproxy")
	lb := &balancer{t: t, front: "127.0.0.1:" + freePort(t), out: new(bytes.Buffer), a: a, b: b}
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	must(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`global
	maxconn 200
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend site
	bind %s
	default_backend instances
backend instances
	balance roundrobin
	server a 127.0.0.1:%s
	server b 127.0.0.1:%s
`, lb.front, a.port, b.port)), 0o644))
	hp := exec.Command(haproxy, "-f", cfg, "-db")
	hp.Stdout, hp.Stderr = lb.out, lb.out
	waitListening(t, lb.front, startProcess(t, hp))
	return lb
}

// get makes one request on a new TLS connection through the balancer: which instance
// answered, and whether the session was resumed.
func (lb *balancer) get(cache tls.ClientSessionCache) (who string, resumed bool) {
	t := lb.t
	t.Helper()
	conn, err := tls.Dial("tcp", lb.front, &tls.Config{RootCAs: lb.roots, ServerName: lb.serverName, ClientSessionCache: cache, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("through the balancer: %v\nhaproxy: %s\na: %s\nb: %s", err, lb.out, lb.a.p.stderr, lb.b.p.stderr)
	}
	defer conn.Close()
	must(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = io.WriteString(conn, "GET /who HTTP/1.1\r\nHost: "+lb.serverName+"\r\nConnection: close\r\n\r\n")
	must(t, err)
	res, err := io.ReadAll(conn)
	must(t, err)
	_, body, _ := bytes.Cut(res, []byte("\r\n\r\n"))
	return string(body), conn.ConnectionState().DidResume
}

// resumesOnBoth makes n connections with cache, which already holds a ticket, and checks that
// every one resumed and that both instances answered.
func (lb *balancer) resumesOnBoth(phase string, cache tls.ClientSessionCache, n int) {
	t := lb.t
	t.Helper()
	seen := map[string]int{}
	for range n {
		who, resumed := lb.get(cache)
		if !resumed {
			t.Fatalf("%s: a connection answered by %q did not resume", phase, who)
		}
		seen[who]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Fatalf("%s: answers by instance = %v, want both", phase, seen)
	}
	t.Logf("%s: %d connections, all resumed: %v", phase, n, seen)
}

// TestSeveralInstances runs two serve instances sharing a Redis behind HAProxy (TCP mode,
// round robin), all on loopback, with the same certificate files: a client's TLS session
// resumes through the balancer on both instances; restarting one instance loses nothing;
// stopping Redis stops neither.
func TestSeveralInstances(t *testing.T) {
	if !redisSupport {
		t.Skip("built without Redis (noredis)")
	}
	testenv.LookPath(t, "haproxy")
	redis := redistest.Start(t)
	caFile, certFile, keyFile := pemFiles(t)
	a, b := &instance{name: "a", port: freePort(t)}, &instance{name: "b", port: freePort(t)}
	lb := startBalancer(t, a, b)
	lb.serverName, lb.roots = "localhost", x509.NewCertPool()
	caPEM, err := os.ReadFile(caFile)
	must(t, err)
	lb.roots.AppendCertsFromPEM(caPEM)
	args := []string{"--cert", certFile, "--key", keyFile, "--storage", redis.URL(0)}
	startInstance(t, a, args...)
	startInstance(t, b, args...)

	cache := tls.NewLRUClientSessionCache(4)
	if who, resumed := lb.get(cache); resumed || (who != "a" && who != "b") {
		t.Fatalf("first connection: answered by %q, resumed %v", who, resumed)
	}
	lb.resumesOnBoth("Redis up", cache, 6)

	// A ticket from before the restart of one instance resumes on the new process.
	old := &firstTicketCache{}
	lb.get(old)
	must(t, a.p.cmd.Process.Signal(syscall.SIGTERM))
	if code := a.p.wait(t); code != 0 {
		t.Fatalf("instance a exited with %d on SIGTERM\nstderr: %s", code, a.p.stderr)
	}
	startInstance(t, a, args...) // on the same port
	lb.resumesOnBoth("one instance restarted, old ticket", old, 4)
	lb.resumesOnBoth("one instance restarted", cache, 4)

	// Redis goes away: both instances keep serving, with the keys they have.
	redis.Stop()
	lb.resumesOnBoth("Redis stopped", cache, 6)
	fresh := tls.NewLRUClientSessionCache(4)
	lb.get(fresh)
	lb.resumesOnBoth("Redis stopped, new client", fresh, 4)
	for _, in := range []*instance{a, b} {
		select {
		case <-in.p.exited:
			t.Fatalf("instance %s exited: %v\nstderr: %s", in.name, in.p.err, in.p.stderr)
		default:
		}
	}
}

// TestSeveralInstancesACME runs two serve --domain instances sharing a Redis behind HAProxy,
// with Pebble validating TLS-ALPN-01 through the balancer (so on either instance): one ACME
// order in all for the name, both serve its certificate, and sessions resume on both.
func TestSeveralInstancesACME(t *testing.T) {
	if !redisSupport {
		t.Skip("built without Redis (noredis)")
	}
	testenv.LookPath(t, "haproxy")
	redis := redistest.Start(t)
	a, b := &instance{name: "a", port: freePort(t)}, &instance{name: "b", port: freePort(t)}
	lb := startBalancer(t, a, b)
	_, frontPort, _ := net.SplitHostPort(lb.front)
	tlsPort, err := strconv.Atoi(frontPort)
	must(t, err)
	p := pebbletest.Start(t, pebbletest.Options{TLSPort: tlsPort, HTTPPort: pebbletest.FreePort(t)})
	lb.serverName, lb.roots = "shared.test", p.IssuerRoots(t)
	args := []string{"--domain", "shared.test", "--http-port", "-1", "--acme-ca", p.DirectoryURL, "--acme-ca-root", p.APIRootFile,
		"--storage", redis.URL(0)}
	startInstance(t, a, args...)
	startInstance(t, b, args...)
	got := map[string]int{}
	for _, in := range []*instance{a, b} {
		line := in.p.waitLine(t, "acme   certificate for shared.test ")
		switch {
		case strings.Contains(line, "obtained from the CA"):
			got["obtained"]++
		case strings.Contains(line, "loaded from storage"):
			got["loaded"]++
		default:
			t.Fatalf("instance %s: %q", in.name, line)
		}
	}
	if got["obtained"] != 1 || got["loaded"] != 1 || p.Orders() != 1 {
		t.Fatalf("certificates %v, Pebble orders %d; want one obtained, one loaded, one order", got, p.Orders())
	}
	cache := tls.NewLRUClientSessionCache(4)
	lb.get(cache)
	lb.resumesOnBoth("ACME", cache, 6)
	t.Logf("Pebble received %d order for shared.test from two instances", p.Orders())
}

// firstTicketCache keeps the first session it is given: later tickets do not replace it, so
// the test can resume on an old ticket again and again.
type firstTicketCache struct{ cs *tls.ClientSessionState }

func (c *firstTicketCache) Get(string) (*tls.ClientSessionState, bool) { return c.cs, c.cs != nil }

func (c *firstTicketCache) Put(_ string, cs *tls.ClientSessionState) {
	if c.cs == nil {
		c.cs = cs
	}
}

// flakyStore is a Storage whose calls fail while down is set.
type flakyStore struct {
	storage.Storage
	down atomic.Bool
}

func (f *flakyStore) Get(ctx context.Context, key string) ([]byte, error) {
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	return f.Storage.Get(ctx, key)
}

// TestReportingStorage: a storage that starts failing is one line on stderr however many
// calls fail, working again is one more, and an absent key is no failure.
func TestReportingStorage(t *testing.T) {
	ctx := context.Background()
	flaky := &flakyStore{Storage: storage.NewDir(t.TempDir())}
	var errOut bytes.Buffer
	r := &reportingStorage{Storage: flaky, stderr: &errOut}
	if _, err := r.Get(ctx, "absent"); !errors.Is(err, storage.ErrNotExist) || errOut.Len() != 0 {
		t.Fatalf("Get(absent) = %v, stderr %q; want ErrNotExist and nothing said", err, errOut.String())
	}
	flaky.down.Store(true)
	for range 3 {
		if _, err := r.Get(ctx, "k"); err == nil {
			t.Fatal("Get through a failing store succeeded")
		}
	}
	flaky.down.Store(false)
	r.Get(ctx, "k")
	r.Get(ctx, "k")
	want := "httpskit: storage " + flaky.String() + " fails (connection refused); serving on with what this instance has, trying again\n" +
		"httpskit: storage " + flaky.String() + " works again\n"
	if errOut.String() != want {
		t.Fatalf("stderr = %q, want %q", errOut.String(), want)
	}
	if r.String() != flaky.String() {
		t.Fatalf("String() = %q, want the store's own %q", r.String(), flaky.String())
	}
}
