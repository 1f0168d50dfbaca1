// PostgreSQL refusing connections (down, restarting): requests fail at once with 503 JSON and a
// Retry-After, never hang, and the service recovers by itself once the database is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, users } from './chat-helpers.js';
import { adminQuery as admin, DIALECT, type TestApp } from './helpers.js';

describe('the database going away', { skip: DIALECT !== 'postgres' && 'PostgreSQL only (an embedded SQLite cannot go away)' }, () => {
  let t: TestApp;
  let dbName: string;
  before(async () => {
    t = await chatApp();
    dbName = new URL(t.env.databaseUrl!).pathname.slice(1);
  });
  after(async () => {
    await admin(`alter database ${dbName} allow_connections true`);
    await t.close();
  });

  it('answers 503 while PostgreSQL refuses connections, and recovers by itself', async () => {
    const [me] = await users(t, 1);
    const room = await group(t, me);
    await admin(`alter database ${dbName} allow_connections false`);
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${dbName}'`);
    const down = await call(t, me, 'GET', `/api/chat_rooms/${room.id}/`);
    assert.equal(down.statusCode, 503, down.body);
    assert.equal(down.headers['retry-after'], '5');
    assert.equal(down.json().code, 'unavailable');
    const sent = await call(t, me, 'POST', '/api/messages/', { chat_room: room.id, content: 'while down' });
    assert.equal(sent.statusCode, 503, sent.body);
    await admin(`alter database ${dbName} allow_connections true`);
    assert.equal((await call(t, me, 'GET', `/api/chat_rooms/${room.id}/`)).statusCode, 200);
    assert.equal((await call(t, me, 'POST', '/api/messages/', { chat_room: room.id, content: 'back' })).statusCode, 201);
  });

  it('survives its connections being cut in the middle of a transaction', async () => {
    const [me] = await users(t, 1);
    const room = await group(t, me);
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    // A unit of work holding its connection between two statements, as every write does.
    const work = t.ctx.writer.run(room.id, async (uow) => {
      entered();
      await paused;
      await uow.trx.selectFrom('chat_rooms').select('id').execute();
    });
    await inside;
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${dbName}'`);
    release();
    await assert.rejects(work);
    // Still serving (an unhandled connection error used to end the process here).
    assert.equal((await call(t, me, 'GET', `/api/chat_rooms/${room.id}/`)).statusCode, 200);
  });
});
