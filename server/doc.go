// Package server is an HTTPS server shaped like AwesomeServer: any number of HTTP, HTTPS and
// HTTP/2 listeners sharing one ordered router, with routes in AwesomeServer's path grammar,
// controllers, file and directory serving, redirects and HTTP/2 push, and request and response
// wrappers that still give the original net/http objects.
//
// A Server is built on net/http: each listener is an *http.Server (Listener.Original), the
// Server itself is an http.Handler (mount it anywhere with ServeHTTP), and the wrappers return
// the *http.Request and http.ResponseWriter (Request.Original, Response.Original).
//
// # Routing
//
// Every route whose method is "*" or the request's method, and whose path matches, runs in the
// order the routes were added, until one finishes the response. When none does, the reply is
// 404 "Not found <METHOD> <url>."; when a handler returns an error or panics, 500 "Error
// handling request <METHOD> <url>.", never with a stack trace. A route that wrote part of a
// response and returned is ended cleanly; a handler that fails after writing part of a response
// makes the server cut the connection, so the client sees an error and not a short body. No
// request can stop the process. The path grammar is described on Server.Route.
//
// # Secure defaults
//
// Listeners bind "localhost" unless told otherwise: 127.0.0.1 and [::1] on one port, as browsers
// reach it by either. TLS listeners accept TLS 1.2 and newer only and negotiate HTTP/2 or
// HTTP/1.1 by ALPN; HTTP/2 is served by httpskit's batching engine (HTTPSConfig.HTTP2Engine;
// HTTP2NetHTTP goes back to net/http's). Everything a client controls is bounded (see
// HTTPConfig): the time to send headers (10s), to send the whole request (2m), to receive the
// response (10m), to sit idle between requests (2m), the header size (64 KiB, larger gets 431)
// and the body size (32 MiB, larger gets 413). A TLS handshake must finish within the shortest
// of the read and write timeouts. A listener holds at most 4096 connections, 256 from one client
// address (the longest-idle connection makes room first). TLS 1.2 offers only ECDHE suites with
// AEAD ciphers. An HTTP/1.x request with a Transfer-Encoding is answered and its connection
// closed, so nothing smuggled after its body is read as a request. Serving a directory never
// reaches outside it. docs/security.md lists every hostile case and its test.
//
// # Serving a web site
//
// ServeDirectory and ServeFS (any fs.FS, such as an embed.FS) serve files with an ETag and
// answer If-None-Match and If-Modified-Since with 304; DirectoryOptions adds listings, a
// single-page-app fallback (SPA) and compression (Compress: gzip on the fly or precompressed
// .br/.zst/.gz siblings, negotiated from Accept-Encoding). CORS adds a route answering
// preflights for the routes after it. A GET route also answers HEAD. RouteHandler mounts any
// http.Handler, such as a ServeMux under a prefix. Per listener, HTTPConfig.AccessLog logs one
// line per request and HTTPConfig.Observer sees every finished request (RequestInfo: status,
// bytes, duration), which is where metrics hook in; HTTPConfig's HTTP2 fields bound what one
// HTTP/2 connection may hold (FrugalHTTP2 for small devices).
//
// # Certificate reload and mutual TLS
//
// A TLS listener whose certificate and key (or client CA) are file names watches them and puts
// a renewed pair in service within a second or two, with no restart and no failed handshake;
// Listener.ReloadCertificate and Server.ReloadCertificates do it at once (serve calls them on
// SIGHUP). A broken renewal is refused and logged, and the previous certificate stays. With
// HTTPSConfig.CA and ClientAuth tls.RequireAndVerifyClientCert, Request.ClientCertificate
// returns the client's verified certificate: its subject and names are the client's identity.
//
// # Certificate formats, Unix sockets and inherited listeners
//
// Cert and Key may name PEM, DER or PKCS #12 files, and Key may be an encrypted PKCS #8 key;
// HTTPSConfig.PFX takes a .p12/.pfx file and Passphrase opens it or the encrypted key, as
// Node's pfx and passphrase options do (package certs has the formats and their errors).
// Reload covers them: a renewed PFX or encrypted key is opened with the same Passphrase.
//
// HTTPConfig.SocketPath listens on a Unix domain socket instead of TCP, for a reverse proxy on
// the same machine (nginx "proxy_pass https://unix:/run/site.sock:") or a local client (curl
// --unix-socket). The socket file belongs to the process's user and group with mode
// SocketMode (DefaultSocketMode, 0660, when zero), is removed by Stop, and a stale one left by
// a crashed server is replaced only when it is a socket that nothing answers on; a running
// server's socket or any other file at the path makes Start fail and is left alone.
// Connections over a Unix socket count towards MaxConns but have no IP for MaxConnsPerIP.
//
// HTTPConfig.NetListener serves a net.Listener the caller made: a socket handed over by
// systemd (socket activation; "httpskit serve" reads LISTEN_FDS), or one a test opened. Stop
// closes it, so it serves once.
//
// # Certificates from an ACME CA
//
// With HTTPSConfig.ACME a TLS listener obtains its certificate from Let's Encrypt (or any ACME
// CA) for ACMEConfig.Domains and renews it when a third of its lifetime is left. Start never
// waits for the CA: the order runs in the background, and a failure is logged with the CA's
// own error, reported to ACMEConfig.Notify and retried with backoff while the certificate in
// service stays. The account, certificates and order locks live in HTTPSConfig.Storage
// (DefaultStorage when nil): a restart orders nothing, and instances sharing one Storage order
// once and answer each other's challenges. The CA validates through TLS-ALPN-01 on the listener
// or HTTP-01 on a plain HTTP listener of the same Server. ACME listeners send
// Strict-Transport-Security (one year; ACMEConfig.DisableHSTS) and staple OCSP responses when
// the certificate names a responder.
//
//	s.AddHTTPSServer(HTTPSConfig{
//		HTTPConfig: HTTPConfig{Host: "0.0.0.0", Port: 443},
//		ACME:       &ACMEConfig{Domains: []string{"example.com"}, Email: "you@example.com"},
//	})
//
// # Session tickets and several instances
//
// A TLS listener rotates its session-ticket keys every hour and keeps each for a day after
// (TicketKeyRotation, TicketKeyLifetime), off the handshake path. Instances of one site behind
// a load balancer that share one HTTPSConfig.Storage (a storage/redisstore.Store, or a
// storage.Dir on one machine) share the keys, so a client resumes its session on any of them;
// the storage failing stops no listener (see HTTPSConfig.Storage and docs/scaling.md).
//
// # From AwesomeServer to this package
//
//	AwesomeServer                          package server
//	new AwesomeServer(config)              New(Config{Logger: ...})
//	server.addHTTPServer({host, port})     s.AddHTTPServer(HTTPConfig{Host, Port})
//	server.addHTTPSServer({cert, key})     s.AddHTTPSServer(HTTPSConfig{Cert, Key})  (PEM text, CertPEM bytes, or file name)
//	Node https {pfx, passphrase}           HTTPSConfig{PFX, Passphrase}; {key, passphrase}: HTTPSConfig{Key, Passphrase}
//	Node server.listen(path)               HTTPConfig{SocketPath, SocketMode}
//	Node server.listen(handle)             HTTPConfig{NetListener}
//	server.addHTTP2Server(config)          s.AddHTTP2Server(HTTPSConfig{...})
//	port 0 (random), default 7080          Port 0 (RandomPort) is any free port; DefaultPort is 7080
//	server.removeServer(s) / servers       s.RemoveServer(l) / s.Servers()
//	server.start() / stop() / running      s.Start(ctx) / s.Stop(ctx) / s.Running()
//	server.route(method, path, handler)    s.Route / s.RouteFunc / s.RouteRegexp
//	server.unroute(...) / routes           s.Unroute / s.RemoveAllRoutes / s.Routes()
//	server.redirect(m, path, to, temp)     s.Redirect(m, path, to, temp)
//	server.serve(path, [type], file|dir)   s.Serve(path, type, file) / s.ServeDirectory / s.ServeFS
//	server.push(path, ref, [type], file)   s.Push(path, ref, type, file)
//	class X extends AbstractController     server.Controller(&X{}) with Get/Post/.../Any/Before/After
//	request.original / response.original   req.Original() / res.Original()
//	request.querystring                    req.QueryString() ("" when there is none)
//	request.positional / params            req.Param(name)
//	request.read/readText/readJSON         req.Read / ReadText / ReadJSON (bounded by MaxBodyBytes)
//	response.writeHead/write/end           res.WriteHead / Write / End
//	response.writeText/HTML/CSS/JSON       res.WriteText / WriteHTML / WriteCSS / WriteJSON
//	response.writeError(status, err)       res.WriteError(status, err) (message only, status kept)
//	response.serve / pipeFrom              res.Serve / res.PipeFrom
//	response.pushSupported                 res.PushSupported()
//
// # Where this package differs from AwesomeServer, on purpose
//
//   - Start binds every listener or none, and returns the error (upstream hangs on a busy port
//     and leaks the listeners that did start).
//   - The host setting is honoured. Port 0 is any free port, as upstream's docs say (its code
//     bound 7080); write DefaultPort for 7080, which serve and a config file use by default.
//   - A certificate or key problem is reported by AddHTTPSServer, naming the problem.
//   - Request bodies are bounded; malformed percent escapes get 400; nothing a request does
//     can crash the process or leak a stack trace or an absolute path.
//   - One Content-Type reaches the wire whatever the case of the header name given.
//   - Positional values and regexp groups are read with Param on every kind of route,
//     including the parts of an "or" path; regexp routes get the remaining path.
//   - Serve of a directory serves index.html of sub-folders, relative to that directory.
//   - Push never turns a page into a 500 when the client refuses pushes.
//   - A GET route answers HEAD (upstream sends 404 unless a HEAD route exists).
package server
