package server

// Certificate hot reload (reload.go): on demand, on file change, under load, with session
// tickets, for the client CA, and the cost per handshake (BenchmarkHandshakeReloadable).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httpskit/httpskit/certs"
)

// reloadLog records the server's log lines as "LEVEL message key=value ...".
type reloadLog struct {
	mu    sync.Mutex
	lines []string
}

func (r *reloadLog) Enabled(context.Context, slog.Level) bool { return true }
func (r *reloadLog) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *reloadLog) WithGroup(string) slog.Handler            { return r }

func (r *reloadLog) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, b.String())
	return nil
}

// count returns how many lines hold every one of parts.
func (r *reloadLog) count(parts ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
next:
	for _, l := range r.lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		n++
	}
	return n
}

func (r *reloadLog) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// reloadPair is a server certificate issued by the test CA, and its serial in hexadecimal
// (as logged).
type reloadPair struct {
	cert, key []byte
	serial    string
}

func reloadIssue(t testing.TB, opts certs.LeafOptions) reloadPair {
	t.Helper()
	c, k, err := getPKI(t).ca.Issue(opts)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return reloadPair{c, k, pair.Leaf.SerialNumber.Text(16)}
}

// reloadFiles are the certificate and key files of a test listener.
type reloadFiles struct{ cert, key string }

