package certs

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httpskit/httpskit/internal/testenv"
)

func TestDefaultRoot(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(RootEnv, dir)
	if got, err := DefaultRoot(); err != nil || got != dir {
		t.Errorf("DefaultRoot() with %s=%q = %q, %v, want %q, nil", RootEnv, dir, got, err, dir)
	}

	t.Chdir(dir)
	t.Setenv(RootEnv, "rel")
	if got, want := mustRoot(t), filepath.Join(dir, "rel"); got != want {
		t.Errorf("DefaultRoot() with %s=rel = %q, want %q", RootEnv, got, want)
	}

	t.Setenv(RootEnv, "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("HOME", dir)
	cfg, err := os.UserConfigDir()
	if err != nil {
		t.Skip("no user config dir on this system:", err)
	}
	if got, want := mustRoot(t), filepath.Join(cfg, "httpskit"); got != want {
		t.Errorf("DefaultRoot() = %q, want %q", got, want)
	}
}

func TestDefaultRootUnavailable(t *testing.T) {
	t.Setenv(RootEnv, "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "")
	t.Setenv("AppData", "")
	if _, err := os.UserConfigDir(); err == nil {
		t.Skip("this system has a config dir without HOME")
	}
	_, err := DefaultRoot()
	if err == nil || !strings.Contains(err.Error(), RootEnv) {
		t.Errorf("DefaultRoot() error = %v, want one that names %s", err, RootEnv)
	}
}

func mustRoot(t *testing.T) string {
	t.Helper()
	r, err := DefaultRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewCA(t *testing.T) {
	ca, err := NewCA("", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	checks := []struct {
		name string
		ok   bool
	}{
		{"IsCA", c.IsCA && c.BasicConstraintsValid},
		{"MaxPathLenZero", c.MaxPathLen == 0 && c.MaxPathLenZero},
		{"KeyUsage", c.KeyUsage == x509.KeyUsageCertSign|x509.KeyUsageCRLSign},
		{"SubjectKeyId", len(c.SubjectKeyId) == 20},
		{"CommonName", strings.HasPrefix(c.Subject.CommonName, "httpskit development CA ") && strings.Contains(c.Subject.CommonName, "@")},
		{"Organization", slices.Equal(c.Subject.Organization, []string{"httpskit development CA"})},
		{"self-signed", c.CheckSignatureFrom(c) == nil},
		{"serial", c.SerialNumber.Sign() > 0 && c.SerialNumber.BitLen() <= 128},
		{"P-256", c.PublicKeyAlgorithm == x509.ECDSA && c.PublicKey.(*ecdsa.PublicKey).Curve == elliptic.P256()},
		{"10 years", c.NotAfter.Sub(time.Now().AddDate(10, 0, 0)).Abs() < time.Minute},
		{"an hour back", time.Since(c.NotBefore) > 59*time.Minute},
		{"CertPEM", bytes.Contains(ca.CertPEM, []byte("-----BEGIN CERTIFICATE-----"))},
		{"in memory", ca.CertFile == "" && ca.KeyFile == ""},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("NewCA: %s is wrong: %+v", ch.name, c)
		}
	}

	other := testCA(t)
	if other.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Errorf("two CAs have the same serial number %v", c.SerialNumber)
	}
	if got := other.Cert.Subject.CommonName; got != "test CA" {
		t.Errorf("NewCA(%q).Cert.Subject.CommonName = %q", "test CA", got)
	}
	short, err := NewCA("short", time.Hour)
	if err != nil || short.Cert.NotAfter.Sub(time.Now().Add(time.Hour)).Abs() > time.Minute {
		t.Errorf("NewCA(validity 1h) = NotAfter %v, %v", short.Cert.NotAfter, err)
	}
	if _, err := NewCA("", -time.Second); err == nil {
		t.Errorf("NewCA(validity -1s) error = nil, want an error")
	}
}

// fileMode returns the permission bits of name.
func fileMode(t *testing.T, name string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// checkCADir checks that root holds only the directory ca, and that it holds
// exactly the two CA files: nothing temporary is left.
func checkCADir(t *testing.T, root string) {
	t.Helper()
	list := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	if got, want := list(root), []string{"ca"}; !slices.Equal(got, want) {
		t.Errorf("files in root = %q, want %q", got, want)
	}
	if got, want := list(filepath.Join(root, "ca")), []string{"rootCA-key.pem", "rootCA.pem"}; !slices.Equal(got, want) {
		t.Errorf("files in root/ca = %q, want %q", got, want)
	}
}

func TestLoadOrCreateCA(t *testing.T) {
	root := filepath.Join(t.TempDir(), "caroot")
	if _, err := LoadCA(root); !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadCA(fresh root) error = %v, want ErrNotFound and fs.ErrNotExist", err)
	}

	ca, created, err := LoadOrCreateCA(root)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateCA(fresh root) = created %v, %v, want true, nil", created, err)
	}
	wantCert := filepath.Join(root, "ca", "rootCA.pem")
	wantKey := filepath.Join(root, "ca", "rootCA-key.pem")
	if ca.CertFile != wantCert || ca.KeyFile != wantKey {
		t.Errorf("CertFile, KeyFile = %q, %q, want %q, %q", ca.CertFile, ca.KeyFile, wantCert, wantKey)
	}
	checkCADir(t, root)
	modes := []struct {
		name string
		want fs.FileMode
	}{
		{root, 0o700},
		{filepath.Join(root, "ca"), 0o700},
		{wantKey, 0o600},
		{wantCert, 0o644},
	}
	for _, m := range modes {
		if got := fileMode(t, m.name); got != m.want {
			t.Errorf("mode of %s = %v, want %v", m.name, got, m.want)
		}
	}
	if onDisk, err := os.ReadFile(wantCert); err != nil || !bytes.Equal(onDisk, ca.CertPEM) {
		t.Errorf("rootCA.pem differs from CertPEM (%v)", err)
	}

	again, created, err := LoadOrCreateCA(root)
	if err != nil || created {
		t.Fatalf("LoadOrCreateCA(second time) = created %v, %v, want false, nil", created, err)
	}
	if !bytes.Equal(again.CertPEM, ca.CertPEM) || again.CertFile != ca.CertFile || again.KeyFile != ca.KeyFile {
		t.Errorf("LoadOrCreateCA(second time) returned another CA")
	}
	loaded, err := LoadCA(root)
	if err != nil || !bytes.Equal(loaded.CertPEM, ca.CertPEM) {
		t.Errorf("LoadCA = %v, want the same CA", err)
	}

	// The loaded CA issues certificates that the created one's pool trusts.
	leaf, err := loaded.IssueTLS(LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost"}); err != nil {
		t.Errorf("leaf of the loaded CA: Verify = %v", err)
	}
	checkCADir(t, root)
}

func TestLoadOrCreateCAEmptyDir(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "ca"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, created, err := LoadOrCreateCA(root); err != nil || !created {
		t.Fatalf("LoadOrCreateCA(empty ca dir) = created %v, %v, want true, nil", created, err)
	}
	checkCADir(t, root)
}

// TestLoadOrCreateCADamaged checks that a CA on disk that cannot be used is
// reported, naming the file and the fix, and is left as it is.
func TestLoadOrCreateCADamaged(t *testing.T) {
	expired, err := newCA("expired", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expiredDir := t.TempDir()
	if err := expired.writeTo(expiredDir); err != nil {
		t.Fatal(err)
	}
	good := testCA(t)
	goodDir := t.TempDir()
	if err := good.writeTo(goodDir); err != nil {
		t.Fatal(err)
	}
	otherDir := t.TempDir()
	if err := testCA(t).writeTo(otherDir); err != nil {
		t.Fatal(err)
	}
	leafPEM, _ := testIssue(t, good, LeafOptions{})
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	tests := []struct {
		name  string
		files map[string][]byte // contents of root/ca; nil value: absent
		want  error
		file  string // the file the error names
	}{
		{"key missing", map[string][]byte{"rootCA.pem": good.CertPEM}, ErrNotFound, "rootCA-key.pem"},
		{"certificate missing", map[string][]byte{"rootCA-key.pem": read(goodDir, "rootCA-key.pem")}, ErrNotFound, "rootCA.pem"},
		{"certificate empty", map[string][]byte{"rootCA.pem": {}, "rootCA-key.pem": read(goodDir, "rootCA-key.pem")}, ErrNoPEM, "rootCA.pem"},
		{"key garbage", map[string][]byte{"rootCA.pem": good.CertPEM, "rootCA-key.pem": []byte("garbage")}, ErrNoPEM, "rootCA-key.pem"},
		{"key of another CA", map[string][]byte{"rootCA.pem": good.CertPEM, "rootCA-key.pem": read(otherDir, "rootCA-key.pem")}, ErrKeyMismatch, "rootCA-key.pem"},
		{"not a CA", map[string][]byte{"rootCA.pem": leafPEM, "rootCA-key.pem": read(goodDir, "rootCA-key.pem")}, ErrBadCert, "rootCA.pem"},
		{"expired", map[string][]byte{"rootCA.pem": expired.CertPEM, "rootCA-key.pem": read(expiredDir, "rootCA-key.pem")}, ErrExpired, "rootCA.pem"},
		{"stray file only", map[string][]byte{"notes.txt": []byte("x")}, ErrNotFound, "rootCA.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "ca")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			for name, data := range tt.files {
				writeFile(t, dir, name, data)
			}
			for _, load := range []func() error{
				func() error { _, err := LoadCA(root); return err },
				func() error { _, _, err := LoadOrCreateCA(root); return err },
			} {
				err := load()
				if !errors.Is(err, tt.want) {
					t.Fatalf("load error = %v, want %v", err, tt.want)
				}
				msg := err.Error()
				if !strings.Contains(msg, filepath.Join(dir, tt.file)) || !strings.Contains(msg, "delete that directory") {
					t.Errorf("load error = %q, want it to name %s and say to delete %s", msg, tt.file, dir)
				}
			}
			for name, data := range tt.files {
				if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s was changed (%v)", name, err)
				}
			}
			entries, _ := os.ReadDir(root)
			if len(entries) != 1 {
				t.Errorf("root holds %d entries, want only ca", len(entries))
			}
		})
	}
}

