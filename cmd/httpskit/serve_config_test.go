package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httpskit/httpskit/certs"
)

// configSite writes a site directory with public/hello.txt and the config doc as site.json;
// it returns the directory and the config file's name.
func configSite(t *testing.T, doc string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "public"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "public", "hello.txt"), []byte("hello"), 0o644))
	cfg = filepath.Join(dir, "site.json")
	must(t, os.WriteFile(cfg, []byte(doc), 0o644))
	return dir, cfg
}

// TestServeConfigPFXSocket serves --config listeners from a PKCS #12 file whose passphrase is
// in a "passphraseFile" (names relative to the config): one on a TCP port, one on a Unix socket
// with its "socketMode"; then with the passphrase from $HTTPSKIT_PASSPHRASE.
func TestServeConfigPFXSocket(t *testing.T) {
	const pass = "pfx for the config"
	sock := socketPath(t, "site.sock")
	dir, cfg := configSite(t, fmt.Sprintf(`{
  "listeners": [
    {"kind": "https", "host": "127.0.0.1", "port": -1, "pfx": "site.p12", "passphraseFile": "pass"},
    {"kind": "http2", "listen": "unix:%s", "socketMode": "0600", "pfx": "site.p12", "passphraseFile": "pass"}
  ],
  "routes": [{"path": "/", "serve": "public"}]
}`, sock))
	_, caFile := testPFX(t, dir, pass)
	must(t, os.WriteFile(filepath.Join(dir, "pass"), []byte(pass+"\n"), 0o600))

	site := startServe(t, "--config", cfg)
	wantBody(t, caClient(t, caFile, true), strings.Replace(site.url, "127.0.0.1", "localhost", 1)+"hello.txt", "hello")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, %v; want mode 0600", sock, fi, err)
	}
	if hint := "on the Unix socket " + sock; !strings.Contains(site.stdout.String(), hint) {
		t.Errorf("output lacks %q:\n%s", hint, site.stdout)
	}
	for _, h2 := range []bool{false, true} {
		c := caClient(t, caFile, h2)
		c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		wantBody(t, c, "https://localhost/hello.txt", "hello")
	}
	must(t, site.stop())
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after serve stopped: %v", err)
	}

	// No "passphraseFile": $HTTPSKIT_PASSPHRASE.
	must(t, os.WriteFile(cfg, []byte(`{"listeners": [{"kind": "https", "host": "127.0.0.1", "port": -1, "pfx": "site.p12"}],
"routes": [{"path": "/", "serve": "public"}]}`), 0o644))
	t.Setenv(passphraseEnv, pass)
	site = startServe(t, "--config", cfg)
	wantBody(t, caClient(t, caFile, false), strings.Replace(site.url, "127.0.0.1", "localhost", 1)+"hello.txt", "hello")
	must(t, site.stop())
}

// TestServeConfigEncryptedKey serves a config listener whose "key" is an encrypted PKCS #8 file
// written by openssl, opened with its "passphraseFile".
func TestServeConfigEncryptedKey(t *testing.T) {
	dir, cfg := configSite(t, `{"listeners": [{"kind": "https", "host": "127.0.0.1", "port": -1,
  "cert": "cert.pem", "key": "key.pem", "passphraseFile": "secret/pass"}], "routes": [{"path": "/", "serve": "public"}]}`)
	_, _, caFile := encryptedKeyFiles(t, dir, "key pass")
	must(t, os.Mkdir(filepath.Join(dir, "secret"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "secret", "pass"), []byte("key pass\n"), 0o600))

	site := startServe(t, "--config", cfg)
	wantBody(t, caClient(t, caFile, true), strings.Replace(site.url, "127.0.0.1", "localhost", 1)+"hello.txt", "hello")
	must(t, site.stop())

	must(t, os.WriteFile(filepath.Join(dir, "secret", "pass"), []byte("not it\n"), 0o600))
	err := run(context.Background(), []string{"serve", "--config", cfg}, io.Discard, io.Discard)
	if !errors.Is(err, certs.ErrPassphrase) || !strings.Contains(err.Error(), "config listeners[0]: ") ||
		!strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), filepath.Join(dir, "key.pem")) {
		t.Errorf("serve --config with a wrong key passphrase = %v, want certs.ErrPassphrase naming listeners[0] and key.pem", err)
	}
}

// TestServeConfigPassphraseErrors: a missing passphrase file, a wrong or missing passphrase and
// a "passphrase" written in the config each stop serve with an error naming the listener entry
// and the problem.
func TestServeConfigPassphraseErrors(t *testing.T) {
	const pass = "right one"
	t.Setenv(passphraseEnv, "")
	entry := `{"kind": "https", "host": "127.0.0.1", "port": -1, "pfx": "site.p12", %s}`
	tests := []struct {
		name, fields string
		is           error
		says         []string
	}{
		{"missing passphrase file", `"passphraseFile": "nope"`, os.ErrNotExist,
			[]string{"config listeners[1]: passphraseFile: open ", "nope"}},
		{"wrong passphrase", `"passphraseFile": "wrong"`, certs.ErrPassphrase,
			[]string{"config listeners[1]: ", "wrong passphrase", "site.p12"}},
		{"no passphrase", `"host": "127.0.0.1"`, certs.ErrPassphrase,
			[]string{"config listeners[1]: ", "site.p12", `name a file holding it with "passphraseFile", or set $HTTPSKIT_PASSPHRASE`}},
		{"passphrase in the config", `"passphrase": "` + pass + `"`, nil,
			[]string{"site.json: line 3: listeners[1]: field \"passphrase\" is not taken", "\"passphraseFile\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, cfg := configSite(t, "{\"listeners\": [\n{\"kind\": \"http\", \"host\": \"127.0.0.1\", \"port\": -1, \"redirectToHTTPS\": false},\n"+
				fmt.Sprintf(entry, tt.fields)+"\n], \"routes\": [{\"path\": \"/\", \"serve\": \"public\"}]}")
			testPFX(t, dir, pass)
			must(t, os.WriteFile(filepath.Join(dir, "wrong"), []byte("wrong one\n"), 0o600))
			err := run(context.Background(), []string{"serve", "--config", cfg}, io.Discard, io.Discard)
			if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("serve --config = %v, want an error wrapping %v", err, tt.is)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("serve --config = %v, want it to say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), pass) {
				t.Errorf("the error shows the passphrase: %v", err)
			}
		})
	}
}
