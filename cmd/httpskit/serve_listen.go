package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/httpskit/httpskit/internal/sdlisten"
	"github.com/httpskit/httpskit/server"
)

// passphraseEnv holds the passphrase of --pfx or of an encrypted --key when no
// --passphrase-file is given. A passphrase is never taken on the command line, where other
// users of the machine can read it (ps, /proc/PID/cmdline).
const passphraseEnv = "HTTPSKIT_PASSPHRASE"

// maxPassphraseFile bounds what --passphrase-file reads.
const maxPassphraseFile = 4 << 10

// listenFlags are the flags of serve about certificate formats and where to listen:
// --pfx, --passphrase-file, --listen unix:PATH and --socket-mode.
type listenFlags struct {
	pfx, passFile, listen, socketMode string

	socket     string         // the path of --listen unix:PATH
	mode       fs.FileMode    // --socket-mode
	passphrase string         // from --passphrase-file or HTTPSKIT_PASSPHRASE
	inherited  []net.Listener // sockets passed by socket activation (LISTEN_FDS)
}

// addressFlags are the flags that say where serve listens; none goes with inherited sockets.
var addressFlags = []string{"host", "port", "http-port", "listen"}

func (lf *listenFlags) register(flags *flag.FlagSet) {
	flags.StringVar(&lf.pfx, "pfx", "", "PKCS #12 `FILE` (.p12, .pfx) holding the certificate chain and key, instead of --cert and --key; reloaded like them")
	flags.StringVar(&lf.passFile, "passphrase-file", "", "read the passphrase of --pfx or of an encrypted --key from the first line of `FILE` (default $"+passphraseEnv+")")
	flags.StringVar(&lf.listen, "listen", "", "listen on a Unix socket, unix:`PATH`, instead of --host and --port (curl --unix-socket PATH https://localhost/)")
	flags.StringVar(&lf.socketMode, "socket-mode", "0660", "permission bits of the --listen unix: socket file, in octal")
}

// check validates the flags once parsed, reads the passphrase and takes over the sockets of
// socket activation. cert and key are --cert and --key.
func (lf *listenFlags) check(flags *flag.FlagSet, cert string) error {
	if lf.pfx != "" && cert != "" {
		return usagef("--pfx holds the certificate and key: give --pfx, or --cert and --key, not both")
	}
	if isSet(flags, "domain") && (lf.pfx != "" || lf.listen != "") {
		return usagef("--domain obtains the certificate from an ACME CA on TCP ports 443 and 80: give no --pfx or --listen with it")
	}
	if lf.listen != "" {
		path, ok := strings.CutPrefix(lf.listen, "unix:")
		if !ok || path == "" {
			return usagef("--listen takes unix:PATH (use --host and --port for TCP), got %q", lf.listen)
		}
		if isSet(flags, "host", "port", "http-port") {
			return usagef("--listen unix:PATH replaces --host and --port; --http-port cannot redirect to a Unix socket")
		}
		lf.socket = path
	}
	if lf.listen == "" && isSet(flags, "socket-mode") {
		return usagef("--socket-mode goes with --listen unix:PATH")
	}
	mode, err := strconv.ParseUint(lf.socketMode, 8, 32)
	if err != nil || mode&^0o777 != 0 {
		return usagef("--socket-mode takes octal permission bits such as 0660, got %q", lf.socketMode)
	}
	lf.mode = fs.FileMode(mode)
	if lf.passphrase, err = readPassphrase(lf.passFile); err != nil {
		return fmt.Errorf("serve: --passphrase-file: %w", err)
	}
	if lf.inherited, err = sdlisten.Listeners(); err != nil {
		return err
	}
	switch n := len(lf.inherited); {
	case n > 2:
		closeAll(lf.inherited)
		return fmt.Errorf("serve: %d sockets passed (%s=%d): serve takes one (HTTPS) or two (HTTPS, then plain HTTP redirecting to it)", n, sdlisten.FDsEnv, n)
	case n > 0 && isSet(flags, addressFlags...):
		closeAll(lf.inherited)
		return usagef("sockets were passed by socket activation (%s): give no --host, --port, --http-port or --listen", sdlisten.FDsEnv)
	}
	return nil
}

func closeAll(lns []net.Listener) {
	for _, l := range lns {
		l.Close()
	}
}

// readPassphrase returns the first line of the file name, without its line ending, or
// $HTTPSKIT_PASSPHRASE when name is empty. serve --passphrase-file and the "passphraseFile"
// of a --config listener read it so; an error names the file, not the flag.
func readPassphrase(name string) (string, error) {
	if name == "" {
		return os.Getenv(passphraseEnv), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, maxPassphraseFile+1)
	n, _ := io.ReadFull(f, b)
	b = b[:n]
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if n > maxPassphraseFile && len(line) == n {
		return "", fmt.Errorf("%s: no line ending in its first %d bytes", name, maxPassphraseFile)
	}
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}

// apply sets the listener and certificate settings of the HTTPS listener from the flags.
// It reports whether the certificate comes from the flags (--pfx), so no other is needed.
func (lf *listenFlags) apply(hc *server.HTTPSConfig) (pfx bool) {
	hc.Passphrase = lf.passphrase
	if lf.pfx != "" {
		hc.PFX = lf.pfx
	}
	if lf.socket != "" {
		hc.SocketPath, hc.SocketMode = lf.socket, lf.mode
	}
	if len(lf.inherited) > 0 {
		hc.NetListener = lf.inherited[0]
	}
	return lf.pfx != ""
}

// httpListener returns the inherited socket of the plain-HTTP listener, if one was passed.
func (lf *listenFlags) httpListener() net.Listener {
	if len(lf.inherited) > 1 {
		return lf.inherited[1]
	}
	return nil
}