func newReloadFiles(t *testing.T, p reloadPair) reloadFiles {
	dir := t.TempDir()
	f := reloadFiles{filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	f.renew(t, p)
	return f
}

// renew replaces both files as renewal tools do: each written to a temporary file and
// renamed over the old one (the key first).
func (f reloadFiles) renew(t *testing.T, p reloadPair) {
	t.Helper()
	must(t, certs.WriteFiles(f.cert, p.cert, f.key, p.key))
}

// rewrite writes over both files in place, the certificate then the key: a reader may see a
// half-written file or a certificate with the old key.
func (f reloadFiles) rewrite(t *testing.T, p reloadPair) {
	t.Helper()
	must(t, os.WriteFile(f.cert, p.cert, 0o644))
	must(t, os.WriteFile(f.key, p.key, 0o600))
}

// startReloading starts a server with an HTTPS and an HTTP/2 listener serving the same
// certificate and key files, sharing a router with GET /ping; cfg adds client CA settings.
func startReloading(t *testing.T, files reloadFiles, cfg HTTPSConfig) (*Server, []*Listener, *reloadLog) {
	t.Helper()
	log := &reloadLog{}
	s := New(Config{Logger: slog.New(log)})
	wirePing(t, s)
	cfg.Cert, cfg.Key = files.cert, files.key
	return s, startTLSListeners(t, s, cfg), log
}

// startTLSListeners adds an HTTPS and an HTTP/2 listener made from cfg, on 127.0.0.1, to s,
// runs s until the test ends, and returns the two listeners.
func startTLSListeners(t *testing.T, s *Server, cfg HTTPSConfig) []*Listener {
	t.Helper()
	cfg.HTTPConfig = HTTPConfig{Host: "127.0.0.1", Port: RandomPort}
	sl, err := s.AddHTTPSServer(cfg)
	must(t, err)
	h2l, err := s.AddHTTP2Server(cfg)
	must(t, err)
	must(t, s.Start(context.Background()))
	t.Cleanup(func() { stopServer(t, s) })
	return []*Listener{sl, h2l}
}

// reloadGet makes GET /ping on a new connection to l (HTTP/2 or HTTP/1.1) and returns the
// serial number of the certificate the server presented.
func reloadGet(t *testing.T, l *Listener, h2 bool, cert *tls.Certificate) (string, error) {
	t.Helper()
	c := clientFor(getPKI(t).pool, h2)
	if cert != nil {
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	defer c.CloseIdleConnections()
	resp, err := c.Get(wireBase(l) + "/ping")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 || string(body) != "pong" || resp.ProtoMajor != map[bool]int{false: 1, true: 2}[h2] {
		return "", fmt.Errorf("GET /ping = %s %d %q, want 200 pong", resp.Proto, resp.StatusCode, body)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Text(16), nil
}

// wantServed checks that new connections to every listener, over HTTP/1.1 and HTTP/2, get
// the certificate with serial want.
func wantServed(t *testing.T, ls []*Listener, want, when string) {
	t.Helper()
	for _, l := range ls {
		if got := l.Certificate().SerialNumber.Text(16); got != want {
			t.Errorf("%s: %s Certificate() serial %s, want %s", when, l.Kind(), got, want)
		}
		for _, h2 := range []bool{false, true} {
			got, err := reloadGet(t, l, h2, nil)
			if err != nil {
				t.Fatalf("%s: %s h2=%v: %v", when, l.Kind(), h2, err)
			}
			if got != want {
				t.Errorf("%s: %s h2=%v: served serial %s, want %s", when, l.Kind(), h2, got, want)
			}
		}
	}
}

// pollUntil checks cond every 10ms until it holds; it fails the test after 20s. The listener
// looks at its files once a second, so a change shows within about two.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func servesSerial(l *Listener, serial string) func() bool {
	return func() bool { return l.Certificate().SerialNumber.Text(16) == serial }
}

// brokenPairs are renewals that must not be put in service: each breaks the files of f and
// says which error of package certs the reload reports.
func brokenPairs(t *testing.T) []struct {
	name   string
	damage func(f reloadFiles)
	want   error
	says   string // in the error and the log
} {
	other := reloadIssue(t, certs.LeafOptions{})
	expired := reloadIssue(t, certs.LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	next := reloadIssue(t, certs.LeafOptions{})
	return []struct {
		name   string
		damage func(f reloadFiles)
		want   error
		says   string
	}{
		{"key file missing", func(f reloadFiles) { must(t, os.Remove(f.key)) }, certs.ErrNotFound, "file not found"},
		{"half-written certificate", func(f reloadFiles) {
			must(t, os.WriteFile(f.cert, next.cert[:len(next.cert)/2], 0o644))
		}, certs.ErrNoPEM, "the block is damaged"},
		{"empty key", func(f reloadFiles) { must(t, os.WriteFile(f.key, nil, 0o600)) }, certs.ErrNoPEM, "the input is empty"},
		{"key of another certificate", func(f reloadFiles) {
			must(t, certs.WriteFiles(f.cert, next.cert, f.key, other.key))
		}, certs.ErrKeyMismatch, "does not match"},
		{"expired certificate", func(f reloadFiles) { f.renew(t, expired) }, certs.ErrExpired, "it expired at"},
	}
}

// TestReloadCertificates: ReloadCertificates puts a renewed pair in service on both listeners
// at once; a broken one is refused with an error naming the listener and the cause, the
// previous certificate stays in service, and the log says why.
func TestReloadCertificates(t *testing.T) {
	first := reloadIssue(t, certs.LeafOptions{})
	files := newReloadFiles(t, first)
	s, ls, log := startReloading(t, files, HTTPSConfig{})
	wantServed(t, ls, first.serial, "at start")
	if tc := ls[0].TLSConfig(); len(tc.Certificates) != 0 || tc.GetCertificate == nil || tc.GetConfigForClient != nil {
		t.Errorf("TLSConfig() of a listener with files: %d Certificates, GetCertificate %v, GetConfigForClient %v; want 0, set, nil",
			len(tc.Certificates), tc.GetCertificate != nil, tc.GetConfigForClient != nil)
	}

	serving := first
	for _, tt := range brokenPairs(t) {
		t.Run(tt.name, func(t *testing.T) {
			tt.damage(files)
			warning := []string{"WARN certificate reload failed", tt.says, "still serving the previous certificate"}
			warned := log.count(warning...)
			err := s.ReloadCertificates()
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReloadCertificates() = %v, want an error wrapping %v", err, tt.want)
			}
			for _, l := range ls {
				for _, want := range []string{l.Kind() + " listener " + l.Addr(), tt.says, "still serving the previous certificate"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("ReloadCertificates() = %q, want it to name %q", err, want)
					}
				}
			}
			// The listeners may have found the change themselves first, and logged it too.
			if got := log.count(warning...); got < warned+len(ls) {
				t.Errorf("log has %d warnings saying %q, want at least %d:\n%s", got, tt.says, warned+len(ls), log)
			}
			wantServed(t, ls, serving.serial, "after "+tt.name)

			serving = reloadIssue(t, certs.LeafOptions{})
			files.renew(t, serving)
			must(t, s.ReloadCertificates())
			wantServed(t, ls, serving.serial, "after a good renewal")
			if n := log.count("INFO reloaded certificate", "serial="+serving.serial); n < len(ls) {
				t.Errorf("log has %d lines for the reload of serial %s, want at least %d:\n%s", n, serving.serial, len(ls), log)
			}
		})
	}
}

// TestReloadOnFileChange: a running listener picks up a renewal by itself, whether the
// files were renamed into place or rewritten in place; a broken renewal is logged once
// however often the files are looked at, and a file touched but unchanged is not reloaded.
func TestReloadOnFileChange(t *testing.T) {
	first := reloadIssue(t, certs.LeafOptions{})
	files := newReloadFiles(t, first)
	_, ls, log := startReloading(t, files, HTTPSConfig{})

	renamed := reloadIssue(t, certs.LeafOptions{})
	files.renew(t, renamed)
	for _, l := range ls {
		pollUntil(t, l.Kind()+" serves the renamed files", servesSerial(l, renamed.serial))
	}
	wantServed(t, ls, renamed.serial, "after temp+rename")

	rewritten := reloadIssue(t, certs.LeafOptions{})
	files.rewrite(t, rewritten)
	for _, l := range ls {
		pollUntil(t, l.Kind()+" serves the rewritten files", servesSerial(l, rewritten.serial))
	}
	wantServed(t, ls, rewritten.serial, "after an in-place rewrite")

	// A key that belongs to another certificate: warned once per listener, however often the
	// files are checked, and the previous certificate stays.
	stranger := reloadIssue(t, certs.LeafOptions{})
	must(t, os.WriteFile(files.key, stranger.key, 0o600))
	warning := []string{"WARN certificate reload failed", "does not match", "still serving the previous certificate"}
	pollUntil(t, "both listeners warn about the mismatched key", func() bool { return log.count(warning...) == len(ls) })
	for _, l := range ls {
		for range 3 {
			l.files.check(l)
		}
	}
	if n := log.count(warning...); n != len(ls) {
		t.Errorf("mismatched key: %d warnings after more checks, want %d (one per listener):\n%s", n, len(ls), log)
	}
	wantServed(t, ls, rewritten.serial, "with a mismatched key on disk")

	must(t, os.WriteFile(files.key, rewritten.key, 0o600))
	for _, l := range ls {
		l.files.check(l)
	}
	// Same content as in service, new modification time: nothing to log.
	later := time.Now().Add(time.Minute)
	must(t, os.Chtimes(files.cert, later, later))
	for _, l := range ls {
		l.files.check(l)
	}
	if n := log.count("INFO reloaded certificate", "serial="+rewritten.serial); n != len(ls) {
		t.Errorf("the same pair back on disk was logged %d times as reloaded, want %d (once per listener):\n%s", n, len(ls), log)
	}
}

// TestReloadUnderLoad: while clients keep opening new connections to both listeners, the
// files are renewed by rename, rewritten in place, broken, and fixed: no handshake fails, and
// once a listener reports the new certificate, new handshakes present it.
func TestReloadUnderLoad(t *testing.T) {
	first := reloadIssue(t, certs.LeafOptions{})
	files := newReloadFiles(t, first)
	s, ls, log := startReloading(t, files, HTTPSConfig{})
	p := getPKI(t)

	var (
		handshakes atomic.Int64
		mu         sync.Mutex
		failures   []string
		seen       = map[string]bool{}
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			l := ls[w%len(ls)]
			proto := []string{"http/1.1", "h2"}[w/len(ls)%2]
			cfg := &tls.Config{RootCAs: p.pool, ServerName: "localhost", NextProtos: []string{proto}}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
			for ctx.Err() == nil {
				serial, err := reloadHandshake(addr, cfg)
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s %s: %v", l.Kind(), proto, err))
				}
				seen[serial] = true
				mu.Unlock()
				handshakes.Add(1)
			}
		})
	}
	stopLoad := func() {
		cancel()
		wg.Wait()
	}
	defer stopLoad()
	// waitHandshakes lets the clients make n more handshakes.
	waitHandshakes := func(n int64) {
		start := handshakes.Load()
		pollUntil(t, fmt.Sprintf("%d more handshakes", n), func() bool { return handshakes.Load() >= start+n })
	}
	waitServing := func(want reloadPair, how string) {
		t.Helper()
		for _, l := range ls {
			pollUntil(t, l.Kind()+" serves the certificate "+how, servesSerial(l, want.serial))
		}
		wantServed(t, ls, want.serial, how)
		waitHandshakes(20)
	}

	waitHandshakes(20)
	renamed := reloadIssue(t, certs.LeafOptions{})
	files.renew(t, renamed)
	waitServing(renamed, "renewed by rename")

	for i := range 2 {
		rewritten := reloadIssue(t, certs.LeafOptions{})
		files.rewrite(t, rewritten)
		waitServing(rewritten, fmt.Sprintf("rewritten in place (%d)", i+1))
		renamed = rewritten
	}

	warned := log.count("WARN certificate reload failed", "does not match")
	broken := reloadIssue(t, certs.LeafOptions{})
	must(t, os.WriteFile(files.cert, broken.cert, 0o644)) // the key stays: they do not match
	pollUntil(t, "the listeners warn about the broken pair", func() bool {
		return log.count("WARN certificate reload failed", "does not match") >= warned+len(ls)
	})
	waitHandshakes(20)
	wantServed(t, ls, renamed.serial, "with a broken pair on disk")

	fixed := reloadIssue(t, certs.LeafOptions{})
	files.renew(t, fixed)
	must(t, s.ReloadCertificates()) // on demand, racing the listeners' own checks
	wantServed(t, ls, fixed.serial, "fixed and reloaded on demand")
	waitHandshakes(20)

	stopLoad()
	if len(failures) > 0 {
		t.Errorf("%d of %d handshakes failed during the reloads, first: %s", len(failures), handshakes.Load(), failures[0])
	}
	if seen[broken.serial] {
		t.Errorf("a client was served the broken certificate %s", broken.serial)
	}
	if !seen[fixed.serial] || !seen[first.serial] {
		t.Errorf("clients saw serials %v, want the first (%s) and the last (%s) among them", seen, first.serial, fixed.serial)
	}
	t.Logf("%d handshakes, serials seen: %d", handshakes.Load(), len(seen))
}

