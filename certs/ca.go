package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"time"
)

// RootEnv is the environment variable that, when set, names the directory of
// the development CA instead of the user's config directory. See [DefaultRoot].
const RootEnv = "HTTPSKIT_CAROOT"

// Where the development CA lives under its root directory.
const (
	caDirName  = "ca"
	caCertName = "rootCA.pem"
	caKeyName  = "rootCA-key.pem"
	caTmpGlob  = ".ca-new-*" // temporary directories of LoadOrCreateCA
	caOrg      = "httpskit development CA"
)

// DefaultRoot returns the directory of the development CA: the value of
// $HTTPSKIT_CAROOT (see [RootEnv]) made absolute when it is set, otherwise
// "httpskit" inside [os.UserConfigDir] (~/.config/httpskit on Linux,
// ~/Library/Application Support/httpskit on macOS, %AppData%\httpskit on
// Windows). It creates nothing. When neither is available, the error says to
// set HTTPSKIT_CAROOT.
func DefaultRoot() (string, error) {
	if r := os.Getenv(RootEnv); r != "" {
		abs, err := filepath.Abs(r)
		if err != nil {
			return "", fmt.Errorf("certs: %s=%q: %w", RootEnv, r, err)
		}
		return abs, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("certs: no directory for the development CA: set %s (%w)", RootEnv, err)
	}
	return filepath.Join(dir, "httpskit"), nil
}

// CA is a certificate authority for local development: it issues leaf
// certificates (see [CA.Issue]) that clients trust through [CA.Pool] or the
// file CertFile (curl --cacert).
//
// Make one with [NewCA] (in memory), [LoadOrCreateCA] or [LoadCA]; the zero
// value has no key and cannot issue. A CA is safe for concurrent use; do not
// change its fields after first use.
type CA struct {
	// Cert is the CA's self-signed certificate.
	Cert *x509.Certificate

	// CertPEM is Cert in PEM form.
	CertPEM []byte

	// CertFile is "" for an in-memory CA; otherwise the PEM file holding
	// Cert, <root>/ca/rootCA.pem: the file a client passes to --ca or
	// curl --cacert.
	CertFile string

	// KeyFile is "" for an in-memory CA; otherwise the CA's private key,
	// <root>/ca/rootCA-key.pem, mode 0600. Whoever holds it can issue
	// certificates the CA's clients trust: never share it.
	KeyFile string

	key crypto.Signer
}

// NewCA creates a CA in memory, with a new ECDSA P-256 key, valid from an hour
// ago (to allow for clock skew) for validity. A zero validity means 10 years;
// a negative one is an error. An empty commonName means
// "httpskit development CA <user>@<host>". It writes nothing: see
// [LoadOrCreateCA] for the CA kept on disk.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	if validity < 0 {
		return nil, fmt.Errorf("certs: new CA: negative validity %v", validity)
	}
	now := time.Now()
	notAfter := now.AddDate(10, 0, 0)
	if validity > 0 {
		notAfter = now.Add(validity)
	}
	return newCA(commonName, now.Add(-time.Hour), notAfter)
}

// newCA is NewCA with the validity period given; tests use it to make expired
// CAs.
func newCA(commonName string, notBefore, notAfter time.Time) (*CA, error) {
	if commonName == "" {
		commonName = caOrg + " " + userAtHost()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: new CA: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("certs: new CA: %w", err)
	}
	skid, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("certs: new CA: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{caOrg}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: new CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: new CA: %w", err)
	}
	return &CA{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:     key,
	}, nil
}

// userAtHost names the user and machine for the CA's common name, as mkcert
// does, so that a CA seen in a trust store can be traced to where it was made.
func userAtHost() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "user"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID is the SHA-256 of the public key bits, truncated to 160 bits
// (RFC 7093, method 1).
func subjectKeyID(pub *ecdsa.PublicKey) ([]byte, error) {
	ecdhPub, err := pub.ECDH()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(ecdhPub.Bytes())
	return sum[:20], nil
}

// Pool returns a new pool holding only the CA's certificate: use it as
// tls.Config.RootCAs in clients and as ClientCAs in servers that verify
// client certificates. Each call returns a new pool.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// LoadCA loads the development CA kept under root (see [DefaultRoot]) without
// creating it. A root with no "ca" directory that holds rootCA.pem and
// rootCA-key.pem itself, as mkcert's CAROOT does (`mkcert -CAROOT`), is read
// in place: a CA that mkcert made, and that `mkcert -install` made browsers
// trust, issues httpskit's certificates. When there is none, the error wraps [ErrNotFound] and
// fs.ErrNotExist. A CA that is partly written, damaged, expired or not yet
// valid is an error that names the file and says to delete the directory
// <root>/ca, after which [LoadOrCreateCA] makes a new one.
func LoadCA(root string) (*CA, error) {
	ca, _, err := loadCA(root)
	return ca, err
}

