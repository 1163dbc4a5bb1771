package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/metrics"
	"github.com/httpskit/httpskit/internal/siteconfig"
	"github.com/httpskit/httpskit/server"
	"github.com/httpskit/httpskit/storage"
)

// stopGrace is the default of --grace: how long Ctrl-C or SIGTERM waits for requests in
// flight before closing their connections.
const stopGrace = 10 * time.Second

type serveFlags struct {
	host, cert, key, clientCA, config, caRoot string
	port, httpPort                            int
	listing, hidden, verbose                  bool
	quiet, compress, spa                      bool   // --quiet, --compress, --spa
	logFormat, cors                           string // --log-format, --cors
	accessLog                                 *slog.Logger
	maxConns, maxConnsPerIP                   int                // --max-conns, --max-conns-per-ip
	grace                                     time.Duration      // --grace
	debugAddr                                 string             // --debug-addr
	listen                                    listenFlags        // --pfx, --passphrase-file, --listen, --socket-mode (serve_listen.go)
	metricsAddr                               string             // --metrics-addr
	metricsPublic                             bool               // --metrics-public
	metrics                                   *metrics.Collector // with --metrics-addr: every listener's Observer
	names                                     nameList           // --name (lan.go)
	acme                                      acmeFlags          // --domain, --acme-* (acme.go)
	frugal                                    frugalFlag         // --frugal, HTTPSKIT_FRUGAL (frugal.go)
	storage                                   string             // --storage
}

