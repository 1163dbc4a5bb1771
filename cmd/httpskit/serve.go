package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/httpskit/httpskit/certs"
	"github.com/httpskit/httpskit/internal/siteconfig"
	"github.com/httpskit/httpskit/server"
)

// stopGrace bounds how long Ctrl-C waits for in-flight requests.
const stopGrace = 10 * time.Second

type serveFlags struct {
	host, cert, key, clientCA, config, caRoot string
	port, httpPort                            int
	listing, hidden, verbose                  bool
}

// runServe implements `httpskit serve [DIR]`.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := newFlagSet("serve", "[flags] [DIR]", stderr)
	fs.StringVar(&f.host, "host", server.DefaultHost, "interface to bind (0.0.0.0 for every interface)")
	fs.IntVar(&f.port, "port", server.DefaultPort, "HTTPS port (0 for any free port)")
	fs.IntVar(&f.httpPort, "http-port", -1, "also listen for plain HTTP on this port, redirecting to HTTPS (0 for any free port; -1: off)")
	fs.StringVar(&f.cert, "cert", "", "certificate PEM file (default: issued by the development CA)")
	fs.StringVar(&f.key, "key", "", "private key PEM file for --cert")
	fs.StringVar(&f.clientCA, "client-ca", "", "require client certificates signed by this CA (PEM file)")
	fs.StringVar(&f.config, "config", "", "JSON file describing listeners and routes (see docs)")
	fs.StringVar(&f.caRoot, "ca-root", "", "development CA directory (default $HTTPSKIT_CAROOT or the user config dir)")
	fs.BoolVar(&f.listing, "listing", true, "list directories that have no index.html")
	fs.BoolVar(&f.hidden, "hidden", false, "serve dotfiles (hidden by default, except .well-known)")
	fs.BoolVar(&f.verbose, "v", false, "log requests errors and listener events to stderr")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) > 1 {
		return usagef("serve takes at most one directory, got %d arguments", len(dirs))
	}
	if (f.cert == "") != (f.key == "") {
		return usagef("--cert and --key go together")
	}
	if f.port < 0 || f.port > 65535 || f.httpPort < -1 || f.httpPort > 65535 {
		return usagef("port out of range")
	}
	if f.config != "" && (len(dirs) > 0 || isSet(fs, "port", "host", "http-port", "cert", "key", "client-ca", "listing", "hidden")) {
		return usagef("--config describes the whole site: give no directory and no listener flags with it")
	}

	var cfg server.Config
	if f.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	s := server.New(cfg)
	dev := &devCert{root: f.caRoot}
	what := f.config
	if f.config != "" {
		err = configureFromFile(s, f.config, dev)
	} else {
		what = "."
		if len(dirs) == 1 {
			what = dirs[0]
		}
		err = configureFromFlags(s, f, what, dev)
	}
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	if abs, err := filepath.Abs(what); err == nil {
		what = abs
	}
	fmt.Fprintf(stdout, "serving %s\n", what)
	printServing(stdout, s, dev)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping: waiting for requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	if err := s.Stop(sctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
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

func configureFromFlags(s *server.Server, f serveFlags, dir string, dev *devCert) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("serve: %s is not a directory", dir)
	}
	port := f.port
	if port == 0 {
		port = server.RandomPort
	}
	hc := server.HTTPSConfig{HTTPConfig: server.HTTPConfig{Host: f.host, Port: port}}
	if err := dev.fill(&hc, f.cert, f.key, f.host); err != nil {
		return err
	}
	if f.clientCA != "" {
		hc.CA = f.clientCA
		hc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	tl, err := s.AddHTTPSServer(hc)
	if err != nil {
		return err
	}
	if f.httpPort >= 0 {
		hp := f.httpPort
		if hp == 0 {
			hp = server.RandomPort
		}
		if _, err := s.AddHTTPServer(server.HTTPConfig{Host: f.host, Port: hp}); err != nil {
			return err
		}
		// Plain HTTP only redirects to the HTTPS listener.
		if err := s.RouteFunc("*", "*", httpsRedirect(tl)); err != nil {
			return err
		}
	}
	return s.ServeDirectory("/", dir, server.DirectoryOptions{Listing: f.listing, ShowHidden: f.hidden})
}

