// The real entry point as a process: start, serve, shut down on SIGTERM, refuse bad config.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DIALECT, PASSWORD, createTestEnv } from './helpers.js';

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Starts src/server.ts; resolves when it logs that it listens. Log lines are collected in `lines`. */
async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ test: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.test(line))) w.resolve();
    }
  });
  const waitFor = (test: (l: Record<string, unknown>) => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (lines.some(test)) return resolve();
      waiters.push({ test, resolve });
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before the expected log line`)));
    });
  await waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening'));
  return { child, lines, waitFor, base: `http://127.0.0.1:${port}` };
}

const exitCode = async (child: ChildProcess) => (child.exitCode ?? (await once(child, 'exit'))[0]) as number;

describe('server process', () => {
  it('generates a signing secret in DATA_DIR once, keeps it private, and finishes in-flight requests on SIGTERM', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer(env.env);
      const secretFile = `${env.dataDir}/jwt-secret`;
      assert.equal(fs.statSync(secretFile).mode & 0o777, 0o600);
      const secret = fs.readFileSync(secretFile, 'utf8');
      const body = JSON.stringify({ username: 'proc_user', email: 'proc@example.com', password: PASSWORD });
      const pending = fetch(`${s.base}/api/users/`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await s.waitFor((l) => l.msg === 'incoming request' && (l.req as { path?: string })?.path === '/api/users/');
      s.child.kill('SIGTERM');
      const res = await pending;
      assert.equal(res.status, 201, 'the request in flight was answered');
      assert.equal(await exitCode(s.child), 0);
      assert.ok(s.lines.some((l) => l.msg === 'shutting down'));
      const again = await startServer(env.env);
      assert.equal(fs.readFileSync(secretFile, 'utf8'), secret, 'the secret is kept across restarts');
      const login = await fetch(`${again.base}/api/auth/token/`, { method: 'POST', body: JSON.stringify({ email: 'proc@example.com', password: PASSWORD }), headers: { 'content-type': 'application/json' } });
      assert.equal(login.status, 200);
      again.child.kill('SIGTERM');
      assert.equal(await exitCode(again.child), 0);
    } finally {
      await env.cleanup();
    }
  });

  it('never writes passwords or tokens to its logs', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer(env.env);
      const secretPassword = 'very-secret-password-77';
      await fetch(`${s.base}/api/users/`, { method: 'POST', body: JSON.stringify({ username: 'logcheck', email: 'logcheck@example.com', password: secretPassword }), headers: { 'content-type': 'application/json' } });
      const tokens = (await (await fetch(`${s.base}/api/auth/token/`, { method: 'POST', body: JSON.stringify({ email: 'logcheck@example.com', password: secretPassword }), headers: { 'content-type': 'application/json' } })).json()) as { access: string; refresh: string };
      await fetch(`${s.base}/api/users/?search=x`, { headers: { authorization: `Bearer ${tokens.access}` } });
      s.child.kill('SIGTERM');
      assert.equal(await exitCode(s.child), 0);
      const log = JSON.stringify(s.lines);
      assert.ok(s.lines.length > 4);
      assert.ok(!log.includes(secretPassword) && !log.includes(tokens.access) && !log.includes(tokens.refresh));
    } finally {
      await env.cleanup();
    }
  });

  it('stops at start with a clear message for a bad setting', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { PATH: process.env.PATH ?? '', PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    assert.equal(await exitCode(child), 78);
    assert.match(err, /PORT must be a whole number/);
  });
});

describe('migrations', () => {
  it('several instances starting at once on one database all come up', { skip: DIALECT === 'postgres' ? false : 'concurrent start is a PostgreSQL deployment concern' }, async () => {
    const env = await createTestEnv();
    try {
      const apps = await Promise.all([1, 2, 3].map(() => buildApp(loadConfig(env.env))));
      for (const app of apps) assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      await Promise.all(apps.map((a) => a.close()));
    } finally {
      await env.cleanup();
    }
  });
});
