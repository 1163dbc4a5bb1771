package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	ca := testCA(t)
	leaf, err := ca.IssueTLS(LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want bool
	}{
		{"localhost", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"example.com", false},
		{"127.0.0.2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: tt.name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if got := err == nil; got != tt.want {
				t.Errorf("Verify(%q) = %v, want success %v", tt.name, err, tt.want)
			}
		})
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: testCA(t).Pool(), DNSName: "localhost"}); err == nil {
		t.Errorf("Verify against another CA succeeded")
	}
}

func TestIssueOptions(t *testing.T) {
	ca := testCA(t)
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}

	tests := []struct {
		name    string
		opts    LeafOptions
		wantCN  string
		wantDNS []string
		wantIPs []string
		wantEKU []x509.ExtKeyUsage
	}{
		{"defaults", LeafOptions{}, "localhost", []string{"localhost"}, []string{"127.0.0.1", "::1"}, server},
		{"hosts", LeafOptions{Hosts: []string{"example.test", "*.example.test", "10.0.0.1", "[fe80::1]", "my_host"}}, "example.test",
			[]string{"example.test", "*.example.test", "my_host"}, []string{"10.0.0.1", "fe80::1"}, server},
		{"common name", LeafOptions{Hosts: []string{"a.test"}, CommonName: "My Service"}, "My Service", []string{"a.test"}, nil, server},
		{"client and server", LeafOptions{Client: true, Hosts: []string{"localhost"}}, "localhost", []string{"localhost"}, nil, both},
		{"client only", LeafOptions{Client: true}, "httpskit client", nil, nil, client},
		{"client only named", LeafOptions{Client: true, CommonName: "alice"}, "alice", nil, nil, client},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ca.IssueTLS(tt.opts)
			if err != nil {
				t.Fatalf("IssueTLS(%+v) = %v", tt.opts, err)
			}
			l := c.Leaf
			var ips []string
			for _, ip := range l.IPAddresses {
				ips = append(ips, ip.String())
			}
			if l.Subject.CommonName != tt.wantCN {
				t.Errorf("CommonName = %q, want %q", l.Subject.CommonName, tt.wantCN)
			}
			if !slices.Equal(l.DNSNames, tt.wantDNS) || !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("DNSNames, IPAddresses = %q, %q, want %q, %q", l.DNSNames, ips, tt.wantDNS, tt.wantIPs)
			}
			if !slices.Equal(l.ExtKeyUsage, tt.wantEKU) {
				t.Errorf("ExtKeyUsage = %v, want %v", l.ExtKeyUsage, tt.wantEKU)
			}
			if l.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Errorf("KeyUsage = %v, want DigitalSignature", l.KeyUsage)
			}
			if l.IsCA {
				t.Errorf("IsCA = true")
			}
			if !bytes.Equal(l.AuthorityKeyId, ca.Cert.SubjectKeyId) {
				t.Errorf("AuthorityKeyId = %x, want %x", l.AuthorityKeyId, ca.Cert.SubjectKeyId)
			}
			if pub, ok := l.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
				t.Errorf("public key is %T, want ECDSA P-256", l.PublicKey)
			}
			if l.SerialNumber.Sign() <= 0 || l.SerialNumber.BitLen() > 128 {
				t.Errorf("SerialNumber = %v, want a positive 128-bit number", l.SerialNumber)
			}
			if err := l.CheckSignatureFrom(ca.Cert); err != nil {
				t.Errorf("CheckSignatureFrom(CA) = %v", err)
			}
		})
	}
}

