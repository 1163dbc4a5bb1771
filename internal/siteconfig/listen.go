package siteconfig

import (
	"errors"
	"fmt"
	"strings"
)

// socket checks the Unix-socket fields of l and sets SocketPath from Listen.
func (l *Listener) socket() error {
	if l.Listen != "" {
		path, ok := strings.CutPrefix(l.Listen, "unix:")
		if !ok || path == "" {
			return fmt.Errorf("\"listen\" takes \"unix:PATH\" (use \"host\" and \"port\" for TCP), got %q", l.Listen)
		}
		if l.SocketPath != "" {
			return errors.New("\"listen\" and \"socketPath\" both name the socket: give one")
		}
		l.SocketPath = path
	}
	switch {
	case l.SocketPath == "" && l.SocketMode != 0:
		return errors.New("\"socketMode\" goes with \"socketPath\" or \"listen\": \"unix:PATH\"")
	case l.SocketPath != "" && (l.Host != "" || l.portGiven):
		return errors.New("a listener on a Unix socket has no \"host\" or \"port\"")
	}
	return nil
}

// checkRedirects refuses an http listener that would redirect to HTTPS where no redirect can
// go: from a Unix socket, or to a Unix socket (a URL cannot name one). With no TLS listener in
// the file, http listeners serve the routes and there is nothing to check.
func (s *Site) checkRedirects() error {
	anyTLS, tcpTLS := false, false
	for _, l := range s.Listeners {
		if l.Kind != "http" {
			anyTLS = true
			tcpTLS = tcpTLS || l.SocketPath == ""
		}
	}
	if !anyTLS {
		return nil
	}
	for i, l := range s.Listeners {
		if l.Kind != "http" || l.RedirectToHTTPS != nil && !*l.RedirectToHTTPS {
			continue
		}
		switch {
		case l.SocketPath != "":
			return fmt.Errorf("listeners[%d]: an http listener on a Unix socket cannot redirect to HTTPS: set \"redirectToHTTPS\": false to serve the routes on it", i)
		case !tcpTLS:
			return fmt.Errorf("listeners[%d]: every https listener is on a Unix socket, which a redirect cannot name: set \"redirectToHTTPS\": false, or add an https listener with a port", i)
		}
	}
	return nil
}
