// The chaos soak (issue 15), shared by `npm run soak` (bench/soak.ts, faults on a clock) and
// test/soak.test.ts (faults after so many acknowledged sends): server processes on one
// PostgreSQL database with a Redis of their own, steady sends with client ids retried until
// acknowledged, and `general_updates` sockets that reconnect with `?since=` whenever closed.
// Meanwhile an instance is killed with SIGKILL, Redis is killed and restarted on its port, the
// database goes away for a while and comes back, and a new instance joins. At the end every
// acknowledged message must be in its room's history once and have reached every socket client,
// and every instance still running must answer /readyz with 200.
//
// "PostgreSQL restart" here: the cluster on 127.0.0.1:5432 is shared with other tests, so it is
// not restarted. The soak's own database is made to look restarted to the servers instead:
// `ALTER DATABASE … ALLOW_CONNECTIONS false` and `pg_terminate_backend` of every session on it
// (each connection drops, new ones are refused), held, then `ALLOW_CONNECTIONS true`.
//
// Servers run from the TypeScript sources through tsx (test/process-helpers.ts startServer), as
// the multi-instance tests do: the soak tests the working tree as it is, with no build step, and
// the server's JSON log lines come back to the soak (errors and warnings are summarized).
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { NO_LIMITS } from '../test/chat-helpers.js';
import { adminQuery as admin, DIALECT, createTestEnv, type TestEnv } from '../test/helpers.js';
import { account as newAccount, freePort, startServer, type Account, type Server } from '../test/process-helpers.js';
import { connect, type Sock } from '../test/ws-helpers.js';

const PASSWORD = 'soak-password-2026';

/** When the faults happen: each step waits for `at(fraction)` (of the run: a time, or a number of acknowledged sends). */
export interface SoakPlan {
  /** Resolves when the run has reached `fraction` (0–1) of its course. */
  at(fraction: number, run: SoakRun): Promise<void>;
  /** Resolves when the database has been away long enough (it is given back then). */
  holdDatabase(run: SoakRun): Promise<void>;
  /** Resolves when Redis has been down long enough (it is started again then). Default: at(0.45). */
  holdRedis?(run: SoakRun): Promise<void>;
}

export interface SoakOptions {
  plan: SoakPlan;
  /** Sending loops, each its own user (default 6). */
  senders?: number;
  /** Socket clients, each its own user, spread over the instances (default 6). */
  watchers?: number;
  /** Rooms every user is in (default 4). */
  rooms?: number;
  /** Sends a second over all senders (default 30). */
  rate?: number;
  /** Longest wait, once sends stop, for sockets to catch up and instances to be ready (default 60 s). */
  settleMs?: number;
  /** Extra server environment (e.g. EVENT_LOG_POLL_MS). */
  serverEnv?: Record<string, string>;
  /**
   * A real restart of the PostgreSQL cluster (resolves once it is up again), instead of the soak's
   * database refusing connections: only where nothing else uses the cluster.
   */
  restartPostgres?: () => Promise<void>;
  /** Progress lines (fault times and the like). */
  log?: (line: string) => void;
}

export interface FaultRecord {
  /** Seconds since sends started. */
  at: number;
  what: string;
}

export interface SoakReport {
  seconds: number;
  instancesStarted: number;
  faults: FaultRecord[];
  acknowledged: number;
  acknowledgedCreated: number;
  acknowledgedAlreadyThere: number;
  /** Sends never acknowledged (gave up after retrying for settleMs): not lost, but reported. */
  unacknowledged: number;
  /** Answers other than 2xx, 429 and 5xx (a send is not retried on those). */
  unexpected: string[];
  lost: number[];
  /** client_ids stored more than once, or acknowledged with two different ids. */
  duplicates: string[];
  misses: number;
  missesByClient: number[];
  resyncs: number;
  socketDuplicates: number;
  seqGaps: string[];
  reconnects: number;
  longestDisconnectionMs: number;
  longestDisconnectionClient: number;
  status5xx: Record<string, number>;
  status429: number;
  connectionErrors: number;
  timeouts: number;
  /** Attempts made while no instance was up (every one had exited). */
  noInstance: number;
  instancesReady: Array<{ instance: number; status: number | string }>;
  /** Instances that exited without being killed by the soak: when, how, and their last error. */
  unexpectedExits: string[];
  /** Server log lines at warn or above, grouped by message; errors with the stack of the first one. */
  serverWarnings: Array<{ level: string; msg: string; count: number; stack?: string }>;
  passed: boolean;
}

