package main

import (
	"net"
	"os"
	"slices"
	"strings"
)

// Serving on the LAN: `serve --host 0.0.0.0` (or "::") listens on every interface, prints a URL
// for each address and the host name that reach it, and has the development CA issue a
// certificate for all of them, so that a phone or another computer that trusts the CA gets no
// warning. --name adds names and addresses (a DNS alias, a router's port forward).

// Where LAN addresses and the host name come from; tests replace them.
var (
	interfaceAddrs = upInterfaceAddrs
	hostname       = os.Hostname
)

// upInterfaceAddrs returns the addresses of the network interfaces that are up.
func upInterfaceAddrs() ([]net.Addr, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []net.Addr
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 {
			continue
		}
		if addrs, err := i.Addrs(); err == nil {
			out = append(out, addrs...)
		}
	}
	return out, nil
}

// nameList is the value of a repeatable flag that also takes comma-separated lists (--name).
type nameList []string

func (n *nameList) String() string { return strings.Join(*n, ",") }

func (n *nameList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(*n, s) {
			*n = append(*n, s)
		}
	}
	return nil
}

// isWildcard reports whether host means every interface.
func isWildcard(host string) bool {
	return host == "0.0.0.0" || host == "::" || host == "[::]"
}

// lanHosts returns the addresses and names other machines reach a listener on host by, when
// host is a wildcard: the address of each interface that is up (IPv4 only for "0.0.0.0";
// loopback and IPv6 link-local left out: localhost covers the first, and the second needs a
// zone no URL carries), then the host name when it is a valid DNS name. Nil otherwise.
func lanHosts(host string) []string {
	if !isWildcard(host) {
		return nil
	}
	var out []string
	addrs, _ := interfaceAddrs() // none found: the localhost URL is still right
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip := ipn.IP
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
			continue
		}
		if host == "0.0.0.0" && ip.To4() == nil {
			continue
		}
		if s := ip.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if h, err := hostname(); err == nil && isDNSName(h) && h != "localhost" {
		out = append(out, h)
	}
	return out
}

// isDNSName reports whether h can be a certificate's DNS name: letters, digits, hyphens,
// underscores and dots, in labels of 1 to 63 bytes.
func isDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
