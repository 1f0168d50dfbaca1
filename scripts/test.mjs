#!/usr/bin/env node
// npm test: the whole suite on SQLite, then again on PostgreSQL with Redis when they answer,
// the browser tests (test/browser) in Debian's Chromium included. The web client is built first.
// REQUIRE_SERVICES=1 (CI) turns a missing PostgreSQL, Redis or Chromium into a failure instead of a skip.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const required = /^(1|true|yes)$/i.test(process.env.REQUIRE_SERVICES ?? '');

function reachable(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.setTimeout(1500, () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(false));
  });
}

function testFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const only = process.argv.slice(2);
const files = only.length ? only : [...testFiles(path.join(root, 'test')), ...testFiles(path.join(root, 'src'))];

function run(label, env) {
  process.stdout.write(`\n=== ${label} ===\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', '--test-reporter=spec', ...files], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.on('close', (code) => {
      const num = (name) => Number(new RegExp(`ℹ ${name} (\\d+)`).exec(out)?.[1] ?? 0);
      resolve({ label, code, pass: num('pass'), fail: num('fail'), skipped: num('skipped') });
    });
  });
}

const built = spawnSync(process.execPath, [path.join(root, 'web/build.mjs'), '--quiet'], { stdio: 'inherit' });
if (built.status !== 0) {
  process.stderr.write('Building the web client failed.\n');
  process.exit(1);
}

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const chromiumUp = fs.existsSync(CHROMIUM);
const [pgUp, redisUp] = await Promise.all([reachable(PG_URL), reachable(REDIS_URL)]);
const missing = [
  !pgUp && `PostgreSQL (${PG_URL}) is not reachable, so the suite did not run against it.`,
  !redisUp && `Redis (${REDIS_URL}) is not reachable, so the suite did not run against it.`,
  !chromiumUp && `Chromium is not installed at ${CHROMIUM} (apt-get install -y --no-install-recommends chromium), so the browser tests (test/browser) did not run.`,
].filter(Boolean);
if (missing.length && required) {
  process.stderr.write(`REQUIRE_SERVICES is set, but:\n${missing.map((m) => `  ${m}`).join('\n')}\n`);
  process.exit(1);
}

const results = [await run('SQLite, in-process bus', { TEST_DB: 'sqlite', TEST_REDIS_URL: '' })];
if (pgUp || redisUp) {
  const label = `${pgUp ? 'PostgreSQL' : 'SQLite'}${redisUp ? ' + Redis' : ', in-process bus'}`;
  results.push(await run(label, { TEST_DB: pgUp ? 'postgres' : 'sqlite', TEST_DATABASE_URL: PG_URL, TEST_REDIS_URL: redisUp ? REDIS_URL : '' }));
}
for (const m of missing) process.stdout.write(`\nSKIPPED: ${m}\n`);

const pass = results.reduce((n, r) => n + r.pass, 0);
const fail = results.reduce((n, r) => n + r.fail, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
process.stdout.write('\n');
for (const r of results) process.stdout.write(`${r.label}: ${r.pass} passed, ${r.fail} failed, ${r.skipped} skipped\n`);
process.stdout.write(`all: ${pass} passed, ${fail} failed, ${skipped} skipped\n`);
process.exit(results.every((r) => r.code === 0) && fail === 0 ? 0 : 1);
