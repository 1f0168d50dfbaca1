// Outsiders, former members and non-authors against every route and object, REST and seed-0.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, createRoom, group, membershipOf, ok, privateRoom, send, users, type Method } from './chat-helpers.js';

const SECRET = 'SECRET-b7f3';

describe('authorization', () => {
  let t: TestApp;
  let owner: TestUser, member: TestUser, outsider: TestUser, former: TestUser;
  let priv: any, closed: any, open: any;
  let privMsg: any, closedMsg: any, openMsg: any;
  let memberPriv: any, memberClosed: any;

  before(async () => {
    t = await chatApp();
    [owner, member, outsider, former] = await users(t, 4);
    priv = await privateRoom(t, owner, member);
    closed = await createRoom(t, owner, { room_type: 'group', name: `${SECRET} closed`, is_public: false, members: [member.id, former.id] });
    open = await createRoom(t, owner, { room_type: 'group', name: 'open', members: [member.id] });
    privMsg = await send(t, owner, priv.id, `${SECRET} private`);
    closedMsg = await send(t, owner, closed.id, `${SECRET} closed`);
    openMsg = await send(t, owner, open.id, `${SECRET} open`);
    await send(t, former, closed.id, `${SECRET} from former`);
    await ok(call(t, former, 'POST', `/api/chat_rooms/${closed.id}/leave/`), 204);
    memberPriv = await membershipOf(t, member, priv.id);
    memberClosed = await membershipOf(t, member, closed.id);
  });
  after(() => t.close());

  /** Every route that touches room `room` (and its message `msg`), with the status an unauthorized caller gets. */
  function roomRoutes(room: any, msg: any, membership: any, other: TestUser): Array<[Method, string, unknown?]> {
    return [
      ['GET', `/api/chat_rooms/${room.id}/`],
      ['PATCH', `/api/chat_rooms/${room.id}/`, { name: 'x' }],
      ['PUT', `/api/chat_rooms/${room.id}/`, { name: 'x' }],
      ['DELETE', `/api/chat_rooms/${room.id}/`],
      ['POST', `/api/chat_rooms/${room.id}/join/`],
      ['POST', `/api/chat_rooms/${room.id}/leave/`],
      ['GET', `/api/chat_rooms/${room.id}/members/`],
      ['GET', `/api/messages/?chat_room=${room.id}`],
      ['GET', `/api/messages/?chat_room=${room.id}&after=0`],
      ['POST', '/api/messages/', { chat_room: room.id, content: 'intrude' }],
      ['POST', '/api/messages/', { chat_room: room.id, content: 'intrude', client_id: 'k1' }],
      ['GET', `/api/messages/${msg.id}/`],
      ['PATCH', `/api/messages/${msg.id}/`, { content: 'x' }],
      ['PUT', `/api/messages/${msg.id}`, { content: 'x' }],
      ['DELETE', `/api/messages/${msg.id}/`],
      ['POST', '/api/user_chats/', { chat_room: room.id }],
      ['POST', '/api/user_chats/', { chat_room: room.id, user: other.id }],
      ['GET', `/api/user_chats/${membership.id}/`],
      ['PATCH', `/api/user_chats/${membership.id}/`, { is_read: true }],
      ['PUT', `/api/user_chats/${membership.id}/`, { is_active: false }],
      ['DELETE', `/api/user_chats/${membership.id}/`],
      ['GET', `/api/user_chats/${membership.id}/status/`],
      ['GET', `/message/?chat_id=${room.id}`],
      ['POST', '/message/', { chatid: room.id, message: 'intrude' }],
      ['POST', '/message/', { chatid: String(room.id), message: 'intrude' }],
    ];
  }

  /** Sends each route once as `user`; every answer must be one of `allowed` and leak nothing. The statuses, in order. */
  async function expectNothing(user: TestUser, routes: Array<[Method, string, unknown?]>, allowed: number[]): Promise<number[]> {
    const statuses: number[] = [];
    for (const [method, url, body] of routes) {
      const res = await call(t, user, method, url, body);
      assert.ok(allowed.includes(res.statusCode), `${method} ${url} → ${res.statusCode} ${res.body}`);
      assert.ok(!res.body.includes(SECRET), `${method} ${url} leaked data: ${res.body}`);
      statuses.push(res.statusCode);
    }
    return statuses;
  }

  it('shows an outsider nothing of a private room or a non-public group: 404 everywhere', async () => {
    await expectNothing(outsider, roomRoutes(priv, privMsg, memberPriv, outsider), [404]);
    await expectNothing(outsider, roomRoutes(closed, closedMsg, memberClosed, outsider), [404]);
  });

  it('shows a former member nothing either, not even their own old messages', async () => {
    await expectNothing(former, roomRoutes(closed, closedMsg, memberClosed, former), [404]);
    const own = await t.ctx.db.selectFrom('messages').select('id').where('sender_id', '=', former.id).executeTakeFirstOrThrow();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await call(t, former, method, `/api/messages/${own.id}/`, method === 'PATCH' ? { content: 'x' } : undefined);
      assert.equal(res.statusCode, 404, method);
    }
    const formerMembership = await t.ctx.db.selectFrom('memberships').select('id').where('user_id', '=', former.id).where('chat_room_id', '=', closed.id).executeTakeFirstOrThrow();
    assert.equal((await call(t, former, 'GET', `/api/user_chats/${formerMembership.id}/`)).statusCode, 404);
  });

  it('answers an invisible room exactly like a missing one (no existence oracle)', async () => {
    for (const [path, body] of [[`/api/chat_rooms/ID/`, undefined], [`/api/messages/?chat_room=ID`, undefined]] as const) {
      const hidden = await call(t, outsider, 'GET', path.replace('ID', String(priv.id)), body);
      const missing = await call(t, outsider, 'GET', path.replace('ID', '999999'), body);
      assert.equal(hidden.statusCode, 404);
      assert.equal(hidden.body, missing.body);
    }
    const hiddenSend = await call(t, outsider, 'POST', '/api/messages/', { chat_room: priv.id, content: 'x' });
    const missingSend = await call(t, outsider, 'POST', '/api/messages/', { chat_room: 999999, content: 'x' });
    assert.equal(hiddenSend.body, missingSend.body);
    const hiddenMsg = await call(t, outsider, 'GET', `/api/messages/${privMsg.id}/`);
    const missingMsg = await call(t, outsider, 'GET', '/api/messages/999999/');
    assert.equal(hiddenMsg.body, missingMsg.body);
  });

  it('keeps invisible rooms out of every list', async () => {
    const rest = await ok(call(t, outsider, 'GET', '/api/chat_rooms/'));
    assert.deepEqual(rest.results.map((r: any) => r.id), [open.id]);
    const seed0 = await ok(call(t, outsider, 'GET', '/chat/'));
    assert.deepEqual(seed0.map((r: any) => r.id), [open.id]);
    assert.deepEqual(await ok(call(t, outsider, 'GET', '/api/user_chats/')), []);
    assert.deepEqual((await ok(call(t, former, 'GET', '/api/chat_rooms/'))).results.map((r: any) => r.id), [open.id]);
  });

  it('lets an outsider see a public group but not its messages or members until joining', async () => {
    assert.equal((await ok(call(t, outsider, 'GET', `/api/chat_rooms/${open.id}/`))).id, open.id);
    const memberOpen = await membershipOf(t, member, open.id);
    const routes = roomRoutes(open, openMsg, memberOpen, outsider).filter(([m, u]) => !(m === 'GET' && u === `/api/chat_rooms/${open.id}/`));
    const mayJoin = new Set([`POST /api/chat_rooms/${open.id}/join/`, 'POST /api/user_chats/', 'POST /message/']);
    const refusals = routes.filter(([m, u]) => !mayJoin.has(`${m} ${u}`));
    // Visible room, not a member: 403 for its messages and members, 400 to leave, 404 for objects inside it.
    const statuses = await expectNothing(outsider, refusals, [403, 404, 400]);
    for (const [i, [method, url]] of refusals.entries()) {
      const status = statuses[i];
      if (url.startsWith('/api/messages/') && url !== '/api/messages/' && !url.includes('?')) assert.equal(status, 404, `${method} ${url}`);
      if (url.startsWith('/api/user_chats/')) assert.equal(status, 404, `${method} ${url}`);
    }
    assert.equal((await call(t, outsider, 'GET', `/api/messages/?chat_room=${open.id}`)).statusCode, 403);
    assert.equal((await call(t, outsider, 'POST', '/api/messages/', { chat_room: open.id, content: 'x' })).statusCode, 403);
    assert.equal((await call(t, outsider, 'GET', `/message/?chat_id=${open.id}`)).statusCode, 403);
  });

  it('lets only the author change a message and only the owner delete a room', async () => {
    for (const [method, url, body] of [
      ['PATCH', `/api/messages/${privMsg.id}/`, { content: 'x' }],
      ['PUT', `/api/messages/${privMsg.id}`, { content: 'x' }],
      ['DELETE', `/api/messages/${privMsg.id}/`, undefined],
      ['DELETE', `/api/chat_rooms/${closed.id}/`, undefined],
      ['PATCH', `/api/chat_rooms/${closed.id}/`, { is_public: true }],
    ] as Array<[Method, string, unknown]>) {
      const res = await call(t, member, method, url, body);
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.ok(!res.body.includes(SECRET));
    }
    const still = await ok(call(t, owner, 'GET', `/api/messages/${privMsg.id}/`));
    assert.equal(still.content, `${SECRET} private`);
    assert.equal(still.is_deleted, false);
    assert.equal((await ok(call(t, owner, 'GET', `/api/chat_rooms/${closed.id}/`))).is_public, false);
  });

  it('keeps each membership to its own user, even within the room', async () => {
    for (const [method, url, body] of [
      ['GET', `/api/user_chats/${memberPriv.id}/`, undefined],
      ['PATCH', `/api/user_chats/${memberPriv.id}/`, { is_read: false }],
      ['DELETE', `/api/user_chats/${memberPriv.id}/`, undefined],
      ['GET', `/api/user_chats/${memberPriv.id}/status/`, undefined],
    ] as Array<[Method, string, unknown]>) {
      assert.equal((await call(t, owner, method, url, body)).statusCode, 404, `${method} ${url}`);
    }
    assert.ok(await membershipOf(t, member, priv.id), 'still listed for its user');
  });

  it('changed nothing through the refused requests', async () => {
    const history = await ok(call(t, owner, 'GET', `/api/messages/?chat_room=${closed.id}`));
    assert.ok(history.results.every((m: any) => m.content.startsWith(SECRET)), 'no intruding message was stored');
    assert.equal(history.results.length, 2);
    const members = (await ok(call(t, owner, 'GET', `/api/chat_rooms/${closed.id}/members/`))).results;
    assert.deepEqual(members.map((m: any) => m.user).sort(), [owner.id, member.id].sort());
    const room = await ok(call(t, owner, 'GET', `/api/chat_rooms/${closed.id}/`));
    assert.equal(room.name, `${SECRET} closed`);
    assert.equal((await ok(call(t, owner, 'GET', `/api/chat_rooms/${priv.id}/`))).member_count, 2);
  });

  it('requires a token on every conversation route', async () => {
    for (const [method, url] of [
      ['GET', '/api/chat_rooms/'], ['POST', '/api/chat_rooms/'], ['GET', `/api/chat_rooms/${open.id}/`],
      ['GET', '/api/user_chats/'], ['GET', `/api/messages/?chat_room=${open.id}`], ['POST', '/api/messages/'],
      ['GET', `/api/messages/${openMsg.id}/`], ['GET', '/chat/'], ['POST', '/chat/'], ['GET', `/message/?chat_id=${open.id}`], ['POST', '/message/'],
    ] as Array<[Method, string]>) {
      const res = await call(t, null, method, url, method === 'POST' ? {} : undefined);
      assert.equal(res.statusCode, 401, `${method} ${url}`);
      assert.ok(!res.body.includes(SECRET));
    }
  });

  it('lets nobody post as someone else', async () => {
    const msg = await send(t, member, open.id, 'mine', { sender: owner.id, sender_id: owner.id });
    assert.equal(msg.sender, member.id);
    const seed = await ok(call(t, member, 'POST', '/message/', { chatid: open.id, message: 'seed', sender: owner.id, user: owner.id }), 201);
    assert.equal(seed.sender, member.id);
    const room = await group(t, member);
    assert.equal(room.created_by, member.id);
  });
});
