package https

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"

	"github.com/httpskit/httpskit/certs"
)

// clientPair returns the client certificate and key of opts as agent a's loadTLS takes them. Without
// PFX and Passphrase that is Cert and Key as given (PEM text or files holding PEM or DER).
// With either, or with Cert and no Key (a PKCS #12 file, or PEM holding both, as curl --cert
// takes), the pair is opened here (certs.LoadKeyPair) and handed on as PEM text of the chain
// and the plain PKCS #8 key; the files are read on every request, as loadTLS reads
// its own, and a content the agent saw recently (a.pairs) is not decrypted again.
func (a *Agent) clientPair(opts *Options) (cert, key string, err error) {
	if opts.PFX == "" && opts.Passphrase == "" && (opts.Key != "" || opts.Cert == "") {
		return opts.Cert, opts.Key, nil
	}
	in := pairInputs{cert: opts.Cert, key: opts.Key, passphrase: opts.Passphrase}
	switch {
	case opts.PFX != "" && (opts.Cert != "" || opts.Key != ""):
		return "", "", errors.New("PFX holds the certificate and key: set PFX, or Cert and Key, not both")
	case opts.PFX != "":
		in.cert, in.key = opts.PFX, ""
	case opts.Cert == "":
		return "", "", nil // a passphrase and nothing to open: loadTLS checks Key alone
	}
	for i, s := range [2]string{in.cert, in.key} {
		if s != "" && !certs.IsPEM(s) {
			if in.files[i], err = certs.ReadPEM([2]string{"certificate", "key"}[i], s); err != nil {
				return "", "", err
			}
		}
	}
	if p, ok := a.pairs.find(in.same); ok {
		return p[0], p[1], nil
	}
	pair, err := certs.LoadKeyPair(in.cert, in.key, in.passphrase)
	if err != nil {
		return "", "", err
	}
	var c bytes.Buffer
	for _, der := range pair.Certificate {
		pem.Encode(&c, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	der, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		return "", "", err
	}
	p := [2]string{c.String(), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	in.files[0], in.files[1] = slices.Clone(in.files[0]), slices.Clone(in.files[1])
	a.pairs.add(in, p)
	return p[0], p[1], nil
}

// pairInputs are a client pair to open with a passphrase, and the content of its files.
type pairInputs struct {
	cert, key, passphrase string
	files                 [2][]byte
}

func (in *pairInputs) same(o *pairInputs) bool {
	return in.cert == o.cert && in.key == o.key && in.passphrase == o.passphrase &&
		bytes.Equal(in.files[0], o.files[0]) && bytes.Equal(in.files[1], o.files[1])
}
