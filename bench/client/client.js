// The Node side of the client comparison of the benchmark suite (see main.go for the Go side):
//
//   node client.js --mode seq|par|download|one --url URL [--n 1000] [--p 50] [--ca FILE]
//
// seq: --n sequential GETs on one kept-alive connection (an Agent with keepAlive, maxSockets 1);
// par: --p GETs at once on the default agent; download: one GET, the body streamed and counted,
// checked against Content-Length; one: one GET. Node's https speaks HTTP/1.1 only.
// It prints one JSON line, {"impl":"node","mode":...,"n":...,"wall_ms":...,"bytes":...,
// "proto":"HTTP/1.1"}, and exits 1 on any failure, with a message on stderr (2 for bad usage).
'use strict';

const fs = require('fs');
const https = require('https');

function usage(msg) {
  process.stderr.write(`client.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const cfg = { mode: 'seq', url: '', n: 1000, p: 50, ca: '' };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, '');
    if (!(name in cfg) || i + 1 >= argv.length) usage(`bad argument ${argv[i]}`);
    const v = argv[++i];
    cfg[name] = typeof cfg[name] === 'number' ? Number(v) : v;
  }
  if (!['seq', 'par', 'download', 'one'].includes(cfg.mode)) usage(`--mode ${cfg.mode}: want seq, par, download or one`);
  if (!cfg.url.startsWith('https://')) usage(`--url ${cfg.url}: want an https:// URL`);
  if (!(Number.isInteger(cfg.n) && cfg.n >= 1 && Number.isInteger(cfg.p) && cfg.p >= 1)) usage('--n and --p must be at least 1');
  return cfg;
}

// get makes one GET and resolves to {bytes, proto}; with check, the body length must match
// Content-Length.
function get(url, options, check) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, options, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('end', () => {
        if (!res.complete) return reject(new Error('response cut short'));
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        if (check) {
          const cl = res.headers['content-length'];
          if (cl === undefined) return reject(new Error('download: the response has no Content-Length'));
          if (Number(cl) !== bytes) return reject(new Error(`download: ${bytes} bytes, Content-Length ${cl}`));
        }
        resolve({ bytes, proto: `HTTP/${res.httpVersion}` });
      });
    });
    req.on('error', reject);
  });
}

async function main() {
  const cfg = parseArgs(process.argv.slice(2));
  const ca = cfg.ca ? fs.readFileSync(cfg.ca) : undefined;
  const out = { impl: 'node', mode: cfg.mode, n: 1, wall_ms: 0, bytes: 0, proto: '' };
  let agent;
  const start = process.hrtime.bigint();
  if (cfg.mode === 'seq') {
    agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    out.n = cfg.n;
    for (let i = 0; i < cfg.n; i++) {
      const r = await get(cfg.url, { agent }, false);
      out.bytes += r.bytes;
      out.proto = r.proto;
    }
  } else if (cfg.mode === 'par') {
    out.n = cfg.p;
    const rs = await Promise.all(Array.from({ length: cfg.p }, () => get(cfg.url, { ca }, false)));
    for (const r of rs) {
      out.bytes += r.bytes;
      out.proto = r.proto;
    }
  } else {
    const r = await get(cfg.url, { ca }, cfg.mode === 'download');
    out.bytes = r.bytes;
    out.proto = r.proto;
  }
  out.wall_ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (agent) agent.destroy();
  https.globalAgent.destroy();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`client.js: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