func TestLoadOrCreateCARemovesStaleTemps(t *testing.T) {
	root := t.TempDir()
	stale, young := filepath.Join(root, ".ca-new-1"), filepath.Join(root, ".ca-new-2")
	for _, d := range []string{stale, young} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, d, "rootCA-key.pem", []byte("half written"))
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, created, err := LoadOrCreateCA(root); err != nil || !created {
		t.Fatalf("LoadOrCreateCA = created %v, %v, want true, nil", created, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a temporary directory two hours old is still there (%v)", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a young temporary directory was removed: %v", err)
	}
}

func TestLoadOrCreateCANotADirectory(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "ca", []byte("x"))
	if _, _, err := LoadOrCreateCA(root); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("LoadOrCreateCA(root/ca is a file) error = %v, want an error other than ErrNotFound", err)
	}
}

func TestLoadOrCreateCAConcurrent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "caroot")
	const n = 8
	type result struct {
		pem     []byte
		created bool
		err     error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ca, created, err := LoadOrCreateCA(root)
			results[i] = result{created: created, err: err}
			if err == nil {
				results[i].pem = ca.CertPEM
			}
		})
	}
	close(start)
	wg.Wait()

	createdCount := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("goroutine %d: LoadOrCreateCA = %v", i, r.err)
		}
		if !bytes.Equal(r.pem, results[0].pem) {
			t.Errorf("goroutine %d got another CA than goroutine 0", i)
		}
		if r.created {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Errorf("%d goroutines report created, want 1", createdCount)
	}
	checkCADir(t, root)
}

