package main

import (
	"strings"
	"testing"

	"github.com/httpskit/httpskit/internal/squidtest"
	"github.com/httpskit/httpskit/internal/testenv"
)

// TestCurlParityProxy: the curl-parity table for -x/--proxy, --noproxy and
// the proxy variables, through a real squid. Only squid resolves
// parity.test (to 127.0.0.1), so a request that reaches it went through
// the proxy and one that did not fails to resolve (6). In the arguments,
// {proxy} is an open squid's port and {authproxy} one that wants Basic
// credentials alice:s3cret; env rows set both tools' environment.
func TestCurlParityProxy(t *testing.T) {
	curl := testenv.LookPath(t, "curl")
	site := startParitySite(t)
	hosts := map[string]string{"parity.test": "127.0.0.1"}
	open := squidtest.Start(t, squidtest.Config{Hosts: hosts})
	authed := squidtest.Start(t, squidtest.Config{Hosts: hosts, Users: map[string]string{"alice": "s3cret"}})
	expand := func(args []string, tool, dir string) []string {
		args = site.expand(args, tool, dir)
		r := strings.NewReplacer("{proxy}", open.URL.Port(), "{authproxy}", authed.URL.Port())
		for i, a := range args {
			args[i] = r.Replace(a)
		}
		return args
	}
	proxyEnv := []string{"https_proxy=http://127.0.0.1:{proxy}", "http_proxy=http://127.0.0.1:{proxy}"}
	through := "https://parity.test:{trusted}/hello"
	tests := []struct {
		parityCase
		env []string
	}{
		{parityCase: parityCase{"-x", []string{"-s", "-x", "http://127.0.0.1:{proxy}", "--cacert", "{ca}", through}, 0, false, "", nil}},
		{parityCase: parityCase{"-x without a scheme", []string{"-s", "-x", "127.0.0.1:{proxy}", "--cacert", "{ca}", through}, 0, false, "", nil}},
		{parityCase: parityCase{"--proxy with credentials", []string{"-s", "--proxy", "http://alice:s3cret@127.0.0.1:{authproxy}", "--cacert", "{ca}", through}, 0, false, "", nil}},
		{parityCase: parityCase{"plain http:// through the proxy", []string{"-s", "-x", "http://127.0.0.1:{proxy}", "http://parity.test:{plain}/hello"}, 0, false, "", nil}},
		{parityCase: parityCase{"-w through the proxy", []string{"-s", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", "-x", "http://127.0.0.1:{proxy}", "--cacert", "{ca}", through}, 0, false, "", nil}},
		{parityCase: parityCase{"--noproxy *", []string{"-s", "-x", "http://127.0.0.1:{proxy}", "--noproxy", "*", "--cacert", "{ca}", through}, 6, false, "", nil}},
		{parityCase: parityCase{"--noproxy names the host", []string{"-s", "-x", "http://127.0.0.1:{proxy}", "--noproxy", "example.com,parity.test", "--cacert", "{ca}", through}, 6, false, "", nil}},
		{parityCase: parityCase{"--noproxy names its domain", []string{"-s", "-x", "http://127.0.0.1:{proxy}", "--noproxy", ".test", "--cacert", "{ca}", through}, 6, false, "", nil}},
		{parityCase: parityCase{"--noproxy names another host", []string{"-s", "-x", "http://127.0.0.1:{proxy}", "--noproxy", "example.com", "--cacert", "{ca}", through}, 0, false, "", nil}},

		{parityCase: parityCase{"proxy wants credentials (407)", []string{"-s", "-x", "http://127.0.0.1:{authproxy}", "--cacert", "{ca}", through}, 56, false, "", nil}},
		{parityCase: parityCase{"wrong proxy password", []string{"-s", "-x", "http://alice:nope@127.0.0.1:{authproxy}", "--cacert", "{ca}", through}, 56, false, "", nil}},
		{parityCase: parityCase{"proxy host not resolved", []string{"-s", "-x", "http://proxy.invalid:3128", "--cacert", "{ca}", through}, 5, false, "", nil}},
		{parityCase: parityCase{"proxy refuses connections", []string{"-s", "-x", "http://127.0.0.1:{closed}", "--cacert", "{ca}", through}, 7, false, "", nil}},
		// A proxy scheme other than http:// and https:// (socks5://...) is a usage error
		// here; curl 7.88 exits 7 for one it does not know.
		{parityCase: parityCase{"proxy scheme not supported", []string{"-s", "-x", "gopher://127.0.0.1:{proxy}", "--cacert", "{ca}", through}, 2, false, "", []int{7}}},

		{parityCase: parityCase{"https_proxy", []string{"-s", "--cacert", "{ca}", through}, 0, false, "", nil}, env: proxyEnv},
		{parityCase: parityCase{"-x \"\" ignores https_proxy", []string{"-s", "-x", "", "--cacert", "{ca}", through}, 6, false, "", nil}, env: proxyEnv},
		{parityCase: parityCase{"no_proxy", []string{"-s", "--cacert", "{ca}", through}, 6, false, "", nil}, env: append(proxyEnv, "no_proxy=parity.test")},
		{parityCase: parityCase{"--noproxy replaces no_proxy", []string{"-s", "--noproxy", "example.com", "--cacert", "{ca}", through}, 0, false, "", nil}, env: append(proxyEnv, "no_proxy=parity.test")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkParityEnv(t, curl, tt.parityCase, expand(tt.env, "", ""), expand)
		})
	}
}
