// The seeds' own flows, end to end over HTTP as their clients sent them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD, uniq, type TestApp, type TestUser } from './helpers.js';
import { call, chatApp, group, membershipOf, ok, privateRoom, users } from './chat-helpers.js';

async function seed0User(t: TestApp): Promise<TestUser> {
  const email = `${uniq('s0')}@example.com`;
  const body = await ok(call(t, null, 'POST', '/userauth/userSignup', { email, password: PASSWORD, fname: 'Seed', lname: 'Zero' }), 201);
  return { id: body.user.id, username: body.user.username, email, access: body.access, refresh: body.refresh, auth: { authorization: `Bearer ${body.access}` } };
}

// One app for the whole file: every suite here runs on the defaults and works in rooms of its own.
let t: TestApp;
before(async () => {
  t = await chatApp();
});
after(() => t.close());

describe('seed 0: /chat/ and /message/', () => {
  it('creates a public group, lists it, and lets another user post into it (joining first)', async () => {
    const alice = await seed0User(t);
    const bob = await seed0User(t);
    const chat = await ok(call(t, alice, 'POST', '/chat/', { chat_name: 'New Chat' }), 201);
    assert.equal(chat.name, 'New Chat');
    assert.equal(chat.room_type, 'group');
    assert.equal(chat.is_public, true);
    const list = await ok(call(t, bob, 'GET', '/chat/'));
    assert.ok(Array.isArray(list));
    assert.ok(list.some((c: any) => c.id === chat.id));

    const first = await ok(call(t, alice, 'POST', '/message/', { chatid: String(chat.id), message: 'Hello, world!' }), 201);
    assert.equal(first.content, 'Hello, world!');
    assert.equal(first.sender, alice.id);
    const joined = await ok(call(t, bob, 'POST', '/message/', { chatid: chat.id, message: 'hi from bob' }), 201);
    assert.equal(joined.sender, bob.id);
    assert.ok(await membershipOf(t, bob, chat.id), 'bob joined the group');
    const events = await t.ctx.db.selectFrom('events').select('type').where('chat_room_id', '=', chat.id).orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.type), ['room_created', 'new_message', 'member_joined', 'new_message']);

    const messages = await ok(call(t, bob, 'GET', `/message/?chat_id=${chat.id}`));
    assert.deepEqual(messages.map((m: any) => m.content), ['Hello, world!', 'hi from bob'], 'oldest first');
    // The same room and messages through the seed-1 API.
    const rest = await ok(call(t, alice, 'GET', `/api/messages/?chat_room=${chat.id}`));
    assert.deepEqual(rest.results.map((m: any) => m.id), [joined.id, first.id]);
  });

  it('pages seed-0 history with limit and before, still oldest first', async () => {
    const [a] = await users(t, 1);
    const chat = await ok(call(t, a, 'POST', '/chat/', { chat_name: 'paged' }), 201);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await ok(call(t, a, 'POST', '/message/', { chatid: chat.id, message: `m${i}` }), 201)).id);
    const last2 = await ok(call(t, a, 'GET', `/message/?chat_id=${chat.id}&limit=2`));
    assert.deepEqual(last2.map((m: any) => m.id), ids.slice(3));
    const earlier = await ok(call(t, a, 'GET', `/message/?chat_id=${chat.id}&limit=2&before=${ids[3]}`));
    assert.deepEqual(earlier.map((m: any) => m.id), ids.slice(1, 3));
  });

  it('refuses bad input and invisible rooms like the REST routes', async () => {
    const [a, b, c] = await users(t, 3);
    const priv = await privateRoom(t, a, b);
    const closed = await group(t, a, [], false);
    assert.equal((await call(t, a, 'POST', '/chat/', {})).statusCode, 400);
    const noChat = await call(t, a, 'GET', '/message/');
    assert.equal(noChat.statusCode, 400);
    assert.ok(noChat.json().chat_id);
    assert.equal((await call(t, a, 'POST', '/message/', { chatid: priv.id })).statusCode, 400);
    assert.equal((await call(t, a, 'POST', '/message/', { chatid: 'chat_id_here', message: 'x' })).statusCode, 400);
    for (const room of [priv, closed]) {
      assert.equal((await call(t, c, 'POST', '/message/', { chatid: room.id, message: 'x' })).statusCode, 404);
      assert.equal((await call(t, c, 'GET', `/message/?chat_id=${room.id}`)).statusCode, 404);
    }
    assert.equal((await call(t, c, 'POST', '/message/', { chatid: 999999, message: 'x' })).statusCode, 404);
    const history = await ok(call(t, a, 'GET', `/message/?chat_id=${priv.id}`));
    assert.deepEqual(history, [], 'nothing was stored by the refused requests');
  });
});

describe('seed 1: the Postman collection flow', () => {
  it('runs the collection requests in order', async () => {
    const [a, b] = await users(t, 2);
    const room = await ok(call(t, a, 'POST', '/api/chat_rooms/', { room_type: 'private' }), 201);
    const chat = await ok(call(t, a, 'POST', '/api/user_chats/', { user: b.id, chat_room: room.id }), 201);
    assert.equal(chat.user, b.id);
    const mine = await membershipOf(t, a, room.id);
    const patched = await ok(call(t, a, 'PATCH', `/api/user_chats/${mine.id}/`, { is_active: true, is_read: false }));
    assert.equal(patched.is_active, true);
    assert.equal(patched.is_read, false);
    const msg = await ok(call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'aGVsbGxvdyA=', public_key: '-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----' }), 201);
    assert.equal(msg.content, 'aGVsbGxvdyA=');
    const put = await ok(call(t, a, 'PUT', `/api/messages/${msg.id}`, { content: 'bmV3' }));
    assert.equal(put.content, 'bmV3');
    assert.equal(put.is_edited, true);
    const theirs = await membershipOf(t, b, room.id);
    assert.equal(theirs.unread_count, 1);
    assert.equal(theirs.name, a.username);
    assert.equal(theirs.last_message.id, msg.id);
    // The collection turns the room into a group before anyone writes in it (seed1-flow.test.ts);
    // once it holds a conversation, that would show the conversation to everyone added after.
    const refused = await call(t, a, 'PUT', `/api/chat_rooms/${room.id}/`, { room_type: 'group' });
    assert.equal(refused.statusCode, 400);
    assert.ok(refused.json().room_type);
    const pub = await ok(call(t, a, 'POST', '/api/chat_rooms/', { room_type: 'group', name: 'public' }), 201);
    assert.equal((await ok(call(t, b, 'POST', `/api/chat_rooms/${pub.id}/join/`))).member_count, 2);
  });
});
