// Ordering and resume across instances (API.md, "Ordering and resume across instances"): three
// server processes on one database, concurrent senders through two of them, sockets on the
// third. Every socket gets every event once, each room's in seq order with no gap; a socket
// that resumes on another instance misses nothing; neither Redis going away nor an instance
// dying between commit and publish loses an acknowledged message. On PostgreSQL the instances
// share a Redis of their own (started here, so stopping it touches no other test); on SQLite
// they share the database file and have no bus at all: the log alone delivers.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NO_LIMITS } from './chat-helpers.js';
import { DIALECT, PASSWORD, REDIS_URL, createTestEnv, uniq, type TestEnv } from './helpers.js';
import { account as newAccount, freePort, request, startRedis, startServer, type Account, type Server } from './process-helpers.js';
import { connect, type Sock } from './ws-helpers.js';

const SENDERS = 8;

describe('ordering across instances', { skip: DIALECT === 'postgres' && !REDIS_URL ? 'needs Redis with PostgreSQL (TEST_REDIS_URL)' : false }, () => {
  let env: TestEnv;
  let shared: Record<string, string>;
  const servers: Server[] = [];
  const sockets: Sock[] = [];
  let redis: ChildProcess | null = null;
  let redisPort = 0;

  const start = async () => {
    const s = await startServer(shared);
    servers.push(s);
    return s;
  };

  before(async () => {
    env = await createTestEnv();
    // Several write transactions per instance too, so the per-room locks are exercised within an instance as well.
    shared = { ...env.env, ...NO_LIMITS, JWT_SECRET: crypto.randomBytes(32).toString('hex'), EVENT_LOG_POLL_MS: '200', WRITE_CONCURRENCY: '4' };
    if (DIALECT === 'postgres') {
      redisPort = await freePort();
      redis = await startRedis(redisPort);
      shared.REDIS_URL = `redis://127.0.0.1:${redisPort}`;
    } else {
      delete shared.REDIS_URL;
    }
    // One after another: the first runs the migrations.
    for (let i = 0; i < 3; i++) await start();
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    redis?.kill('SIGKILL');
    await env.cleanup();
  });

  const ws = (s: Server) => s.base.replace('http', 'ws');
  const sock = async (s: Server, user: Account, query?: Record<string, number>) => {
    const c = await connect(ws(s), '/ws/general_updates/', { token: user.token, query });
    sockets.push(c);
    return c;
  };

  /** Users, and rooms every one of them is in. */
  async function world(nUsers: number, nRooms: number) {
    const users: Account[] = [];
    for (let i = 0; i < nUsers; i++) users.push(await newAccount(servers[0].base, uniq('ord'), PASSWORD));
    const rooms: number[] = [];
    for (let r = 0; r < nRooms; r++) {
      const res = await request(servers[r % 2].base, 'POST', '/api/chat_rooms/', users[0].token, { room_type: 'group', name: `r${r}`, members: users.slice(1).map((u) => u.id) });
      assert.equal(res.status, 201);
      rooms.push(res.body.id);
    }
    return { users, rooms };
  }

  /**
   * Sends `perSender` messages from each of SENDERS loops through `through` (round robin), each
   * with a client_id and retried until acknowledged (an instance may die or stall under it).
   * `during(n)` runs once after the n-th acknowledgement (to break something mid-burst).
   */
  async function burst(users: Account[], rooms: number[], through: () => Server[], perSender: number, during?: { after: number; run: () => Promise<void> }) {
    const acked: number[] = [];
    let fired: Promise<void> | null = null;
    const loop = async (w: number) => {
      for (let i = 0; i < perSender; i++) {
        const body = { chat_room: rooms[(w + i) % rooms.length], content: `burst ${w}/${i}`, client_id: `${uniq('c')}-${w}-${i}` };
        const sender = users[w % users.length];
        for (let attempt = 0; ; attempt++) {
          const live = through();
          const target = live[(w + i + attempt) % live.length];
          try {
            const res = await request(target.base, 'POST', '/api/messages/', sender.token, body);
            if (res.status === 201 || res.status === 200) {
              acked.push(res.body.id);
              break;
            }
            assert.ok(res.status >= 500, `unexpected ${res.status} ${JSON.stringify(res.body)}`);
          } catch (err) {
            if (attempt > 50) throw err;
          }
        }
        if (during && acked.length >= during.after && !fired) fired = during.run();
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, (_, w) => loop(w)));
    await fired;
    return acked;
  }

  /** Waits until `s` has every message of `ids`; checks once each, and every room's seqs consecutive. */
  async function receivedAll(s: Sock, ids: number[], label: string) {
    const want = new Set(ids);
    for (const id of ids) await s.next((e) => e.type === 'new_message' && e.message.id === id);
    const messages = s.events.filter((e) => e.type === 'new_message' && want.has(e.message.id));
    assert.equal(messages.length, ids.length, `${label}: each message once`);
    checkSeqs(s.events, label);
  }

  function checkSeqs(events: any[], label: string) {
    const last = new Map<number, number>();
    const ids = new Set<number>();
    for (const e of events) {
      if (e.id !== undefined) {
        assert.ok(!ids.has(e.id), `${label}: event ${e.id} twice`);
        ids.add(e.id);
      }
      if (e.seq === undefined) continue;
      const prev = last.get(e.chat_room);
      if (prev !== undefined) assert.equal(e.seq, prev + 1, `${label}: room ${e.chat_room} went from seq ${prev} to ${e.seq}`);
      last.set(e.chat_room, e.seq);
    }
  }

  it('every socket on the third instance gets every event once, each room in seq order', async () => {
    const { users, rooms } = await world(6, 4);
    const watchers = await Promise.all(users.map((u) => sock(servers[2], u)));
    const acked = await burst(users, rooms, () => [servers[0], servers[1]], 40);
    for (const [i, w] of watchers.entries()) await receivedAll(w, acked, `socket ${i}`);
  });

  it('a socket cut mid-burst resumes on another instance with nothing missed', async () => {
    const { users, rooms } = await world(3, 3);
    const first = await sock(servers[2], users[1]);
    let cursor = 0;
    const acked = await burst(users, rooms, () => [servers[0], servers[1]], 30, {
      after: 60,
      run: async () => {
        cursor = Math.max(0, ...first.events.filter((e) => e.id !== undefined).map((e) => e.id));
        first.ws.terminate();
      },
    });
    const seenBefore = first.events.filter((e) => e.id !== undefined && e.id <= cursor);
    const resumed = await sock(servers[0], users[1], { since: cursor });
    for (const id of acked) {
      if (!seenBefore.some((e) => e.type === 'new_message' && e.message.id === id)) await resumed.next((e) => e.type === 'new_message' && e.message.id === id);
    }
    const all = [...seenBefore, ...resumed.events.filter((e) => e.id !== undefined)];
    assert.deepEqual(all.filter((e) => e.type === 'new_message').map((e) => e.message.id).sort((a, b) => a - b), [...acked].sort((a, b) => a - b), 'every message once, before or after the cut');
    checkSeqs(all, 'cut and resumed');
  });

  it('an instance killed during sends: sockets elsewhere still get every acknowledged message', async () => {
    const { users, rooms } = await world(3, 3);
    const watcher = await sock(servers[2], users[2]);
    const victim = servers[0];
    const acked = await burst(users, rooms, () => (victim.proc.signalCode ? [servers[1]] : [victim, servers[1]]), 30, {
      after: 50,
      run: async () => {
        victim.proc.kill('SIGKILL');
        await victim.exited;
      },
    });
    await receivedAll(watcher, acked, 'after the kill');
    // A new instance takes its place and serves the same deployment.
    servers[0] = await start();
    const late = await sock(servers[0], users[2], { since: 0 });
    for (const id of acked) await late.next((e) => e.type === 'new_message' && e.message.id === id);
    checkSeqs(late.events, 'replayed on the new instance');
  });

  it('Redis stopped and restarted during sends: every connected socket still gets every acknowledged message', { skip: DIALECT !== 'postgres' && 'no Redis on SQLite' }, async () => {
    const { users, rooms } = await world(3, 3);
    const watchers = await Promise.all([sock(servers[2], users[1]), sock(servers[1], users[2])]);
    let down: ChildProcess | null = null;
    const acked = await burst(users, rooms, () => [servers[0], servers[1]], 30, {
      after: 40,
      run: async () => {
        down = redis;
        down!.kill('SIGKILL');
        await new Promise((r) => down!.once('exit', r));
      },
    });
    // REST kept answering while Redis was away (burst asserted every answer); now it comes back.
    redis = await startRedis(redisPort);
    for (const [i, w] of watchers.entries()) await receivedAll(w, acked, `socket ${i} across the Redis restart`);
    const after = await request(servers[0].base, 'POST', '/api/messages/', users[0].token, { chat_room: rooms[0], content: 'after redis' });
    for (const w of watchers) await w.next((e) => e.type === 'new_message' && e.message.id === after.body.id);
  });
});
