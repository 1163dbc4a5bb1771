package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"
)

const helloBody = "Hello, World!"

// serverSpec is one peer in the comparison.
type serverSpec struct {
	Name  string // short name used in -only, JSONL and benchmark lines
	Label string // name in tables and the plot
	IsGo  bool   // has the -debug GET /mem endpoint
}

var allServers = []serverSpec{
	{Name: "httpskit", Label: "httpskit", IsGo: true},
	{Name: "nethttp", Label: "net/http", IsGo: true},
	// net/http with httpskit's default timeouts and header limit: tells the cost of those
	// limits (per-request deadlines, HTTP/2 stream timers) from the cost of our code.
	{Name: "nethttp-limits", Label: "net/http + limits", IsGo: true},
	{Name: "nginx", Label: "nginx"},
	{Name: "node", Label: "node https"},
	{Name: "awesome", Label: "AwesomeServer"},
	// httpskit with HTTP/2 on its batching engine (server.HTTP2Batching).
	{Name: "httpskit-batching", Label: "httpskit, batching h2", IsGo: true},
}

// instance is one running server process.
type instance struct {
	Spec      serverSpec
	H2        bool // the Node peers' HTTP/2 variant
	Port      int
	DebugPort int
	Cmd       *exec.Cmd
	Argv      []string
	Log       string
	done      chan struct{}
}

func (in *instance) URL() string { return fmt.Sprintf("https://127.0.0.1:%d/", in.Port) }
func (in *instance) PID() int    { return in.Cmd.Process.Pid }

func (in *instance) String() string {
	if in.H2 {
		return in.Spec.Name + "(h2)"
	}
	return in.Spec.Name
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

type nginxConf struct {
	Dir, Cert, Key, Root string
	Port                 int
}

// argv returns the server's command line, pinned with taskset to the server CPU.
func (r *runner) serverArgv(spec serverSpec, h2 bool, port, debugPort int, dir string) ([]string, []string, error) {
	pin := []string{"taskset", "-c", strconv.Itoa(serverCPU)}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	switch spec.Name {
	case "httpskit", "httpskit-batching", "nethttp", "nethttp-limits":
		bin := r.bin["server-"+strings.TrimSuffix(strings.TrimSuffix(spec.Name, "-limits"), "-batching")]
		argv := append(pin, bin, "-addr", addr, "-cert", r.certFile, "-key", r.keyFile,
			"-debug", fmt.Sprintf("127.0.0.1:%d", debugPort))
		if spec.Name == "nethttp-limits" {
			argv = append(argv, "-limits")
		}
		env := []string{"GOMAXPROCS=1"}
		if spec.Name == "httpskit-batching" {
			env = append(env, "HTTPSKIT_HTTP2_ENGINE=batching")
		}
		return argv, env, nil
	case "nginx":
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
		tmpl, err := template.ParseFiles(filepath.Join(r.root, "bench", "nginx", "nginx.conf.tmpl"))
		if err != nil {
			return nil, nil, err
		}
		conf := filepath.Join(dir, "nginx.conf")
		f, err := os.Create(conf)
		if err != nil {
			return nil, nil, err
		}
		err = tmpl.Execute(f, nginxConf{Dir: dir, Cert: r.certFile, Key: r.keyFile, Root: r.wwwDir, Port: port})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, nil, err
		}
		return append(pin, r.nginx, "-p", dir, "-c", conf), nil, nil
	case "node", "awesome":
		script := "https-server.js"
		if spec.Name == "awesome" {
			script = "awesome-server.js"
		}
		argv := append(pin, "node", filepath.Join(r.root, "bench", "node", script),
			"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--cert", r.certFile, "--key", r.keyFile)
		if h2 {
			argv = append(argv, "--h2")
		}
		return argv, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown server %q", spec.Name)
}

// startServer starts one server instance and waits until it answers GET / with the body over
// TLS (and, for an HTTP/2 instance, over HTTP/2).
func (r *runner) startServer(ctx context.Context, spec serverSpec, h2 bool) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dport := 0
	if spec.IsGo {
		if dport, err = freePort(); err != nil {
			return nil, err
		}
	}
	r.seq++
	name := fmt.Sprintf("%s%s-%d", spec.Name, map[bool]string{true: "-h2"}[h2], r.seq)
	dir := filepath.Join(r.tmp, name)
	argv, env, err := r.serverArgv(spec, h2, port, dport, dir)
	if err != nil {
		return nil, err
	}
	logName := filepath.Join(r.tmp, name+".log")
	logf, err := os.Create(logName)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Join(r.root, "bench", "node")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	in := &instance{Spec: spec, H2: h2, Port: port, DebugPort: dport, Cmd: cmd, Argv: argv, Log: logName, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(in.done)
	}()
	r.live[in] = true
	r.noteCommand("server", shellJoin(envPrefix(env, argv)))
	if err := r.waitReady(ctx, in); err != nil {
		r.stopServer(in)
		b, _ := os.ReadFile(logName)
		return nil, fmt.Errorf("%s did not come up: %w\n%s", in, err, tail(string(b), 800))
	}
	return in, nil
}

