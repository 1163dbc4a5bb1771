// Package siteconfig reads the JSON site description of `httpskit serve --config FILE`:
// listeners and routes, so a site can run without writing Go.
//
// A file looks like this:
//
//	{
//	  "listeners": [
//	    {"kind": "https", "host": "localhost", "port": 7443, "cert": "cert.pem", "key": "key.pem"},
//	    {"kind": "http2", "port": 7444},
//	    {"kind": "https", "listen": "unix:/run/site/https.sock", "socketMode": "0660",
//	     "pfx": "site.p12", "passphraseFile": "/etc/site/pfx-pass"},
//	    {"kind": "http", "port": 7080, "readHeaderTimeout": "5s", "maxBodyBytes": 1048576, "maxConnsPerIP": -1}
//	  ],
//	  "routes": [
//	    {"path": "/old", "redirect": "/new", "temporary": true},
//	    {"path": "/", "serve": "./public", "listing": true, "compress": true},
//	    {"method": "GET", "path": "/robots.txt", "serve": "robots.txt", "contentType": "text/plain"}
//	  ]
//	}
//
// Relative file names are relative to the directory of the config file. A TLS listener
// without cert and key (or pfx) uses the development CA. An http listener redirects to the
// first TLS listener with a port unless its "redirectToHTTPS" is false.
//
// A listener on a Unix socket ("listen": "unix:PATH", or "socketPath" with an optional
// "socketMode") has no host or port; an http one serves the routes ("redirectToHTTPS": false),
// as a redirect can neither come from nor go to a socket. A "pfx" file or an encrypted "key"
// is opened with the first line of "passphraseFile" (else $HTTPSKIT_PASSPHRASE); a
// "passphrase" field is refused, so the passphrase never sits in a file that gets copied,
// backed up and committed.
//
// Unknown fields are errors, and every error names the entry and field at fault; an unknown
// field's error gives its line and the known field it is most likely a slip for ("line 3:
// listeners[0]: unknown field "prot" (did you mean "port"?)").
package siteconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MaxFileSize bounds the size of a config file.
const MaxFileSize = 1 << 20

// Site is a parsed, validated config file.
type Site struct {
	Listeners []Listener `json:"listeners"`
	Routes    []Route    `json:"routes"`
}

// Listener describes one listener.
type Listener struct {
	// Kind is "http", "https" or "http2". Required.
	Kind string `json:"kind"`
	// Host defaults to "localhost".
	Host string `json:"host,omitempty"`
	// Port is the TCP port. Absent means 7080 (server.DefaultPort), which Parse writes here;
	// 0, or a negative number, means any free port, as in the server package. A listener on
	// a Unix socket has none.
	Port      int  `json:"port,omitempty"`
	portGiven bool // the document has "port"
	// Listen "unix:PATH" is the same as SocketPath PATH: Parse sets SocketPath from it.
	Listen string `json:"listen,omitempty"`
	// SocketPath makes the listener a Unix socket at this path instead of Host and Port
	// (server.HTTPConfig.SocketPath: a stale socket file is replaced, any other file is an
	// error, and the socket is removed when serve stops).
	SocketPath string `json:"socketPath,omitempty"`
	// SocketMode is the permission bits of the socket file, an octal string such as "0600";
	// absent means server.DefaultSocketMode, "0660".
	SocketMode Mode `json:"socketMode,omitempty"`
	// Cert and Key are file names (PEM or DER, or PEM text); both or neither. Neither, and
	// no PFX: the development CA issues a certificate for localhost. Key may be an encrypted
	// PKCS #8 key (ENCRYPTED PRIVATE KEY), opened with the passphrase of PassphraseFile.
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	// PFX is a PKCS #12 file (.p12, .pfx) holding the certificate chain and key, instead of
	// Cert and Key; opened with the passphrase of PassphraseFile.
	PFX string `json:"pfx,omitempty"`
	// PassphraseFile is a file whose first line is the passphrase of PFX or of an encrypted
	// Key. Absent: $HTTPSKIT_PASSPHRASE. The passphrase itself is never taken in the config
	// file ("passphrase" is refused), where whoever can read the file would read it.
	PassphraseFile string `json:"passphraseFile,omitempty"`
	// ClientCA requires client certificates that chain to this CA (PEM file).
	ClientCA string `json:"clientCA,omitempty"`
	// RedirectToHTTPS, for an http listener: absent or true sends every request to the same
	// path on the first https or http2 listener with a port (308); false serves the routes over plain
	// HTTP. With no TLS listener in the file, an http listener serves the routes.
	RedirectToHTTPS *bool `json:"redirectToHTTPS,omitempty"`

	ReadHeaderTimeout Duration `json:"readHeaderTimeout,omitempty"`
	ReadTimeout       Duration `json:"readTimeout,omitempty"`
	WriteTimeout      Duration `json:"writeTimeout,omitempty"`
	IdleTimeout       Duration `json:"idleTimeout,omitempty"`
	MaxHeaderBytes    int      `json:"maxHeaderBytes,omitempty"`
	MaxBodyBytes      int64    `json:"maxBodyBytes,omitempty"`
	// MaxConns and MaxConnsPerIP bound open connections (server.HTTPConfig); absent means
	// the server's default, -1 means no limit (for example behind a reverse proxy).
	MaxConns      int `json:"maxConns,omitempty"`
	MaxConnsPerIP int `json:"maxConnsPerIP,omitempty"`
}