// caChildEnv makes the test binary a child process of
// TestLoadOrCreateCAProcesses: it waits for a line on stdin, calls
// LoadOrCreateCA on the root in the variable, and prints the result.
const caChildEnv = "HTTPSKIT_CERTS_TEST_CA_CHILD"

func TestLoadOrCreateCAProcesses(t *testing.T) {
	if root := os.Getenv(caChildEnv); root != "" {
		bufio.NewReader(os.Stdin).ReadString('\n') // the start signal
		ca, created, err := LoadOrCreateCA(root)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("result: %x %v\n", sha256.Sum256(ca.CertPEM), created)
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("starts processes")
	}

	root := filepath.Join(t.TempDir(), "caroot")
	const n = 6
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	stdins := make([]io.WriteCloser, n)
	for i := range n {
		cmd := testenv.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLoadOrCreateCAProcesses$")
		cmd.Env = append(os.Environ(), caChildEnv+"="+root)
		outs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i], stdins[i] = cmd, in
	}
	for _, in := range stdins { // release all the children at once
		in.Close()
	}
	results := map[string]int{}
	createdCount := 0
	for i, cmd := range cmds {
		err := cmd.Wait()
		hash, created, ok := childResult(outs[i].String())
		if err != nil || !ok {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		results[hash]++
		if created {
			createdCount++
		}
	}
	if len(results) != 1 {
		t.Errorf("the children saw %d different CAs, want 1: %v", len(results), results)
	}
	if createdCount != 1 {
		t.Errorf("%d children report created, want 1", createdCount)
	}
	checkCADir(t, root)
	ca, err := LoadCA(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := results[fmt.Sprintf("%x", sha256.Sum256(ca.CertPEM))]; !ok {
		t.Errorf("the CA on disk is not the one the children saw")
	}
}

// childResult parses the "result: HASH CREATED" line of a child's output.
func childResult(out string) (hash string, created, ok bool) {
	for line := range strings.Lines(out) {
		var c string
		if n, _ := fmt.Sscanf(line, "result: %s %s", &hash, &c); n == 2 {
			return hash, c == "true", true
		}
	}
	return "", false, false
}

// flatCA writes a CA laid out as mkcert's CAROOT (rootCA.pem and rootCA-key.pem in the
// directory itself) and returns the directory and the CA.
func flatCA(t *testing.T) (string, *CA) {
	t.Helper()
	made, _, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{made.CertFile, made.KeyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, made
}

// TestLoadCAMkcertLayout: a root holding rootCA.pem and rootCA-key.pem itself (mkcert's
// CAROOT) is used in place, never beside a new CA; a damaged one says so without telling the
// user to delete mkcert's folder.
func TestLoadCAMkcertLayout(t *testing.T) {
	dir, made := flatCA(t)
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatalf("LoadCA(mkcert layout) = %v", err)
	}
	if ca.CertFile != filepath.Join(dir, "rootCA.pem") || ca.KeyFile != filepath.Join(dir, "rootCA-key.pem") || !ca.Cert.Equal(made.Cert) {
		t.Errorf("LoadCA(mkcert layout): CertFile %s, KeyFile %s, same cert %v", ca.CertFile, ca.KeyFile, ca.Cert.Equal(made.Cert))
	}
	ca2, created, err := LoadOrCreateCA(dir)
	if err != nil || created || !ca2.Cert.Equal(made.Cert) {
		t.Errorf("LoadOrCreateCA(mkcert layout) = created %v, %v; want the CA in place", created, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadOrCreateCA made %s/ca beside mkcert's CA (%v)", dir, err)
	}
	if _, _, err := ca.Issue(LeafOptions{}); err != nil {
		t.Errorf("Issue from mkcert's CA: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "rootCA-key.pem")); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCA(dir)
	if err == nil || !strings.Contains(err.Error(), "mkcert") || strings.Contains(err.Error(), "delete that directory") {
		t.Errorf("LoadCA(mkcert layout without its key) = %v, want an error naming mkcert's layout", err)
	}
}
