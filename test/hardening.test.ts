// What a stranger on the network cannot do: hold connections open by stalling a request, make the
// server build links to another host, or read its metrics.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, users } from './chat-helpers.js';
import { createTestApp, type TestApp } from './helpers.js';
import { connect, listen, refusedStatus } from './ws-helpers.js';
import { TYPING_BURST } from '../src/realtime/gateway.js';

/** Writes `bytes` on a new connection and never more; resolves with what came back once the server closed it. */
function stall(t: TestApp, bytes: string): Promise<string> {
  const { port } = t.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('stalled requests', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REQUEST_TIMEOUT_MS: '400', HEADERS_TIMEOUT_MS: '300' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => t.close());

  it('closes a connection whose body stops arriving, with 408', async () => {
    const answer = await stall(t, 'POST /api/auth/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":');
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it('closes a connection whose headers stop arriving', async () => {
    const answer = await stall(t, 'GET /api/users/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    assert.match(answer, /^HTTP\/1\.1 408/);
  });
});

describe('links and hosts', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  it('builds page links on its own origin, whatever the path looks like', async () => {
    const [me] = await users(t, 21);
    const page = await call(t, me, 'GET', '//api/users/');
    assert.equal(page.statusCode, 200);
    assert.equal(new URL(page.json().next).host, 'localhost', 'not the host "api"');
    assert.equal(new URL(page.json().next).pathname, '/api/users/');
  });

  it('refuses a malformed Host header', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'evil.example/x?' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().detail, 'Invalid Host header.');
  });

  it('answers only the hosts in ALLOWED_HOSTS when it is set', async () => {
    const strict = await createTestApp({ ALLOWED_HOSTS: 'chat.example.com, localhost:8000' });
    try {
      assert.equal((await strict.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'chat.example.com' } })).statusCode, 200);
      assert.equal((await strict.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'localhost:8000' } })).statusCode, 200);
      assert.equal((await strict.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'attacker.example' } })).statusCode, 400);
    } finally {
      await strict.close();
    }
  });
});

describe('metrics', () => {
  it('are off without METRICS_TOKEN', async () => {
    const t = await createTestApp();
    try {
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });

  it('answer only the bearer of METRICS_TOKEN', async () => {
    const token = 'scrape-token-0123456789';
    const t = await createTestApp({ METRICS_TOKEN: token });
    try {
      await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      assert.equal(metrics.statusCode, 200);
      assert.match(metrics.headers['content-type'] as string, /text\/plain/);
      assert.match(metrics.body, /http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
      assert.match(metrics.body, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz"\}/);
      assert.match(metrics.body, /process_cpu_seconds_total/);
    } finally {
      await t.close();
    }
  });
});

describe('sockets of one user', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await chatApp({ WS_MAX_SOCKETS_PER_USER: '2' });
    base = await listen(t);
  });
  after(() => t.close());

  it('are capped per user (429 before the upgrade), and a closed one frees its place', async () => {
    const [me, other] = await users(t, 2);
    const first = await connect(base, '/ws/general_updates/', { token: me.access });
    const second = await connect(base, '/ws/user_status/', { token: me.access });
    assert.equal(await refusedStatus(base, '/ws/general_updates/', { token: me.access }), 429);
    const others = await connect(base, '/ws/general_updates/', { token: other.access });
    await others.close();
    await first.close();
    const again = await connect(base, '/ws/general_updates/', { token: me.access });
    await Promise.all([again.close(), second.close()]);
  });

  it('relay a few typing frames per user and room, then one a second, however many sockets send them', async () => {
    const [typist, watcher] = await users(t, 2);
    const room = await group(t, typist, [watcher], false);
    const other = await group(t, typist, [watcher], false);
    const [s1, s2] = await Promise.all([connect(base, '/ws/general_updates/', { token: typist.access }), connect(base, '/ws/general_updates/', { token: typist.access })]);
    const w = await connect(base, '/ws/general_updates/', { token: watcher.access });
    for (let i = 0; i < 5; i++) for (const s of [s1, s2]) s.ws.send(JSON.stringify({ type: 'typing', chat_room: room.id }));
    for (let i = 0; i < TYPING_BURST; i++) await w.next((e) => e.type === 'typing' && e.chat_room === room.id);
    // Every frame above has been handled once each socket answers a ping sent after them.
    for (const s of [s1, s2]) {
      s.ws.send(JSON.stringify({ type: 'ping' }));
      await s.next((e) => e.type === 'pong');
    }
    s1.ws.send(JSON.stringify({ type: 'typing', chat_room: other.id }));
    await w.next((e) => e.type === 'typing' && e.chat_room === other.id);
    assert.equal(w.events.filter((e) => e.type === 'typing' && e.chat_room === room.id).length, TYPING_BURST, 'of 10 sent at once');
    await Promise.all([s1.close(), s2.close(), w.close()]);
  });
});
