// Command soak runs `httpskit serve` under mixed load for a long time and checks that nothing
// grows: goroutines, open files and the heap are the same after the load as before it.
//
//	go run ./bench/soak -duration 10m
//
// It builds httpskit (or takes -httpskit PATH), makes a temporary site with small files and an
// 8 MiB file, and starts `httpskit serve` on 127.0.0.1 with a development CA in a temporary
// --ca-root and --debug-addr on loopback. Then, for -warmup and again for -duration, it runs
// every kind of load at once (see loads in load.go):
//
//   - keep-alive GETs, HTTP/2 GETs, new connections with and without TLS resumption
//     (internal/loadgen, the engine of `httpskit bench`);
//   - uploads: POST and PUT with bodies, which the static site answers with 404 after reading
//     and discarding them (the 4xx are expected);
//   - downloads of the 8 MiB file with package https (HTTP/2) and net/http (HTTP/1.1), each
//     checked against the file's length and SHA-256;
//   - aborted requests, on purpose: downloads closed mid-body, uploads cut mid-body,
//     connections dropped mid-handshake. Their outcomes are counted apart, as expected.
//
// Samples of the server process: goroutines and heap in use (from its debug endpoint after a
// forced GC), RSS and open files (from /proc/PID). One at the start (after the warm-up and the
// settle step), one every -sample during the load, one at the end (after the settle step).
//
// The settle step, after the load stops: loadgen has closed its connections and the HTTP
// clients close their idle ones (again every 100ms: a connection whose request was cancelled
// as the load ended turns idle a moment later), so the step waits until the server counts no
// live connection, then samples (each after a forced GC) until goroutines and open files are
// the same three times running, 200ms apart; it gives up after -settle (30s).
//
// It prints a table and writes the result as JSON to -out/soak-YYYY-MM-DD.json, then stops the
// server with SIGTERM. It exits 1 when, at the end against the start, goroutines grew by more
// than -goroutine-slack (5), open files by more than -fd-slack (5), or the heap in use by more
// than -heap-growth (50%) or 4 MiB, whichever is larger; or when a request failed in a way its
// load did not expect; or when serve did not stop cleanly. RSS is reported, not checked: the Go
// runtime returns memory to the system lazily. Exit 2 is bad usage.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line.
type usageError struct{ error }

// config is the command line.
type config struct {
	duration, warmup, every, settle time.Duration
	out, httpskit                   string
	keep                            bool
	goroutineSlack, fdSlack         int
	heapGrowth                      float64
}

// heapSlack is the heap growth always allowed, however small the heap at the start.
const heapSlack = 4 << 20

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 10*time.Minute, "how long the measured load runs")
	fs.DurationVar(&c.warmup, "warmup", 15*time.Second, "load before the start sample (not measured)")
	fs.DurationVar(&c.every, "sample", time.Minute, "time between samples during the load")
	fs.DurationVar(&c.settle, "settle", 30*time.Second, "longest wait for the server to go quiet after the load")
	fs.StringVar(&c.out, "out", "", "directory of soak-YYYY-MM-DD.json (default bench/results of the module)")
	fs.StringVar(&c.httpskit, "httpskit", "", "httpskit binary to run (default: build ./cmd/httpskit)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (site, CA, serve's log)")
	fs.IntVar(&c.goroutineSlack, "goroutine-slack", 5, "goroutines allowed at the end beyond the start")
	fs.IntVar(&c.fdSlack, "fd-slack", 5, "open files allowed at the end beyond the start")
	fs.Float64Var(&c.heapGrowth, "heap-growth", 0.5, "heap in use growth allowed at the end, as a ratio of the start (at least 4 MiB)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return c, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	case c.duration <= 0 || c.warmup < 0 || c.every <= 0 || c.settle <= 0:
		return c, usageError{errors.New("-duration, -sample and -settle must be positive, -warmup not negative")}
	case c.goroutineSlack < 0 || c.fdSlack < 0 || c.heapGrowth < 0:
		return c, usageError{errors.New("slacks and -heap-growth must not be negative")}
	}
	return c, nil
}

