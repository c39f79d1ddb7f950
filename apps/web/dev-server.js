#!/usr/bin/env node
// A development server for the inbox page: serves apps/web/public at `/` and
// apps/web/client at `/client/` with the page's Content-Security-Policy, and
// forwards `/api/`, `/ws/`, `/healthz` and `/readyz` (WebSocket upgrades
// included) to a running notification server. Edit a file, reload the page:
// no rebuild of the Rust binary. Same origin as the page, so no CORS involved.
//
//   node apps/web/dev-server.js [--api http://127.0.0.1:8080] [--port 8081]

import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = dirname(fileURLToPath(import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.ts': 'text/plain; charset=utf-8' };
const FORWARDED = ['/api/', '/ws/', '/healthz', '/readyz'];

const { values } = parseArgs({ options: { api: { type: 'string', default: 'http://127.0.0.1:8080' }, port: { type: 'string', default: '8081' } } });
const api = new URL(values.api);
const apiPort = Number(api.port || 80);
const csp = (await readFile(join(ROOT, 'content-security-policy.txt'), 'utf8')).trim();

/** Maps a request path to a file under public/ or client/, or null (never outside them). */
function fileFor(pathname) {
  const [folder, rest] = pathname.startsWith('/client/') ? ['client', pathname.slice('/client/'.length)] : ['public', pathname === '/' ? 'index.html' : pathname.slice(1)];
  const relative = normalize(rest);
  if (relative.startsWith('..') || relative.includes('\0')) return null;
  return join(ROOT, folder, relative);
}

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (FORWARDED.some((prefix) => pathname.startsWith(prefix))) {
    const upstream = request({ host: api.hostname, port: apiPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.writeHead(502).end(`upstream: ${error.message}`));
    req.pipe(upstream);
    return;
  }
  const file = fileFor(pathname);
  const type = file && TYPES[extname(file)];
  try {
    if (!type) throw new Error('not served');
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }
});

// WebSocket upgrades: replay the request line and headers upstream, then splice the two sockets.
server.on('upgrade', (req, socket, head) => {
  const upstream = connect(apiPort, api.hostname, () => {
    const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
    upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  const end = () => { socket.destroy(); upstream.destroy(); };
  upstream.on('error', end);
  socket.on('error', end);
});

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`inbox page on http://127.0.0.1:${values.port}/ (API: ${api.origin})`);
});
