"use strict";
// Node peer of the httpskit benchmark suite: https.createServer (or, with --h2,
// http2.createSecureServer with allowHTTP1) answering GET / with the 13-byte "Hello, World!".
//
//   node https-server.js --port 8443 --cert cert.pem --key key.pem [--host 127.0.0.1] [--h2]
const fs = require("fs");
const https = require("https");
const http2 = require("http2");


const o = require("./args")(process.argv.slice(2));
const tls = { cert: fs.readFileSync(o.cert), key: fs.readFileSync(o.key) };
const body = Buffer.from("Hello, World!");

function handle(req, res) {
	if (req.method !== "GET" || req.url !== "/") {
		res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
		res.end("404 Not found\n");
		return;
	}
	res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
	res.end(body);
}

const server = o.h2
	? http2.createSecureServer(Object.assign({ allowHTTP1: true }, tls), handle)
	: https.createServer(tls, handle);
// Idle connections must survive the idle-memory measurement (Node closes them after 5 s by default).
server.keepAliveTimeout = 120000;
server.listen(o.port, o.host, () => {
	console.log("listening https://" + o.host + ":" + server.address().port + "/ pid=" + process.pid + (o.h2 ? " h2" : ""));
});
const shutdown = () => { server.close(); process.exit(0); };
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