// Route describes one route: exactly one of Serve and Redirect.
type Route struct {
	// Method defaults to "*" (any method).
	Method string `json:"method,omitempty"`
	// Path uses the server package's path grammar. Required.
	Path string `json:"path"`
	// Serve is a file or directory to serve.
	Serve string `json:"serve,omitempty"`
	// ContentType for a served file; empty guesses from the extension.
	ContentType string `json:"contentType,omitempty"`
	// Listing lists directories without index.html.
	Listing bool `json:"listing,omitempty"`
	// Compress sends compressible files of a served directory gzipped, or as their
	// precompressed .br/.zst/.gz siblings (server.DirectoryOptions.Compress).
	Compress bool `json:"compress,omitempty"`
	// SPA serves the directory's index.html for paths with no file and no extension
	// (server.DirectoryOptions.SPA).
	SPA bool `json:"spa,omitempty"`
	// Redirect is the Location to redirect to.
	Redirect string `json:"redirect,omitempty"`
	// Temporary makes the redirect 302 instead of 301.
	Temporary bool `json:"temporary,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("5s", "2m").
type Duration time.Duration

// UnmarshalJSON accepts a duration string such as "10s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"10s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q: %v", s, err)
	}
	*d = Duration(v)
	return nil
}

// Mode is a file's permission bits written as an octal string ("0660").
type Mode fs.FileMode

// UnmarshalJSON accepts an octal string of permission bits such as "0660".
func (m *Mode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want octal permission bits as a string such as \"0660\", got %s", b)
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v&^0o777 != 0 || v == 0 {
		return fmt.Errorf("bad mode %q: want octal permission bits such as \"0660\"", s)
	}
	*m = Mode(v)
	return nil
}

// Load reads and validates the config file, resolving relative file names against its
// directory.
func Load(name string) (*Site, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes", name, MaxFileSize)
	}
	site, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	site.resolve(filepath.Dir(name))
	return site, nil
}

// Parse decodes and validates a config document. File names are left as written.
func Parse(b []byte) (*Site, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Site
	if err := dec.Decode(&s); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			if u := unknownField(b); u != nil {
				return nil, u // with its line, its entry and the field it may be a slip for
			}
		}
		return nil, describeJSONError(b, err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	s.defaultPorts(b)
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// DefaultPort is the port of a listener whose "port" is absent (server.DefaultPort).
const DefaultPort = 7080

// defaultPorts gives DefaultPort to each listener of the document b (already decoded into s)
// that has no "port" field and no Unix socket: a zero there means any free port.
func (s *Site) defaultPorts(b []byte) {
	var raw struct {
		Listeners []map[string]json.RawMessage `json:"listeners"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return
	}
	for i, fields := range raw.Listeners {
		if i >= len(s.Listeners) {
			break
		}
		given := false
		for k := range fields {
			given = given || strings.EqualFold(k, "port") // as encoding/json matches names
		}
		l := &s.Listeners[i]
		l.portGiven = given
		if !given && l.Listen == "" && l.SocketPath == "" {
			l.Port = DefaultPort
		}
	}
}

