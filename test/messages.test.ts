import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messagesRepository, type NewMessage } from '../src/modules/messages/messages.repository.js';
import { uniq, type TestApp } from './helpers.js';
import { call, chatApp, group, nextEvent, ok, pathOf, privateRoom, send, users } from './chat-helpers.js';

const MESSAGE_KEYS = [
  'attachment', 'chat_room', 'client_id', 'content', 'created_at', 'deleted_by', 'id', 'is_deleted', 'is_edited',
  'mentions', 'pinned_at', 'pinned_by', 'public_key', 'reactions', 'reply_to', 'sender', 'sender_full_name', 'thread',
  'thread_summary', 'updated_at',
];

describe('messages', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp({ MESSAGE_MAX_BYTES: '64' });
  });
  after(() => t.close());

  it('sends a message as the token user and returns the contract shape', async () => {
    const [a, b] = await users(t, 2);
    await ok(call(t, a, 'PATCH', `/api/users/${a.id}/`, { first_name: 'Ada', last_name: 'Lovelace' }));
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'hello', { sender: b.id, public_key: 'pk-1' });
    assert.deepEqual(Object.keys(msg).sort(), MESSAGE_KEYS);
    assert.equal(msg.sender, a.id, 'the sender comes from the token, never the body');
    assert.equal(msg.sender_full_name, 'Ada Lovelace');
    assert.equal(msg.chat_room, room.id);
    assert.equal(msg.public_key, 'pk-1');
    assert.equal(msg.is_edited, false);
    assert.equal(msg.is_deleted, false);
    assert.deepEqual(msg.reactions, []);
    assert.equal(msg.attachment, null);
    assert.match(msg.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const fromB = await send(t, b, room.id, 'hi');
    assert.equal(fromB.sender_full_name, b.username, 'the username when there is no name');
    assert.deepEqual(await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`)), msg);
  });

  it('keeps content byte for byte', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const samples = ['  padded\r\n\ttabs  ', 'émoji 👩‍👩‍👧 ✓', 'aGVsbGxvdyA=', '<script>alert(1)</script>', '\\u0000 literally', '{"json":true}', 'ﬀ\u200b\ufeff'];
    for (const content of samples) {
      const sent = await send(t, a, room.id, content);
      assert.equal(sent.content, content);
      const back = await call(t, b, 'GET', `/api/messages/${sent.id}/`);
      assert.equal(back.json().content, content);
      assert.ok(back.rawPayload.includes(Buffer.from(JSON.stringify(content).slice(1, -1))), 'the same bytes on the wire');
    }
  });

  it('refuses content over the byte limit with 413, and blank, NUL or broken text with 400', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    await send(t, a, room.id, 'x'.repeat(64));
    assert.equal((await call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'x'.repeat(65) })).statusCode, 413);
    assert.equal((await call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'é'.repeat(33) })).statusCode, 413, 'bytes, not characters');
    for (const content of ['', 'a\u0000b', 'lone \ud800 surrogate']) {
      const res = await call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content });
      assert.equal(res.statusCode, 400, JSON.stringify(content));
      assert.ok(res.json().content);
    }
    const missing = await call(t, a, 'POST', '/api/messages/', { content: 'x' });
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(missing.json().chat_room, ['This field is required.']);
    assert.equal((await call(t, a, 'POST', '/api/messages/', { chat_room: 999999, content: 'x' })).statusCode, 404);
    assert.equal((await call(t, null, 'POST', '/api/messages/', { chat_room: room.id, content: 'x' })).statusCode, 401);
  });

  it('replies within the same room only', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const other = await group(t, a);
    const first = await send(t, a, room.id, 'first');
    assert.equal((await send(t, b, room.id, 'reply', { reply_to: first.id })).reply_to, first.id);
    const elsewhere = await send(t, a, other.id, 'elsewhere');
    for (const replyTo of [elsewhere.id, 999999]) {
      const res = await call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'x', reply_to: replyTo });
      assert.equal(res.statusCode, 400);
      assert.ok(res.json().reply_to);
    }
  });

  it('makes sends idempotent per sender and client_id', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const clientId = uniq('c');
    const first = await send(t, a, room.id, 'once', { client_id: clientId }, 201);
    const retry = await send(t, a, room.id, 'changed on retry', { client_id: clientId }, 200);
    assert.deepEqual(retry, first, 'the first message, unchanged');
    const otherSender = await send(t, b, room.id, 'same key, other user', { client_id: clientId }, 201);
    assert.notEqual(otherSender.id, first.id);
    const elsewhere = await group(t, a);
    assert.equal((await call(t, a, 'POST', '/api/messages/', { chat_room: elsewhere.id, content: 'x', client_id: clientId })).statusCode, 409);
    const raceKey = uniq('race');
    const results = await Promise.all(Array.from({ length: 8 }, () => call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'race', client_id: raceKey })));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(results.map((r) => r.json().id)).size, 1);
    const rows = await t.ctx.db.selectFrom('messages').select('id').where('client_id', '=', raceKey).execute();
    assert.equal(rows.length, 1);
    const events = await t.ctx.db.selectFrom('events').select('id').where('message_id', '=', rows[0].id).execute();
    assert.equal(events.length, 1, 'one new_message event, not one per attempt');
    assert.equal((await call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'x', client_id: 'has space' })).statusCode, 400);
  });

  it('lets the sender edit (PATCH or PUT) and soft-delete; other members get 403', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'original');
    assert.equal((await call(t, b, 'PATCH', `/api/messages/${msg.id}/`, { content: 'hijack' })).statusCode, 403);
    assert.equal((await call(t, b, 'DELETE', `/api/messages/${msg.id}/`)).statusCode, 403);
    const edited = await ok(call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: 'edited' }));
    assert.equal(edited.content, 'edited');
    assert.equal(edited.is_edited, true);
    const put = await ok(call(t, a, 'PUT', `/api/messages/${msg.id}`, { content: 'put, no slash' }));
    assert.equal(put.content, 'put, no slash');
    assert.equal((await call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: 'y'.repeat(65) })).statusCode, 413);
    assert.equal((await call(t, a, 'DELETE', `/api/messages/${msg.id}/`)).statusCode, 204);
    const gone = await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`));
    assert.equal(gone.content, '');
    assert.equal(gone.is_deleted, true);
    assert.equal(gone.public_key, null);
    assert.equal((await call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: 'revive' })).statusCode, 400);
    assert.equal((await call(t, a, 'DELETE', `/api/messages/${msg.id}/`)).statusCode, 204, 'deleting again is a no-op');
    const types = await t.ctx.db.selectFrom('events').select(['type', 'payload']).where('message_id', '=', msg.id).orderBy('id').execute();
    assert.deepEqual(types.map((e) => e.type), ['new_message', 'message_updated', 'message_updated', 'message_deleted']);
    assert.ok(types.every((e) => !/original|"content":"edited"|no slash/.test(e.payload)), 'the deleted content is gone from the event log too');
  });

  it('publishes new_message after commit with the log id and the message view', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const content = uniq('live');
    const waiting = await nextEvent(t, b, (e) => e.type === 'new_message' && e.message.content === content);
    const msg = await send(t, a, room.id, content);
    const event = await waiting.seen;
    const row = await t.ctx.db.selectFrom('events').selectAll().where('message_id', '=', msg.id).executeTakeFirstOrThrow();
    assert.equal(event.id, row.id);
    assert.equal(event.chat_room, room.id);
    assert.deepEqual(event.message, msg);
  });

  it('limits sends per user per minute when configured', async () => {
    const limited = await chatApp({ RATE_LIMIT_MESSAGES_PER_USER: '3' });
    try {
      const [a, b] = await users(limited, 2);
      await limited.ctx.limiter.reset(`messages:${a.id}`);
      const room = await privateRoom(limited, a, b);
      for (let i = 0; i < 3; i++) await send(limited, a, room.id, `m${i}`);
      const res = await call(limited, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'too many' });
      assert.equal(res.statusCode, 429);
      assert.ok(Number(res.headers['retry-after']) >= 1);
      await limited.ctx.limiter.reset(`messages:${a.id}`);
    } finally {
      await limited.close();
    }
  });
});

