// Package redistest starts a throwaway redis-server for tests: on a free port of 127.0.0.1,
// in a temporary folder, with persistence off, stopped when the test ends. It is for tests
// only.
package redistest

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// readyTimeout bounds how long Start waits for redis-server to say it accepts connections.
const readyTimeout = 30 * time.Second

// Server is a redis-server run by a test. Its methods are safe for concurrent use.
type Server struct {
	// Addr is "127.0.0.1:PORT"; it stays the same across Stop and Restart.
	Addr string

	tb   testing.TB
	path string
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd // nil while stopped
	exited chan error
}

// Start runs redis-server (skipping the test where it is not installed, failing it under
// CI=true; see testenv.LookPath) and returns once it accepts connections. It is stopped when
// the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, path: testenv.LookPath(tb, "redis-server"), dir: tb.TempDir()}
	tb.Cleanup(s.Stop)
	var err error
	for range 3 { // the free port may be taken between finding and binding it
		s.Addr = freeAddr(tb)
		if err = s.start(); err == nil {
			return s
		}
	}
	tb.Fatal(err)
	return nil
}

// URL returns "redis://127.0.0.1:PORT/db".
func (s *Server) URL(db int) string { return "redis://" + s.Addr + "/" + strconv.Itoa(db) }

// Restart starts the server again on the same address after Stop, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatal(err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(s.path, "--save", "", "--appendonly", "no", "--port", port,
		"--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no", "--logfile", "")
	cmd.Dir = s.dir
	w := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start %s: %w", s.path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case <-w.ready:
	case werr := <-exited:
		return fmt.Errorf("redistest: redis-server on %s ended before it was ready (%v):\n%s", s.Addr, werr, w.String())
	case <-time.After(testenv.Scale(readyTimeout)):
		err = fmt.Errorf("redistest: redis-server on %s not ready after %v:\n%s", s.Addr, readyTimeout, w.String())
	}
	if err != nil {
		cmd.Process.Kill()
		<-exited
		return err
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// Stop kills the server and waits for it to end; its port refuses connections afterwards.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// readyWriter keeps redis-server's output and closes ready when it says it accepts
// connections.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	seen  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 64<<10 {
		w.buf.Write(p)
	}
	if !w.seen && bytes.Contains(w.buf.Bytes(), []byte("Ready to accept connections")) {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Silent listens on a free loopback port and accepts connections without ever answering: a
// Redis that hangs. It returns the address; the listener and its connections are closed when
// the test ends.
func Silent(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	quit := make(chan struct{})
	tb.Cleanup(func() { close(quit); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-quit; c.Close() }()
		}
	}()
	return ln.Addr().String()
}
