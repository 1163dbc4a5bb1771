"use strict";
// AwesomeServer (npm @awesomeeng/awesome-server 1.4.0) peer of the httpskit benchmark suite: an
// HTTPS listener (or, with --h2, its HTTP/2 listener, which also takes HTTP/1.1) answering
// GET / with the 13-byte "Hello, World!" through response.writeText.
//
//   node awesome-server.js --port 8443 --cert cert.pem --key key.pem [--host 127.0.0.1] [--h2]
const AwesomeServer = require("@awesomeeng/awesome-server");

const o = require("./args")(process.argv.slice(2));
const server = new AwesomeServer({ informative: false });
// "hostname", not "host": AwesomeServer ignores "host". cert and key are file names, which
// AwesomeServer resolves against the working directory, so the suite passes absolute paths.
const config = { hostname: o.host, port: o.port, cert: o.cert, key: o.key };
const listener = o.h2 ? server.addHTTP2Server(config) : server.addHTTPSServer(config);
server.route("GET", "/", (path, request, response) => response.writeText("Hello, World!"));
// AwesomeServer's start() never settles on a listen error (it only logs), so give up after 10 s.
const timer = setTimeout(() => { console.error("awesome-server: not listening after 10 s"); process.exit(1); }, 10000);
server.start().then(() => {
	clearTimeout(timer);
	// Idle connections must survive the idle-memory measurement (Node closes them after 5 s by default).
	if (listener.original) listener.original.keepAliveTimeout = 120000;
	console.log("listening https://" + o.host + ":" + o.port + "/ pid=" + process.pid + (o.h2 ? " h2" : ""));
}, (err) => { console.error("awesome-server:", err && err.message); process.exit(1); });
const shutdown = () => { process.exit(0); };
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
