package server

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/httpskit/httpskit/certs"
)

// tlsConfig builds the *tls.Config of a TLS listener, checking the certificate and key at once.
func (c *HTTPSConfig) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{}
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
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
	return cfg, nil
}

// keyPair loads the certificate and key from the PEM bytes or the text/file fields.
func (c *HTTPSConfig) keyPair() (tls.Certificate, error) {
	switch {
	case len(c.CertPEM) > 0 || len(c.KeyPEM) > 0:
		if len(c.CertPEM) == 0 {
			return tls.Certificate{}, errors.New("server: KeyPEM is set but CertPEM is empty")
		}
		if len(c.KeyPEM) == 0 {
			return tls.Certificate{}, errors.New("server: CertPEM is set but KeyPEM is empty")
		}
		cert, err := certs.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("server: %w", err)
		}
		return cert, nil
	case c.Cert == "" && c.Key == "":
		return tls.Certificate{}, errors.New("server: a TLS listener needs a certificate and key (Cert and Key, CertPEM and KeyPEM, or TLSConfig)")
	case c.Cert == "":
		return tls.Certificate{}, errors.New("server: Key is set but Cert is empty")
	case c.Key == "":
		return tls.Certificate{}, errors.New("server: Cert is set but Key is empty")
	}
	cert, err := certs.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("server: %w", err)
	}
	return cert, nil
}