/** Everything a plan may look at while the soak runs. */
export interface SoakRun {
  /** Seconds since sends started. */
  elapsed(): number;
  acknowledged(): number;
  /** Failed send attempts so far (5xx, 429, connection errors, timeouts, no instance up). */
  failures(): number;
  /** Instances up and in the rotation. */
  serving(): number;
  /** Resolves when `test()` holds, checked after every send attempt. */
  until(test: () => boolean): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A redis-server of the soak's own (no persistence: a restart empties it). */
export async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-4096);
      if (out.includes('Ready to accept connections')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  proc.stdout!.resume();
  return proc;
}

interface Answer {
  status: number;
  body: any;
  retryAfter: number | null;
}

/** A JSON request with a deadline (a request to a stalled instance must not hang a sender). */
async function call(base: string, method: string, url: string, token: string, body?: unknown, timeoutMs = 10_000): Promise<Answer> {
  const res = await fetch(base + url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  const ra = res.headers.get('retry-after');
  return { status: res.status, body: parsed, retryAfter: ra === null ? null : Number(ra) };
}

interface Instance {
  n: number;
  server: Server;
  /** Killed by the soak, or exited by itself: out of the rotation from then on, as a load balancer's health check would take it out. */
  killed: boolean;
  /** Why it is gone when the soak did not kill it. */
  exitedBySelf: string | null;
}

/** A `general_updates` client that reconnects with `?since=<last id>` whenever its socket closes. */
class Watcher {
  lastId: number | null = null;
  readonly events = new Set<number>();
  /** Message ids seen in `new_message` frames. */
  readonly messages = new Set<number>();
  /** Message ids read over REST after a `resync_required`. */
  readonly reloaded = new Set<number>();
  private readonly lastSeq = new Map<number, number>();
  duplicates = 0;
  gaps: string[] = [];
  resyncs = 0;
  reconnects = 0;
  longestDownMs = 0;
  private sock: Sock | null = null;
  private stopped = false;
  /** Where to reconnect next, when set (moveTo). */
  private prefer: Instance | null = null;
  private listeners: Array<() => void> = [];
  private reloads: Promise<void>[] = [];
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly n: number,
    readonly user: Account,
    private readonly instances: () => Instance[],
    private readonly rooms: number[],
  ) {}

  /** Connects (no `since` the first time: it starts with what is live) and stays connected until stop(). */
  async start(): Promise<void> {
    let first: () => void = () => {};
    const connected = new Promise<void>((r) => (first = r));
    this.done = this.loop(first);
    await connected;
  }

  private async loop(connected: () => void) {
    let k = this.n;
    let downSince: number | null = null;
    let attempt = 0;
    while (!this.stopped) {
      const list = this.instances();
      let sock: Sock;
      try {
        if (list.length === 0) throw new Error('no instance up');
        const preferred = this.prefer && list.includes(this.prefer) ? this.prefer : null;
        this.prefer = null;
        sock = await this.open(preferred ?? list[k % list.length]);
      } catch {
        // Refused, closed before ready, or no answer: the next instance, after a short pause.
        k++;
        await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt++, 5)));
        continue;
      }
      attempt = 0;
      if (this.stopped) {
        await sock.close();
        break;
      }
      if (downSince !== null) {
        this.reconnects++;
        this.longestDownMs = Math.max(this.longestDownMs, performance.now() - downSince);
      }
      connected();
      this.sock = sock;
      let i = 0;
      const drain = () => {
        while (i < sock.events.length) this.handle(sock.events[i++]);
      };
      drain();
      sock.ws.on('message', drain);
      await sock.closed;
      drain();
      this.sock = null;
      downSince = performance.now();
    }
  }

  /** connect() with a deadline; a socket that opens after it is closed at once. */
  private async open(inst: Instance): Promise<Sock> {
    const base = inst.server.base.replace('http', 'ws');
    const opening = connect(base, '/ws/general_updates/', { token: this.user.token, query: this.lastId === null ? undefined : { since: this.lastId } });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no ready frame in 10 s')), 10_000);
    });
    try {
      const sock = await Promise.race([opening, late]);
      sock.ws.on('error', () => {});
      return sock;
    } catch (err) {
      opening.then((s) => s.close(), () => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private handle(e: any) {
    if (e.type === 'resync_required') {
      this.resyncs++;
      // What follows skips what the reload covers: seq restarts from whatever comes next.
      this.lastSeq.clear();
      this.reloads.push(this.reload());
      return;
    }
    if (typeof e.id === 'number') {
      if (this.events.has(e.id)) this.duplicates++;
      this.events.add(e.id);
      this.lastId = Math.max(this.lastId ?? 0, e.id);
    }
    if (typeof e.seq === 'number' && typeof e.chat_room === 'number') {
      const prev = this.lastSeq.get(e.chat_room);
      if (prev !== undefined && e.seq !== prev + 1 && this.gaps.length < 20) this.gaps.push(`client ${this.n}, room ${e.chat_room}: seq ${prev} → ${e.seq}`);
      this.lastSeq.set(e.chat_room, e.seq);
    }
    if (e.type === 'new_message' && e.message) {
      this.messages.add(e.message.id);
      for (const l of this.listeners) l();
    }
  }

  /** After resync_required: every room's history over REST (retried until it answers). */
  private async reload() {
    for (const room of this.rooms) {
      for (;;) {
        try {
          const ids = await history(this.instances().filter((i) => !i.killed), this.user.token, room);
          for (const m of ids) this.reloaded.add(m.id);
          break;
        } catch {
          await sleep(500);
        }
      }
    }
    for (const l of this.listeners) l();
  }

  has(id: number): boolean {
    return this.messages.has(id) || this.reloaded.has(id);
  }

  /** Resolves once every id of `ids` has been seen (live or reloaded), or at `deadline`. */
  async caughtUp(ids: number[], deadline: number): Promise<void> {
    const missing = () => ids.some((id) => !this.has(id));
    if (!missing()) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (!missing()) finish();
      };
      const timer = setTimeout(() => finish(), Math.max(0, deadline - Date.now()));
      const finish = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
    await Promise.all(this.reloads);
  }

  /** Cuts the socket (as a network drop would): it resumes on `inst` with `?since=`. */
  moveTo(inst: Instance): void {
    this.prefer = inst;
    this.sock?.ws.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.sock?.close();
    await this.done;
  }
}

