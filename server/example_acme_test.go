package server_test

import (
	"context"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/httpskit/httpskit/server"
)

// A public site: the certificate for example.com comes from Let's Encrypt and renews itself;
// plain HTTP on port 80 answers the CA's HTTP-01 requests and redirects everything else.
// (Not run: it needs the names to point at this machine.)
func ExampleACMEConfig() {
	s := server.New(server.Config{})
	_, err := s.AddHTTPSServer(server.HTTPSConfig{
		HTTPConfig: server.HTTPConfig{Host: "0.0.0.0", Port: 443},
		ACME: &server.ACMEConfig{
			Domains: []string{"example.com", "www.example.com"},
			Email:   "ops@example.com",
			// DirectoryURL: server.LetsEncryptStaging, while trying the setup out
			Notify: func(e server.ACMEEvent) {
				switch e.Kind {
				case server.ACMEObtained, server.ACMELoaded:
					log.Printf("certificate for %v %s, valid until %s", e.Domains, e.Kind, e.NotAfter)
				case server.ACMEFailed:
					log.Printf("certificate for %v: %v; next try in %s", e.Domains, e.Err, e.Retry)
				}
			},
		},
		// Storage: nil keeps the account and certificates in server.DefaultStorage();
		// instances behind one load balancer share one Storage.
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.AddHTTPServer(server.HTTPConfig{Host: "0.0.0.0", Port: 80}); err != nil {
		log.Fatal(err)
	}
	// The first route sends plain HTTP to HTTPS; the listeners share the routes, so it
	// lets requests that came over TLS through to the next ones.
	err = s.RouteFunc("*", "*", func(_ string, req *server.Request, res *server.Response) error {
		if req.Original().TLS != nil {
			return nil
		}
		host := req.Original().Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h // drop ":80"
		}
		res.SetHeader("Location", "https://"+host+req.Original().URL.RequestURI())
		return res.WriteText(http.StatusPermanentRedirect, "Use HTTPS.\n", nil)
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := s.Start(ctx); err != nil { // returns at once: the order runs in the background
		log.Fatal(err)
	}
	<-ctx.Done()
	s.Stop(context.Background())
}