// httpsRedirect sends requests that arrived over plain HTTP to the same path on tl.
func httpsRedirect(tl *server.Listener) server.HandlerFunc {
	return func(_ string, req *server.Request, res *server.Response) error {
		if req.Original().TLS != nil {
			return nil
		}
		host, _, err := net.SplitHostPort(req.Original().Host)
		if err != nil {
			host = tl.Host()
		}
		to := "https://" + net.JoinHostPort(host, strconv.Itoa(tl.Port())) + req.Original().URL.RequestURI()
		res.SetHeader("Location", to)
		return res.WriteText(http.StatusPermanentRedirect, "Use HTTPS: "+to+"\n", nil)
	}
}

func configureFromFile(s *server.Server, name string, dev *devCert) error {
	site, err := siteconfig.Load(name)
	if err != nil {
		return err
	}
	for i, l := range site.Listeners {
		hc := server.HTTPConfig{
			Host: l.Host, Port: l.Port,
			ReadHeaderTimeout: time.Duration(l.ReadHeaderTimeout), ReadTimeout: time.Duration(l.ReadTimeout),
			WriteTimeout: time.Duration(l.WriteTimeout), IdleTimeout: time.Duration(l.IdleTimeout),
			MaxHeaderBytes: l.MaxHeaderBytes, MaxBodyBytes: l.MaxBodyBytes,
		}
		if l.Kind == "http" {
			if _, err := s.AddHTTPServer(hc); err != nil {
				return fmt.Errorf("config listeners[%d]: %w", i, err)
			}
			continue
		}
		tc := server.HTTPSConfig{HTTPConfig: hc}
		if err := dev.fill(&tc, l.Cert, l.Key, l.Host); err != nil {
			return fmt.Errorf("config listeners[%d]: %w", i, err)
		}
		if l.ClientCA != "" {
			tc.CA, tc.ClientAuth = l.ClientCA, tls.RequireAndVerifyClientCert
		}
		add := s.AddHTTPSServer
		if l.Kind == "http2" {
			add = s.AddHTTP2Server
		}
		if _, err := add(tc); err != nil {
			return fmt.Errorf("config listeners[%d]: %w", i, err)
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
				err = s.ServeDirectory(r.Path, r.Serve, server.DirectoryOptions{Listing: r.Listing})
			} else {
				err = s.Serve(r.Path, r.ContentType, r.Serve)
			}
		}
		if err != nil {
			return fmt.Errorf("config routes[%d]: %w", i, err)
		}
	}
	return nil
}

// devCert supplies certificates from the development CA, loading it on first use.
type devCert struct {
	root string
	ca   *certs.CA
	made bool // this run created the CA
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
	if host != "" && !slices.Contains(hosts, host) && host != "0.0.0.0" && host != "::" {
		hosts = append(hosts, host)
	}
	c, k, err := d.ca.Issue(certs.LeafOptions{Hosts: hosts})
	if err != nil {
		return err
	}
	hc.CertPEM, hc.KeyPEM = c, k
	return nil
}

func printServing(w io.Writer, s *server.Server, dev *devCert) {
	var first string
	for _, l := range s.Servers() {
		u := l.URL() + "/"
		if h := l.Host(); h == "0.0.0.0" || h == "::" {
			// Every interface: show the name the development certificate is valid for.
			u = strings.Replace(u, "://"+net.JoinHostPort(h, strconv.Itoa(l.Port())), "://"+net.JoinHostPort("localhost", strconv.Itoa(l.Port())), 1)
		}
		if first == "" && l.Kind() != server.KindHTTP {
			first = u
		}
		fmt.Fprintf(w, "%-6s %s\n", l.Kind(), u)
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
