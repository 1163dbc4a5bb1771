package redisstore_test

import (
	"context"
	"log"

	"github.com/httpskit/httpskit/server"
	"github.com/httpskit/httpskit/storage/redisstore"
)

// Every instance of a site behind one load balancer gets the same Redis: they share their TLS
// session-ticket keys, so a client resumes its session on any of them.
func ExampleNew() {
	st, err := redisstore.New(redisstore.Options{URL: "redis://:password@10.0.0.5:6379/0"})
	if err != nil {
		log.Fatal(err) // a bad URL; New does not connect
	}
	defer st.Close()
	if err := st.Ping(context.Background()); err != nil {
		log.Print(err) // the server still serves: the keys stay in the process until Redis answers
	}
	s := server.New(server.Config{})
	if _, err := s.AddHTTPSServer(server.HTTPSConfig{Cert: "site.pem", Key: "site.key", Storage: st}); err != nil {
		log.Fatal(err)
	}
	// s.Start(ctx) ...
}
