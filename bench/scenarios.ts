// The measured scenarios. Each returns plain figures; run.ts prints them.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type WebSocket from 'ws';
import { PASSWORD, account, api, cpuSeconds, load, openSocket, percentile, round, rssKb, startChatServer, type Proc } from './lib.js';

const SHORT_MESSAGE = 'Hey, are we still on for lunch tomorrow at noon?';
/** HTTP connections of the sends load (figures 1 and 6) and of the ceiling. */
export const SEND_CONNECTIONS = 32;

/** Waits until `done()` or `ms` pass (benchmarks may wait; tests may not). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** 1 and 6: authenticated sends at SEND_CONNECTIONS connections, one member online on a socket. */
/**
 * 1 and 6: one sender, 32 connections. `rooms` = 1: every send to one private room (a hot room:
 * its sends take turns on the room's lock); more: round robin over that many private rooms.
 */
export async function sends(server: Proc, seconds: number, rooms = 1) {
  const sender = await account(server.base, 'snd');
  const roomIds: number[] = [];
  let member = sender;
  for (let i = 0; i < rooms; i++) {
    member = await account(server.base, 'rcv');
    roomIds.push((await api(server.base, 'POST', '/api/chat_rooms/', sender.token, { room_type: 'private', members: [member.id] })).id);
  }
  // One room: the receiving member's socket counts deliveries; several: the sender's, in all of them.
  const ws = await openSocket(server.base, rooms === 1 ? member.token : sender.token);
  let delivered = 0;
  ws.on('message', (d) => {
    if (d.toString().includes('"type":"new_message"')) delivered++;
  });
  const cpuBefore = cpuSeconds(server.pid);
  let next = 0;
  const r = await load({
    url: `${server.base}/api/messages/`,
    connections: SEND_CONNECTIONS,
    duration: seconds,
    requests: [{
      method: 'POST',
      headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ chat_room: roomIds[next++ % roomIds.length], content: SHORT_MESSAGE }) }),
    }],
  });
  const created = r.statuses['201'] ?? 0;
  await until(() => delivered >= created, 10_000);
  // The server's CPU time per request: steadier than requests/s when runs are noisy.
  const cpuUsPerRequest = round(((cpuSeconds(server.pid) - cpuBefore) * 1e6) / r.requests);
  ws.close();
  return { ...r, rooms, created, delivered, cpuUsPerRequest };
}

export async function ceiling(server: Proc, seconds: number) {
  const base = server.base;
  const cpuBefore = cpuSeconds(server.pid);
  const r = await load({
    url: `${base}/api/messages/`,
    method: 'POST',
    connections: SEND_CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_room: 1, content: SHORT_MESSAGE }),
  });
  return { ...r, cpuUsPerRequest: round(((cpuSeconds(server.pid) - cpuBefore) * 1e6) / r.requests) };
}

