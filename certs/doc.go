// Package certs loads TLS certificates, keys and CA pools from PEM text, PEM
// bytes or PEM files, says exactly which input failed and why, and runs a
// local development CA that issues certificates for localhost.
//
// The server (package server), the client (package https) and the httpskit
// command all load their certificates through this package, so the rules below
// hold everywhere.
//
// # One rule for PEM text and file names
//
// A string whose text, after trimming white space, starts with "-----BEGIN" is
// PEM text; any other string is the name of a file that must exist ([IsPEM],
// [ReadPEM]). Unlike AwesomeServer, leading white space before -----BEGIN does
// not turn PEM text into a file name, and a missing file is reported as such
// rather than handed on as PEM. Bytes ([X509KeyPair], [CertPool]) are always
// PEM.
//
// # Errors
//
// Every failure to load an input is an [*Error] naming the input
// ("certificate", "key" or "CA"), its file (or "PEM text") and the cause, for
// example:
//
//	certs: load key /srv/tls/key.pem: file not found
//	certs: load certificate cert.pem: wrong PEM block type: found "PRIVATE KEY", want "CERTIFICATE"
//	certs: load key key.pem: private key does not match the certificate cert.pem
//	certs: load certificate cert.pem: certificate has expired: it expired at 2024-05-01T00:00:00Z
//
// The cause wraps one of [ErrNotFound], [ErrNoPEM], [ErrBlockType],
// [ErrBadCert], [ErrBadKey], [ErrKeyMismatch], [ErrExpired] and
// [ErrNotYetValid], for [errors.Is].
//
// # The development CA
//
// [LoadOrCreateCA] makes, on first use, a CA (ECDSA P-256, valid 10 years)
// under the root directory given by [DefaultRoot]: $HTTPSKIT_CAROOT when set,
// otherwise "httpskit" in the user's config directory (~/.config/httpskit on
// Linux). The files are
//
//	<root>/ca/rootCA.pem      the CA certificate (0644): what clients trust (--ca, curl --cacert)
//	<root>/ca/rootCA-key.pem  its private key (0600): never share it
//
// Concurrent first runs, in goroutines or processes, agree on one CA. [CA.Issue]
// and [CA.IssueTLS] then make leaf certificates, by default for localhost,
// 127.0.0.1 and ::1, valid 397 days; [WriteFiles] saves them atomically. The
// command "httpskit cert" shows, creates, issues from and (on request only)
// system-trusts this CA.
//
// In tests, an in-memory CA needs no files:
//
//	ca, _ := certs.NewCA("test CA", 0)
//	serverCert, _ := ca.IssueTLS(certs.LeafOptions{})       // for tls.Config.Certificates
//	client := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
//
// # From the seed documents
//
//	seed (option: type)                                        here
//	AwesomeServer https cert: string|buffer|filename            server.HTTPSConfig.Cert / CertPEM, loaded by LoadX509KeyPair / X509KeyPair
//	AwesomeServer https key: string|buffer|filename             server.HTTPSConfig.Key / KeyPEM, loaded by LoadX509KeyPair / X509KeyPair
//	AwesomeServer "valid existing filename ... will load"       ReadPEM (the one rule: IsPEM)
//	IoT.js https.request ca: file path (overrides system CAs)   https.Options.CA, loaded by LoadCertPool (PEM text or file)
//	IoT.js https.request cert: file path, PEM                   https.Options.Cert, loaded by LoadX509KeyPair
//	IoT.js https.request key: file path, PEM                    https.Options.Key, loaded by LoadX509KeyPair
//	IoT.js rejectUnauthorized: false                            https.Options.InsecureSkipVerify (not this package)
//	(none: a certificate to serve with no setup)                LoadOrCreateCA + CA.IssueTLS, "httpskit cert"
//
// Nothing here logs, and nothing panics on bad input.
package certs