// run is the whole soak; it returns an error when a check failed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "httpskit-soak-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintf(stdout, "soak: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if cfg.httpskit == "" || cfg.out == "" {
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		if cfg.out == "" {
			cfg.out = filepath.Join(root, "bench", "results")
		}
		if cfg.httpskit == "" {
			cfg.httpskit = filepath.Join(tmp, "httpskit")
			fmt.Fprintln(stdout, "soak: building httpskit")
			build := exec.CommandContext(ctx, "go", "build", "-o", cfg.httpskit, "./cmd/httpskit")
			build.Dir, build.Stderr = root, stderr
			if err := build.Run(); err != nil {
				return fmt.Errorf("build httpskit: %w", err)
			}
		}
	}
	st, err := makeSite(filepath.Join(tmp, "site"))
	if err != nil {
		return err
	}
	srv, err := startServe(ctx, cfg.httpskit, tmp, st.dir)
	if err != nil {
		return err
	}
	defer srv.kill()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.caPEM) {
		return fmt.Errorf("no certificate in the CA file %s", srv.caFile)
	}
	env := &loadEnv{base: srv.url, addr: srv.addr, caPEM: srv.caPEM, pool: pool, site: st}
	fmt.Fprintf(stdout, "soak: serve pid %d at %s, debug %s\n", srv.pid(), srv.url, srv.debug)

	rep := &report{Date: time.Now().Format(time.RFC3339), Server: srv.url, DurationS: cfg.duration.Seconds(), WarmupS: cfg.warmup.Seconds()}
	if cfg.warmup > 0 {
		fmt.Fprintf(stdout, "soak: warm-up %s\n", cfg.warmup)
		rep.Warmup = runLoads(ctx, env, cfg.warmup, 0, nil)
	}
	start := srv.settle("start", cfg.settle, time.Now(), env.closeIdle)
	start.ElapsedS = 0
	rep.Samples = append(rep.Samples, start)
	begin := time.Now() // of the measured load: the samples' elapsed time
	fmt.Fprintf(stdout, "soak: start: %s\nsoak: load %s, a sample every %s\n", start.brief(), cfg.duration, cfg.every)
	rep.Load = runLoads(ctx, env, cfg.duration, cfg.every, func() {
		smp := srv.sample("", begin, false)
		smp.Label = smp.elapsed().Round(time.Second).String()
		rep.Samples = append(rep.Samples, smp)
		fmt.Fprintf(stdout, "soak: %s: %s\n", smp.Label, smp.brief())
	})
	end := srv.settle("end", cfg.settle, begin, env.closeIdle)
	rep.Samples = append(rep.Samples, end)
	rep.Stop = srv.stop()
	rep.check(cfg, start, end)

	rep.print(stdout)
	name := filepath.Join(cfg.out, "soak-"+time.Now().Format("2006-01-02")+".json")
	if err := writeJSON(name, rep); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "soak: wrote %s\n", name)
	if !rep.OK {
		return errors.New("FAIL: see the checks above")
	}
	fmt.Fprintln(stdout, "soak: PASS")
	return nil
}

// moduleRoot is the directory of the go.mod of the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run soak inside the httpskit module (go run ./bench/soak), or give -httpskit and -out")
	}
	return filepath.Dir(mod), nil
}

// site is the directory serve serves.
type site struct {
	dir     string
	bigSize int64
	bigSum  [32]byte
}

const (
	smallPath = "/small.txt"
	bigPath   = "/big.bin"
	bigSize   = 8 << 20
)

// makeSite writes index.html, small.txt (1 KiB) and big.bin (8 MiB of pseudo-random bytes).
func makeSite(dir string) (*site, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	big := make([]byte, bigSize)
	rng := rand.NewChaCha8([32]byte{'s', 'o', 'a', 'k'})
	rng.Read(big)
	files := map[string][]byte{
		"index.html": []byte("<h1>soak</h1>\n"),
		"small.txt":  bytes.Repeat([]byte("0123456789abcdef"), 64),
		"big.bin":    big,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	return &site{dir: dir, bigSize: bigSize, bigSum: sha256.Sum256(big)}, nil
}

func writeJSON(name string, v any) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), 0o644)
}
