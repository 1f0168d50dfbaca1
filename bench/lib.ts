// Shared pieces of the benchmarks: processes, accounts, sockets, percentiles.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { account as newAccount, freePort, request, type Account } from '../test/process-helpers.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PASSWORD = 'bench-password-2026';

export interface Proc {
  child: ChildProcess;
  base: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a node process (args after `node`) and waits until it answers /healthz. */
export async function startProcess(args: string[], env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.stdout!.resume();
  // Up when it answers (the log level may hide the "listening" line).
  for (;;) {
    if (exited) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Our server as production runs it: compiled, SQLite unless DATABASE_URL is given. */
export function startChatServer(dataDir: string, extra: Record<string, string> = {}): Promise<Proc> {
  fs.mkdirSync(dataDir, { recursive: true });
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (see profile.ts).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return startProcess([...prof, 'dist/server.js'], {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // Set-up creates many accounts from one address; the limits are not what is measured.
    RATE_LIMIT_SIGNUP_PER_IP: '0',
    RATE_LIMIT_LOGIN_PER_IP: '0',
    RATE_LIMIT_ROOMS_PER_USER: '0',
    RATE_LIMIT_ADDS_PER_USER: '0',
    RATE_LIMIT_MESSAGES_LARGE_ROOM: '0',
    // Fan-out opens 25 sockets per account, connections 100 (10,000 over 100 accounts).
    WS_MAX_SOCKETS_PER_USER: '100',
    // The write path's knobs pass through, to measure them (README, "How writes become events").
    ...Object.fromEntries(WRITE_KNOBS.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
    ...extra,
  });
}

const WRITE_KNOBS = ['WRITE_CONCURRENCY', 'WRITE_BATCH_MAX', 'DB_POOL_SIZE'];

/** A JSON request that must succeed; its body. */
export async function api(base: string, method: string, url: string, token: string | null, body?: unknown): Promise<any> {
  const res = await request(base, method, url, token, body);
  if (res.status >= 400) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

let seq = 0;
/** A new account (signed up and logged in), named `<tag><pid>n<seq>`: unique per process. */
export function account(base: string, tag: string): Promise<Account> {
  const username = `${tag}${process.pid}n${++seq}`;
  return newAccount(base, username, PASSWORD, `${username}@bench.example`);
}

export function openSocket(base: string, token: string, path = '/ws/general_updates/'): Promise<WebSocket> {
  const ws = new WebSocket(base.replace('http', 'ws') + path, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.on('message', function onReady(data) {
      if (data.toString() === '{"type":"ready"}') {
        ws.off('message', onReady);
        resolve(ws);
      }
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_r, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

/** autocannon with the given options; latency in ms. */
export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    instance.on('response', (_client, statusCode) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  return { requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, statuses, errors: r.errors + r.timeouts };
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
