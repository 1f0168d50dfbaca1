// Search (issue 14) outside the server: seeds the search scenario's database once and times single
// queries on it, so that an idea can be judged in seconds instead of the bench's minutes.
//   node --import tsx bench/search-profile.ts seed sqlite DIR     (DIR/chat.sqlite)
//   node --import tsx bench/search-profile.ts seed postgres URL   (an empty database)
//   node --import tsx bench/search-profile.ts time sqlite DIR | postgres URL [ROUNDS]
// `time` runs each kind's queries through searchRepository.find (the statements the route runs,
// without HTTP, the page's messages and highlights' escaping) and prints p50/p95/max in ms.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { newMarkers } from '../src/modules/search/search.highlight.js';
import { parseQuery } from '../src/modules/search/search.query.js';
import { searchRepository } from '../src/modules/search/search.repository.js';
import { percentile, round } from './lib.js';
import { searchQueries, seedSearchDatabase, type SearchSeed } from './scenarios.js';

const SEED: SearchSeed = { messages: Number(process.env.BENCH_SEARCH_MESSAGES ?? 1_000_000), rooms: 1000, memberRooms: 30, busyMemberRooms: 200, recent: Number(process.env.BENCH_SEARCH_RECENT ?? 20_000) };
/** Users 1 and 2: the searcher (30 rooms) and the busy searcher (200 rooms). */
const SEARCHERS = [{ id: 1, rooms: SEED.memberRooms }, { id: 2, rooms: SEED.busyMemberRooms }];

const [command, dialect, where, roundsArg] = process.argv.slice(2);
const pgUrl = dialect === 'postgres' ? where : null;
const database = openDatabase({ databaseUrl: pgUrl, sqlitePath: path.join(where, 'chat.sqlite') });

if (command === 'seed') {
  await migrateToLatest(database);
  const now = '2026-01-01T00:00:00.000Z';
  for (const name of ['srch', 'busy']) {
    await database.db.insertInto('users').values({ username: name, username_key: name, email: `${name}@bench.example`, email_key: `${name}@bench.example`, password_hash: 'x', is_active: 1, date_joined: now }).execute();
  }
  await database.close();
  const start = performance.now();
  await seedSearchDatabase(where, pgUrl, SEED, SEARCHERS);
  console.log(`seeded in ${round((performance.now() - start) / 1000)} s`);
} else if (command === 'time') {
  await migrateToLatest(database);
  const rooms = (await database.db.selectFrom('memberships').select('chat_room_id').where('user_id', '=', 1).orderBy('chat_room_id').execute()).map((r) => r.chat_room_id);
  const kinds: Record<string, Array<{ q: string; chat_room?: number; user?: number }>> = searchQueries(rooms);
  kinds.busyCommon = kinds.common.map((x) => ({ ...x, user: 2 }));
  const only = process.env.KINDS?.split(',');
  const rounds = Number(roundsArg ?? 5);
  for (const [kind, queries] of Object.entries(kinds)) {
    if (only && !only.includes(kind)) continue;
    const times: number[] = [];
    let counted = 0;
    for (let r = -1; r < rounds; r++) {
      for (const x of queries) {
        const t0 = performance.now();
        const hits = await searchRepository.find(database.db, { userId: x.user ?? 1, parts: parseQuery(x.q), chatRoom: x.chat_room, limit: 20, offset: 0 }, newMarkers());
        if (r >= 0) {
          times.push(performance.now() - t0);
          counted += hits.total;
        }
      }
    }
    times.sort((a, b) => a - b);
    console.log(`${kind.padEnd(11)} p50 ${round(percentile(times, 50), 2)}  p95 ${round(percentile(times, 95), 2)}  max ${round(times[times.length - 1], 2)} ms; mean count ${round(counted / times.length)}`);
  }
  await database.close();
}