/** 2: 20 users × 25 sockets in one room, 50 messages/s; time from send to receipt at every socket. */
export async function fanout(server: Proc, seconds: number) {
  const users: Array<{ id: number; token: string }> = [];
  for (let i = 0; i < 20; i++) users.push(await account(server.base, 'fan'));
  const sender = await account(server.base, 'fsend');
  const room = await api(server.base, 'POST', '/api/chat_rooms/', sender.token, { room_type: 'group', name: 'fan-out', members: users.map((u) => u.id) });
  const sockets: WebSocket[] = [];
  for (const u of users) for (let i = 0; i < 25; i++) sockets.push(await openSocket(server.base, u.token));
  const sentAt: number[] = [];
  const latencies: number[] = [];
  for (const ws of sockets) {
    ws.on('message', (d) => {
      const now = performance.now();
      const m = /"content":"fan (\d+)"/.exec(d.toString());
      if (m) latencies.push(now - sentAt[Number(m[1])]);
    });
  }
  const total = seconds * 50;
  let failed = 0;
  await new Promise<void>((resolve) => {
    let n = 0;
    const timer = setInterval(() => {
      const i = n++;
      sentAt[i] = performance.now();
      api(server.base, 'POST', '/api/messages/', sender.token, { chat_room: room.id, content: `fan ${i}` }).catch(() => failed++);
      if (n === total) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  const expected = total * sockets.length;
  await until(() => latencies.length >= expected - failed * sockets.length, 15_000);
  for (const ws of sockets) ws.close();
  latencies.sort((a, b) => a - b);
  return { sockets: sockets.length, messages: total, failedSends: failed, expected, received: latencies.length, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies[latencies.length - 1] ?? NaN) };
}

/** 3: a room of 1,000,000 messages; a page of 50 with `before` from the middle. */
export async function history(dataDir: string, count: number, seconds: number) {
  let server = await startChatServer(dataDir);
  const [a, b] = [await account(server.base, 'hist'), await account(server.base, 'hist')];
  const room = await api(server.base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
  await server.stop();
  // Seeded straight into the database file (the server is stopped): far faster than a million POSTs.
  const db = new SQLite(path.join(dataDir, 'chat.sqlite'));
  const seedStart = performance.now();
  const insert = db.prepare('insert into messages (chat_room_id, sender_id, content, created_at, updated_at) values (?, ?, ?, ?, ?)');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const at = new Date(t0 + i * 1000).toISOString();
      insert.run(room.id, i % 2 ? a.id : b.id, `history message number ${i}`, at, at);
    }
  })();
  const { lo, hi } = db.prepare('select min(id) as lo, max(id) as hi from messages where chat_room_id = ?').get(room.id) as { lo: number; hi: number };
  db.close();
  const seedSeconds = (performance.now() - seedStart) / 1000;
  server = await startChatServer(dataDir);
  const middle = Math.floor((lo + hi) / 2);
  const url = `${server.base}/api/messages/?chat_room=${room.id}&before=${middle}&limit=50`;
  const page = await api(server.base, 'GET', url.slice(server.base.length), a.token);
  const r = await load({ url, connections: 1, duration: seconds, headers: { authorization: `Bearer ${a.token}` } });
  await server.stop();
  return { ...r, messages: count, seedSeconds: round(seedSeconds), pageSize: page.results.length, firstId: page.results[0]?.id };
}

/** 4: 10,000 idle authenticated sockets: server memory per socket and connect rate. */
export async function connections(server: Proc, total: number) {
  const users: Array<{ token: string }> = [];
  for (let i = 0; i < 100; i++) users.push(await account(server.base, 'conn'));
  const warm = [];
  for (let i = 0; i < 50; i++) warm.push(await openSocket(server.base, users[i % users.length].token));
  for (const ws of warm) ws.close();
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKb(server.pid);
  const sockets: WebSocket[] = [];
  const start = performance.now();
  const batch = 100;
  for (let i = 0; i < total; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, total - i) }, (_, j) => openSocket(server.base, users[(i + j) % users.length].token)));
    sockets.push(...opened);
  }
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKb(server.pid);
  const alive = sockets.filter((s) => s.readyState === s.OPEN).length;
  for (const ws of sockets) ws.terminate();
  return { sockets: total, alive, connectPerSecond: round(total / seconds), rssBeforeMb: round(before / 1024), rssAfterMb: round(after / 1024), kbPerSocket: round((after - before) / total, 2) };
}

/** 5: 20 logins a second while other authenticated requests run; their latency. */
export async function loginStorm(server: Proc, seconds: number) {
  const reader = await account(server.base, 'read');
  const target = await account(server.base, 'login');
  const other = { url: `${server.base}/api/users/${reader.id}/`, connections: 8, duration: seconds, headers: { authorization: `Bearer ${reader.token}` }, overallRate: 500 };
  const quiet = await load(other);
  let logins = 0;
  let loginFailures = 0;
  let inFlight = 0;
  const timer = setInterval(() => {
    inFlight++;
    api(server.base, 'POST', '/api/auth/token/', null, { email: target.email, password: PASSWORD })
      .then(() => logins++, () => loginFailures++)
      .finally(() => inFlight--);
  }, 50);
  const stormy = await load(other);
  clearInterval(timer);
  await until(() => inFlight === 0, 10_000);
  return { quietP99: quiet.p99, quietP50: quiet.p50, stormP99: stormy.p99, stormP50: stormy.p50, otherRps: round(stormy.rps), logins, loginFailures, otherStatuses: stormy.statuses };
}

// ---- search (issue 14) ----