// runServe implements `httpskit serve [DIR]`.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := newFlagSet("serve", "[flags] [DIR]", stderr)
	fs.StringVar(&f.host, "host", server.DefaultHost, "interface to bind (0.0.0.0 or :: for every interface: prints a URL for each address and the host name, all in the development certificate)")
	fs.IntVar(&f.port, "port", server.DefaultPort, "HTTPS port (0 for any free port)")
	fs.IntVar(&f.httpPort, "http-port", -1, "also listen for plain HTTP on this port, redirecting to HTTPS (0 for any free port; -1: off)")
	fs.StringVar(&f.cert, "cert", "", "certificate PEM file (default: issued by the development CA); reloaded when it changes and on SIGHUP")
	fs.StringVar(&f.key, "key", "", "private key PEM file for --cert")
	fs.StringVar(&f.clientCA, "client-ca", "", "require client certificates signed by this CA (PEM file; reloaded when it changes and on SIGHUP)")
	fs.StringVar(&f.config, "config", "", "JSON file describing listeners and routes (see docs)")
	fs.Var(&f.names, "name", "more host names or IP addresses for the development certificate, comma-separated or repeated (with --host 0.0.0.0 or ::, each interface address and the host name are in it already)")
	fs.StringVar(&f.caRoot, "ca-root", "", "development CA directory (default $HTTPSKIT_CAROOT or the user config dir)")
	fs.Var(mkcertFlag{&f.caRoot}, "mkcert", "use mkcert's CA as the development CA: the folder of $CAROOT, else of \"mkcert -CAROOT\"")
	fs.BoolVar(&f.listing, "listing", true, "list directories that have no index.html")
	fs.BoolVar(&f.hidden, "hidden", false, "serve dotfiles (hidden by default, except .well-known)")
	fs.IntVar(&f.maxConns, "max-conns", 0, fmt.Sprintf("most connections open at once per listener; past it the longest idle one is closed (0: %d; -1: no limit)", server.DefaultMaxConns))
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", 0, fmt.Sprintf("most connections open at once from one client IP address; raise it behind a proxy or NAT (0: %d; -1: no limit)", server.DefaultMaxConnsPerIP))
	fs.BoolVar(&f.verbose, "v", false, "log requests errors and listener events to stderr")
	fs.BoolVar(&f.quiet, "quiet", false, "no access log (by default one line per request goes to stderr)")
	fs.StringVar(&f.logFormat, "log-format", "text", "format of the access log and -v lines: text or json")
	fs.BoolVar(&f.compress, "compress", true, "send text, JavaScript, JSON and SVG files gzipped, or their precompressed .br/.zst/.gz siblings, to clients that accept it")
	fs.StringVar(&f.cors, "cors", "", "allow cross-origin requests from these origins (comma-separated, such as https://app.example.com), or * for any")
	fs.BoolVar(&f.spa, "spa", false, "single-page app: a path with no file and no extension gets the top index.html")
	fs.DurationVar(&f.grace, "grace", stopGrace, "on Ctrl-C or SIGTERM, stop accepting and let requests in flight finish for this long, then close their connections")
	fs.StringVar(&f.debugAddr, "debug-addr", "", "serve expvar (/debug/vars, ?gc=1) and pprof (/debug/pprof/) over plain HTTP on this loopback HOST:PORT (off by default)")
	f.listen.register(fs)
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics (GET /metrics) over plain HTTP on this loopback HOST:PORT (off by default)")
	fs.BoolVar(&f.metricsPublic, "metrics-public", false, "let --metrics-addr listen on an address other than loopback")
	f.acme.register(fs)
	fs.Var(&f.frugal, "frugal", frugalUsage)
	fs.StringVar(&f.storage, "storage", "", storageUsage)
	if err := f.frugal.fromEnv(); err != nil {
		return err
	}
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) > 1 {
		return usagef("serve takes at most one directory, got %d arguments", len(dirs))
	}
	if err := f.acme.check(fs, &f); err != nil {
		return err
	}
	if (f.cert == "") != (f.key == "") {
		return usagef("--cert and --key go together")
	}
	if f.grace < 0 {
		return usagef("--grace must not be negative")
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return usagef("--log-format %q: want text or json", f.logFormat)
	}
	if f.debugAddr != "" {
		if _, err := checkDebugAddr(f.debugAddr); err != nil {
			return err
		}
	}
	if f.metricsAddr != "" {
		if f.metricsAddr, err = checkMetricsAddr(f.metricsAddr, f.metricsPublic); err != nil {
			return err
		}
	} else if f.metricsPublic {
		return usagef("--metrics-public goes with --metrics-addr")
	}
	if f.port < 0 || f.port > 65535 || f.httpPort < -1 || f.httpPort > 65535 {
		return usagef("port out of range")
	}
	if f.config != "" && (len(dirs) > 0 || isSet(fs, "port", "host", "http-port", "cert", "key", "client-ca", "listing", "hidden", "max-conns", "max-conns-per-ip", "compress", "cors", "spa", "pfx", "passphrase-file", "listen", "socket-mode")) {
		return usagef("--config describes the whole site: give no directory and no listener flags with it")
	}
	if err := f.listen.check(fs, f.cert); err != nil {
		return err
	}
	if f.config != "" && len(f.listen.inherited) > 0 {
		closeAll(f.listen.inherited)
		return usagef("sockets passed by socket activation are served with the listener flags, not --config")
	}

	var store storage.Storage
	if f.storage != "" {
		st, closeStore, err := openStorage(ctx, f.storage, stderr)
		if err != nil {
			return err
		}
		defer closeStore()
		store = st
	}

	var cfg server.Config
	if f.verbose {
		cfg.Logger = newLogger(stderr, f.logFormat)
	}
	if !f.quiet {
		w := newBatchWriter(stderr)
		defer w.Close()
		f.accessLog = newAccessLogger(w, f.logFormat)
	}
	s := server.New(cfg)
	if cfg.Logger != nil {
		// First route: it only logs who a verified client certificate says the client is.
		if err := s.RouteFunc("*", "*", logClientCertificate(cfg.Logger)); err != nil {
			return err
		}
	}
	if f.metricsAddr != "" {
		f.metrics = newMetrics(s) // before the listeners: tune makes it their Observer
	}
	dev := &devCert{root: f.caRoot, names: f.names}
	what := f.config
	var plain map[*server.Listener]string // http listeners that serve the site, and why
	if f.config != "" {
		plain, err = configureFromFile(s, f.config, dev, f.tune, store)
	} else {
		what = "."
		if len(dirs) == 1 {
			what = dirs[0]
		}
		err = configureFromFlags(s, f, what, dev, store, stdout, stderr)
	}
	if err != nil {
		return err
	}
	var met *sideServer
	if f.metricsAddr != "" {
		if met, err = startMetrics(f.metricsAddr, s, f.metrics); err != nil {
			return err
		}
		defer met.Close()
	}
	var dbg *debugServer
	if f.debugAddr != "" {
		if dbg, err = startDebug(f.debugAddr, s); err != nil {
			return err
		}
		defer dbg.Close()
	}
	frugalGC(f.frugal)
	defer memReport(stderr, "serve")
	if err := s.Start(ctx); err != nil {
		return err
	}
	if abs, err := filepath.Abs(what); err == nil {
		what = abs
	}
	fmt.Fprintf(stdout, "serving %s\n", what)
	if store != nil {
		fmt.Fprintf(stdout, "storage: %s\n", store)
	}
	if dbg != nil {
		fmt.Fprintf(stdout, "debug  %s/debug/vars %s/debug/pprof/\n", dbg.URL(), dbg.URL())
	}
	if met != nil {
		fmt.Fprintf(stdout, "metrics %s/metrics\n", met.URL())
	}
	if f.acme.domain != "" {
		if err := f.acme.print(stdout, store); err != nil {
			return err
		}
	}
	// SIGHUP reloads the certificates; it is caught from before the URL is printed.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	printServing(stdout, s, dev, f.acme.domains(), plain)
	reloadOnHangup(ctx, s, hup, dev, f.acme.domain != "", stdout, stderr) // returns when ctx ends
	fmt.Fprintf(stdout, "stopping: no new connections; waiting up to %s for requests in flight (Ctrl-C again to quit now)\n", f.grace)
	sctx, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	if err := s.Stop(sctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stop: requests still in flight after the %s grace were cut off: %w", f.grace, err)
		}
		return fmt.Errorf("stop: %w", err)
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// isSet reports whether any of the named flags was given on the command line.
func isSet(fs *flag.FlagSet, names ...string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(names, f.Name) {
			found = true
		}
	})
	return found
}

