// npm run bench: our server (compiled, SQLite, production settings) beside a bare Fastify
// ceiling, on this machine, with the load generator in this process. Prints a table and JSON.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ROOT, round, startChatServer, startProcess } from './lib.js';
import { ROOMS as FLOOR_ROOMS, SERVER_POOL_SIZE, pgFloor } from './pg-floor.js';
import { SEND_CONNECTIONS, ceiling, connections, fanout, history, loginStorm, search, sends } from './scenarios.js';
import { sendFeatures } from './send-features.js';
import { sqliteFloor } from './sqlite-floor.js';
import { webClient } from './web-client.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const HISTORY_MESSAGES = Number(process.env.BENCH_HISTORY_MESSAGES ?? 1_000_000);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
const WEB_CONVERSATIONS = Number(process.env.BENCH_WEB_CONVERSATIONS ?? 1_000);
const WEB_MESSAGES = Number(process.env.BENCH_WEB_MESSAGES ?? 10_000);
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Search (issue 14): messages in 1,000 rooms; the searcher is in 30 of them, a busy searcher in 200. */
const SEARCH_SEED = { messages: Number(process.env.BENCH_SEARCH_MESSAGES ?? 1_000_000), rooms: 1000, memberRooms: 30, busyMemberRooms: 200, recent: Number(process.env.BENCH_SEARCH_RECENT ?? 20_000) };
const SEARCH_REQUESTS = Number(process.env.BENCH_SEARCH_REQUESTS ?? 200);
const SEARCH_BUDGET_MS = 20;
/** BENCH_ONLY=sends,fanout,… runs a subset (names as in the JSON output). */
const ONLY = new Set((process.env.BENCH_ONLY ?? '').split(',').filter(Boolean));
const wanted = (name: string) => ONLY.size === 0 || ONLY.has(name);

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-'));

log('building (npm run build)');
const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const results: Record<string, unknown> = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, seconds: SECONDS } };

log('ceiling: bare Fastify');
const bare = await startProcess(['--import', 'tsx', 'bench/ceiling-server.ts'], {});
results.ceiling = await ceiling(bare, SECONDS);
await bare.stop();

log('SQLite: sends, fan-out, login storm, connections');
const server = await startChatServer(path.join(tmp, 'main'));
if (wanted('sends')) results.sends = await sends(server, SECONDS);
if (wanted('sendsRooms')) results.sendsRooms = await sends(server, SECONDS, FLOOR_ROOMS);
if (wanted('sendFeatures')) results.sendFeatures = await sendFeatures(server, SECONDS, Number(process.env.BENCH_FEATURE_ROUNDS ?? 6));
if (wanted('fanout')) results.fanout = await fanout(server, Math.max(3, Math.round(SECONDS / 2)));
if (wanted('loginStorm')) results.loginStorm = await loginStorm(server, SECONDS);
if (wanted('connections')) results.connections = await connections(server, SOCKETS);
await server.stop();

if (wanted('sqliteFloor')) {
  log('the SQLite floor of a send');
  results.sqliteFloor = await sqliteFloor(path.join(tmp, 'floor'));
}

if (wanted('history')) {
  log(`history: seeding ${HISTORY_MESSAGES} messages`);
  results.history = await history(path.join(tmp, 'history'), HISTORY_MESSAGES, SECONDS);
}

if (wanted('webClient')) {
  log(`web client: ${WEB_CONVERSATIONS} conversations, ${WEB_MESSAGES} messages of history, in Chromium`);
  results.webClient = await webClient(path.join(tmp, 'web'), { conversations: WEB_CONVERSATIONS, messages: WEB_MESSAGES });
}

if (wanted('search')) {
  log(`search (SQLite): seeding ${SEARCH_SEED.messages} messages`);
  results.search = await search(path.join(tmp, 'search'), SEARCH_SEED, SEARCH_REQUESTS);
}

if (wanted('searchPostgres')) {
  log(`search (PostgreSQL): seeding ${SEARCH_SEED.messages} messages`);
  const searchAdmin = new pg.Client({ connectionString: PG_URL });
  const name = `chat_bench_search_${crypto.randomBytes(4).toString('hex')}`;
  try {
    await searchAdmin.connect();
    await searchAdmin.query(`create database ${name}`);
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    results.searchPostgres = await search(path.join(tmp, 'search-pg'), SEARCH_SEED, SEARCH_REQUESTS, url.toString());
  } catch (err) {
    results.searchPostgres = { skipped: `PostgreSQL search: ${(err as Error).message}` };
  } finally {
    await searchAdmin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await searchAdmin.end().catch(() => {});
  }
}

