// One account cannot fill many people's conversation lists: rooms created and people added per
// user and hour are limited (429 with Retry-After), and a refused request changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, ok, users } from './chat-helpers.js';
import type { TestApp } from './helpers.js';

describe('rooms and additions per user', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp({ RATE_LIMIT_ROOMS_PER_USER: '3', RATE_LIMIT_ADDS_PER_USER: '4' });
  });
  after(() => t.close());

  const roomsOf = async (userId: number) =>
    Number((await t.ctx.db.selectFrom('chat_rooms').select((eb) => eb.fn.countAll<number>().as('n')).where('created_by', '=', userId).executeTakeFirstOrThrow()).n);

  it('limits the rooms one user creates', async () => {
    const [me] = await users(t, 1);
    for (let i = 0; i < 3; i++) await group(t, me);
    const fourth = await call(t, me, 'POST', '/api/chat_rooms/', { room_type: 'group', name: 'one too many' });
    assert.equal(fourth.statusCode, 429);
    assert.ok(Number(fourth.headers['retry-after']) > 0);
    assert.equal(await roomsOf(me.id), 3);
  });

  it('limits the people one user adds, at creation and later, and a refused creation creates nothing', async () => {
    const [me, ...others] = await users(t, 7);
    const room = await group(t, me, others.slice(0, 3), false);
    await ok(call(t, me, 'POST', '/api/user_chats/', { chat_room: room.id, user: others[3].id }), 201);
    const fifth = await call(t, me, 'POST', '/api/user_chats/', { chat_room: room.id, user: others[4].id });
    assert.equal(fifth.statusCode, 429);
    const big = await call(t, me, 'POST', '/api/chat_rooms/', { room_type: 'group', name: 'crowd', members: [others[5].id] });
    assert.equal(big.statusCode, 429);
    assert.equal(await roomsOf(me.id), 1);
    // Joining yourself is not adding anyone.
    const open = await group(t, others[0]);
    await ok(call(t, me, 'POST', `/api/chat_rooms/${open.id}/join/`));
  });
});

describe('messages in large rooms', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp({ LARGE_ROOM_MEMBERS: '2', RATE_LIMIT_MESSAGES_LARGE_ROOM: '2' });
  });
  after(() => t.close());

  it('limits each member of a large room to a default rate there, and only there', async () => {
    const [a, b, c] = await users(t, 3);
    const large = await group(t, a, [b, c], false);
    const small = await group(t, a, [b], false);
    for (const text of ['one', 'two']) await ok(call(t, a, 'POST', '/api/messages/', { chat_room: large.id, content: text }), 201);
    const third = await call(t, a, 'POST', '/api/messages/', { chat_room: large.id, content: 'three' });
    assert.equal(third.statusCode, 429);
    assert.ok(Number(third.headers['retry-after']) > 0);
    await ok(call(t, b, 'POST', '/api/messages/', { chat_room: large.id, content: 'another member' }), 201);
    for (const text of ['one', 'two', 'three']) await ok(call(t, a, 'POST', '/api/messages/', { chat_room: small.id, content: text }), 201);
    const stored = await ok(call(t, c, 'GET', `/api/messages/?chat_room=${large.id}`));
    assert.deepEqual(stored.results.map((m: any) => m.content), ['another member', 'two', 'one']);
  });
});