func configureFromFlags(s *server.Server, f serveFlags, dir string, dev *devCert, store storage.Storage, stdout, stderr io.Writer) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("serve: %s is not a directory", dir)
	}
	limits := server.HTTPConfig{Host: f.host, MaxConns: f.maxConns, MaxConnsPerIP: f.maxConnsPerIP}
	f.tune(&limits)
	hc := server.HTTPSConfig{HTTPConfig: limits, Storage: store}
	hc.Port = f.port // 0: any free port, as in the library
	pfx := f.listen.apply(&hc)
	switch {
	case f.acme.domain != "":
		hc.ACME = f.acme.config(stdout, stderr)
	case !pfx:
		if err := dev.fill(&hc, f.cert, f.key, f.host); err != nil {
			return err
		}
	}
	if f.clientCA != "" {
		hc.CA = f.clientCA
		hc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	tl, err := s.AddHTTPSServer(hc)
	if err != nil {
		return err
	}
	if inherited := f.listen.httpListener(); inherited != nil || f.httpPort >= 0 {
		limits.Port, limits.NetListener = f.httpPort, inherited // 0: any free port
		if _, err := s.AddHTTPServer(limits); err != nil {
			return err
		}
		// Plain HTTP only redirects to the HTTPS listener.
		if err := s.RouteFunc("*", "*", httpsRedirect(tl, nil)); err != nil {
			return err
		}
	}
	if f.cors != "" {
		if err := s.CORS("*", server.CORSOptions{Origins: strings.Split(f.cors, ",")}); err != nil {
			return usagef("--cors: %v", err)
		}
	}
	return s.ServeDirectory("/", dir, server.DirectoryOptions{Listing: f.listing, ShowHidden: f.hidden, SPA: f.spa, Compress: f.compress})
}