// Realistic chat text: a Zipf distribution (s = 1.05) over ~300 everyday words, then a long tail
// of invented (pronounceable) words playing the rare words of a real corpus; a few fixed phrases
// planted so that phrase queries find something.
const SEARCH_COMMON = `the i you to a and it is that we of for on in this be have are not do with can just at so but what was will
ok yes no get if me my all like about there know think up out your one time now they how going want need see today
good go more when would thanks should some make back still here then did got also really right yeah sure any could
meeting work team deploy build test release server issue bug fix code review update change data user client api
problem message call week tomorrow morning lunch project plan deadline email report design branch merge config
database query error log service notes version feature ticket customer support sprint standup demo docs
deployment deployed deploying deploys production staging rollback hotfix pipeline monitor alert incident latency
cache memory disk network backup restore migrate migration schema index search result page link file image upload
download share doc sheet slide calendar invite schedule office remote home travel flight hotel budget invoice payment
price cost sales market launch product roadmap goal metric dashboard chart number count total average daily weekly
monthly quarter year happy sorry please great nice cool awesome perfect interesting weird strange quick slow fast late
early soon later again first last next previous new old big small long short high low hard easy simple complex
running run runs ran player play playing played employ employment employee configure configuration configured
question answer idea thought note draft final agree disagree decide decision option choice reason because
people person friend family manager engineer designer developer admin owner member guest group room channel thread`.split(/\s+/);
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ne', 'to', 'zu', 'vi', 'shi', 'ben', 'dor', 'fal', 'gri', 'hul', 'jex', 'kor', 'lum', 'mar', 'nox', 'pel', 'quin', 'ros', 'sta', 'tur', 'vel', 'wyn', 'xan', 'yor', 'zel'];
const SEARCH_PHRASES = ['release notes', 'code review', 'merge conflict', 'staging server'];

export function searchVocabulary(): string[] {
  const tail: string[] = [];
  let s = 1;
  for (let i = 0; i < 20_000; i++) {
    let w = '';
    for (let j = 0; j < 2 + (i % 3); j++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      w += SYLLABLES[s % SYLLABLES.length];
    }
    tail.push(w);
  }
  return [...new Set([...SEARCH_COMMON.filter(Boolean), ...tail])];
}

/** Seeded message texts: 3–17 Zipf-drawn words, now and then one of SEARCH_PHRASES. */
function searchCorpus(vocab: string[], seed = 42) {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const cum: number[] = [];
  let acc = 0;
  for (let r = 0; r < vocab.length; r++) cum.push((acc += 1 / Math.pow(r + 1, 1.05)));
  const pick = () => {
    const x = rnd() * acc;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo];
  };
  return {
    rnd,
    text(): string {
      const words: string[] = [];
      for (let i = 3 + Math.floor(rnd() * 15); i > 0; i--) words.push(pick());
      if (rnd() < 0.02) words.splice(Math.floor(rnd() * words.length), 0, SEARCH_PHRASES[Math.floor(rnd() * SEARCH_PHRASES.length)]);
      words[0] = words[0][0].toUpperCase() + words[0].slice(1);
      return `${words.join(' ')}${rnd() < 0.5 ? '.' : '?'}`;
    },
  };
}

export interface SearchSeed {
  messages: number;
  rooms: number;
  /** Rooms the searching user is an active member of (spread evenly over all rooms). */
  memberRooms: number;
  /** Rooms of a second searcher, a member of many (SQLite then filters by join, not in the index). */
  busyMemberRooms: number;
  /**
   * The last of `messages`, written after the database's maintenance (`maintain`): the traffic
   * since autovacuum last ran, whose entries a PostgreSQL GIN index with `fastupdate` would still
   * hold in its pending list, scanned by every search (migration 016).
   */
  recent: number;
}

/** Inserts rows into a table of the stopped (SQLite) or idle (PostgreSQL) database. */
type InsertRows = (table: string, columns: string[], rows: unknown[][]) => Promise<void>;

