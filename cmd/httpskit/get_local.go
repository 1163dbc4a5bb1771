package main

import (
	"flag"
	"os"
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