// httpsRedirect is a route that sends a request that arrived over plain HTTP to the same path
// on tl (308, so the method and body are kept). With from given, only requests that arrived
// on one of those listeners (by local port) are redirected, and the others go on to the next
// routes. Being a route, it runs after the server has answered ACME HTTP-01 challenges.
func httpsRedirect(tl *server.Listener, from []*server.Listener) server.HandlerFunc {
	return func(_ string, req *server.Request, res *server.Response) error {
		r := req.Original()
		if r.TLS != nil || from != nil && !arrivedOn(r, from) {
			return nil
		}
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = tl.Host()
		}
		hostPort := net.JoinHostPort(host, strconv.Itoa(tl.Port()))
		if tl.Port() == 443 {
			hostPort = host
			if strings.Contains(host, ":") {
				hostPort = "[" + host + "]"
			}
		}
		to := "https://" + hostPort + r.URL.RequestURI()
		res.SetHeader("Location", to)
		return res.WriteText(http.StatusPermanentRedirect, "Use HTTPS: "+to+"\n", nil)
	}
}

// arrivedOn reports whether r came through one of the listeners ls, by its local port.
func arrivedOn(r *http.Request, ls []*server.Listener) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	if !ok {
		return false
	}
	for _, l := range ls {
		if l.Port() == a.Port {
			return true
		}
	}
	return false
}

// tune sets what the flags say of every listener: frugal HTTP/2 limits, the access log, and
// the metrics' request counts.
func (f serveFlags) tune(hc *server.HTTPConfig) {
	frugalLimits(hc, f.frugal)
	hc.AccessLog = f.accessLog
	if f.metrics != nil { // a nil *Collector would be a non-nil Observer
		hc.Observer = server.Observers(hc.Observer, f.metrics)
	}
}

