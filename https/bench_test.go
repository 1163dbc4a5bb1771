package https

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// BenchmarkPlanTLS is the per-request cost of checking options that name a CA, a client
// certificate and its key as files, as a program sending many requests pays it.
func BenchmarkPlanTLS(b *testing.B) {
	ca, err := certs.NewCA("bench CA", 0)
	if err != nil {
		b.Fatal(err)
	}
	c, k, err := ca.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	opts := Options{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem"), Path: "/x"}
	for name, data := range map[string][]byte{opts.CA: ca.CertPEM, opts.Cert: c, opts.Key: k} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := newPlan(opts)
		if err != nil {
			b.Fatal(err)
		}
		DefaultAgent.transportFor(&p)
	}
}

// The client benchmarks measure the client alone: the server runs in a child process (this
// test binary started again with benchServerEnv set), so B/op and allocs/op count only the
// client's allocations, and the cpu-ns/op metric, this process's user+system CPU time divided by
// the operations, is only the client's CPU. ns/op is wall time per operation and includes the
// round trip to the server on the other core.
//
//	go test -run '^$' -bench 'Client' -benchmem ./https/
//
// On a small machine, pin the two apart so they do not take each other's core:
//
//	HTTPSKIT_BENCH_SERVER_CPUS=1 taskset -c 0 go test -run '^$' -bench 'Client' -benchmem ./https/
//
// Each pair (httpskit, nethttp) runs the same operation: our Get, Response and Read to io.EOF
// against net/http.Client.Do and Body.Read to io.EOF with a Transport configured as ours (same
// CA, TLS 1.2 minimum, no compression, HTTP/1.1 and HTTP/2 allowed). The h1 and h2 variants talk
// to two listeners of the same server, one offering only http/1.1 by ALPN, one offering h2.
// Our side is given the CA as PEM text, as net/http's is loaded once: given a file name, package
// https reads the file again for every request (BenchmarkPlanTLS shows that cost).
// httpskit-ondata reads the download with OnData instead of Read.

const (
	benchServerEnv  = "HTTPSKIT_BENCH_SERVER"      // "certFile keyFile": run as the benchmark server
	benchServerCPUs = "HTTPSKIT_BENCH_SERVER_CPUS" // if set, the server is pinned there with taskset
	benchBody       = "Hello, World!"
	benchDownload   = 16 << 20 // bytes per download operation
)

var bench struct {
	once  sync.Once
	err   error
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string
	caPEM []byte
	ca    string // CA file
	h1    int    // port offering http/1.1 only
	h2    int    // port offering h2 (and http/1.1)
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(benchServerEnv); spec != "" {
		benchServerMain(spec)
		return
	}
	code := m.Run()
	if bench.cmd != nil {
		bench.stdin.Close() // the server exits when its stdin closes
		bench.cmd.Wait()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchServerMain serves GET / (the 13-byte body) and GET /dl (benchDownload bytes) on two
// loopback listeners, prints "h1port h2port", and exits when stdin reaches EOF.
func benchServerMain(spec string) {
	certFile, keyFile, _ := strings.Cut(spec, " ")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		io.WriteString(w, benchBody)
	})
	mux.HandleFunc("GET /dl", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"application/octet-stream"}
		w.Header()["Content-Length"] = []string{strconv.Itoa(benchDownload)}
		for left := benchDownload; left > 0; left -= len(chunk) {
			if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
				return
			}
		}
	})
	var ports []string
	for _, h2 := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
		if !h2 {
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
		go srv.ServeTLS(ln, "", "")
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	fmt.Println(strings.Join(ports, " "))
	io.Copy(io.Discard, os.Stdin)
}

// benchServer starts the child server once for all client benchmarks.
func benchServer(b *testing.B) {
	b.Helper()
	bench.once.Do(func() { bench.err = startBenchServer() })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
}

