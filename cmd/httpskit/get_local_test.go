package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
	"software.sslmate.com/src/go-pkcs12"
)

// TestGetClientP12 fetches from a serve that requires client certificates with curl's
// --cert-type P12 and --pass (or $HTTPSKIT_PASSPHRASE), and with --cert alone naming the
// PKCS #12 file; a wrong passphrase and bad flags are refused before connecting.
func TestGetClientP12(t *testing.T) {
	dir, files := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	clientCA, err := certs.NewCA("get p12 test client CA", 0)
	must(t, err)
	caFile := filepath.Join(files, "client-ca.pem")
	must(t, os.WriteFile(caFile, clientCA.CertPEM, 0o644))
	pair, err := clientCA.IssueTLS(certs.LeafOptions{Client: true, CommonName: "device-p12"})
	must(t, err)
	pfx, err := pkcs12.Modern.Encode(pair.PrivateKey, pair.Leaf, []*x509.Certificate{clientCA.Cert}, "p12 pass")
	must(t, err)
	p12 := filepath.Join(files, "device.p12")
	must(t, os.WriteFile(p12, pfx, 0o600))
	colonP12 := filepath.Join(files, "dev:ice.p12") // written -E dev\:ice.p12
	must(t, os.WriteFile(colonP12, pfx, 0o600))
	escaped := strings.ReplaceAll(colonP12, ":", `\:`)

	site := startServe(t, "--port", "0", "--ca-root", filepath.Join(t.TempDir(), "ca"), "--client-ca", caFile, dir)
	url := site.url + "hello.txt"
	tests := []struct {
		name    string
		env     string // HTTPSKIT_PASSPHRASE
		args    []string
		code    int
		message string
	}{
		{"P12 and --pass", "", []string{"--cert-type", "P12", "--cert", p12, "--pass", "p12 pass"}, 0, ""},
		{"P12 and the variable", "p12 pass", []string{"--cert-type", "p12", "-E", p12}, 0, ""},
		{"--cert alone, type from the content", "", []string{"--cert", p12, "--pass", "p12 pass"}, 0, ""},
		{"wrong --pass", "", []string{"--cert-type", "P12", "--cert", p12, "--pass", "nope"}, 58, "wrong passphrase"}, // curl's "problem with the local certificate"
		{"no passphrase", "", []string{"--cert-type", "P12", "--cert", p12}, 58, "none was given"},
		{"P12 with --key", "", []string{"--cert-type", "P12", "--cert", p12, "--key", caFile}, 2, "give no --key"},
		{"unknown type", "", []string{"--cert-type", "JKS", "--cert", p12}, 2, "want PEM, DER or P12"},
		{"--cert FILE:PASSWORD", "", []string{"--cert", p12 + ":p12 pass"}, 0, ""},
		{"-E FILE:PASSWORD with --cert-type", "", []string{"--cert-type", "P12", "-E", p12 + ":p12 pass"}, 0, ""},
		{"an escaped ':' in the name", "", []string{"-E", escaped + ":p12 pass"}, 0, ""},
		{"an escaped ':' and the variable", "p12 pass", []string{"-E", escaped}, 0, ""},
		{"unescaped ':' in the name", "p12 pass", []string{"-E", colonP12}, 58, filepath.Join(files, "dev")},
		{"the password beats the variable", "nope", []string{"-E", p12 + ":p12 pass"}, 0, ""},
		{"--pass after -E wins", "", []string{"-E", p12 + ":nope", "--pass", "p12 pass"}, 0, ""},
		{"-E after --pass wins", "", []string{"--pass", "p12 pass", "-E", p12 + ":nope"}, 58, "wrong passphrase"},
		{"-E FILE: keeps --pass", "", []string{"--pass", "p12 pass", "-E", p12 + ":"}, 0, ""},
		{"-E :PASSWORD", "", []string{"-E", ":p12 pass"}, 2, "no file name before the ':'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(passphraseEnv, tt.env)
			stdout, stderr, err := runFetchTest(run, append([]string{"get", url, "--cacert", site.caFile}, tt.args...)...)
			var msg strings.Builder
			code := exitCode(err, &msg)
			want := map[bool]string{true: "hello\n", false: ""}[tt.code == 0]
			if code != tt.code || stdout != want || !strings.Contains(msg.String(), tt.message) {
				t.Errorf("get %q: exit %d, stdout %q, message %q; want %d, %q, %q\nstderr: %s", tt.args, code, stdout, msg.String(), tt.code, want, tt.message, stderr)
			}
		})
	}
}

// TestGetUnixSocket fetches from serve --listen unix:PATH with get --unix-socket PATH.
func TestGetUnixSocket(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644))
	sock := socketPath(t, "get.sock")
	site := startServe(t, "--listen", "unix:"+sock, "--ca-root", filepath.Join(t.TempDir(), "ca"), dir)
	stdout, stderr, err := runFetchTest(run, "get", "--unix-socket", sock, "--cacert", site.caFile, site.url+"hello.txt")
	if err != nil || stdout != "hello\n" {
		t.Errorf("get --unix-socket = %q, %v; want hello\nstderr: %s", stdout, err, stderr)
	}
	_, _, err = runFetchTest(run, "get", "--unix-socket", sock+".none", "--cacert", site.caFile, site.url+"hello.txt")
	if code := exitCode(err, &strings.Builder{}); code != 7 || !strings.Contains(err.Error(), "Unix socket "+sock+".none") {
		t.Errorf("get --unix-socket to no socket: exit %d, %v; want curl's 7, naming the socket", code, err)
	}
}

// TestSplitCertPassword splits -E arguments as curl does (tool_getparam.c).
func TestSplitCertPassword(t *testing.T) {
	tests := []struct {
		in        string
		windows   bool
		file, pwd string
		hasPass   bool
	}{
		{"a.p12", false, "a.p12", "", false},
		{"a.p12:secret", false, "a.p12", "secret", true},
		{"a.p12:", false, "a.p12", "", false},
		{"a.p12:se:cr\\:et", false, "a.p12", "se:cr\\:et", true},
		{"dir\\:x/a.p12:pw", false, "dir:x/a.p12", "pw", true},
		{"a\\\\b:pw", false, "a\\b", "pw", true},
		{"a\\b:pw", false, "a\\b", "pw", true},
		{"a\\", false, "a\\", "", false},
		{"C:\\certs\\a.p12:pw", true, "C:\\certs\\a.p12", "pw", true},
		{"c:/certs/a.p12", true, "c:/certs/a.p12", "", false},
		{"C:\\certs\\a.p12:pw", false, "C", "\\certs\\a.p12:pw", true},
		{"1:\\x", true, "1", "\\x", true},
		{"C:a.p12", true, "C", "a.p12", true},
		{"PKCS11:token=t;object=o", false, "PKCS11:token=t;object=o", "", false},
	}
	for _, tt := range tests {
		file, pwd, ok := splitCertPassword(tt.in, tt.windows)
		if file != tt.file || pwd != tt.pwd || ok != tt.hasPass {
			t.Errorf("splitCertPassword(%q, windows %v) = %q, %q, %v; want %q, %q, %v", tt.in, tt.windows, file, pwd, ok, tt.file, tt.pwd, tt.hasPass)
		}
	}
}