// reloadHandshake opens a TLS connection (no session resumption), sends a request when the
// protocol is HTTP/1.1, and returns the serial of the server's certificate.
func reloadHandshake(addr string, cfg *tls.Config) (string, error) {
	d := &tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 20 * time.Second}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	conn := c.(*tls.Conn)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	st := conn.ConnectionState()
	serial := st.PeerCertificates[0].SerialNumber.Text(16)
	if st.NegotiatedProtocol != cfg.NextProtos[0] {
		return serial, fmt.Errorf("ALPN %q, want %q", st.NegotiatedProtocol, cfg.NextProtos[0])
	}
	if st.NegotiatedProtocol == "h2" {
		return serial, nil
	}
	if _, err := io.WriteString(conn, "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return serial, err
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return serial, err
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 200 ") || !strings.HasSuffix(string(b), "pong") {
		return serial, fmt.Errorf("response %q", b)
	}
	return serial, nil
}

// TestReloadKeepsSessionTickets: a client resumes its session after the certificate and the
// client CA were reloaded (the ticket keys are the listener's, not the reloaded config's).
func TestReloadKeepsSessionTickets(t *testing.T) {
	p := getPKI(t)
	files := newReloadFiles(t, reloadIssue(t, certs.LeafOptions{}))
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	must(t, os.WriteFile(caFile, p.clientCA.CertPEM, 0o644))
	_, ls, _ := startReloading(t, files, HTTPSConfig{CA: caFile, ClientAuth: tls.RequireAndVerifyClientCert})
	clientCert, err := tls.X509KeyPair(p.clientCertPEM, p.clientKeyPEM)
	must(t, err)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, l := range ls {
			name := fmt.Sprintf("%s %s", l.Kind(), tls.VersionName(version))
			cfg := &tls.Config{RootCAs: p.pool, ServerName: "localhost", MaxVersion: version,
				Certificates: []tls.Certificate{clientCert}, ClientSessionCache: tls.NewLRUClientSessionCache(1)}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
			if _, resumed := reloadResume(t, addr, cfg); resumed {
				t.Fatalf("%s: first connection resumed", name)
			}
			renewed := reloadIssue(t, certs.LeafOptions{})
			files.renew(t, renewed)
			must(t, l.ReloadCertificate())
			if _, resumed := reloadResume(t, addr, cfg); !resumed {
				t.Errorf("%s: no resumption after a reload", name)
			}
			cfg.ClientSessionCache = nil
			if serial, _ := reloadResume(t, addr, cfg); serial != renewed.serial {
				t.Errorf("%s: a full handshake after the reload got serial %s, want %s", name, serial, renewed.serial)
			}
		}
	}
}

