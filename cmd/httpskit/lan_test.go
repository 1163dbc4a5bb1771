package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeLAN makes lanHosts see these interface addresses and host name for the test.
func fakeLAN(t *testing.T, name string, cidrs ...string) {
	t.Helper()
	var addrs []net.Addr
	for _, c := range cidrs {
		ip, ipn, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		ipn.IP = ip
		addrs = append(addrs, ipn)
	}
	oldAddrs, oldName := interfaceAddrs, hostname
	interfaceAddrs = func() ([]net.Addr, error) { return addrs, nil }
	hostname = func() (string, error) { return name, nil }
	t.Cleanup(func() { interfaceAddrs, hostname = oldAddrs, oldName })
}

// servedURLs returns the URLs serve printed for its listeners, in order.
func servedURLs(out string) []string {
	var urls []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && (f[0] == "HTTPS" || f[0] == "HTTP"):
			urls = append(urls, f[1])
		case len(f) == 1 && strings.HasPrefix(line, "       ") && strings.Contains(f[0], "://"):
			urls = append(urls, f[0])
		}
	}
	return urls
}

// certHosts returns the DNS names and IP addresses of the certificate the listener serves,
// connecting over loopback only.
func certHosts(t *testing.T, port, caFile string) []string {
	t.Helper()
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", port), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	hosts := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}

// TestServeLAN: with --host 0.0.0.0 or ::, serve prints a URL for each interface address
// (IPv4 only for 0.0.0.0; no loopback or link-local), the host name and each --name, and the
// development certificate covers all of them. The interfaces are faked; the only traffic goes
// to 127.0.0.1.
func TestServeLAN(t *testing.T) {
	fakeLAN(t, "devbox", "127.0.0.1/8", "::1/128", "192.0.2.10/24", "2001:db8::10/64", "fe80::1/64", "192.0.2.10/24")
	for _, tt := range []struct {
		host      string
		wantURLs  []string // with PORT for the bound port
		wantHosts []string
	}{
		{"0.0.0.0",
			[]string{"https://localhost:PORT/", "https://192.0.2.10:PORT/", "https://devbox:PORT/", "https://extra.test:PORT/", "https://198.51.100.7:PORT/"},
			[]string{"localhost", "devbox", "extra.test", "127.0.0.1", "::1", "192.0.2.10", "198.51.100.7"}},
		{"::",
			[]string{"https://localhost:PORT/", "https://192.0.2.10:PORT/", "https://[2001:db8::10]:PORT/", "https://devbox:PORT/", "https://extra.test:PORT/", "https://198.51.100.7:PORT/"},
			[]string{"localhost", "devbox", "extra.test", "127.0.0.1", "::1", "192.0.2.10", "2001:db8::10", "198.51.100.7"}},
	} {
		t.Run(tt.host, func(t *testing.T) {
			site := startServe(t, "--host", tt.host, "--port", "0", "--name", "extra.test,198.51.100.7", "--name", "extra.test",
				"--ca-root", filepath.Join(t.TempDir(), "ca"), t.TempDir())
			_, port, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(site.url, "/"), "https://"))
			if err != nil {
				t.Fatal(err)
			}
			got := servedURLs(site.stdout.String())
			want := make([]string, len(tt.wantURLs))
			for i, u := range tt.wantURLs {
				want[i] = strings.Replace(u, "PORT", port, 1)
			}
			if !slices.Equal(got, want) {
				t.Errorf("printed URLs:\n%q\nwant\n%q\nstdout:\n%s", got, want, site.stdout)
			}
			hosts := certHosts(t, port, site.caFile)
			slices.Sort(hosts)
			slices.Sort(tt.wantHosts)
			if !slices.Equal(hosts, tt.wantHosts) {
				t.Errorf("certificate hosts %q, want %q", hosts, tt.wantHosts)
			}
		})
	}
}

// TestServeNameOnLocalhost: --name adds to the certificate of a listener on one address too;
// no other URL is printed for it.
func TestServeNameOnLocalhost(t *testing.T) {
	site := startServe(t, "--host", "127.0.0.1", "--port", "0", "--name", "dev.test",
		"--ca-root", filepath.Join(t.TempDir(), "ca"), t.TempDir())
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(site.url, "/"), "https://"))
	if got := servedURLs(site.stdout.String()); len(got) != 1 {
		t.Errorf("printed URLs %q, want the listener's alone", got)
	}
	hosts := certHosts(t, port, site.caFile)
	if !slices.Contains(hosts, "dev.test") || !slices.Contains(hosts, "localhost") {
		t.Errorf("certificate hosts %q, want dev.test beside localhost", hosts)
	}
}

// TestUpInterfaceAddrs: the real interface list holds the loopback addresses of an up lo.
func TestUpInterfaceAddrs(t *testing.T) {
	addrs, err := upInterfaceAddrs()
	if err != nil {
		t.Skipf("no interface list here: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			return
		}
	}
	t.Errorf("upInterfaceAddrs() = %v, want 127.0.0.1 among them", addrs)
}