// configureFromFile adds the listeners and routes of the config file name; tune sets what
// the command line says of every listener; store is every TLS listener's Storage.
func configureFromFile(s *server.Server, name string, dev *devCert, tune func(*server.HTTPConfig), store storage.Storage) (plain map[*server.Listener]string, err error) {
	site, err := siteconfig.Load(name)
	if err != nil {
		return nil, err
	}
	var tl *server.Listener         // the first TLS listener: where http listeners redirect
	var redirect []*server.Listener // http listeners that redirect to it
	plain = map[*server.Listener]string{}
	for i, l := range site.Listeners {
		hc := server.HTTPConfig{
			Host: l.Host, Port: l.Port,
			ReadHeaderTimeout: time.Duration(l.ReadHeaderTimeout), ReadTimeout: time.Duration(l.ReadTimeout),
			WriteTimeout: time.Duration(l.WriteTimeout), IdleTimeout: time.Duration(l.IdleTimeout),
			MaxHeaderBytes: l.MaxHeaderBytes, MaxBodyBytes: l.MaxBodyBytes,
			MaxConns: l.MaxConns, MaxConnsPerIP: l.MaxConnsPerIP,
			SocketPath: l.SocketPath, SocketMode: fs.FileMode(l.SocketMode),
		}
		tune(&hc)
		if l.Kind == "http" {
			hl, err := s.AddHTTPServer(hc)
			if err != nil {
				return nil, fmt.Errorf("config listeners[%d]: %w", i, err)
			}
			if l.RedirectToHTTPS != nil && !*l.RedirectToHTTPS {
				plain[hl] = fmt.Sprintf(`listeners[%d] has "redirectToHTTPS": false`, i)
			} else {
				redirect = append(redirect, hl)
			}
			continue
		}
		tc := server.HTTPSConfig{HTTPConfig: hc, PFX: l.PFX, Storage: store}
		if l.PFX == "" {
			if err := dev.fill(&tc, l.Cert, l.Key, l.Host); err != nil {
				return nil, fmt.Errorf("config listeners[%d]: %w", i, err)
			}
		}
		if l.PFX != "" || l.Key != "" {
			if tc.Passphrase, err = readPassphrase(l.PassphraseFile); err != nil {
				return nil, fmt.Errorf("config listeners[%d]: passphraseFile: %w", i, err)
			}
		}
		if l.ClientCA != "" {
			tc.CA, tc.ClientAuth = l.ClientCA, tls.RequireAndVerifyClientCert
		}
		add := s.AddHTTPSServer
		if l.Kind == "http2" {
			add = s.AddHTTP2Server
		}
		added, err := add(tc)
		if err != nil && l.PassphraseFile == "" && tc.Passphrase == "" && errors.Is(err, certs.ErrPassphrase) {
			return nil, fmt.Errorf("config listeners[%d]: %w (name a file holding it with \"passphraseFile\", or set $%s)", i, err, passphraseEnv)
		}
		if err != nil {
			return nil, fmt.Errorf("config listeners[%d]: %w", i, err)
		}
		if tl == nil && l.SocketPath == "" { // a redirect cannot name a Unix socket
			tl = added
		}
	}
	if tl == nil {
		for _, hl := range redirect {
			plain[hl] = "the config has no https or http2 listener to redirect to"
		}
	} else if len(redirect) > 0 {
		if err := s.RouteFunc("*", "*", httpsRedirect(tl, redirect)); err != nil {
			return nil, err
		}
	}
	for i, r := range site.Routes {
		method := r.Method
		if method == "" {
			method = "*"
		}
		var err error
		switch {
		case r.Redirect != "":
			err = s.Redirect(method, r.Path, r.Redirect, r.Temporary)
		default:
			var fi os.FileInfo
			if fi, err = os.Stat(r.Serve); err == nil && fi.IsDir() {
				err = s.ServeDirectory(r.Path, r.Serve, server.DirectoryOptions{Listing: r.Listing, Compress: r.Compress, SPA: r.SPA})
			} else {
				err = s.Serve(r.Path, r.ContentType, r.Serve)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("config routes[%d]: %w", i, err)
		}
	}
	return plain, nil
}

// devCert supplies certificates from the development CA, loading it on first use.
type devCert struct {
	root  string
	names []string // --name: more hosts for every certificate
	ca    *certs.CA
	made  bool // this run created the CA
}

// fill sets the listener's certificate: the given files, or one issued by the development CA.
func (d *devCert) fill(hc *server.HTTPSConfig, cert, key, host string) error {
	if cert != "" {
		hc.Cert, hc.Key = cert, key
		return nil
	}
	if d.ca == nil {
		root := d.root
		if root == "" {
			r, err := certs.DefaultRoot()
			if err != nil {
				return err
			}
			root = r
		}
		ca, created, err := certs.LoadOrCreateCA(root)
		if err != nil {
			return err
		}
		d.ca, d.made = ca, created
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range slices.Concat([]string{host}, lanHosts(host), d.names) {
		if h != "" && !isWildcard(h) && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	c, k, err := d.ca.Issue(certs.LeafOptions{Hosts: hosts})
	if err != nil {
		return err
	}
	hc.CertPEM, hc.KeyPEM = c, k
	return nil
}

// printServing prints the URL of each listener, then the CA to trust. domains are the ACME
// names, if any. A listener on every interface gets a URL for each LAN address and host name
// (lan.go) and each --name, or for each other ACME name. plain gives why an http listener
// serves the site over plain HTTP instead of redirecting to HTTPS.
func printServing(w io.Writer, s *server.Server, dev *devCert, domains []string, plain map[*server.Listener]string) {
	name := "localhost" // the name the development certificate is valid for
	if len(domains) > 0 {
		name = domains[0]
	}
	var first string
	for _, l := range s.Servers() {
		u := l.URL() + "/"
		var more []string // every other URL that reaches a listener on every interface
		if h := l.Host(); isWildcard(h) {
			scheme, port := "https", strconv.Itoa(l.Port())
			if l.TLSConfig() == nil {
				scheme = "http"
			}
			u = scheme + "://" + net.JoinHostPort(name, port) + "/"
			others := slices.Concat(lanHosts(h), dev.names)
			if len(domains) > 0 {
				others = domains[1:]
			}
			for _, m := range others {
				if m = scheme + "://" + net.JoinHostPort(strings.Trim(m, "[]"), port) + "/"; !slices.Contains(more, m) && m != u {
					more = append(more, m)
				}
			}
		}
		how := u // what curl needs to reach it
		fmt.Fprintf(w, "%-6s %s\n", l.Kind(), u)
		for _, m := range more {
			fmt.Fprintf(w, "%-6s %s\n", "", m)
		}
		if socket, ok := strings.CutPrefix(l.Addr(), "unix:"); ok {
			how = "--unix-socket " + socket + " " + u
			fmt.Fprintf(w, "%-6s on the Unix socket %s\n", "", socket)
		}
		if why, ok := plain[l]; ok {
			fmt.Fprintf(w, "       serves the site over plain HTTP, not redirected to HTTPS: %s\n", why)
		}
		if first == "" && l.Kind() != server.KindHTTP {
			first = how
		}
	}
	if dev.ca != nil {
		if dev.made {
			fmt.Fprintf(w, "created the development CA in %s\n", filepath.Dir(dev.ca.CertFile))
		}
		fmt.Fprintf(w, "CA file: %s\n", dev.ca.CertFile)
		if first != "" {
			fmt.Fprintf(w, "try:     curl --cacert %s %s\n", dev.ca.CertFile, first)
		}
	}
	fmt.Fprintln(w, "press Ctrl-C to stop")
}

// reloadOnHangup reloads the certificate, key and client CA files of every TLS listener of s
// on each signal from hup, until ctx ends; with acme, the TLS listeners renew their own
// certificates and it only says what they serve. It says what it did on stdout, and a failure on
// stderr: that listener keeps serving its previous certificate.
func reloadOnHangup(ctx context.Context, s *server.Server, hup <-chan os.Signal, dev *devCert, acme bool, stdout, stderr io.Writer) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		for _, l := range s.Servers() {
			tc := l.TLSConfig()
			if tc == nil {
				continue
			}
			err := l.ReloadCertificate()
			name := l.Kind() + " " + l.URL() + "/"
			if err != nil && !errors.Is(err, server.ErrNotReloadable) {
				fmt.Fprintf(stderr, "httpskit: SIGHUP: %v\n", err)
				continue
			}
			leaf := l.Certificate()
			if acme {
				state := "has no certificate yet"
				if leaf != nil {
					state = fmt.Sprintf("serves serial %s, valid until %s", leaf.SerialNumber.Text(16), leaf.NotAfter.UTC().Format(time.RFC3339))
				}
				fmt.Fprintf(stdout, "SIGHUP: %s gets its certificate from ACME and renews it itself; it %s\n", name, state)
				continue
			}
			// A listener whose pair comes from files hands it out with GetCertificate.
			if tc.GetCertificate != nil {
				ca := ""
				if tc.GetConfigForClient != nil {
					ca = " and client CA"
				}
				fmt.Fprintf(stdout, "SIGHUP: reloaded certificate%s of %s: serial %s, %s, valid until %s\n",
					ca, name, leaf.SerialNumber.Text(16), leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
				continue
			}
			origin := "was given as PEM text"
			if dev.ca != nil && leaf != nil && leaf.CheckSignatureFrom(dev.ca.Cert) == nil {
				origin = "was issued in memory by the development CA (serve --cert and --key files to renew it without a restart)"
			}
			if err == nil { // the client CA file only
				fmt.Fprintf(stdout, "SIGHUP: reloaded client CA of %s; nothing on disk to reload for its certificate, which %s\n", name, origin)
				continue
			}
			fmt.Fprintf(stdout, "SIGHUP: nothing on disk to reload for %s: its certificate %s\n", name, origin)
		}
	}
}

// logClientCertificate is a route that logs the identity of each client that presented a
// verified certificate (serve --client-ca with -v), and lets the next routes answer.
func logClientCertificate(logger *slog.Logger) server.HandlerFunc {
	return func(_ string, req *server.Request, _ *server.Response) error {
		if c := req.ClientCertificate(); c != nil {
			logger.Info("client certificate", "method", req.Method(), "path", req.Path(),
				"subject", c.Subject.String(), "serial", c.SerialNumber.Text(16), "from", req.Origin())
		}
		return nil
	}
}