// reloadResume connects with cfg and reports the server's serial and whether the session
// was resumed. With TLS 1.3 the ticket arrives after the handshake: a read waits for it.
func reloadResume(t *testing.T, addr string, cfg *tls.Config) (string, bool) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(conn); err != nil || !strings.HasSuffix(string(b), "pong") {
		t.Fatalf("GET /ping: %q, %v", b, err)
	}
	st := conn.ConnectionState()
	return st.PeerCertificates[0].SerialNumber.Text(16), st.DidResume
}

// TestReloadClientCA: the client CA file is reloaded on demand and on change: clients of a
// CA added to the file get in, clients of a CA removed from it are refused, also when they
// try to resume a session made before; a CA file without a certificate keeps the CAs in
// service.
func TestReloadClientCA(t *testing.T) {
	p := getPKI(t)
	newCA, err := certs.NewCA("server test second client CA", 0)
	must(t, err)
	c, k, err := newCA.Issue(certs.LeafOptions{Client: true, CommonName: "client two"})
	must(t, err)
	newClient, err := tls.X509KeyPair(c, k)
	must(t, err)
	oldClient, err := tls.X509KeyPair(p.clientCertPEM, p.clientKeyPEM)
	must(t, err)

	files := newReloadFiles(t, reloadIssue(t, certs.LeafOptions{}))
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	must(t, os.WriteFile(caFile, p.clientCA.CertPEM, 0o644))
	s, ls, log := startReloading(t, files, HTTPSConfig{CA: caFile, ClientAuth: tls.RequireAndVerifyClientCert})
	if tc := ls[0].TLSConfig(); tc.GetConfigForClient == nil || tc.ClientCAs == nil {
		t.Fatalf("TLSConfig() of a listener with a client CA file: GetConfigForClient %v, ClientCAs %v; want both set",
			tc.GetConfigForClient != nil, tc.ClientCAs != nil)
	}
	// gets checks which of the two clients get in, on every listener and protocol.
	gets := func(when string, wantOld, wantNew bool) {
		t.Helper()
		for _, l := range ls {
			for _, h2 := range []bool{false, true} {
				for _, cl := range []struct {
					name string
					cert *tls.Certificate
					want bool
				}{{"old CA's client", &oldClient, wantOld}, {"new CA's client", &newClient, wantNew}} {
					_, err := reloadGet(t, l, h2, cl.cert)
					if (err == nil) != cl.want {
						t.Errorf("%s: %s h2=%v %s: err %v, want accepted %v", when, l.Kind(), h2, cl.name, err, cl.want)
					}
				}
			}
		}
	}
	gets("at start", true, false)

	// Both CAs in the file, reloaded on demand: a session of the old CA's client still resumes.
	resumeCfg := &tls.Config{RootCAs: p.pool, ServerName: "localhost", Certificates: []tls.Certificate{oldClient},
		ClientSessionCache: tls.NewLRUClientSessionCache(1)}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ls[0].Port()))
	reloadResume(t, addr, resumeCfg)
	must(t, os.WriteFile(caFile, append(append([]byte{}, p.clientCA.CertPEM...), newCA.CertPEM...), 0o644))
	must(t, s.ReloadCertificates())
	if n := log.count("INFO reloaded client CA", "ca="+caFile); n != len(ls) {
		t.Errorf("log has %d lines for the client CA reload, want %d:\n%s", n, len(ls), log)
	}
	gets("with both CAs", true, true)
	if _, resumed := reloadResume(t, addr, resumeCfg); !resumed {
		t.Errorf("the old CA's client did not resume after a client CA reload that kept its CA")
	}

	// Only the new CA, picked up by the listeners themselves: the old CA's client is refused,
	// its session too.
	must(t, certs.WriteFiles(caFile, newCA.CertPEM, "", nil))
	pollUntil(t, "the listeners drop the old client CA", func() bool {
		_, err := reloadGet(t, ls[0], false, &oldClient)
		return err != nil
	})
	gets("with the new CA only", false, true)
	// The server does not resume, and asks for a certificate of the new CA, which this client
	// does not have: it sends none, and the server refuses it.
	conn, err := tls.Dial("tcp", addr, resumeCfg)
	if err == nil {
		if conn.ConnectionState().DidResume {
			t.Errorf("a session of the removed CA's client was resumed")
		}
		_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the client's handshake
		conn.Close()
	}
	if !strings.Contains(fmt.Sprint(err), "remote error: tls: certificate required") {
		t.Errorf("resuming a session of the removed CA: %v, want the server's certificate_required alert", err)
	}

	// A CA file with no certificate: refused, the new CA stays in service.
	must(t, os.WriteFile(caFile, []byte("renewal in progress\n"), 0o644))
	err = ls[0].ReloadCertificate()
	if !errors.Is(err, certs.ErrNoPEM) || !strings.Contains(err.Error(), "reload client CA") || !strings.Contains(err.Error(), "still using the previous client CA") {
		t.Errorf("ReloadCertificate with a damaged CA file = %v, want an error wrapping ErrNoPEM about the client CA", err)
	}
	gets("with a damaged CA file", false, true)
}