// loadCA is LoadCA that also reports whether the CA is absent: its directory
// is missing or empty.
func loadCA(root string) (ca *CA, absent bool, err error) {
	if root == "" {
		return nil, false, errors.New("certs: load CA: empty root directory")
	}
	dir := filepath.Join(root, caDirName)
	hint := "delete that directory to create a new CA (clients must then trust the new " + caCertName + ")"
	if isFlatRoot(root) {
		dir = root
		hint = "it is laid out as mkcert's CAROOT: repair it there, or use another root"
	}
	certFile := filepath.Join(dir, caCertName)
	keyFile := filepath.Join(dir, caKeyName)

	// Read both files through one handle on the directory: a directory that
	// LoadOrCreateCA renames into place is then seen whole or not at all.
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, errors.Is(err, fs.ErrNotExist), &Error{Input: "CA", Source: certFile, Err: fileCause(certFile, err)}
	}
	defer r.Close()
	certPEM, certErr := r.ReadFile(caCertName)
	keyPEM, keyErr := r.ReadFile(caKeyName)
	damaged := func(input, file string, err error) (*CA, bool, error) {
		return nil, false, &Error{Input: input, Source: file, Err: fmt.Errorf(
			"%w; the development CA in %s cannot be used: %s", err, dir, hint)}
	}
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) && isEmptyDir(r) {
		return nil, true, &Error{Input: "CA", Source: certFile, Err: fileCause(certFile, certErr)}
	}
	if certErr != nil {
		return damaged("CA", certFile, fileCause(certFile, certErr))
	}
	if keyErr != nil {
		return damaged("CA key", keyFile, fileCause(keyFile, keyErr))
	}
	chain, err := parseCerts(certPEM)
	if err != nil {
		return damaged("CA", certFile, err)
	}
	cert := chain[0]
	if !cert.IsCA {
		return damaged("CA", certFile, fmt.Errorf("%w: %q is not a CA certificate", ErrBadCert, cert.Subject.CommonName))
	}
	key, err := parseKey(keyPEM, "")
	if err != nil {
		return damaged("CA key", keyFile, err)
	}
	if err := matchKey(cert, key, certFile); err != nil {
		return damaged("CA key", keyFile, err)
	}
	if err := checkValidity(cert, time.Now()); err != nil {
		return damaged("CA", certFile, err)
	}
	return &CA{
		Cert:     cert,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		CertFile: certFile,
		KeyFile:  keyFile,
		key:      key,
	}, false, nil
}

// LoadOrCreateCA loads the development CA kept under root (see [DefaultRoot]
// and, for mkcert's layout, [LoadCA]), creating it first if there is none; created reports whether this call made
// it. The CA is in root/ca: rootCA.pem (mode 0644) and rootCA-key.pem (mode
// 0600); root and root/ca are made with mode 0700.
//
// It is safe to call from several goroutines and processes at once: the files
// are written into a temporary directory inside root that is then renamed to
// root/ca in one step, so the CA appears whole or not at all, and every caller
// gets the same CA. A partial, damaged or expired CA on disk is an error that
// names the file and says to delete root/ca; it is never replaced silently,
// because clients may trust it.
func LoadOrCreateCA(root string) (ca *CA, created bool, err error) {
	ca, absent, err := loadCA(root)
	if err == nil || !absent {
		return ca, false, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, false, fmt.Errorf("certs: create CA root: %w", err)
	}
	ca, err = NewCA("", 0)
	if err != nil {
		return nil, false, err
	}
	tmp, err := os.MkdirTemp(root, caTmpGlob)
	if err != nil {
		return nil, false, fmt.Errorf("certs: create CA: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := ca.writeTo(tmp); err != nil {
		return nil, false, fmt.Errorf("certs: create CA: %w", err)
	}

	dir := filepath.Join(root, caDirName)
	// An empty root/ca counts as absent, but os.Rename does not replace a
	// directory: remove it (rmdir fails if another process filled it).
	os.Remove(dir)
	if err := os.Rename(tmp, dir); err != nil {
		// Another goroutine or process won: its directory is in place and
		// whole.
		other, _, lerr := loadCA(root)
		if lerr == nil {
			return other, false, nil
		}
		return nil, false, fmt.Errorf("certs: create CA in %s: %w (and loading it: %v)", dir, err, lerr)
	}
	syncDir(root)
	removeStaleTemps(root)
	ca.CertFile = filepath.Join(dir, caCertName)
	ca.KeyFile = filepath.Join(dir, caKeyName)
	return ca, true, nil
}

// isFlatRoot reports whether root holds the CA itself, as mkcert's CAROOT does (rootCA.pem
// and rootCA-key.pem, no "ca" directory), rather than in root/ca.
func isFlatRoot(root string) bool {
	if _, err := os.Lstat(filepath.Join(root, caDirName)); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, err := os.Lstat(filepath.Join(root, caCertName))
	return err == nil
}

// removeStaleTemps removes temporary directories that a process killed while
// creating the CA left in root. Only old ones go: a young one may belong to a
// process that is still at work.
func removeStaleTemps(root string) {
	names, _ := filepath.Glob(filepath.Join(root, caTmpGlob))
	for _, name := range names {
		if fi, err := os.Lstat(name); err == nil && fi.IsDir() && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(name)
		}
	}
}

// writeTo writes the CA's files into dir, which must be new, and syncs them.
func (ca *CA) writeTo(dir string) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writeNew(filepath.Join(dir, caKeyName), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(filepath.Join(dir, caCertName), ca.CertPEM, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// writeNew creates the file name, which must not exist, with exactly mode
// perm (whatever the umask), writes data and syncs it to disk.
func writeNew(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	return fillFile(f, data, perm)
}

func isEmptyDir(r *os.Root) bool {
	d, err := r.Open(".")
	if err != nil {
		return false
	}
	defer d.Close()
	names, _ := d.Readdirnames(1)
	return len(names) == 0
}

// syncDir makes a rename or creation in dir durable. Failure is ignored: some
// systems cannot sync a directory, and the data itself is already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
