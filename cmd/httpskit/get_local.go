package main

import (
	"flag"
	"os"
	"runtime"
	"strings"

	"github.com/httpskit/httpskit/https"
)

// clientCertFlags are curl's --cert-type, --pass and --unix-socket for get and request.
type clientCertFlags struct {
	certType, pass, unixSocket string
}

func (c *clientCertFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.certType, "cert-type", "", "type of --cert: PEM, DER or P12 (default: told from the file's content)")
	fs.StringVar(&c.pass, "pass", "", "`PHRASE` of an encrypted --key or a P12 --cert, as curl's --pass (visible to other users in ps: prefer $"+passphraseEnv+")")
	fs.StringVar(&c.unixSocket, "unix-socket", "", "connect through the Unix socket `PATH` instead of to the URL's host and port, as curl")
}

// apply sets the client certificate and socket of o; o.Cert and o.Key are already set (Key
// defaulting to Cert's file, as curl's).
func (c *clientCertFlags) apply(o *https.Options) error {
	switch strings.ToUpper(c.certType) {
	case "", "PEM", "DER": // the content says which
	case "P12", "PFX", "PKCS12":
		if o.Cert == "" {
			return usagef("--cert-type %s: give the PKCS #12 file with --cert", c.certType)
		}
		if o.Key != "" && o.Key != o.Cert { // --key defaults to --cert's file
			return usagef("--cert-type %s: the PKCS #12 file holds the key: give no --key", c.certType)
		}
		o.PFX, o.Cert, o.Key = o.Cert, "", ""
	default:
		return usagef("--cert-type %q: want PEM, DER or P12", c.certType)
	}
	o.Passphrase = c.pass
	if o.Passphrase == "" {
		o.Passphrase = os.Getenv(passphraseEnv)
	}
	o.SocketPath = c.unixSocket
	return nil
}

// certFlag is curl's -E/--cert FILE[:PASSWORD]: the file goes to file and a password after the
// first unescaped ':' to pass, as --pass would set it (the later of the two wins, as in curl).
type certFlag struct{ file, pass *string }

func (c certFlag) String() string {
	if c.file == nil {
		return ""
	}
	return *c.file
}

func (c certFlag) Set(s string) error {
	file, pass, ok := splitCertPassword(s, runtime.GOOS == "windows")
	if file == "" {
		return usagef("--cert %q: no file name before the ':'", s)
	}
	*c.file = file
	if ok {
		*c.pass = pass
	}
	return nil
}

// splitCertPassword splits curl's -E argument FILE[:PASSWORD] as curl does: the first unescaped ':'
// ends the file name, and a password follows it unless it is empty; in the name, "\:" is a ':'
// and "\\" a '\', and any other backslash is kept with what follows it. On Windows (windows
// true) the ':' of a drive letter ("C:\certs\a.p12", "C:/certs/a.p12") belongs to the name. A
// PKCS #11 URI ("pkcs11:...") is a name, whole.
func splitCertPassword(s string, windows bool) (file, pass string, hasPass bool) {
	if strings.HasPrefix(strings.ToLower(s), "pkcs11:") || !strings.ContainsAny(s, ":\\") {
		return s, "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == ':' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == ':' && windows && i == 1 && len(s) > 2 && (s[2] == '\\' || s[2] == '/') && isASCIILetter(s[0]):
			b.WriteByte(c) // a drive letter
		case c == ':':
			return b.String(), s[i+1:], i+1 < len(s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", false
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