// TestReloadNothingToReload: certificates given as PEM text, bytes or a tls.Config have
// nothing on disk to reload, and are served as before, with no callback.
func TestReloadNothingToReload(t *testing.T) {
	p := getPKI(t)
	pair, err := tls.X509KeyPair(p.certPEM, p.keyPEM)
	must(t, err)
	files := newReloadFiles(t, reloadIssue(t, certs.LeafOptions{}))
	local := HTTPConfig{Host: "127.0.0.1", Port: RandomPort}
	tests := []struct {
		name string
		cfg  HTTPSConfig
	}{
		{"CertPEM and KeyPEM", HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM}},
		{"PEM text", HTTPSConfig{Cert: string(p.certPEM), Key: string(p.keyPEM)}},
		{"PEM text and a PEM client CA", HTTPSConfig{Cert: string(p.certPEM), Key: string(p.keyPEM),
			CA: string(p.clientCA.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert}},
		{"TLSConfig.Certificates, files ignored", HTTPSConfig{Cert: files.cert, Key: files.key,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			tt.cfg.HTTPConfig = local
			l, err := s.AddHTTPSServer(tt.cfg)
			must(t, err)
			if err := l.ReloadCertificate(); !errors.Is(err, ErrNotReloadable) || !strings.Contains(err.Error(), "HTTPS listener") {
				t.Errorf("ReloadCertificate() = %v, want an error wrapping ErrNotReloadable naming the listener", err)
			}
			if err := s.ReloadCertificates(); !errors.Is(err, ErrNotReloadable) {
				t.Errorf("ReloadCertificates() = %v, want ErrNotReloadable", err)
			}
			if tc := l.TLSConfig(); len(tc.Certificates) != 1 || tc.GetCertificate != nil || tc.GetConfigForClient != nil {
				t.Errorf("TLSConfig(): %d Certificates, GetCertificate %v, GetConfigForClient %v; want 1, nil, nil",
					len(tc.Certificates), tc.GetCertificate != nil, tc.GetConfigForClient != nil)
			}
			if got := l.Certificate(); got == nil || !got.Equal(pair.Leaf) {
				t.Errorf("Certificate() = %v, want the test leaf", got)
			}
		})
	}

	// A plain HTTP listener, then one with files next to it: the server reloads those.
	s := New(Config{})
	hl, err := s.AddHTTPServer(local)
	must(t, err)
	if err := hl.ReloadCertificate(); !errors.Is(err, ErrNotReloadable) || hl.Certificate() != nil {
		t.Errorf("HTTP listener: ReloadCertificate() = %v, Certificate() = %v; want ErrNotReloadable and nil", err, hl.Certificate())
	}
	keyPEM, err := os.ReadFile(files.key)
	must(t, err)
	if _, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: local, Cert: files.cert, Key: string(keyPEM)}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReloadCertificates(); err != nil {
		t.Errorf("ReloadCertificates() with a certificate file and a key as text = %v, want nil", err)
	}
}