func startBenchServer() error {
	ca, err := certs.NewCA("bench CA", 0)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(certs.LeafOptions{})
	if err != nil {
		return err
	}
	if bench.dir, err = os.MkdirTemp("", "httpskit-bench"); err != nil {
		return err
	}
	bench.caPEM = ca.CertPEM
	bench.ca = filepath.Join(bench.dir, "ca.pem")
	certFile, keyFile := filepath.Join(bench.dir, "cert.pem"), filepath.Join(bench.dir, "key.pem")
	for name, data := range map[string][]byte{bench.ca: ca.CertPEM, certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	if cpus := os.Getenv(benchServerCPUs); cpus != "" {
		cmd = exec.Command("taskset", "-c", cpus, exe)
	}
	cmd.Env = append(os.Environ(), benchServerEnv+"="+certFile+" "+keyFile)
	cmd.Stderr = os.Stderr
	if bench.stdin, err = cmd.StdinPipe(); err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	bench.cmd = cmd
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("bench server: %v", err)
	}
	if _, err := fmt.Sscan(line, &bench.h1, &bench.h2); err != nil {
		return fmt.Errorf("bench server said %q: %v", line, err)
	}
	return nil
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drain reads r to io.EOF into buf and returns the bytes read.
func drain(r io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := r.Read(buf)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// benchGet is one client operation: a GET of path whose body has want bytes.
type benchGet func(path string, buf []byte) (int64, string, error)

// oursGet reads the body with Read (on connections with the memory setting mem);
// oursFlowing with OnData (flowing mode).
func oursGet(port int, mem Memory) benchGet {
	return oursWith(port, mem, func(_ *ClientRequest, m *IncomingMessage, buf []byte) (int64, error) {
		return drain(m, buf)
	})
}

func oursFlowing(port int) benchGet {
	return oursWith(port, MemoryAuto, func(r *ClientRequest, m *IncomingMessage, _ []byte) (int64, error) {
		var n int64
		var ended bool
		closed := make(chan struct{})
		m.OnData(func(b []byte) { n += int64(len(b)) })
		m.OnEnd(func() { ended = true })
		r.OnClose(func() { close(closed) })
		<-closed
		if !ended {
			return n, errors.New("the body did not end")
		}
		return n, nil
	})
}

// oursWith is a GET with our client whose body is read by read.
func oursWith(port int, mem Memory, read func(*ClientRequest, *IncomingMessage, []byte) (int64, error)) benchGet {
	opts := Options{Host: "127.0.0.1", Port: port, CA: string(bench.caPEM), Memory: mem}
	return func(path string, buf []byte) (int64, string, error) {
		o := opts
		o.Path = path
		r, err := Get(context.Background(), o, nil)
		if err != nil {
			return 0, "", err
		}
		m, err := r.Response()
		if err != nil {
			return 0, "", err
		}
		n, err := read(r, m, buf)
		if err != nil {
			return n, "", err
		}
		return n, m.HTTPVersion, nil
	}
}

func netHTTPGet(b *testing.B, port int) benchGet {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(bench.caPEM)
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	t := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		Protocols:           protocols,
	}
	b.Cleanup(t.CloseIdleConnections)
	client := &http.Client{Transport: t}
	base := "https://127.0.0.1:" + strconv.Itoa(port)
	return func(path string, buf []byte) (int64, string, error) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+path, nil)
		if err != nil {
			return 0, "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		n, err := drain(resp.Body, buf)
		resp.Body.Close()
		return n, strconv.Itoa(resp.ProtoMajor) + "." + strconv.Itoa(resp.ProtoMinor), err
	}
}

// BenchmarkClientSeq is one GET of a 13-byte body on a kept-alive connection.
func BenchmarkClientSeq(b *testing.B) {
	benchClients(b, "/", int64(len(benchBody)))
}

// BenchmarkClientDownload is one GET of a 16 MB body; MB/s is the throughput. The
// httpskit-frugal rows read it over a MemoryFrugal connection: the cost of its small HTTP/2
// windows on loopback.
func BenchmarkClientDownload(b *testing.B) {
	benchClients(b, "/dl", benchDownload)
}

func benchClients(b *testing.B, path string, want int64) {
	benchServer(b)
	for _, proto := range []struct {
		name, version string
		port          *int
	}{{"h1", "1.1", &bench.h1}, {"h2", "2.0", &bench.h2}} {
		impls := []string{"httpskit", "nethttp"}
		if want > 1<<20 {
			impls = append(impls, "httpskit-ondata", "httpskit-frugal")
		}
		for _, impl := range impls {
			b.Run(proto.name+"/"+impl, func(b *testing.B) {
				var get benchGet
				switch impl {
				case "httpskit":
					get = oursGet(*proto.port, MemoryAuto)
					b.Cleanup(CloseIdleConnections)
				case "httpskit-ondata":
					get = oursFlowing(*proto.port)
					b.Cleanup(CloseIdleConnections)
				case "httpskit-frugal":
					get = oursGet(*proto.port, MemoryFrugal)
					b.Cleanup(CloseIdleConnections)
				default:
					get = netHTTPGet(b, *proto.port)
				}
				buf := make([]byte, 32<<10)
				check := func() {
					n, version, err := get(path, buf)
					if err != nil {
						b.Fatal(err)
					}
					if n != want || version != proto.version {
						b.Fatalf("got %d bytes over HTTP/%s, want %d over HTTP/%s", n, version, want, proto.version)
					}
				}
				check() // connect outside the measurement
				if want > 1<<20 {
					b.SetBytes(want)
				}
				b.ReportAllocs()
				ops := 0
				cpu := cpuTime()
				for b.Loop() {
					check()
					ops++
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(ops), "cpu-ns/op")
			})
		}
	}
}

// TestPlanAllocs: building the plan of a request whose Options (CA, client
// certificate and key as PEM text, headers, auth) were seen before allocates
// nothing: the plan and TLS settings are reused and the lookups keep their
// keys on the stack. A change that makes them escape costs every request.
func TestPlanAllocs(t *testing.T) {
	ca, err := certs.NewCA("alloc CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	c, k, err := ca.Issue(certs.LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Host: "127.0.0.1", Port: 8443, Method: "POST", Path: "/x?y=1", Auth: "u:p",
		Headers: http.Header{"X-A": {"1"}}, CA: string(ca.CertPEM), Cert: string(c), Key: string(k)}
	if _, err := newPlan(opts); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := newPlan(opts); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("newPlan of seen Options allocates %v times, want 0", n)
	}
}
