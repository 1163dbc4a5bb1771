"use strict";
// Command-line arguments of the suite's Node servers (https-server.js, awesome-server.js):
//   --port N --cert FILE --key FILE [--host 127.0.0.1] [--h2]
// An unknown argument exits with status 2.
module.exports = function serverArgs(argv) {
	const o = { host: "127.0.0.1", port: 8443, cert: "cert.pem", key: "key.pem", h2: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === "--h2") o.h2 = true;
		else if (a === "--port") o.port = Number(argv[++i]);
		else if (a === "--host") o.host = argv[++i];
		else if (a === "--cert") o.cert = argv[++i];
		else if (a === "--key") o.key = argv[++i];
		else { console.error("unknown argument " + a); process.exit(2); }
	}
	return o;
};
