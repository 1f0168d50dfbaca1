// What deleting costs on a big database (prints, asserts nothing): a group's deletion (its
// messages cascade, each looked up by the rows pointing at it) and taking back a reaction.
//   node --import tsx bench/deletes.ts sqlite DIR | postgres URL (an empty database) [UP_TO]
// UP_TO: migrate only that far (e.g. 016-search-index-no-pending-list, before the indexes of 017).
// Seeds BENCH_DELETES_MESSAGES (1,000,000) messages in 1,000 rooms, one in 20 a reply, one
// notification per message and one per reaction (10,000 reactions), then times the deletion of 3
// rooms of ~1,000 messages each and of 50 reactions, each in its own transaction.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { percentile, round } from './lib.js';

const [dialect, where, upTo] = process.argv.slice(2);
const MESSAGES = Number(process.env.BENCH_DELETES_MESSAGES ?? 1_000_000);
const ROOMS = 1000;
const database = openDatabase({ databaseUrl: dialect === 'postgres' ? where : null, sqlitePath: path.join(where, 'chat.sqlite') });
const { db } = database;
await migrateToLatest(database, upTo as Parameters<typeof migrateToLatest>[1]);

const now = `'2026-01-01T00:00:00.000Z'`;
const series = (n: number) => (dialect === 'postgres' ? `generate_series(1, ${n}) as g(i)` : `(with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n}) select i from s) g`);
const run = (text: string) => sql.raw(text).execute(db);
const t0 = performance.now();
await run(`insert into users (username, username_key, email, email_key, password_hash, is_active, date_joined)
  select 'u' || i, 'u' || i, 'u' || i || '@x.example', 'u' || i || '@x.example', 'x', 1, ${now} from ${series(100)}`);
await run(`insert into chat_rooms (room_type, name, is_public, created_at, updated_at) select 'group', 'room ' || i, 0, ${now}, ${now} from ${series(ROOMS)}`);
await run(`insert into messages (chat_room_id, sender_id, content, created_at, updated_at, reply_to_id)
  select 1 + i % ${ROOMS}, 1 + i % 100, 'message ' || i, ${now}, ${now}, case when i % 20 = 0 and i > ${ROOMS} then i - ${ROOMS} end from ${series(MESSAGES)}`);
await run(`insert into reactions (message_id, user_id, reaction_type, created_at, updated_at) select i * ${Math.floor(MESSAGES / 10_000)}, 1 + i % 100, 'like', ${now}, ${now} from ${series(10_000)}`);
await run(`insert into notifications (user_id, type, body, chat_room_id, message_id, created_at) select sender_id % 100 + 1, 'message', 'new message', chat_room_id, id, ${now} from messages`);
await run(`insert into notifications (user_id, type, body, chat_room_id, message_id, reaction_id, created_at) select r.user_id % 100 + 1, 'reaction', 'reacted', m.chat_room_id, m.id, r.id, ${now} from reactions r join messages m on m.id = r.message_id`);
await run('analyze');
console.log(`${dialect}, migrated to ${upTo ?? 'the latest'}: seeded ${MESSAGES} messages in ${round((performance.now() - t0) / 1000)} s`);

const timed = async (n: number, one: (trx: typeof db, i: number) => Promise<unknown>) => {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await db.transaction().execute((trx) => one(trx, i));
    ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b);
};
const rooms = await timed(3, (trx, i) => trx.deleteFrom('chat_rooms').where('id', '=', 10 + i).execute());
console.log(`delete a room of ~${MESSAGES / ROOMS} messages: ${rooms.map((x) => round(x)).join(', ')} ms`);
const reactionIds = (await db.selectFrom('reactions').select('id').orderBy('id', 'desc').limit(50).execute()).map((r) => r.id);
const reactions = await timed(reactionIds.length, (trx, i) => trx.deleteFrom('reactions').where('id', '=', reactionIds[i]).execute());
console.log(`take back a reaction: p50 ${round(percentile(reactions, 50), 2)} p95 ${round(percentile(reactions, 95), 2)} ms`);
await database.close();
