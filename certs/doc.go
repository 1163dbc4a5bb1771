// Package certs loads TLS certificates, keys and CA pools from PEM text, bytes
// or files (PEM, DER or PKCS #12, encrypted keys with their passphrase), says
// exactly which input failed and why, and runs a local development CA that
// issues certificates for localhost.
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
// rather than handed on as PEM.
//
// # Formats
//
// A file, or bytes ([ParseKeyPair], [X509KeyPair], [CertPool]), may hold:
//
//   - PEM: CERTIFICATE blocks; a PRIVATE KEY (PKCS #8), EC PRIVATE KEY or RSA
//     PRIVATE KEY block; or an ENCRYPTED PRIVATE KEY block (PKCS #8 with PBES2:
//     PBKDF2 and AES-CBC or 3DES-CBC, as "openssl genpkey -aes256" and
//     "openssl pkcs8 -topk8" write) opened with a passphrase.
//   - DER, told from PEM by its first byte (an ASN.1 SEQUENCE, 0x30): one or
//     more certificates back to back, or one private key in any of the forms
//     above (encrypted PKCS #8 included). No conversion is needed.
//   - PKCS #12 (.p12, .pfx), as "openssl pkcs12 -export" writes it with
//     OpenSSL 3's defaults (AES-256, SHA-256 MAC) or with -legacy (RC2, 3DES,
//     SHA-1), Windows and Java do: the key and every certificate, the leaf
//     being the certificate of the key. Given as the certificate, it supplies
//     the key too ([LoadKeyPair] with an empty key).
//
// One passphrase ([LoadKeyPair], [ParseKeyPair], [ParsePrivateKey]) opens an
// encrypted key or a PKCS #12 file, as Node's "passphrase" option does; it is
// ignored for inputs that are not encrypted. Refused, with the openssl command
// that rewrites the key: legacy PEM encryption ("Proc-Type: 4,ENCRYPTED",
// from "openssl ec/rsa -aes128" or old OpenSSL), PKCS #8 with PBES1 or scrypt.
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
//	certs: load key key.pem: passphrase needed or wrong: wrong passphrase
//	certs: load certificate site.p12: PKCS #12 file cannot be used: private key missing
//
// The cause wraps one of [ErrNotFound], [ErrNoPEM], [ErrBlockType],
// [ErrBadCert], [ErrBadKey], [ErrBadPKCS12], [ErrPassphrase],
// [ErrKeyMismatch], [ErrExpired] and [ErrNotYetValid], for [errors.Is].
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
//	Node https pfx + passphrase (under AwesomeServer)           server.HTTPSConfig.PFX + Passphrase, loaded by LoadKeyPair
//	Node https key + passphrase (an encrypted key)              server.HTTPSConfig.Key + Passphrase, loaded by LoadKeyPair
//	(none: a certificate to serve with no setup)                LoadOrCreateCA + CA.IssueTLS, "httpskit cert"
//
// Nothing here logs, and nothing panics on bad input.
package certs
