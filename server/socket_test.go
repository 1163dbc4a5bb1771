package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

// socketDir returns a new directory with a short path: a Unix socket's path must fit in 108
// bytes, and t.TempDir can be longer.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hk")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// unixClient returns a client that reaches every URL through the Unix socket path.
func unixClient(t *testing.T, path string, h2 bool) *http.Client {
	t.Helper()
	c := clientFor(getPKI(t).pool, h2)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// socketGet makes GET /ping with c and checks the answer and protocol.
func socketGet(t *testing.T, c *http.Client, base string, h2 bool) {
	t.Helper()
	resp, err := c.Get(base + "/ping")
	if err != nil {
		t.Fatalf("GET %s/ping: %v", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "pong" || (resp.ProtoMajor == 2) != h2 {
		t.Errorf("GET %s/ping = %s %d %q, want 200 pong (HTTP/2 %v)", base, resp.Proto, resp.StatusCode, body, h2)
	}
}

// TestUnixSocket serves HTTPS and plain HTTP on Unix sockets beside a TCP listener, all on
// one router, over HTTP/1.1 and HTTP/2; checks the socket's mode, that Stop removes it, and
// that a restart binds it again.
func TestUnixSocket(t *testing.T) {
	dir := socketDir(t)
	tlsPath, httpPath := filepath.Join(dir, "tls.sock"), filepath.Join(dir, "http.sock")
	p := getPKI(t)
	s := New(Config{})
	wirePing(t, s)
	tl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{SocketPath: tlsPath}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	must(t, err)
	hl, err := s.AddHTTPServer(HTTPConfig{SocketPath: httpPath, SocketMode: 0o600})
	must(t, err)
	tcp, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	must(t, err)
	for range 2 { // a restart after Stop binds the sockets again
		must(t, s.Start(context.Background()))
		for path, mode := range map[string]fs.FileMode{tlsPath: DefaultSocketMode, httpPath: 0o600} {
			fi, err := os.Lstat(path)
			must(t, err)
			if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != mode {
				t.Errorf("%s: mode %v, want a socket with %v", path, fi.Mode(), mode)
			}
		}
		if got, want := tl.Addr(), "unix:"+tlsPath; got != want || tl.URL() != "https://localhost" || tl.Network() != "unix" || tl.Port() != 0 {
			t.Errorf("Addr, URL, Network, Port = %q %q %q %d, want %q https://localhost unix 0", got, tl.URL(), tl.Network(), tl.Port(), want)
		}
		for _, h2 := range []bool{false, true} {
			socketGet(t, unixClient(t, tlsPath, h2), tl.URL(), h2)
			socketGet(t, clientFor(p.pool, h2), wireBase(tcp), h2)
		}
		socketGet(t, unixClient(t, httpPath, false), hl.URL(), false)
		stopServer(t, s)
		for _, path := range []string{tlsPath, httpPath} {
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after Stop, %s: %v, want it removed", path, err)
			}
		}
	}
}

// TestUnixSocketCurl reaches a Unix-socket HTTPS listener with curl --unix-socket.
func TestUnixSocketCurl(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	path := filepath.Join(socketDir(t), "s.sock")
	p := getPKI(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(caFile, p.ca.CertPEM, 0o644))
	s := New(Config{})
	wirePing(t, s)
	_, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{SocketPath: path}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	must(t, err)
	must(t, s.Start(context.Background()))
	defer stopServer(t, s)
	for _, proto := range []string{"--http1.1", "--http2"} {
		out, err := exec.Command(curl, "-sS", proto, "--max-time", "30", "--unix-socket", path, "--cacert", caFile,
			"-w", " %{http_version}", "https://localhost/ping").CombinedOutput()
		want := map[string]string{"--http1.1": "pong 1.1", "--http2": "pong 2"}[proto]
		if err != nil || string(out) != want {
			t.Errorf("curl %s --unix-socket = %q, %v; want %q", proto, out, err, want)
		}
	}
}

// TestUnixSocketStale: a socket file left by a dead server is replaced; a live socket, a
// regular file and a directory at the path make Start fail, name the path, and stay.
func TestUnixSocketStale(t *testing.T) {
	dir := socketDir(t)
	stale := filepath.Join(dir, "stale.sock")
	old, err := net.Listen("unix", stale)
	must(t, err)
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close() // the file stays, with nothing listening: as after a crash

	live := filepath.Join(dir, "live.sock")
	other, err := net.Listen("unix", live)
	must(t, err)
	defer other.Close()

	regular := filepath.Join(dir, "data.txt")
	must(t, os.WriteFile(regular, []byte("precious"), 0o644))
	sub := filepath.Join(dir, "sub")
	must(t, os.Mkdir(sub, 0o755))

	tests := []struct {
		path string
		says string // "" when Start succeeds
	}{
		{stale, ""},
		{live, "in use"},
		{regular, "is not a socket (a regular file); not removing it"},
		{sub, "is not a socket (a directory)"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			s := New(Config{})
			wirePing(t, s)
			_, err := s.AddHTTPServer(HTTPConfig{SocketPath: tt.path})
			must(t, err)
			err = s.Start(context.Background())
			if tt.says == "" {
				must(t, err)
				socketGet(t, unixClient(t, tt.path, false), "http://localhost", false)
				stopServer(t, s)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("Start = %v, want an error naming %s and saying %q", err, tt.path, tt.says)
			}
			if s.Running() {
				t.Errorf("Running() after a failed Start")
			}
			if _, err := os.Lstat(tt.path); err != nil {
				t.Errorf("%s was removed: %v", tt.path, err)
			}
		})
	}
	if b, err := os.ReadFile(regular); err != nil || string(b) != "precious" {
		t.Errorf("regular file now %q, %v", b, err)
	}
	if c, err := net.Dial("unix", live); err != nil {
		t.Errorf("the live socket no longer accepts: %v", err)
	} else {
		c.Close()
	}
}

// TestNetListener serves a listener made by the caller (as systemd hands one over) beside
// another listener; Stop closes it, a second Start says it cannot serve again, and a Start
// that fails for another listener leaves it open.
func TestNetListener(t *testing.T) {
	p := getPKI(t)
	given, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := given.Addr().(*net.TCPAddr).Port

	// A busy port makes the first Start fail: the given listener must stay open.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s := New(Config{})
	wirePing(t, s)
	gl, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{NetListener: given}, CertPEM: p.certPEM, KeyPEM: p.keyPEM})
	must(t, err)
	bl, err := s.AddHTTPServer(HTTPConfig{Host: "127.0.0.1", Port: busy.Addr().(*net.TCPAddr).Port})
	must(t, err)
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("Start with a busy port succeeded")
	}
	busy.Close()
	must(t, s.RemoveServer(bl))

	must(t, s.Start(context.Background()))
	if gl.Port() != port || gl.Addr() != given.Addr().String() || gl.Network() != "tcp" || gl.Host() != "127.0.0.1" {
		t.Errorf("Port, Addr, Network, Host = %d %q %q %q, want %d %q tcp 127.0.0.1", gl.Port(), gl.Addr(), gl.Network(), gl.Host(), port, given.Addr())
	}
	for _, h2 := range []bool{false, true} {
		socketGet(t, clientFor(p.pool, h2), wireBase(gl), h2)
	}
	stopServer(t, s)
	if c, err := net.DialTimeout("tcp", given.Addr().String(), 5*time.Second); err == nil {
		c.Close()
		t.Errorf("the given listener still accepts after Stop")
	}
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot serve again") {
		t.Errorf("Start after Stop = %v, want an error saying the listener cannot serve again", err)
	}

	// RemoveServer closes a given listener that never served.
	unused, err := net.Listen("unix", filepath.Join(socketDir(t), "u.sock"))
	must(t, err)
	s2 := New(Config{})
	ul, err := s2.AddHTTPServer(HTTPConfig{NetListener: unused})
	must(t, err)
	if ul.Network() != "unix" || !strings.HasPrefix(ul.Addr(), "unix:") {
		t.Errorf("Network, Addr = %q %q, want unix, unix:PATH", ul.Network(), ul.Addr())
	}
	must(t, s2.RemoveServer(ul))
	if _, err := unused.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a removed NetListener = %v, want net.ErrClosed", err)
	}

	if _, err := New(Config{}).AddHTTPServer(HTTPConfig{NetListener: unused, SocketPath: "/x"}); err == nil {
		t.Errorf("AddHTTPServer with NetListener and SocketPath succeeded")
	}
	if _, err := New(Config{}).AddHTTPSServer(HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM, HTTPConfig: HTTPConfig{SocketPath: "/x", SocketMode: fs.ModeSetuid | 0o600}}); err == nil {
		t.Errorf("AddHTTPSServer with SocketMode setuid succeeded")
	}
}