// TestReloadWatchEnds: the goroutine that watches the files runs only while the listener
// does: Stop and RemoveServer end it before they return.
func TestReloadWatchEnds(t *testing.T) {
	files := newReloadFiles(t, reloadIssue(t, certs.LeafOptions{}))
	s := New(Config{})
	l, err := s.AddHTTPSServer(HTTPSConfig{HTTPConfig: HTTPConfig{Host: "127.0.0.1", Port: RandomPort}, Cert: files.cert, Key: files.key})
	must(t, err)
	// Other tests' listeners are stopped by now; count from what runs anyway.
	base := 0
	watching := func() int {
		buf := make([]byte, 1<<20)
		return strings.Count(string(buf[:runtime.Stack(buf, true)]), "(*certFiles).watch.func") - base
	}
	base = watching()
	for _, end := range []struct {
		name string
		fn   func() error
	}{
		{"Stop", func() error { return s.Stop(context.Background()) }},
		{"RemoveServer", func() error { return s.RemoveServer(l) }},
	} {
		must(t, s.Start(context.Background()))
		pollUntil(t, "the listener watches its files", func() bool { return watching() == 1 })
		must(t, end.fn())
		if n := watching(); n != 0 {
			t.Errorf("%d more watch goroutines after %s returned, want 0", n, end.name)
		}
	}
	must(t, s.Stop(context.Background()))
}

