// The real server as a child process (src/server.ts), for shutdown, crash and multi-instance tests.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A redis-server of the test's own on `port` (stop it with SIGKILL; start again on the same port). */
export async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('Ready to accept connections') && resolve());
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
  });
  return proc;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Server {
  proc: ChildProcess;
  base: string;
  /** Exit code, or null when killed by a signal. */
  exited: Promise<number | null>;
  /** Parsed JSON log lines so far. */
  lines: Array<Record<string, any>>;
  /** Resolves at the first log line (past or future) matching `test`; rejects if the server exits first. */
  waitFor(test: (line: Record<string, any>) => boolean): Promise<Record<string, any>>;
  /** The end of its output, to explain an unexpected stop. */
  tail(): string;
}

/** Starts the server with `env` (on top of PATH only) and resolves once it listens. */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    // Logs at info: waitFor() reads them (the listening line, request lines).
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env, LOG_LEVEL: 'info', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const lines: Array<Record<string, any>> = [];
  const waiters: Array<{ test: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }> = [];
  let tail = '';
  let buf = '';
  proc.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-8192)));
  proc.stdout!.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-8192);
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let line: Record<string, any>;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      lines.push(line);
      for (let w = waiters.length - 1; w >= 0; w--) {
        if (waiters[w].test(line)) waiters.splice(w, 1)[0].resolve(line);
      }
    }
  });
  const waitFor = (test: (l: Record<string, any>) => boolean) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const seen = lines.find(test);
      if (seen) return resolve(seen);
      waiters.push({ test, resolve });
      exited.then((code) => reject(new Error(`server exited (${code ?? proc.signalCode}) before the expected log line; output:\n${tail}`)));
    });
  await waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening'));
  return { proc, base: `http://127.0.0.1:${port}`, exited, lines, waitFor, tail: () => tail };
}

/** A JSON request to a running server. */
export async function request(base: string, method: string, url: string, token: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export interface Account {
  id: number;
  email: string;
  /** The access token. */
  token: string;
}

/** Signs up a new account on a running server (must be 201) and logs it in (must be 200). */
export async function account(base: string, username: string, password: string, email = `${username}@example.com`): Promise<Account> {
  const created = await request(base, 'POST', '/api/users/', null, { username, email, password });
  assert.equal(created.status, 201, `signup failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await request(base, 'POST', '/api/auth/token/', null, { email, password });
  assert.equal(login.status, 200, `login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: created.body.id, email, token: login.body.access };
}