log('PostgreSQL: sends');
const admin = new pg.Client({ connectionString: PG_URL });
if (!wanted('sendsPostgres') && !wanted('sendsPostgresRooms')) results.sendsPostgres = { skipped: 'not selected by BENCH_ONLY' };
else try {
  await admin.connect();
  const name = `chat_bench_${crypto.randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const pgServer = await startChatServer(path.join(tmp, 'pg'), { DATABASE_URL: url.toString() });
  try {
    results.sendsPostgres = wanted('sendsPostgres') ? await sends(pgServer, SECONDS) : { skipped: 'not selected by BENCH_ONLY' };
    if (wanted('sendsPostgresRooms')) results.sendsPostgresRooms = await sends(pgServer, SECONDS, FLOOR_ROOMS);
  } finally {
    await pgServer.stop();
    await admin.query(`drop database if exists ${name} with (force)`);
  }
} catch (err) {
  results.sendsPostgres = { skipped: `PostgreSQL not reachable at ${PG_URL}: ${(err as Error).message}` };
} finally {
  await admin.end().catch(() => {});
}
if (wanted('pgFloor')) {
  log('the PostgreSQL floor of a send (pgbench)');
  results.pgFloor = await pgFloor(PG_URL, SECONDS);
} else results.pgFloor = { skipped: 'not selected by BENCH_ONLY' };
fs.rmSync(tmp, { recursive: true, force: true });

// ---- report ----
type Row = [string, string, string, string];
const r = results as any;
const pass = (ok: boolean) => (ok ? 'met' : 'NOT MET');
const rows: Row[] = [['ceiling: bare Fastify POST→201', `${round(r.ceiling.rps)} req/s, p50 ${r.ceiling.p50} ms, p99 ${r.ceiling.p99} ms, ${r.ceiling.cpuUsPerRequest} µs CPU/req`, '', '']];
if (r.sends) {
  const ratio = r.sends.rps / r.ceiling.rps;
  rows.push(
    ['1. sends (SQLite, 32 conns)', `${round(r.sends.rps)} req/s, p50 ${r.sends.p50} ms, p99 ${r.sends.p99} ms, ${r.sends.cpuUsPerRequest} µs CPU/req`, 'ratio ≥ 0.5, all 201, all delivered', ''],
    ['   ratio to ceiling', `${round(ratio, 2)}`, '≥ 0.5', pass(ratio >= 0.5)],
    // A request still in flight when the load stops is delivered but not counted: delivered ≥ 201s.
    ['   201s / other / delivered', `${r.sends.created} / ${r.sends.requests - r.sends.created} / ${r.sends.delivered}`, 'all 201, all delivered', pass(r.sends.created === r.sends.requests && r.sends.delivered >= r.sends.created)],
  );
}
if (r.sendsRooms) {
  const x = r.sendsRooms;
  rows.push([`1b. sends (SQLite, ${SEND_CONNECTIONS} conns, ${x.rooms} rooms)`, `${round(x.rps)} req/s, p50 ${x.p50} ms, p99 ${x.p99} ms, ${x.cpuUsPerRequest} µs CPU/req; ratio to ceiling ${round(x.rps / r.ceiling.rps, 2)}; ${x.created} 201s, ${x.delivered} delivered`, 'ratio ≥ 0.3 (issue 11)', pass(x.rps / r.ceiling.rps >= 0.3)]);
}
if (r.sqliteFloor) {
  const f = r.sqliteFloor;
  rows.push(['   SQLite floor of a send (no HTTP/JS)', `${f.usPerSend} µs: message ${f.message}, notification ${f.notification}, 2 events ${f.events}, commit ${f.commit}`, `ceiling's 0.5 budget: ${round(2 * r.ceiling.cpuUsPerRequest)} µs CPU/send`, '']);
}
if (r.fanout) rows.push(['2. fan-out (500 sockets, 50 msg/s)', `p50 ${r.fanout.p50} ms, p99 ${r.fanout.p99} ms, max ${r.fanout.max} ms; ${r.fanout.received}/${r.fanout.expected} received`, 'p99 < 100 ms, none lost', pass(r.fanout.p99 < 100 && r.fanout.received === r.fanout.expected)]);
if (r.history) rows.push([`3. history (${r.history.messages} msgs, page of 50)`, `p50 ${r.history.p50} ms, p99 ${r.history.p99} ms, ${round(r.history.rps)} req/s (1 conn)`, 'p99 < 5 ms', pass(r.history.p99 < 5)]);
if (r.connections) rows.push([`4. connections (${r.connections.sockets} idle)`, `${r.connections.kbPerSocket} KB/socket (RSS ${r.connections.rssBeforeMb}→${r.connections.rssAfterMb} MB), ${r.connections.connectPerSecond} connects/s, ${r.connections.alive} alive`, '≤ 20 KB each', pass(r.connections.kbPerSocket <= 20 && r.connections.alive === r.connections.sockets)]);
if (r.loginStorm) rows.push(['5. login storm (20 logins/s)', `other requests p99 ${r.loginStorm.stormP99} ms (quiet: ${r.loginStorm.quietP99} ms), ${r.loginStorm.logins} logins ok`, 'p99 < 50 ms', pass(r.loginStorm.stormP99 < 50)]);
rows.push(
  r.sendsPostgres.skipped
    ? ['6. sends (PostgreSQL)', 'skipped: ' + r.sendsPostgres.skipped, '', '']
    : [`6. sends (PostgreSQL, ${SEND_CONNECTIONS} conns)`, `${round(r.sendsPostgres.rps)} req/s, p50 ${r.sendsPostgres.p50} ms, p99 ${r.sendsPostgres.p99} ms, ${r.sendsPostgres.cpuUsPerRequest} µs CPU/req, ratio ${round(r.sendsPostgres.rps / r.ceiling.rps, 2)}; ${r.sendsPostgres.created} 201s, ${r.sendsPostgres.delivered} delivered`, 'reported beside SQLite', ''],
);
if (r.sendsPostgresRooms) {
  const x = r.sendsPostgresRooms;
  const floor = r.pgFloor.skipped ? null : r.pgFloor.perRoomLock.tps;
  rows.push([`6b. sends (PostgreSQL, ${SEND_CONNECTIONS} conns, ${x.rooms} rooms)`, `${round(x.rps)} req/s, p50 ${x.p50} ms, p99 ${x.p99} ms, ${x.cpuUsPerRequest} µs CPU/req; ${x.created} 201s, ${x.delivered} delivered${floor ? `; / pgbench floor ${round(floor)} tps = ${round(x.rps / floor, 2)}` : ''}`, '≥ 1.0 × floor (issue 11)', floor ? pass(x.rps >= floor) : '']);
}
if (r.pgFloor.skipped) rows.push(['   PostgreSQL floor of a send (pgbench)', 'skipped: ' + r.pgFloor.skipped, '', '']);
else {
  const f = r.pgFloor;
  const figures = (x: any) => `${round(x.tps)} tps, ${x.latencyMs} ms avg, ${x.failed} failed`;
  const ratio = r.sendsPostgres.skipped
    ? 'ratio to sends: run BENCH_ONLY=sendsPostgres,pgFloor'
    : `sends PostgreSQL ${round(r.sendsPostgres.rps)} req/s / pgbench floor ${round(f.perRoomLock.tps)} tps = ${round(r.sendsPostgres.rps / f.perRoomLock.tps, 2)}`;
  rows.push(
    [`   PostgreSQL floor (pgbench, ${f.clients} clients${f.clients === SERVER_POOL_SIZE ? ' = server pool' : ''}, ${f.rooms} rooms)`, `per-room lock: ${figures(f.perRoomLock)}; ${ratio}`, '', ''],
    ['   same script, global advisory lock first', `${figures(f.globalLock)}; per-room / global = ${round(f.perRoomLock.tps / f.globalLock.tps, 2)}`, '', ''],
  );
}
for (const key of ['search', 'searchPostgres']) {
  const x = r[key];
  if (!x) continue;
  if (x.skipped) {
    rows.push([`10. search (${key})`, `skipped: ${x.skipped}`, '', '']);
    continue;
  }
  rows.push([`10. search, ${x.database}: ${x.messages} msgs, ${x.rooms} rooms`, `searcher in ${x.memberRooms} rooms (busy: ${x.busyMemberRooms}); seeded in ${x.seedSeconds} s, ${x.sizeMb} MB; ${SEARCH_REQUESTS} requests a kind, 1 connection`, '', '']);
  for (const [kind, k] of Object.entries(x.kinds) as Array<[string, any]>) {
    const ok = Object.keys(k.statuses).every((s) => s === '200');
    rows.push([`    ${kind}`, `p50 ${k.p50} ms, p95 ${k.p95} ms, p99 ${k.p99} ms, max ${k.max} ms; ${k.cpuMsPerRequest} ms CPU/req; mean count ${k.meanCount}${ok ? '' : `; statuses ${JSON.stringify(k.statuses)}`}`, `p95 ≤ ${SEARCH_BUDGET_MS} ms`, pass(ok && k.p95 <= SEARCH_BUDGET_MS)]);
  }
}
if (r.webClient) {
  const w = r.webClient;
  rows.push([`7. web client: first-page JavaScript`, `${w.firstPageJsGzipKb} KB gzipped`, '≤ 100 KB', pass(w.firstPageJsGzipKb <= 100)]);
  if (w.skipped) rows.push(['   in Chromium', `skipped: ${w.skipped}`, '', '']);
  else {
    rows.push(
      [`8. conversation list (${w.conversations} conversations)`, `all listed ${w.listMs} ms after a page load; a click shows one with its messages in ${w.openConversationMs} ms`, '≤ 1 s', pass(w.listMs <= 1000)],
      [`9. history of ${w.historyMessages} messages`, `scrolled to the first in ${w.historyScrollSeconds} s, ${w.historyPagesLoaded} pages loaded, at most ${w.historyMostArticlesAtOnce} messages on the page`, 'never all loaded at once', pass(w.reachedFirstMessage && w.historyMostArticlesAtOnce < w.historyMessages)],
    );
  }
}
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length), 6));
const line = (row: Row) => row.map((c, i) => c.padEnd(widths[i])).join(' | ');
process.stdout.write(`\n${line(['figure', 'measured', 'target', 'verdict'])}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`);
for (const row of rows) process.stdout.write(`${line(row)}\n`);
process.stdout.write(`\n${JSON.stringify(results, null, 2)}\n`);