func TestIssueValidity(t *testing.T) {
	ca := testCA(t)
	now := time.Now()
	c, err := ca.IssueTLS(LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Leaf.NotAfter, now.Add(397*24*time.Hour); got.Sub(want).Abs() > time.Minute {
		t.Errorf("default NotAfter = %v, want about %v", got, want)
	}
	if got, want := c.Leaf.NotBefore, now.Add(-time.Hour); got.Sub(want).Abs() > time.Minute {
		t.Errorf("default NotBefore = %v, want about %v", got, want)
	}

	short, err := NewCA("short-lived", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err = short.IssueTLS(LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Leaf.NotAfter.Equal(short.Cert.NotAfter) {
		t.Errorf("NotAfter = %v, want the CA's %v", c.Leaf.NotAfter, short.Cert.NotAfter)
	}

	nb, na := now.Add(-72*time.Hour).Truncate(time.Second), now.Add(-24*time.Hour).Truncate(time.Second)
	c, err = ca.IssueTLS(LeafOptions{NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Leaf.NotBefore.Equal(nb) || !c.Leaf.NotAfter.Equal(na) {
		t.Errorf("validity = %v to %v, want %v to %v", c.Leaf.NotBefore, c.Leaf.NotAfter, nb, na)
	}
}

func TestIssueErrors(t *testing.T) {
	ca := testCA(t)
	now := time.Now()
	tests := []struct {
		name string
		ca   *CA
		opts LeafOptions
	}{
		{"empty host", ca, LeafOptions{Hosts: []string{""}}},
		{"space in host", ca, LeafOptions{Hosts: []string{"my host"}}},
		{"host with port", ca, LeafOptions{Hosts: []string{"localhost:443"}}},
		{"URL", ca, LeafOptions{Hosts: []string{"https://localhost"}}},
		{"empty label", ca, LeafOptions{Hosts: []string{"a..b"}}},
		{"wildcard inside", ca, LeafOptions{Hosts: []string{"a.*.b"}}},
		{"NotAfter before NotBefore", ca, LeafOptions{NotBefore: now, NotAfter: now.Add(-time.Hour)}},
		{"zero CA", &CA{}, LeafOptions{}},
		{"nil CA", nil, LeafOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, k, err := tt.ca.Issue(tt.opts); err == nil || c != nil || k != nil {
				t.Errorf("Issue(%+v) = %d bytes, %d bytes, %v, want an error", tt.opts, len(c), len(k), err)
			}
			if _, err := tt.ca.IssueTLS(tt.opts); err == nil {
				t.Errorf("IssueTLS(%+v) error = nil, want an error", tt.opts)
			}
		})
	}
}

// TestIssueRoundTrip checks that Issue's PEM loads with X509KeyPair.
func TestIssueRoundTrip(t *testing.T) {
	ca := testCA(t)
	certPEM, keyPEM := testIssue(t, ca, LeafOptions{Hosts: []string{"rt.test"}})
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("key PEM starts %q, want a PKCS #8 PRIVATE KEY block", keyPEM[:30])
	}
	c, err := X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Leaf.DNSNames, []string{"rt.test"}) {
		t.Errorf("DNSNames = %q, want [rt.test]", c.Leaf.DNSNames)
	}
}

// TestHandshake does real TLS over 127.0.0.1 with a leaf of the CA, for each
// name a client may use, and with a client certificate.
func TestHandshake(t *testing.T) {
	ca := testCA(t)
	serverCert, err := ca.IssueTLS(LeafOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := ca.IssueTLS(LeafOptions{Client: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		serverName string
		mutual     bool
	}{
		{"localhost", "localhost", false},
		{"IPv4", "127.0.0.1", false},
		{"IPv6 name", "::1", false},
		{"mutual TLS", "localhost", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srvConf := &tls.Config{Certificates: []tls.Certificate{serverCert}}
			cliConf := &tls.Config{RootCAs: ca.Pool(), ServerName: tt.serverName}
			if tt.mutual {
				srvConf.ClientAuth = tls.RequireAndVerifyClientCert
				srvConf.ClientCAs = ca.Pool()
				cliConf.Certificates = []tls.Certificate{clientCert}
			}
			got, err := handshake(t, srvConf, cliConf)
			if err != nil {
				t.Fatalf("handshake with ServerName %q = %v", tt.serverName, err)
			}
			if got != "hello" {
				t.Errorf("client read %q, want %q", got, "hello")
			}
		})
	}

	t.Run("untrusted", func(t *testing.T) {
		_, err := handshake(t, &tls.Config{Certificates: []tls.Certificate{serverCert}},
			&tls.Config{RootCAs: testCA(t).Pool(), ServerName: "localhost"})
		if err == nil {
			t.Errorf("handshake with another CA's pool succeeded")
		}
	})
}

// handshake serves "hello" once with srvConf on 127.0.0.1 and returns what a
// client with cliConf reads.
func handshake(t *testing.T, srvConf, cliConf *tls.Config) (string, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvConf)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := conn.(*tls.Conn).Handshake(); err == nil {
			io.WriteString(conn, "hello")
		}
	}()
	defer func() { <-done }()

	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), cliConf)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	return string(b), err
}