/** Every message of a room (oldest first by walking `after`), through the first instance that answers. */
async function history(instances: Instance[], token: string, room: number): Promise<Array<{ id: number; client_id: string | null }>> {
  let lastErr: unknown = null;
  for (const inst of instances) {
    try {
      const out: Array<{ id: number; client_id: string | null }> = [];
      let after = 0;
      for (;;) {
        const res = await call(inst.server.base, 'GET', `/api/messages/?chat_room=${room}&after=${after}&limit=100`, token);
        if (res.status !== 200) throw new Error(`history ${res.status}`);
        const page = res.body.results as Array<{ id: number; client_id: string | null }>;
        out.push(...page);
        if (page.length === 0 || res.body.previous === null) break;
        after = Math.max(...page.map((m) => m.id));
      }
      return out;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr ?? new Error('no instance answered');
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  if (DIALECT !== 'postgres') throw new Error('the soak runs on PostgreSQL (TEST_DB=postgres)');
  const log = opts.log ?? (() => {});
  const nSenders = opts.senders ?? 6;
  const nWatchers = opts.watchers ?? 6;
  const nRooms = opts.rooms ?? 4;
  const rate = opts.rate ?? 30;
  const settleMs = opts.settleMs ?? 60_000;

  let env: TestEnv | null = null;
  let redis: ChildProcess | null = null;
  const instances: Instance[] = [];
  const watchers: Watcher[] = [];
  let dbName = '';
  let dbAway = false;
  let t0 = performance.now();
  let cleaningUp = false;
  const unexpectedExits: string[] = [];
  try {
    env = await createTestEnv();
    dbName = new URL(env.databaseUrl!).pathname.slice(1);
    const redisPort = await freePort();
    redis = await startRedis(redisPort);
    const shared: Record<string, string> = {
      ...env.env,
      ...NO_LIMITS,
      RATE_LIMIT_ROOMS_PER_USER: '0',
      RATE_LIMIT_ADDS_PER_USER: '0',
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      // The PostgreSQL cluster is shared with other tests: 5 connections per instance, not 10.
      DB_POOL_SIZE: '5',
      ...opts.serverEnv,
    };

    const warnings = new Map<string, { level: string; msg: string; count: number; stack?: string }>();
    /** Looks at new log lines (warnings and errors are kept, grouped) and lets the rest go. */
    const readLogs = () => {
      for (const inst of instances) {
        const lines = inst.server.lines;
        for (const l of lines) {
          if (typeof l.level !== 'number' || l.level < 40) continue;
          const level = l.level >= 50 ? 'error' : 'warn';
          const detail = typeof l.err === 'string' ? l.err : (l.err?.message ?? '');
          const msg = `${l.msg}${detail ? `: ${String(detail).replace(/\d+/g, 'N').slice(0, 140)}` : ''}`;
          const key = `${level} ${msg}`;
          const w = warnings.get(key) ?? { level, msg, count: 0 };
          if (level === 'error' && !w.stack && typeof l.err?.stack === 'string') w.stack = l.err.stack.split('\n').slice(0, 10).join('\n');
          w.count++;
          warnings.set(key, w);
        }
        lines.length = 0;
      }
    };
    const logTimer = setInterval(readLogs, 1000);
    logTimer.unref();

    const start = async () => {
      const server = await startServer(shared);
      const inst: Instance = { n: instances.length + 1, server, killed: false, exitedBySelf: null };
      instances.push(inst);
      server.exited.then((code) => {
        if (inst.killed || cleaningUp) return;
        inst.killed = true;
        inst.exitedBySelf = `exited by itself (${code ?? server.proc.signalCode})`;
        const at = ((performance.now() - t0) / 1000).toFixed(1);
        unexpectedExits.push(`instance ${inst.n} (pid ${server.proc.pid}) exited by itself at ${at} s, code ${code ?? server.proc.signalCode}`);
        log(`${at} s  instance ${inst.n} EXITED BY ITSELF (code ${code ?? server.proc.signalCode})`);
      });
      return inst;
    };
    // The first runs the migrations; the other two start together.
    await start();
    await Promise.all([start(), start()]);
    log(`3 instances up (${instances.map((i) => i.server.base).join(', ')}); Redis on ${redisPort}; database ${dbName}`);

    // Users (senders, then socket clients) and rooms every one of them is in.
    const users: Account[] = [];
    for (let i = 0; i < nSenders + nWatchers; i++) {
      const name = `soak${process.pid}x${crypto.randomBytes(3).toString('hex')}${i}`;
      users.push(await newAccount(instances[i % 3].server.base, name, PASSWORD));
    }
    const rooms: number[] = [];
    for (let r = 0; r < nRooms; r++) {
      const res = await call(instances[r % 3].server.base, 'POST', '/api/chat_rooms/', users[0].token, { room_type: 'group', name: `soak ${r}`, members: users.slice(1).map((u) => u.id) });
      if (res.status !== 201) throw new Error(`creating a room: ${res.status} ${JSON.stringify(res.body)}`);
      rooms.push(res.body.id);
    }
    const serving = () => instances.filter((i) => !i.killed);
    for (let w = 0; w < nWatchers; w++) watchers.push(new Watcher(w + 1, users[nSenders + w], serving, rooms));
    await Promise.all(watchers.map((w) => w.start()));
    log(`${nSenders} senders, ${nWatchers} socket clients, ${nRooms} rooms; sending ${rate}/s`);

    // Sends.
    const acked = new Map<string, { id: number; status: number }>();
    const ackIds: number[] = [];
    const acksVia = new Map<Instance, number>();
    const twice: string[] = [];
    const unexpected: string[] = [];
    const status5xx: Record<string, number> = {};
    let status429 = 0;
    let connectionErrors = 0;
    let timeouts = 0;
    let noInstance = 0;
    let unacknowledged = 0;
    let sending = true;
    const progress: Array<() => void> = [];
    const tick = () => {
      for (const p of [...progress]) p();
    };
    t0 = performance.now();
    const run: SoakRun = {
      elapsed: () => (performance.now() - t0) / 1000,
      acknowledged: () => ackIds.length,
      failures: () => Object.values(status5xx).reduce((a, b) => a + b, 0) + status429 + connectionErrors + timeouts + noInstance,
      serving: () => serving().length,
      until: (test) =>
        new Promise<void>((resolve) => {
          if (test()) return resolve();
          const p = () => {
            if (!test()) return;
            progress.splice(progress.indexOf(p), 1);
            resolve();
          };
          progress.push(p);
        }),
    };
    const interval = (1000 * nSenders) / rate;
    const runId = crypto.randomBytes(3).toString('hex');
    const sender = async (w: number) => {
      const user = users[w];
      let next = performance.now() + (interval * w) / nSenders;
      for (let i = 0; sending; i++) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next = Math.max(next + interval, performance.now());
        if (!sending) break;
        const clientId = `soak-${runId}-${w}-${i}`;
        const body = { chat_room: rooms[(w + i) % rooms.length], content: clientId, client_id: clientId };
        const began = Date.now();
        let target = w + i;
        for (let attempt = 0; ; attempt++) {
          const list = serving();
          try {
            // No instance up: a load balancer would answer 503 without a backend.
            if (list.length === 0) throw Object.assign(new Error('no instance up'), { name: 'NoInstance' });
            const inst = list[target % list.length];
            const res = await call(inst.server.base, 'POST', '/api/messages/', user.token, body);
            if (res.status === 201 || res.status === 200) {
              const before = acked.get(clientId);
              if (before && before.id !== res.body.id) twice.push(`${clientId}: acknowledged as ${before.id} and ${res.body.id}`);
              acked.set(clientId, { id: res.body.id, status: res.status });
              acksVia.set(inst, (acksVia.get(inst) ?? 0) + 1);
              ackIds.push(res.body.id);
              tick();
              break;
            }
            if (res.status === 429) {
              status429++;
              tick();
              await sleep(1000 * (res.retryAfter ?? 1));
            } else if (res.status >= 500) {
              status5xx[res.status] = (status5xx[res.status] ?? 0) + 1;
              tick();
              target++;
              await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
            } else {
              unexpected.push(`${clientId}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
              tick();
              break;
            }
          } catch (err) {
            if ((err as Error).name === 'TimeoutError') timeouts++;
            else if ((err as Error).name === 'NoInstance') noInstance++;
            else connectionErrors++;
            tick();
            target++;
            await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 4)));
          }
          if (Date.now() - began > settleMs) {
            unacknowledged++;
            break;
          }
        }
      }
    };
    const senders = Array.from({ length: nSenders }, (_, w) => sender(w));

    // Faults, in order, each when the plan says.
    const faults: FaultRecord[] = [];
    const fault = (what: string) => {
      const at = run.elapsed();
      faults.push({ at, what });
      log(`${at.toFixed(1)} s  ${what}`);
    };
    const plan = opts.plan;
    await plan.at(0.2, run);
    const victim = instances[1];
    victim.killed = true;
    victim.server.proc.kill('SIGKILL');
    await victim.server.exited;
    fault(`kill -9 instance ${victim.n} (pid ${victim.server.proc.pid})`);

    await plan.at(0.35, run);
    const down = redis;
    redis = null;
    down.kill('SIGKILL');
    await new Promise((r) => (down.exitCode !== null || down.signalCode !== null ? r(null) : down.once('exit', r)));
    fault('Redis stopped (SIGKILL)');
    await (plan.holdRedis ? plan.holdRedis(run) : plan.at(0.45, run));
    redis = await startRedis(redisPort);
    fault(`Redis restarted on port ${redisPort} (empty)`);

    await plan.at(0.6, run);
    if (opts.restartPostgres) {
      dbAway = true;
      fault('PostgreSQL restarting (the cluster itself)');
      await opts.restartPostgres();
      dbAway = false;
      fault('PostgreSQL restarted');
    } else {
      await admin(`alter database ${dbName} allow_connections false`);
      dbAway = true;
      await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${dbName}' and pid <> pg_backend_pid()`);
      fault('PostgreSQL away: ALLOW_CONNECTIONS false + pg_terminate_backend of every session on the database');
      await plan.holdDatabase(run);
      await admin(`alter database ${dbName} allow_connections true`);
      dbAway = false;
      fault('PostgreSQL back: ALLOW_CONNECTIONS true');
    }

    await plan.at(0.75, run);
    const began = performance.now();
    const joined = await start();
    fault(`new instance ${joined.n} started (listening after ${((performance.now() - began) / 1000).toFixed(1)} s)`);
    watchers[0].moveTo(joined);
    fault(`socket client 1 cut, resuming on instance ${joined.n} with ?since=`);

    await plan.at(0.9, run);
    // However long the new instance took to start, sends go through it before they stop.
    await run.until(() => joined.killed || (acksVia.get(joined) ?? 0) >= nSenders);
    sending = false;
    fault('sends stopped');
    await Promise.all(senders);
    const seconds = run.elapsed();
    log(`${ackIds.length} sends acknowledged; settling (at most ${settleMs / 1000} s)`);

    // Settle: every socket client catches up, every instance running is ready.
    const deadline = Date.now() + settleMs;
    await Promise.all(watchers.map((w) => w.caughtUp(ackIds, deadline)));
    // Every instance the soak did not kill: one that exited by itself counts as not ready.
    const live = instances.filter((i) => !i.killed);
    const instancesReady = await Promise.all(
      instances.filter((i) => !i.killed || i.exitedBySelf).map(async (inst) => {
        let status: number | string = 'no answer';
        if (inst.exitedBySelf) return { instance: inst.n, status: inst.exitedBySelf };
        for (;;) {
          try {
            status = (await call(inst.server.base, 'GET', '/readyz', users[0].token)).status;
          } catch (err) {
            status = (err as Error).message;
          }
          if (status === 200 || Date.now() > deadline) return { instance: inst.n, status };
          await sleep(200);
        }
      }),
    );

    // History: every acknowledged message once.
    const stored = new Map<string, number[]>();
    const storedIds = new Set<number>();
    for (const room of rooms) {
      for (const m of await history(live, users[0].token, room)) {
        storedIds.add(m.id);
        if (m.client_id === null) continue;
        stored.set(m.client_id, [...(stored.get(m.client_id) ?? []), m.id]);
      }
    }
    const lost = ackIds.filter((id) => !storedIds.has(id));
    const duplicates = [...twice, ...[...stored].filter(([, ids]) => ids.length > 1).map(([c, ids]) => `${c} stored as ${ids.join(', ')}`)];
    const missesByClient = watchers.map((w) => ackIds.filter((id) => !w.has(id)).length);
    const longest = watchers.reduce((a, w) => (w.longestDownMs > a.longestDownMs ? w : a), watchers[0]);
    readLogs();
    clearInterval(logTimer);

    const report: SoakReport = {
      seconds,
      instancesStarted: instances.length,
      faults,
      acknowledged: ackIds.length,
      acknowledgedCreated: [...acked.values()].filter((a) => a.status === 201).length,
      acknowledgedAlreadyThere: [...acked.values()].filter((a) => a.status === 200).length,
      unacknowledged,
      unexpected,
      lost,
      duplicates,
      misses: missesByClient.reduce((a, b) => a + b, 0),
      missesByClient,
      resyncs: watchers.reduce((a, w) => a + w.resyncs, 0),
      socketDuplicates: watchers.reduce((a, w) => a + w.duplicates, 0),
      seqGaps: watchers.flatMap((w) => w.gaps),
      reconnects: watchers.reduce((a, w) => a + w.reconnects, 0),
      longestDisconnectionMs: longest.longestDownMs,
      longestDisconnectionClient: longest.n,
      status5xx,
      status429,
      connectionErrors,
      timeouts,
      noInstance,
      instancesReady,
      unexpectedExits,
      serverWarnings: [...warnings.values()].sort((a, b) => b.count - a.count),
      passed: false,
    };
    report.passed =
      report.lost.length === 0 &&
      report.duplicates.length === 0 &&
      report.misses === 0 &&
      report.socketDuplicates === 0 &&
      report.seqGaps.length === 0 &&
      report.unexpected.length === 0 &&
      report.unacknowledged === 0 &&
      report.unexpectedExits.length === 0 &&
      report.instancesReady.every((r) => r.status === 200);
    return report;
  } finally {
    cleaningUp = true;
    if (dbAway) await admin(`alter database ${dbName} allow_connections true`).catch(() => {});
    await Promise.all(watchers.map((w) => w.stop().catch(() => {})));
    for (const inst of instances) if (inst.server.proc.exitCode === null && inst.server.proc.signalCode === null) inst.server.proc.kill('SIGTERM');
    await Promise.all(instances.map((i) => i.server.exited));
    redis?.kill('SIGKILL');
    await env?.cleanup();
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as printed by `npm run soak`. */
export function formatReport(r: SoakReport): string {
  const count = (o: Record<string, number>) => (Object.keys(o).length ? Object.entries(o).map(([k, v]) => `${k}: ${v}`).join(', ') : 'none');
  const rows: Array<[string, string]> = [
    ['acknowledged sends', `${r.acknowledged} (201: ${r.acknowledgedCreated}; 200, already stored by an earlier attempt: ${r.acknowledgedAlreadyThere})`],
    ['lost (acknowledged, not in history)', `${r.lost.length}${r.lost.length ? `: ids ${r.lost.slice(0, 20).join(', ')}` : ''}`],
    ['duplicates (a client_id stored twice)', `${r.duplicates.length}${r.duplicates.length ? `: ${r.duplicates.slice(0, 5).join('; ')}` : ''}`],
    ["socket clients' misses", `${r.misses} (per client: ${r.missesByClient.join(', ')})`],
    ['resyncs (resync_required, reloaded over REST)', String(r.resyncs)],
    ['socket duplicates / seq gaps', `${r.socketDuplicates} / ${r.seqGaps.length}${r.seqGaps.length ? `: ${r.seqGaps.slice(0, 5).join('; ')}` : ''}`],
    ['socket reconnects', String(r.reconnects)],
    ['longest disconnection', `${s(r.longestDisconnectionMs)} (client ${r.longestDisconnectionClient})`],
    ['5xx answers to sends', count(r.status5xx)],
    ['other failed attempts', `connection errors ${r.connectionErrors}, timeouts ${r.timeouts}, 429 ${r.status429}, no instance up ${r.noInstance}`],
    ['unacknowledged / unexpected answers', `${r.unacknowledged} / ${r.unexpected.length}${r.unexpected.length ? `: ${r.unexpected.slice(0, 3).join('; ')}` : ''}`],
    ['instances that exited by themselves', r.unexpectedExits.length ? r.unexpectedExits.join('; ') : 'none'],
    ['instances ready (/readyz)', `${r.instancesReady.filter((i) => i.status === 200).length}/${r.instancesReady.length} (${r.instancesReady.map((i) => `#${i.instance}: ${i.status}`).join(', ')})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `Chaos soak: ${r.seconds.toFixed(1)} s of sends, ${r.instancesStarted} instances started (3, one killed, one new) on PostgreSQL + a private Redis`,
    '',
    'Faults (s since sends started):',
    ...r.faults.map((f) => `  ${f.at.toFixed(1).padStart(6)}  ${f.what}`),
    ...(r.faults.some((f) => f.what === 'PostgreSQL restarted')
      ? []
      : ['  ("PostgreSQL restart" = the soak database refusing connections with every session terminated;', '   the shared cluster itself is not restarted)']),
    '',
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    'Server warnings and errors (log lines, grouped):',
    ...(r.serverWarnings.length ? r.serverWarnings.slice(0, 14).map((w) => `  ${String(w.count).padStart(5)} × ${w.level} ${w.msg}`) : ['  none']),
    ...r.serverWarnings.filter((w) => w.stack && /^(shutting down|unhandled error)/.test(w.msg)).flatMap((w) => ['', `First "${w.msg.slice(0, 80)}":`, ...w.stack!.split('\n').map((l) => `    ${l}`)]),
    '',
    `Bar (0 lost, 0 duplicates, 0 misses, every instance ready): ${r.passed ? 'MET' : 'NOT MET'}`,
  ].join('\n');
}