func (s *Site) validate() error {
	if len(s.Listeners) == 0 {
		return errors.New("no listeners: add at least one to \"listeners\"")
	}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		at := fmt.Sprintf("listeners[%d]", i)
		l.Kind = strings.ToLower(l.Kind)
		switch l.Kind {
		case "http", "https", "http2":
		case "":
			return fmt.Errorf("%s: missing \"kind\" (http, https or http2)", at)
		default:
			return fmt.Errorf("%s: unknown kind %q (want http, https or http2)", at, l.Kind)
		}
		if l.Port > 65535 {
			return fmt.Errorf("%s: port %d out of range (0 for any free port, absent for %d, or 1-65535)", at, l.Port, DefaultPort)
		}
		if (l.Cert == "") != (l.Key == "") {
			return fmt.Errorf("%s: \"cert\" and \"key\" go together", at)
		}
		if l.PFX != "" && l.Cert != "" {
			return fmt.Errorf("%s: \"pfx\" holds the certificate and key: give \"pfx\", or \"cert\" and \"key\", not both", at)
		}
		if l.Kind == "http" && (l.Cert != "" || l.PFX != "" || l.ClientCA != "") {
			return fmt.Errorf("%s: an http listener takes no certificate; use kind https", at)
		}
		if l.PassphraseFile != "" && l.PFX == "" && l.Key == "" {
			return fmt.Errorf("%s: \"passphraseFile\" opens a \"pfx\" or an encrypted \"key\", and this entry has neither", at)
		}
		if err := l.socket(); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if l.Kind != "http" && l.RedirectToHTTPS != nil {
			return fmt.Errorf("%s: \"redirectToHTTPS\" goes with kind http", at)
		}
		for name, v := range map[string]int64{"maxHeaderBytes": int64(l.MaxHeaderBytes), "maxBodyBytes": l.MaxBodyBytes,
			"readHeaderTimeout": int64(l.ReadHeaderTimeout), "readTimeout": int64(l.ReadTimeout),
			"writeTimeout": int64(l.WriteTimeout), "idleTimeout": int64(l.IdleTimeout)} {
			if v < 0 {
				return fmt.Errorf("%s: %s is negative", at, name)
			}
		}
		for name, v := range map[string]int{"maxConns": l.MaxConns, "maxConnsPerIP": l.MaxConnsPerIP} {
			if v < -1 {
				return fmt.Errorf("%s: %s is %d (want -1 for no limit, or a count)", at, name, v)
			}
		}
	}
	if err := s.checkRedirects(); err != nil {
		return err
	}
	for i, r := range s.Routes {
		at := fmt.Sprintf("routes[%d]", i)
		if r.Path == "" {
			return fmt.Errorf("%s: missing \"path\"", at)
		}
		switch {
		case r.Serve == "" && r.Redirect == "":
			return fmt.Errorf("%s: needs \"serve\" or \"redirect\"", at)
		case r.Serve != "" && r.Redirect != "":
			return fmt.Errorf("%s: \"serve\" and \"redirect\" exclude each other", at)
		}
		if r.Redirect != "" && strings.ContainsAny(r.Redirect, "\r\n") {
			return fmt.Errorf("%s: redirect target has a line break", at)
		}
		if r.Serve == "" && (r.ContentType != "" || r.Listing || r.Compress || r.SPA) {
			return fmt.Errorf("%s: \"contentType\", \"listing\", \"compress\" and \"spa\" go with \"serve\"", at)
		}
	}
	return nil
}

// resolve makes relative file names relative to dir.
func (s *Site) resolve(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.HasPrefix(strings.TrimSpace(p), "-----BEGIN") {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i := range s.Listeners {
		l := &s.Listeners[i]
		l.Cert, l.Key, l.ClientCA = abs(l.Cert), abs(l.Key), abs(l.ClientCA)
		l.PFX, l.PassphraseFile, l.SocketPath = abs(l.PFX), abs(l.PassphraseFile), abs(l.SocketPath)
	}
	for i := range s.Routes {
		s.Routes[i].Serve = abs(s.Routes[i].Serve)
	}
}

// describeJSONError adds the line and column to JSON syntax and type errors.
func describeJSONError(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.EOF):
		return errors.New("empty file: want a JSON object with \"listeners\" and \"routes\"")
	default:
		return err
	}
	line := 1 + bytes.Count(b[:min(off, int64(len(b)))], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}
