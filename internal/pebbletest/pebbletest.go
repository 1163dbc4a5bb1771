// Package pebbletest runs Pebble, Let's Encrypt's ACME test server, with pebble-challtestsrv
// as its DNS server, for tests: both on 127.0.0.1 free ports, every name resolving to
// 127.0.0.1, and Pebble validating challenges on the ports the test gives (the test's own
// listeners). It is for tests only.
//
// The binaries are built once from the Go module proxy at Version with `go install` into
// a folder of os.UserCacheDir keyed by the version, and reused by later runs. Under emulation
// (internal/testenv) the tests skip: the native run covers them.
package pebbletest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// Module and Version are the Pebble module the tests build.
const (
	Module  = "github.com/letsencrypt/pebble/v2"
	Version = "v2.10.3"
)

// BlockedDomain is a name Pebble refuses to issue for (its domainBlocklist).
const BlockedDomain = "blocked-domain.example"

// Options configures a Pebble.
type Options struct {
	// HTTPPort and TLSPort are where Pebble connects for HTTP-01 and TLS-ALPN-01: the
	// ports of the listeners under test.
	HTTPPort, TLSPort int
	// Validity is the lifetime of the certificates of Pebble's default profile. Zero means
	// 90 days.
	Validity time.Duration
	// ShortValidity, when set, adds a "shortlived" profile of that lifetime. Pebble picks
	// a random profile for an order that names none, so only orders naming "shortlived" get it.
	ShortValidity time.Duration
}

// Pebble is a running Pebble.
type Pebble struct {
	// DirectoryURL is the ACME directory.
	DirectoryURL string
	// APIRootPEM is the root of the certificate Pebble's API is served with: what a client
	// must trust to talk to it (test/certs/pebble.minica.pem of the module).
	APIRootPEM []byte
	// APIRootFile is a file holding APIRootPEM.
	APIRootFile string

	mgmt string // https://127.0.0.1:PORT of the management API
	stop func() // stops Pebble

	mu     sync.Mutex
	orders int
	log    strings.Builder
}

// Start builds (once) and starts Pebble and pebble-challtestsrv; both are stopped when the
// test ends.
func Start(t testing.TB, opt Options) *Pebble {
	t.Helper()
	if testenv.Emulated() {
		t.Skipf("Pebble: left to the native run under emulation (%s=1)", testenv.EmulatedEnv)
	}
	bin, modDir := build(t)
	if opt.Validity == 0 {
		opt.Validity = 90 * 24 * time.Hour
	}
	dir := t.TempDir()
	dnsPort, challMgmt, apiPort, mgmtPort := FreePort(t), FreePort(t), FreePort(t), FreePort(t)

	chall := exec.Command(filepath.Join(bin, "pebble-challtestsrv"),
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		"-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort),
		"-management", "127.0.0.1:"+strconv.Itoa(challMgmt),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "")
	_ = startProcess(t, chall, nil)
	waitPort(t, "tcp", dnsPort)

	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  "127.0.0.1:" + strconv.Itoa(apiPort),
		"managementListenAddress":        "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":                    filepath.Join(modDir, "test/certs/localhost/cert.pem"),
		"privateKey":                     filepath.Join(modDir, "test/certs/localhost/key.pem"),
		"httpPort":                       opt.HTTPPort,
		"tlsPort":                        opt.TLSPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"domainBlocklist":                []string{BlockedDomain},
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
	}}
	profiles := map[string]any{"default": map[string]any{"description": "default", "validityPeriod": int(opt.Validity.Seconds())}}
	if opt.ShortValidity > 0 {
		profiles["shortlived"] = map[string]any{"description": "short", "validityPeriod": int(opt.ShortValidity.Seconds())}
	}
	cfg["pebble"].(map[string]any)["profiles"] = profiles
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Pebble{
		DirectoryURL: fmt.Sprintf("https://127.0.0.1:%d/dir", apiPort),
		mgmt:         fmt.Sprintf("https://127.0.0.1:%d", mgmtPort),
	}
	var err error
	if p.APIRootPEM, err = os.ReadFile(filepath.Join(modDir, "test/certs/pebble.minica.pem")); err != nil {
		t.Fatal(err)
	}
	p.APIRootFile = filepath.Join(dir, "pebble.minica.pem")
	if err := os.WriteFile(p.APIRootFile, p.APIRootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	peb := exec.Command(filepath.Join(bin, "pebble"), "-config", cfgFile, "-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort))
	peb.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	p.stop = startProcess(t, peb, p.logLine)
	waitPort(t, "tcp", apiPort)
	waitPort(t, "tcp", mgmtPort)
	return p
}

// logLine records one line of Pebble's output and counts new orders.
func (p *Pebble) logLine(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if strings.Contains(line, "Added order") {
		p.orders++
	}
	p.log.WriteString(line)
	p.log.WriteByte('\n')
}

// Orders returns how many orders Pebble has received.
func (p *Pebble) Orders() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.orders
}