describe('message history', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const TOTAL = 3000;

  it('pages through thousands of messages without gaps or duplicates, backwards and forwards', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const noise = await group(t, b);
    const now = new Date().toISOString();
    const rows: NewMessage[] = [];
    for (let i = 0; i < TOTAL; i++) {
      rows.push({ chat_room_id: room.id, sender_id: i % 3 ? a.id : b.id, content: `m${i}`, created_at: now, updated_at: now });
      if (i % 10 === 0) rows.push({ chat_room_id: noise.id, sender_id: b.id, content: 'noise', created_at: now, updated_at: now });
    }
    await messagesRepository.insertMany(t.ctx.db, rows);

    const backwards: any[] = [];
    let url: string | null = `/api/messages/?chat_room=${room.id}&limit=100`;
    let pages = 0;
    while (url) {
      const page: any = await ok(call(t, a, 'GET', url));
      backwards.push(...page.results);
      url = page.next ? pathOf(page.next) : null;
      if (pages++ === 0) assert.equal(page.previous, null, 'the newest page has nothing newer');
    }
    assert.equal(pages, TOTAL / 100);
    assert.equal(backwards.length, TOTAL);
    assert.deepEqual(backwards.map((m) => m.content), rows.filter((r) => r.chat_room_id === room.id).map((r) => r.content).reverse());
    for (let i = 1; i < backwards.length; i++) assert.ok(backwards[i - 1].id > backwards[i].id, 'strictly newest first');

    const forwards: any[] = [];
    url = `/api/messages/?chat_room=${room.id}&after=${backwards[backwards.length - 1].id - 1}&limit=70`;
    while (url) {
      const page: any = await ok(call(t, b, 'GET', url));
      forwards.unshift(...page.results);
      url = page.previous ? pathOf(page.previous) : null;
    }
    assert.deepEqual(forwards.map((m) => m.id), backwards.map((m) => m.id), 'forward paging sees the same messages');

    const middle = backwards[1500].id;
    const before = await ok(call(t, a, 'GET', `/api/messages/?chat_room=${room.id}&before=${middle}&limit=5`));
    assert.deepEqual(before.results.map((m: any) => m.id), backwards.slice(1501, 1506).map((m) => m.id));
    assert.ok(before.previous && before.next);
    const afterPage = await ok(call(t, a, 'GET', `/api/messages/?chat_room=${room.id}&after=${middle}&limit=5`));
    assert.deepEqual(afterPage.results.map((m: any) => m.id), backwards.slice(1495, 1500).map((m) => m.id));
  });

  it('bounds the page size and needs chat_room', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const now = new Date().toISOString();
    await messagesRepository.insertMany(t.ctx.db, Array.from({ length: 120 }, (_, i) => ({ chat_room_id: room.id, sender_id: a.id, content: `x${i}`, created_at: now, updated_at: now })));
    assert.equal((await ok(call(t, a, 'GET', `/api/messages/?chat_room=${room.id}`))).results.length, 50, 'default 50');
    assert.equal((await ok(call(t, a, 'GET', `/api/messages/?chat_room=${room.id}&limit=1000`))).results.length, 100, 'at most 100');
    const missing = await call(t, a, 'GET', '/api/messages/');
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.json().chat_room);
    assert.equal((await call(t, a, 'GET', `/api/messages/?chat_room=${room.id}&limit=0`)).statusCode, 400);
    const empty = await group(t, a);
    assert.deepEqual(await ok(call(t, a, 'GET', `/api/messages/?chat_room=${empty.id}`)), { next: null, previous: null, results: [] });
  });

  it('keeps deleted messages in place in the history', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const m1 = await send(t, a, room.id, 'one');
    const m2 = await send(t, a, room.id, 'two');
    await ok(call(t, a, 'DELETE', `/api/messages/${m1.id}/`), 204);
    const page = await ok(call(t, b, 'GET', `/api/messages/?chat_room=${room.id}`));
    assert.deepEqual(page.results.map((m: any) => [m.id, m.content, m.is_deleted]), [[m2.id, 'two', false], [m1.id, '', true]]);
  });
});
