package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"

	"github.com/httpskit/httpskit/certs"
)

// tlsConfig builds the *tls.Config of a TLS listener, checking the certificate and key at once.
//
// Handshake cost is that of net/http's defaults, on purpose:
//
//   - The config is built once, when the listener is added, and every connection of every
//     run of the listener shares it (tls.NewListener): no clone, no certificate parsing and
//     no file reading per handshake. The certificate is parsed once; with a single
//     certificate crypto/tls hands it out without looking at its Leaf.
//   - Certificate reload (reload.go) adds no work beyond one atomic load per handshake. When
//     Cert and Key are files, GetCertificate returns the pair in service from an atomic
//     pointer; when CA is a file, GetConfigForClient returns, from another atomic pointer, a
//     clone of this config holding the client CAs in service (crypto/tls then fills one more
//     ClientHelloInfo: one allocation). Watching the files (a stat of each once a second)
//     and reading, parsing and checking a renewed pair happen on the listener's watch
//     goroutine or in ReloadCertificate, never in a handshake. PEM text, bytes and a
//     TLSConfig's own certificates are served as before, with no callback at all.
//   - Session tickets stay on (SessionTicketsDisabled is left false unless TLSConfig sets
//     it), so clients resume. The ticket keys (ticketkeys.go) are put in this config with
//     SetSessionTicketKeys by the listener's rotator, hourly, off the handshake path; a
//     handshake reads them under the config's read lock exactly as it reads crypto/tls's
//     own keys, and a ticket is decrypted by trying the key in service first. The keys live
//     in this config, so they survive Stop and Start; the clone that GetConfigForClient
//     hands out for a reloadable client CA carries a copy, which the rotator updates too.
//     With a TLSConfig and no Storage, crypto/tls keeps making and rotating the keys itself
//     (a new key every 24h, older keys accepted for 7 days), or uses those the user set.
//   - DynamicRecordSizingDisabled stays false: crypto/tls starts a connection with small
//     records that fit one TCP segment and grows them to 16 KB, as net/http does.
//   - CurvePreferences and signature schemes stay Go's defaults (TLS 1.3 with X25519MLKEM768
//     first, the same as net/http, which costs about 45 % more CPU per full handshake than
//     X25519 alone). MinVersion TLS 1.2 only refuses old clients; it adds no work for the
//     others.
//   - When TLSConfig sets no CipherSuites, TLS 1.2 is limited to defaultCipherSuites: ECDHE
//     key exchange with AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate" list), so a
//     client offering only CBC, 3DES or RSA key exchange suites is refused. The suites Go
//     picks for every client that has an AEAD one are the same as with its defaults, so this
//     costs nothing. TLS 1.3 suites, all AEAD, are not configurable.
func (c *HTTPSConfig) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{}
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil && c.ACME == nil {
		cert, err := c.keyPair()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = c.MinVersion
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("server: TLS minimum version %s is below TLS 1.2, which is not supported", tls.VersionName(cfg.MinVersion))
	}
	if cfg.MaxVersion == 0 {
		cfg.MaxVersion = c.MaxVersion
	}
	if cfg.MaxVersion != 0 && cfg.MaxVersion < cfg.MinVersion {
		return nil, fmt.Errorf("server: TLS maximum version %s is below the minimum %s", tls.VersionName(cfg.MaxVersion), tls.VersionName(cfg.MinVersion))
	}
	if cfg.ClientAuth == tls.NoClientCert {
		cfg.ClientAuth = c.ClientAuth
	}
	if cfg.ClientCAs == nil && c.CA != "" {
		pool, err := certs.LoadCertPool(c.CA)
		if err != nil {
			return nil, fmt.Errorf("server: client CA: %w", err)
		}
		cfg.ClientCAs = pool
	}
	if cfg.ClientCAs != nil && cfg.ClientAuth == tls.NoClientCert {
		return nil, errors.New("server: a client CA is set but ClientAuth asks for no client certificate; set ClientAuth (for example tls.RequireAndVerifyClientCert)")
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	if len(cfg.CipherSuites) == 0 {
		cfg.CipherSuites = slices.Clone(defaultCipherSuites)
	}
	return cfg, nil
}

// defaultCipherSuites are the TLS 1.2 cipher suites of a listener whose TLSConfig sets none:
// forward secrecy and authenticated encryption only. HTTP/2 needs one of the AES-128-GCM ones.
var defaultCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// keyPair loads the certificate and key from the bytes, the text/file fields or PFX.
func (c *HTTPSConfig) keyPair() (tls.Certificate, error) {
	if c.PFX != "" {
		if c.Cert != "" || c.Key != "" || len(c.CertPEM) > 0 || len(c.KeyPEM) > 0 {
			return tls.Certificate{}, errors.New("server: PFX holds the certificate and key: set PFX, or Cert and Key (or CertPEM and KeyPEM), not both")
		}
	}
	switch {
	case len(c.CertPEM) > 0 || len(c.KeyPEM) > 0:
		if len(c.CertPEM) == 0 {
			return tls.Certificate{}, errors.New("server: KeyPEM is set but CertPEM is empty")
		}
		cert, err := certs.ParseKeyPair(c.CertPEM, c.KeyPEM, c.Passphrase)
		switch {
		case err != nil && len(c.KeyPEM) == 0 && errors.Is(err, certs.ErrNoPEM):
			return tls.Certificate{}, fmt.Errorf("server: KeyPEM is empty, and CertPEM holds no private key: %w", err)
		case err != nil:
			return tls.Certificate{}, fmt.Errorf("server: %w", err)
		}
		return cert, nil
	case c.PFX != "":
		return loadPair(c.PFX, "", c.Passphrase)
	case c.Cert == "" && c.Key == "":
		return tls.Certificate{}, errors.New("server: a TLS listener needs a certificate and key (Cert and Key, PFX, CertPEM and KeyPEM, or TLSConfig)")
	case c.Cert == "":
		return tls.Certificate{}, errors.New("server: Key is set but Cert is empty")
	}
	pair, err := certs.LoadKeyPair(c.Cert, c.Key, c.Passphrase)
	if err != nil && c.Key == "" && errors.Is(err, certs.ErrNoPEM) {
		return tls.Certificate{}, fmt.Errorf("server: Key is empty, and Cert holds no private key: %w", err)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("server: %w", err)
	}
	return pair, nil
}

// loadPair loads a certificate and key given as text or file names (certs.LoadKeyPair).
func loadPair(cert, key, passphrase string) (tls.Certificate, error) {
	pair, err := certs.LoadKeyPair(cert, key, passphrase)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("server: %w", err)
	}
	return pair, nil
}
