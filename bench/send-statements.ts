// Database statements per send (prints, asserts nothing): `node --import tsx bench/send-statements.ts`,
// with TEST_DB=postgres for PostgreSQL. Counts every statement the app runs (pg client queries,
// better-sqlite3 statement runs) around sends through the app (inject; no HTTP, no sockets):
// one at a time (each its own transaction), then 20 at once into 20 rooms (group commit shares
// one transaction). A count, unlike a rate, does not move with the machine's load; on
// PostgreSQL each statement is a round trip.
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { chatApp, privateRoom, send, users } from '../test/chat-helpers.js';

let statements = 0;
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
const scratch = new SQLite(':memory:');
const statementProto = Object.getPrototypeOf(scratch.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
scratch.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = statementProto[method];
  statementProto[method] = function (this: unknown, ...args: unknown[]) {
    statements++;
    return original.apply(this, args);
  };
}

const t = await chatApp();
const [sender, mate, ...others] = await users(t, 22);
const room = (await privateRoom(t, sender, mate)).id as number;
for (let i = 0; i < 10; i++) await send(t, sender, room, `warm-up ${i}`);
statements = 0;
for (let i = 0; i < 100; i++) await send(t, sender, room, `one at a time ${i}`);
const alone = statements / 100;
const rooms: number[] = [];
for (const other of others) rooms.push((await privateRoom(t, sender, other)).id);
statements = 0;
for (let round = 0; round < 10; round++) await Promise.all(rooms.map((r, i) => send(t, sender, r, `together ${round} ${i}`)));
const together = statements / (10 * rooms.length);
console.log(`${process.env.TEST_DB === 'postgres' ? 'PostgreSQL' : 'SQLite'}: statements per send: ${alone.toFixed(2)} one at a time, ${together.toFixed(2)} with 20 at once into 20 rooms`);
await t.close();
