// The floor under figure 6: pgbench running the statements of one send as the server runs them
// (bench/pg-floor-send.sql) with as many connections as the server's pool, against a scratch
// database migrated as the server migrates it, with the floor's rooms (bench/pg-floor-seed.sql). No HTTP, no
// Node, no Kysely: what PostgreSQL itself allows. Run twice: per-room lock (the new path), and
// the same script behind the old global event-log lock, for reference. Transactions per second.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { NotificationRow } from '../src/db/schema.js';
import { notificationView } from '../src/modules/notifications/notifications.view.js';
import { ROOT, round } from './lib.js';

/** The server's PostgreSQL pool as the bench starts it: src/db/connect.ts `max: opts.poolSize ?? 10`. */
export const SERVER_POOL_SIZE = 10;
/** pgbench clients: the pool size unless BENCH_PG_FLOOR_CLIENTS says otherwise. */
export const PG_FLOOR_CLIENTS = Number(process.env.BENCH_PG_FLOOR_CLIENTS ?? SERVER_POOL_SIZE);
/** Private rooms of two members; each transaction picks one at random, so clients rarely share a room lock. */
/** As many rooms as the many-room sends scenario (bench/run.ts, SEND_ROOMS). */
export const ROOMS = 100;
/** The old write path's lock (src/db/dialect.ts EVENT_LOG_LOCK), taken first in every event-writing transaction. */
const GLOBAL_LOCK = 'SELECT pg_advisory_xact_lock(727274002);';
const PGBENCH = process.env.BENCH_PGBENCH ?? 'pgbench';
const CONTENT = 'Hey, are we still on for lunch tomorrow at noon?';
const INT8_OID = 20;

export interface PgbenchRun {
  tps: number;
  latencyMs: number;
  transactions: number;
  failed: number;
}

export type PgFloor =
  | { skipped: string }
  | { clients: number; threads: number; rooms: number; seconds: number; perRoomLock: PgbenchRun; globalLock: PgbenchRun };

export async function pgFloor(adminUrl: string, seconds: number, clients = PG_FLOOR_CLIENTS): Promise<PgFloor> {
  const version = spawnSync(PGBENCH, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return { skipped: `${PGBENCH} not runnable: ${version.error?.message ?? version.stderr.trim()}` };
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => {});
    return { skipped: `PostgreSQL not reachable at ${adminUrl}: ${(err as Error).message}` };
  }
  const name = `chat_bench_floor_${crypto.randomBytes(4).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-pg-floor-'));
  try {
    await admin.query(`create database ${name}`);
    const vars = await seed(url.toString());
    const perRoom = path.join(ROOT, 'bench/pg-floor-send.sql');
    const global = path.join(dir, 'pg-floor-send-global-lock.sql');
    const locked = fs.readFileSync(perRoom, 'utf8').replace(/^BEGIN;$/m, `BEGIN;\n${GLOBAL_LOCK}`);
    if (!locked.includes(GLOBAL_LOCK)) throw new Error('bench/pg-floor-send.sql has no `BEGIN;` line to put the global lock after');
    fs.writeFileSync(global, locked);
    const threads = Math.min(os.cpus().length, clients);
    const run = (file: string) => pgbench(url.toString(), file, { clients, threads, seconds, vars });
    return { clients, threads, rooms: ROOMS, seconds, perRoomLock: run(perRoom), globalLock: run(global) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end().catch(() => {});
  }
}

/** Migrates the database and makes the rooms; returns pgbench's -D values (the notification event's payload built as the server builds it). */
async function seed(url: string): Promise<Record<string, string>> {
  const db = new pg.Client({
    connectionString: url,
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  const database = openDatabase({ databaseUrl: url, sqlitePath: '' });
  try {
    await migrateToLatest(database);
  } finally {
    await database.close();
  }
  await db.connect();
  try {
    const rooms = fs.readFileSync(path.join(ROOT, 'bench/pg-floor-seed.sql'), 'utf8');
    await db.query(rooms.replace(/:rooms\b/g, String(ROOMS)));
    // One notification written by hand, only to build the event's payload from a real row.
    const now = new Date().toISOString();
    const body = 'Ann Example sent you a message';
    const m = (await db.query<{ id: number }>('insert into messages (chat_room_id, sender_id, content, created_at, updated_at) values (1, 1, $1, $2, $2) returning id', [CONTENT, now])).rows[0];
    const n = (await db.query<NotificationRow>("insert into notifications (type, body, chat_room_id, message_id, actor_id, created_at, user_id) values ('message', $1, 1, $2, 1, $3, 2) returning *", [body, m.id, now])).rows[0];
    const notified = JSON.stringify({ chat_room: 1, notification: notificationView(n) });
    return { rooms: String(ROOMS), content: CONTENT, now, body, notified };
  } finally {
    await db.end();
  }
}

function pgbench(url: string, file: string, o: { clients: number; threads: number; seconds: number; vars: Record<string, string> }): PgbenchRun {
  const defines = Object.entries(o.vars).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const args = ['-n', '-M', 'prepared', '-c', String(o.clients), '-j', String(o.threads), '-T', String(o.seconds), '-f', file, ...defines, url];
  const r = spawnSync(PGBENCH, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  const figure = (re: RegExp) => Number(re.exec(r.stdout)?.[1] ?? NaN);
  const tps = figure(/^tps = ([\d.]+)/m);
  if (r.status !== 0 || Number.isNaN(tps)) throw new Error(`pgbench failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return {
    tps: round(tps),
    latencyMs: round(figure(/^latency average = ([\d.]+) ms/m), 2),
    transactions: figure(/^number of transactions actually processed: (\d+)/m),
    failed: figure(/^number of failed transactions: (\d+)/m),
  };
}