/** InsertRows for PostgreSQL: multi-row inserts of 1,000 rows. */
function pgInsertRows(client: pg.Client): InsertRows {
  return async (table, columns, rows) => {
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      let n = 0;
      const tuples = chunk.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`).join(', ');
      await client.query(`insert into ${table} (${columns.join(', ')}) values ${tuples}`, chunk.flat());
    }
  };
}

/** InsertRows for SQLite: one transaction per call. */
function sqliteInsertRows(db: SQLite.Database): InsertRows {
  return async (table, columns, rows) => {
    const st = db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
    db.transaction(() => {
      for (const row of rows) st.run(...row);
    })();
  };
}

/**
 * Rooms, members and messages written straight into a fresh database: far faster than a million
 * POSTs, and the search index's triggers still fire for every row, as for a send. Each room has
 * 10 seeded members (accounts that cannot log in); the searchers, real accounts, are added to
 * some rooms. Ids are those a fresh database hands out: users after the searchers, rooms from 1.
 */
async function seedSearch(insert: InsertRows, seed: SearchSeed, searchers: Array<{ id: number; rooms: number }>, maintain: () => Promise<unknown>): Promise<void> {
  const now = '2026-01-01T00:00:00.000Z';
  const USERS = 2000;
  await insert('users', ['username', 'username_key', 'email', 'email_key', 'password_hash', 'date_joined'],
    Array.from({ length: USERS }, (_, i) => [`seed${i}`, `seed${i}`, `seed${i}@bench.example`, `seed${i}@bench.example`, 'x', now]));
  await insert('chat_rooms', ['room_type', 'name', 'is_public', 'created_at', 'updated_at'], Array.from({ length: seed.rooms }, (_, i) => ['group', `search room ${i}`, 0, now, now]));
  const firstUser = Math.max(...searchers.map((s) => s.id)) + 1;
  const member = (room: number, k: number) => firstUser + ((room * 10 + k) % USERS);
  const memberships: unknown[][] = [];
  for (let r = 1; r <= seed.rooms; r++) for (let k = 0; k < 10; k++) memberships.push([r, member(r, k), k === 0 ? 'owner' : 'member', now]);
  for (const s of searchers) for (let i = 0; i < s.rooms; i++) memberships.push([1 + Math.floor((i * seed.rooms) / s.rooms), s.id, 'member', now]);
  await insert('memberships', ['chat_room_id', 'user_id', 'role', 'joined_at'], memberships);
  const corpus = searchCorpus(searchVocabulary());
  const t0 = Date.parse(now);
  const BATCH = 5000;
  const messages = async (from: number, to: number) => {
    for (let b = from; b < to; b += BATCH) {
      const rows: unknown[][] = [];
      for (let i = b; i < Math.min(to, b + BATCH); i++) {
        const room = 1 + Math.floor(corpus.rnd() * seed.rooms);
        const at = new Date(t0 + i * 1000).toISOString();
        rows.push([room, member(room, i % 10), corpus.text(), at, at]);
      }
      await insert('messages', ['chat_room_id', 'sender_id', 'content', 'created_at', 'updated_at'], rows);
    }
  };
  const bulk = Math.max(0, seed.messages - seed.recent);
  await messages(0, bulk);
  await maintain();
  await messages(bulk, seed.messages);
}

/**
 * seedSearch into the migrated, stopped (SQLite: `dataDir/chat.sqlite`) or idle (PostgreSQL:
 * `pgUrl`) database. Returns the size of the messages and their search index, in MB.
 */
export async function seedSearchDatabase(dataDir: string, pgUrl: string | null, seed: SearchSeed, searchers: Array<{ id: number; rooms: number }>): Promise<number> {
  if (pgUrl) {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    // As autovacuum would, before the recent messages: statistics, and (were there one) the GIN
    // index's pending list merged.
    await seedSearch(pgInsertRows(client), seed, searchers, () => client.query('vacuum analyze'));
    const { rows } = await client.query(`select (pg_total_relation_size('message_search') + pg_total_relation_size('messages')) / 1e6 as mb`);
    await client.end();
    return Number(rows[0].mb);
  }
  const db = new SQLite(path.join(dataDir, 'chat.sqlite'));
  await seedSearch(sqliteInsertRows(db), seed, searchers, async () => undefined);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const { mb } = db.prepare(`select sum(pgsize) / 1e6 as mb from dbstat where name like 'messages%'`).get() as { mb: number };
  db.close();
  return Number(mb);
}

/** The queries of each kind, cycled through: words of the seeded corpus by how common they are. */
export function searchQueries(roomIds: number[]) {
  const vocab = searchVocabulary();
  const rare = vocab.slice(9000, 9040);
  const common = ['meeting', 'team', 'deploy', 'build', 'release', 'server', 'issue', 'review', 'update', 'project'];
  return {
    rare: rare.map((q) => ({ q })),
    common: common.map((q) => ({ q })),
    twoWords: ['deploy staging', 'meeting tomorrow', 'server error', 'release version', 'team lunch'].map((q) => ({ q })),
    prefix: ['depl', 'meet', 'rele', 'conf', 'migr', 'sched'].map((q) => ({ q })),
    phrase: SEARCH_PHRASES.map((p) => ({ q: `"${p}"` })),
    room: common.map((q, i) => ({ q, chat_room: roomIds[i % roomIds.length] })),
  };
}

/**
 * Sequential requests (one connection), each timed: p50/p95/p99 in ms with sub-ms precision, and
 * the CPU time they cost (`cpu()`: seconds used so far by the server and, on PostgreSQL, the
 * database's backends), which a busy machine inflates far less than it does latency.
 */
async function timeRequests(base: string, token: string, urls: string[], n: number, cpu: () => Promise<number>) {
  const get = async (url: string) => {
    const res = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  for (let i = 0; i < Math.min(10, n); i++) await get(urls[i % urls.length]);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let counted = 0;
  const cpuBefore = await cpu();
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const { status, body } = await get(urls[i % urls.length]);
    latencies.push(performance.now() - start);
    statuses[status] = (statuses[status] ?? 0) + 1;
    counted += Number(body.count ?? 0);
  }
  const cpuMsPerRequest = round((((await cpu()) - cpuBefore) * 1000) / n, 2);
  latencies.sort((a, b) => a - b);
  const p = (x: number) => round(percentile(latencies, x), 2);
  return { requests: n, p50: p(50), p95: p(95), p99: p(99), max: round(latencies[latencies.length - 1], 2), cpuMsPerRequest, meanCount: round(counted / n), statuses };
}

/**
 * Search over `seed.messages` messages in `seed.rooms` rooms, through the real route, on SQLite
 * (`pgUrl` null) or on PostgreSQL (`pgUrl`: an empty database). Each query kind runs
 * `perKind` sequential requests; `busyCommon` is the common-word kind for a member of many rooms.
 */
export async function search(dataDir: string, seed: SearchSeed, perKind: number, pgUrl: string | null = null) {
  const env: Record<string, string> = pgUrl ? { DATABASE_URL: pgUrl } : {};
  let server = await startChatServer(dataDir, env);
  const searcher = await account(server.base, 'srch');
  const busy = await account(server.base, 'busy');
  await server.stop();
  const seedStart = performance.now();
  const searchers = [{ id: searcher.id, rooms: seed.memberRooms }, { id: busy.id, rooms: seed.busyMemberRooms }];
  const sizeMb = await seedSearchDatabase(dataDir, pgUrl, seed, searchers);
  const seedSeconds = round((performance.now() - seedStart) / 1000);
  server = await startChatServer(dataDir, env);
  const running = server;
  // The CPU of the server and of its PostgreSQL backends (this database's, but this client's own).
  // A backend that exits takes its time with it: each is counted from its last reading, so the
  // total only grows (the pool keeps its connections while requests run).
  const monitor = pgUrl ? new pg.Client({ connectionString: pgUrl }) : null;
  await monitor?.connect();
  const backends = new Map<number, number>();
  let backendSeconds = 0;
  const cpu = async () => {
    if (monitor) {
      const { rows } = await monitor.query('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      for (const { pid } of rows as Array<{ pid: number }>) {
        let now: number;
        try {
          now = cpuSeconds(pid);
        } catch {
          continue;
        }
        backendSeconds += now - (backends.get(pid) ?? now);
        backends.set(pid, now);
      }
    }
    return cpuSeconds(running.pid) + backendSeconds;
  };
  const rooms = (await api(server.base, 'GET', '/api/user_chats/', searcher.token)) as Array<{ chat_room: number }>;
  const kinds = searchQueries(rooms.map((r) => r.chat_room));
  const urlOf = (params: Record<string, string | number>) => `/api/messages/search/?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;
  const results: Record<string, Awaited<ReturnType<typeof timeRequests>>> = {};
  for (const [kind, queries] of Object.entries(kinds)) results[kind] = await timeRequests(server.base, searcher.token, queries.map(urlOf), perKind, cpu);
  results.busyCommon = await timeRequests(server.base, busy.token, kinds.common.map(urlOf), perKind, cpu);
  await monitor?.end();
  await server.stop();
  return { database: pgUrl ? 'postgres' : 'sqlite', ...seed, seedSeconds, sizeMb: round(sizeMb), kinds: results };
}
