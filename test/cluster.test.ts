// Three server processes on one PostgreSQL and one Redis behave as one deployment.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { NO_LIMITS } from './chat-helpers.js';
import { DIALECT, PASSWORD, REDIS_URL, createTestEnv, uniq, type TestEnv } from './helpers.js';
import { account as newAccount, request, startServer, type Account, type Server } from './process-helpers.js';
import { connect, type Sock } from './ws-helpers.js';

const needs = DIALECT === 'postgres' && REDIS_URL ? false : 'needs PostgreSQL and Redis (TEST_DB=postgres, TEST_REDIS_URL)';
const HEARTBEAT_MS = 200;

describe('several instances', { skip: needs }, () => {
  let env: TestEnv;
  let servers: Server[] = [];
  let redis: Redis;
  const sockets: Sock[] = [];
  const ws = (s: Server) => s.base.replace('http', 'ws');

  const account = (s: Server) => newAccount(s.base, uniq('cl'), PASSWORD);
  const sock = async (s: Server, user: Account, path: string, query?: Record<string, number>) => {
    const c = await connect(ws(s), path, { token: user.token, query });
    sockets.push(c);
    return c;
  };

  before(async () => {
    env = await createTestEnv();
    const shared = { ...env.env, ...NO_LIMITS, JWT_SECRET: crypto.randomBytes(32).toString('hex'), PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS) };
    servers = await Promise.all([0, 1, 2].map(() => startServer(shared)));
    redis = new Redis(REDIS_URL!);
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    redis.disconnect();
    await env.cleanup();
  });

  it('delivers an event committed through any instance to sockets on every instance', async () => {
    const [a, b, c] = [await account(servers[0]), await account(servers[1]), await account(servers[2])];
    const room = await request(servers[0].base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'group', name: 'cluster', members: [b.id, c.id] });
    assert.equal(room.status, 201);
    const sa = await sock(servers[0], a, '/ws/general_updates/');
    const sc = await sock(servers[2], c, '/ws/general_updates/');
    const sent = await request(servers[1].base, 'POST', '/api/messages/', b.token, { chat_room: room.body.id, content: 'across' });
    assert.equal(sent.status, 201);
    for (const s of [sa, sc]) assert.equal((await s.next((e) => e.type === 'new_message')).message.id, sent.body.id);
    sc.ws.send(JSON.stringify({ type: 'typing', chat_room: room.body.id }));
    assert.equal((await sa.next((e) => e.type === 'typing')).user, c.id);
  });

  it('subscribes an instance only to the rooms its sockets follow', async () => {
    const [a, b] = [await account(servers[0]), await account(servers[0])];
    const room = await request(servers[0].base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
    const channel = `${env.env.REDIS_PREFIX}room:${room.body.id}`;
    const subscribers = async () => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]);
    assert.equal(await subscribers(), 0);
    await sock(servers[1], a, '/ws/general_updates/');
    assert.equal(await subscribers(), 1, 'only the instance holding a socket of the room');
    await sock(servers[2], b, '/ws/general_updates/');
    assert.equal(await subscribers(), 2);
  });

  it('shares presence, and revocation closes sockets on every instance', async () => {
    const [a, b] = [await account(servers[0]), await account(servers[1])];
    await request(servers[0].base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
    const watcher = await sock(servers[0], b, '/ws/user_status/');
    const status = await sock(servers[1], a, '/ws/user_status/');
    const general = await sock(servers[2], a, '/ws/general_updates/');
    assert.equal((await watcher.next((e) => e.type === 'presence' && e.user === a.id)).status, 'online');
    const seenElsewhere = await request(servers[2].base, 'GET', `/api/users/${a.id}/`, b.token);
    assert.equal(seenElsewhere.body.status, 'online', 'an instance with no socket of the user knows');
    assert.equal((await request(servers[0].base, 'POST', '/api/auth/logout/', a.token)).status, 204);
    assert.equal((await status.closed).code, 4401);
    assert.equal((await general.closed).code, 4401);
    assert.equal((await request(servers[1].base, 'GET', '/api/users/', a.token)).status, 401);
    assert.equal((await watcher.next((e) => e.type === 'presence' && e.user === a.id)).status, 'offline');
  });

  it('when an instance dies, its users go offline and its clients resume on another without a gap', async () => {
    const [a, b] = [await account(servers[0]), await account(servers[0])];
    const room = await request(servers[0].base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
    const watcher = await sock(servers[0], a, '/ws/user_status/');
    await sock(servers[2], b, '/ws/user_status/');
    const doomed = await sock(servers[2], b, '/ws/general_updates/');
    assert.equal((await watcher.next((e) => e.type === 'presence' && e.user === b.id)).status, 'online');
    await request(servers[0].base, 'POST', '/api/messages/', a.token, { chat_room: room.body.id, content: 'before' });
    const last = await doomed.next((e) => e.type === 'new_message');

    servers[2].proc.kill('SIGKILL');
    await servers[2].exited;
    const missed: number[] = [];
    for (let i = 0; i < 5; i++) missed.push((await request(servers[0].base, 'POST', '/api/messages/', a.token, { chat_room: room.body.id, content: `while down ${i}` })).body.id);

    const offline = await watcher.next((e) => e.type === 'presence' && e.user === b.id);
    assert.equal(offline.status, 'offline');
    assert.ok(offline.last_seen);

    const resumed = await sock(servers[1], b, '/ws/general_updates/', { since: last.id });
    const live = request(servers[0].base, 'POST', '/api/messages/', a.token, { chat_room: room.body.id, content: 'after' });
    const got: number[] = [];
    while (got.length < 6) got.push((await resumed.next((e) => e.type === 'new_message')).message.id);
    assert.deepEqual(got, [...missed, (await live).body.id]);
  });
});
