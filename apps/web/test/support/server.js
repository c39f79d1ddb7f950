// Starts the real server binary for integration tests: a temp SQLite file, a
// random JWT_SECRET, port 0 (the port is read back from the "listening" log
// line). A missing binary fails the test with the command that builds it.

import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The binary under test: NOTIFICATION_API_BIN, else the workspace's debug build. */
export function serverBinary() {
  const bin = process.env.NOTIFICATION_API_BIN ?? join(REPO_ROOT, 'target/debug/notification-api');
  if (!existsSync(bin)) {
    throw new Error(
      `server binary not found at ${bin}: run \`cargo build -p notification-api\` in ${REPO_ROOT} ` +
        'or point NOTIFICATION_API_BIN at one',
    );
  }
  return bin;
}

export class TestServer {
  constructor() {
    this.bin = serverBinary();
    this.dir = mkdtempSync(join(tmpdir(), 'notifications-web-'));
    this.secret = randomBytes(32).toString('hex');
    this.bindAddr = '127.0.0.1:0';
    this.child = null;
    this.output = '';
  }

  /** Starts the process and resolves once it listens. Restarts keep the database, secret and port. */
  start() {
    const child = spawn(this.bin, ['serve'], {
      env: {
        ...process.env,
        BIND_ADDR: this.bindAddr,
        DATABASE_URL: `sqlite://${this.dir}/notifications.db`,
        JWT_SECRET: this.secret,
        RUST_LOG: 'info',
        SHUTDOWN_TIMEOUT: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise((resolvePromise, reject) => {
      const onData = (chunk) => {
        this.output += chunk;
        // Our own log line ("listening addr=…"), not actix's "starting service: … listening on: …",
        // which may arrive in the same chunk.
        const match = /\blistening addr=(\S+)/.exec(this.output);
        if (match) {
          child.stdout.off('data', onData);
          child.stderr.off('data', onData);
          this.bindAddr = match[1];
          this.baseUrl = `http://${match[1]}`;
          resolvePromise(this);
        }
      };
      child.stdout.setEncoding('utf8').on('data', onData);
      child.stderr.setEncoding('utf8').on('data', onData);
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${this.output}`)));
    });
  }

  /** Stops the process (SIGTERM: a graceful shutdown, sockets get 1001) and waits for it to exit. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.output = '';
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** An HS256 token signed with this server's secret. */
  token(sub, { scope, ttlSeconds = 3600 } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { sub, iat: now, exp: now + ttlSeconds, ...(scope ? { scope } : {}) };
    const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
    return `${unsigned}.${createHmac('sha256', this.secret).update(unsigned).digest('base64url')}`;
  }

  /** Creates a notification for `userId` as a publisher; resolves with the resource. */
  async publish(userId, fields = {}) {
    const response = await fetch(`${this.baseUrl}/api/v1/notifications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token(randomUUID(), { scope: 'notifications:publish' })}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: userId, title: 'Hello', message: 'A message', ...fields }),
    });
    if (response.status !== 201) throw new Error(`publish: ${response.status} ${await response.text()}`);
    return response.json();
  }
}
