// Redis going away: REST keeps working (rate limits count per instance meanwhile), /readyz names
// Redis, and once it is back, a socket resuming with ?since= gets what it missed, and the sockets of
// a device removed meanwhile close.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, send, users } from './chat-helpers.js';
import { login, type TestApp } from './helpers.js';
import { freePort, startRedis } from './process-helpers.js';
import { connect, listen } from './ws-helpers.js';

const stop = (proc: ChildProcess) => new Promise<void>((resolve) => {
  if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
  proc.once('exit', () => resolve());
  proc.kill('SIGKILL');
});

describe('Redis going away', () => {
  let t: TestApp;
  let redis: ChildProcess;
  let port: number;
  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    t = await chatApp({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PREFIX: 'down-test:' });
  });
  after(async () => {
    await t.close();
    await stop(redis);
  });

  it('keeps REST working, says so in /readyz, and lets sockets catch up by replay', async () => {
    const [me, friend] = await users(t, 2);
    const room = await group(t, me, [friend], false);
    const base = await listen(t);
    const sock = await connect(base, '/ws/general_updates/', { token: friend.access });
    const before = await send(t, me, room.id, 'before');
    const seen = await sock.next((e) => e.type === 'new_message' && e.message.id === before.id);
    await sock.close();

    await stop(redis);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.redis, 'unavailable');
    assert.equal(ready.json().checks.database, 'ok');
    // Log-in (rate limited), sending, reading and logging out all still work.
    const session = await login(t.app, me.email);
    const during = await send(t, me, room.id, 'while Redis is down');
    assert.equal((await call(t, friend, 'GET', `/api/messages/?chat_room=${room.id}`)).json().results[0].id, during.id);
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: session.auth })).statusCode, 204);
    // Socket tickets live in Redis: a clear 503 until it is back.
    const ticket = await call(t, friend, 'POST', '/api/auth/ws-ticket/');
    assert.equal(ticket.statusCode, 503, ticket.body);

    redis = await startRedis(port);
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    const back = await connect(base, '/ws/general_updates/', { token: friend.access, query: { since: seen.id } });
    const missed = await back.next((e) => e.type === 'new_message' && e.message.id === during.id);
    assert.equal(missed.message.content, 'while Redis is down');
    await back.close();
  });

  it('closes the sockets of a device removed while it was away once it is back (4410), and no other', async () => {
    const [me, friend] = await users(t, 2);
    const room = await group(t, me, [friend], false);
    const key = () => crypto.randomBytes(32).toString('base64');
    const device = { device_id: `d${crypto.randomBytes(6).toString('hex')}`, identity_key: key(), signing_key: key(), signed_prekey: { key_id: 1, public_key: key(), signature: crypto.randomBytes(64).toString('base64') } };
    assert.equal((await call(t, me, 'POST', '/api/e2ee_keys/devices/', device)).statusCode, 201);
    const base = t.app.server.listening ? `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` : await listen(t);
    const removed = await connect(base, '/ws/general_updates/', { token: me.access, query: { device_id: device.device_id } });
    const plain = await connect(base, '/ws/general_updates/', { token: me.access });
    try {
      await stop(redis);
      assert.equal((await call(t, me, 'DELETE', `/api/e2ee_keys/devices/${device.device_id}/`)).statusCode, 204);
      assert.equal(removed.ws.readyState, removed.ws.OPEN, 'the removal could not be announced');
      redis = await startRedis(port);
      assert.deepEqual(await removed.closed, { code: 4410, reason: 'device removed' });
      const after = await send(t, friend, room.id, 'after Redis came back');
      await plain.next((e) => e.type === 'new_message' && e.message.id === after.id);
    } finally {
      await Promise.all([removed.close(), plain.close()]);
    }
  });
});