// BenchmarkHandshakeReloadable is BenchmarkHandshake's full and resumed handshakes against a
// listener whose certificate is PEM bytes (no callback), certificate files (GetCertificate),
// and, with mutual TLS, a client CA as PEM text or as a file (GetConfigForClient).
func BenchmarkHandshakeReloadable(b *testing.B) {
	p := getPKI(b)
	dir := b.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	check(b, certs.WriteFiles(certFile, p.certPEM, keyFile, p.keyPEM))
	check(b, os.WriteFile(caFile, p.clientCA.CertPEM, 0o644))
	clientCert, err := tls.X509KeyPair(p.clientCertPEM, p.clientKeyPEM)
	check(b, err)
	mtls := HTTPSConfig{CA: string(p.clientCA.CertPEM), ClientAuth: tls.RequireAndVerifyClientCert}
	mtlsFile := mtls
	mtlsFile.CA = caFile
	for _, srv := range []struct {
		name string
		cfg  HTTPSConfig
		mtls bool
	}{
		{"pem", HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM}, false},
		{"files", HTTPSConfig{Cert: certFile, Key: keyFile}, false},
		{"mtls-pem", HTTPSConfig{CertPEM: p.certPEM, KeyPEM: p.keyPEM, CA: mtls.CA, ClientAuth: mtls.ClientAuth}, true},
		{"mtls-files", HTTPSConfig{Cert: certFile, Key: keyFile, CA: mtlsFile.CA, ClientAuth: mtls.ClientAuth}, true},
	} {
		s := New(Config{})
		check(b, s.RouteFunc("GET", "/", helloRoute))
		srv.cfg.HTTPConfig = HTTPConfig{Host: "127.0.0.1", Port: RandomPort}
		l, err := s.AddHTTPSServer(srv.cfg)
		check(b, err)
		check(b, s.Start(context.Background()))
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
		for _, mode := range []string{"full", "resumed"} {
			b.Run(mode+"/"+srv.name, func(b *testing.B) {
				cfg := &tls.Config{RootCAs: p.pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}
				if srv.mtls {
					cfg.Certificates = []tls.Certificate{clientCert}
				}
				if mode == "resumed" {
					cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
				}
				buf := make([]byte, 4096)
				connect := func() bool {
					conn, err := tls.Dial("tcp", addr, cfg)
					check(b, err)
					defer conn.Close()
					_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
					check(b, err)
					for n := 0; ; {
						m, err := conn.Read(buf[n:])
						n += m
						if err == io.EOF {
							if !strings.HasSuffix(string(buf[:n]), helloBody) {
								b.Fatalf("response %q", buf[:n])
							}
							break
						}
						check(b, err)
					}
					return conn.ConnectionState().DidResume
				}
				connect()
				b.ReportAllocs()
				for b.Loop() {
					if resumed := connect(); resumed != (mode == "resumed") {
						b.Fatalf("DidResume = %v in mode %s", resumed, mode)
					}
				}
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Stop(ctx)
		cancel()
	}
}

// TestReloadRightAfterStart: a client CA reload just after Start (or a restart) reads the
// listener's TLS configuration while net/http's Serve sets itself up on another goroutine;
// Serve writes its HTTP/2 settings into its own copy, so go test -race finds nothing here.
func TestReloadRightAfterStart(t *testing.T) {
	p := getPKI(t)
	newCA, err := certs.NewCA("server test second client CA", 0)
	must(t, err)
	files := newReloadFiles(t, reloadIssue(t, certs.LeafOptions{}))
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	cas := [][]byte{p.clientCA.CertPEM, newCA.CertPEM}
	must(t, os.WriteFile(caFile, cas[0], 0o644))
	s, _, _ := startReloading(t, files, HTTPSConfig{CA: caFile, ClientAuth: tls.RequireAndVerifyClientCert})
	for i := range 10 {
		must(t, s.Stop(context.Background()))
		must(t, s.Start(context.Background()))
		must(t, os.WriteFile(caFile, cas[i%2], 0o644))
		must(t, s.ReloadCertificates())
	}
}