// Log returns Pebble's output so far.
func (p *Pebble) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// IssuerRoots returns a pool holding the root Pebble signs certificates under (from its
// management API, /roots/0): what a client of the site must trust.
func (p *Pebble) IssuerRoots(t testing.TB) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	api := x509.NewCertPool()
	api.AppendCertsFromPEM(p.APIRootPEM)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: api}}}
	defer hc.CloseIdleConnections()
	res, err := hc.Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 || !pool.AppendCertsFromPEM(b) {
		t.Fatalf("Pebble root: %v %v %q", err, res.Status, b)
	}
	return pool
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Stop stops Pebble (not its DNS server): its API is unreachable from then on.
func (p *Pebble) Stop() { p.stop() }

// startProcess starts cmd, sends its output lines to onLine (and the test log on failure),
// and stops it at the end of the test or when the returned function is called.
func startProcess(t testing.TB, cmd *exec.Cmd, onLine func(string)) (stop func()) {
	t.Helper()
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(cmd.Path)
	var out strings.Builder
	var mu sync.Mutex
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if onLine != nil {
				onLine(sc.Text())
			}
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
		io.Copy(io.Discard, r)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
			w.Close()
			<-read
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			mu.Lock()
			t.Logf("%s output:\n%s", name, out.String())
			mu.Unlock()
		}
	})
	return stop
}

// waitPort waits until something accepts connections on 127.0.0.1:port.
func waitPort(t testing.TB, network string, port int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(30*time.Second))
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("nothing listening on %s: %v", addr, err)
		case <-tick.C:
		}
	}
}

var buildOnce struct {
	sync.Mutex
	bin, modDir string
}

// build returns the folder of the pebble and pebble-challtestsrv binaries, building them
// when they are not there yet, and the module's source folder.
func build(t testing.TB) (bin, modDir string) {
	t.Helper()
	buildOnce.Lock()
	defer buildOnce.Unlock()
	if buildOnce.bin != "" {
		return buildOnce.bin, buildOnce.modDir
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("Pebble is built with the go command, which is not on PATH: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin = filepath.Join(cache, "httpskit-test", "pebble-"+Version)
	env := append(os.Environ(), "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	modOut, err := runGo(goCmd, env, "mod", "download", "-json", Module+"@"+Version)
	if err != nil {
		t.Fatalf("go mod download %s@%s: %v\n%s", Module, Version, err, modOut)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(modOut, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", Module, Version, err, mod.Error)
	}
	have := true
	for _, name := range []string{"pebble", "pebble-challtestsrv"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			have = false
		}
	}
	if !have {
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		// Built into a fresh folder, renamed into place: a concurrent test binary sees all
		// or nothing.
		tmp, err := os.MkdirTemp(filepath.Dir(bin), ".pebble-build-*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		out, err := runGo(goCmd, append(env, "GOBIN="+tmp), "install",
			Module+"/cmd/pebble@"+Version, Module+"/cmd/pebble-challtestsrv@"+Version)
		if err != nil {
			t.Fatalf("building Pebble %s: %v\n%s", Version, err, out)
		}
		if err := os.Rename(tmp, bin); err != nil {
			if _, serr := os.Stat(filepath.Join(bin, "pebble-challtestsrv")); serr != nil {
				t.Fatalf("building Pebble %s: %v", Version, err)
			}
		}
	}
	buildOnce.bin, buildOnce.modDir = bin, mod.Dir
	return bin, mod.Dir
}

func runGo(goCmd string, env []string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Env = env
	cmd.Dir = os.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return []byte(stderr.String()), err
	}
	return out, nil
}

// RateLimitedCA starts an ACME directory, on a loopback HTTPS test server, whose new-account
// endpoint always answers 429 rateLimited with Retry-After one hour, as Let's Encrypt does
// past a limit. It returns the directory URL and a file holding the root to trust for it.
func RateLimitedCA(t testing.TB) (directoryURL, rootFile string) {
	t.Helper()
	var base string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Replay-Nonce", "bm9uY2Vub25jZW5vbmNl"+strconv.FormatInt(time.Now().UnixNano(), 36))
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/dir":
			json.NewEncoder(w).Encode(map[string]string{"newNonce": base + "/nonce", "newAccount": base + "/account", "newOrder": base + "/order"})
		case "/nonce":
			w.WriteHeader(http.StatusOK)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many new registrations from this address (test CA)"}`)
		}
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	rootFile = filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return base + "/dir", rootFile
}