func envPrefix(env, argv []string) []string {
	return append(append([]string{}, env...), argv...)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (r *runner) tlsClientConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.caPEM)
	return &tls.Config{RootCAs: pool}
}

// waitReady polls GET / over HTTP/1.1 until the body is right, for up to 20 s, then checks
// HTTP/2 by ALPN on every instance that should speak it.
func (r *runner) waitReady(ctx context.Context, in *instance) error {
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-in.done:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		proto, body, status, err := r.probe(in.URL(), false)
		if err != nil {
			last = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if status != 200 || body != helloBody || proto != "HTTP/1.1" {
			return fmt.Errorf("GET / = %d %q over %s, want 200 %q over HTTP/1.1", status, body, proto, helloBody)
		}
		if in.speaksH2() {
			proto, body, status, err = r.probe(in.URL(), true)
			if err != nil {
				return fmt.Errorf("HTTP/2: %w", err)
			}
			if status != 200 || body != helloBody || proto != "HTTP/2.0" {
				return fmt.Errorf("GET / = %d %q over %s, want 200 %q over HTTP/2.0", status, body, proto, helloBody)
			}
		}
		return nil
	}
	return fmt.Errorf("not answering after 20 s: %v", last)
}

// speaksH2 is whether the instance should negotiate HTTP/2 by ALPN.
func (in *instance) speaksH2() bool {
	return in.H2 || (in.Spec.Name != "node" && in.Spec.Name != "awesome")
}

// probe makes one GET with the suite's CA, over HTTP/2 when h2 is set, else HTTP/1.1.
func (r *runner) probe(url string, h2 bool) (proto, body string, status int, err error) {
	tr := &http.Transport{TLSClientConfig: r.tlsClientConfig(), ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.Proto, string(b), resp.StatusCode, err
}

// stopServer sends SIGTERM to the server's process group and SIGKILL after 5 s.
func (r *runner) stopServer(in *instance) {
	if in == nil || !r.live[in] {
		return
	}
	delete(r.live, in)
	pgid := in.PID()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-in.done
	}
	// nginx's worker leaves with its master; make sure nothing of the group is left.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (r *runner) stopAll() {
	for in := range r.live {
		r.stopServer(in)
	}
}

// goMem is the JSON of the Go servers' GET /mem.
type goMem struct {
	HeapObjectsBytes uint64 `json:"heap_objects_bytes"`
	StackBytes       uint64 `json:"stack_bytes"`
	Goroutines       uint64 `json:"goroutines"`
}

func readGoMem(port int) (goMem, error) {
	var m goMem
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/mem", port))
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return m, fmt.Errorf("GET /mem: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&m)
	return m, err
}

// serverByName returns the spec of the named server; it panics for a name not in allServers.
func serverByName(name string) serverSpec {
	for _, s := range allServers {
		if s.Name == name {
			return s
		}
	}
	panic("bench/suite: no server " + name)
}
