import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, group, nextEvent, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';

const REACTION_KEYS = ['created_at', 'id', 'message', 'reaction_type', 'updated_at', 'user'];

describe('reactions', () => {
  let t: TestApp;
  let a: TestUser, b: TestUser, outsider: TestUser;
  let room: any;
  before(async () => {
    t = await chatApp();
    [a, b, outsider] = await users(t, 3);
    room = await privateRoom(t, a, b);
  });
  after(() => t.close());

  const react = (user: TestUser, message: number, reaction_type: string) => call(t, user, 'POST', '/api/reactions/', { message, reaction_type });

  it('adds a reaction (201), lists it by message and shows it in the message', async () => {
    const msg = await send(t, a, room.id, 'react to me');
    const mine = await ok(react(b, msg.id, 'like'), 201);
    assert.deepEqual(Object.keys(mine).sort(), REACTION_KEYS);
    assert.equal(mine.user, b.id, 'the author comes from the token');
    assert.equal(mine.message, msg.id);
    assert.equal(mine.reaction_type, 'like');
    const own = await ok(react(a, msg.id, 'love'), 201);
    const list = await ok(call(t, a, 'GET', `/api/reactions/?message=${msg.id}`));
    assert.deepEqual(list, [mine, own]);
    assert.deepEqual(await ok(call(t, a, 'GET', `/api/reactions/${mine.id}/`)), mine);
    const shown = await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`));
    assert.deepEqual(shown.reactions, [
      { id: mine.id, user: b.id, reaction_type: 'like' },
      { id: own.id, user: a.id, reaction_type: 'love' },
    ]);
    const history = await ok(call(t, b, 'GET', `/api/messages/?chat_room=${room.id}`));
    assert.deepEqual(history.results.find((m: any) => m.id === msg.id).reactions, shown.reactions);
  });

  it('accepts exactly like, love, laugh, wow, sad and angry', async () => {
    for (const type of ['like', 'love', 'laugh', 'wow', 'sad', 'angry']) {
      const msg = await send(t, a, room.id, type);
      assert.equal((await ok(react(b, msg.id, type), 201)).reaction_type, type);
    }
    const msg = await send(t, a, room.id, 'bad types');
    for (const type of ['LIKE', 'heart', '', '👍']) {
      const res = await react(b, msg.id, type);
      assert.equal(res.statusCode, 400, type);
      assert.ok(res.json().reaction_type, res.body);
    }
    assert.ok((await ok(call(t, b, 'POST', '/api/reactions/', { reaction_type: 'like' }), 400)).message);
    assert.equal((await call(t, b, 'GET', '/api/reactions/')).statusCode, 400, 'listing needs ?message=');
  });

  it('allows one reaction per user per message: a second is 400, even when sent at once', async () => {
    const msg = await send(t, a, room.id, 'once');
    await ok(react(b, msg.id, 'like'), 201);
    const again = await ok(react(b, msg.id, 'wow'), 400);
    assert.ok(again.message);
    const other = await send(t, a, room.id, 'race');
    const results = await Promise.all(['like', 'love', 'laugh', 'wow', 'sad', 'angry'].map((type) => react(b, other.id, type)));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 400, 400, 400, 400, 400]);
    assert.equal((await ok<any[]>(call(t, a, 'GET', `/api/reactions/?message=${other.id}`))).length, 1);
  });

  it('lets only the author change or remove a reaction: 403 for other members, 404 for anyone else', async () => {
    const msg = await send(t, a, room.id, 'mine to change');
    const r = await ok(react(b, msg.id, 'like'), 201);
    for (const [method, body] of [['PATCH', { reaction_type: 'sad' }], ['PUT', { reaction_type: 'sad' }], ['DELETE', undefined]] as const) {
      assert.equal((await call(t, a, method, `/api/reactions/${r.id}/`, body)).statusCode, 403, method);
      assert.equal((await call(t, outsider, method, `/api/reactions/${r.id}/`, body)).statusCode, 404, method);
    }
    const changed = await ok(call(t, b, 'PATCH', `/api/reactions/${r.id}/`, { reaction_type: 'laugh' }));
    assert.equal(changed.reaction_type, 'laugh');
    assert.equal(changed.id, r.id);
    assert.equal((await ok(call(t, b, 'PUT', `/api/reactions/${r.id}`, { reaction_type: 'wow' }))).reaction_type, 'wow');
    assert.ok((await ok(call(t, b, 'PATCH', `/api/reactions/${r.id}/`, { reaction_type: 'nope' }), 400)).reaction_type);
    await ok(call(t, b, 'DELETE', `/api/reactions/${r.id}/`), 204);
    assert.equal((await call(t, b, 'GET', `/api/reactions/${r.id}/`)).statusCode, 404);
    assert.deepEqual((await ok(call(t, a, 'GET', `/api/messages/${msg.id}/`))).reactions, []);
    await ok(react(b, msg.id, 'angry'), 201);
  });

  it('is for members only: outsiders and former members get 404, exactly as for a missing message', async () => {
    const [owner, member] = await users(t, 2);
    const g = await group(t, owner, [member], false);
    const msg = await send(t, owner, g.id, 'members only');
    const r = await ok(react(member, msg.id, 'like'), 201);
    const hidden = await react(outsider, msg.id, 'like');
    const missing = await react(outsider, 999_999, 'like');
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.body, missing.body);
    assert.equal((await call(t, outsider, 'GET', `/api/reactions/?message=${msg.id}`)).statusCode, 404);
    assert.equal((await call(t, outsider, 'GET', `/api/reactions/${r.id}/`)).statusCode, 404);
    await ok(call(t, member, 'POST', `/api/chat_rooms/${g.id}/leave/`), 204);
    assert.equal((await call(t, member, 'GET', `/api/reactions/?message=${msg.id}`)).statusCode, 404);
    assert.equal((await call(t, member, 'DELETE', `/api/reactions/${r.id}/`)).statusCode, 404);
    const open = await group(t, owner);
    const openMsg = await send(t, owner, open.id, 'public group');
    assert.equal((await react(outsider, openMsg.id, 'like')).statusCode, 404, 'a public group must be joined first');
    assert.equal((await call(t, null, 'GET', `/api/reactions/?message=${openMsg.id}`)).statusCode, 401);
  });

  it('takes the reactions of a deleted message away, and refuses new ones', async () => {
    const msg = await send(t, a, room.id, 'short-lived');
    const r1 = await ok(react(b, msg.id, 'like'), 201);
    await ok(react(a, msg.id, 'sad'), 201);
    const deleted = await nextEvent(t, b, (e) => e.type === 'message_deleted' && e.message.id === msg.id);
    await ok(call(t, a, 'DELETE', `/api/messages/${msg.id}/`), 204);
    assert.deepEqual((await deleted.seen).message.reactions, []);
    assert.deepEqual(await ok(call(t, b, 'GET', `/api/reactions/?message=${msg.id}`)), []);
    assert.deepEqual((await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`))).reactions, []);
    assert.equal((await call(t, b, 'GET', `/api/reactions/${r1.id}/`)).statusCode, 404);
    assert.ok((await ok(react(b, msg.id, 'like'), 400)).message);
    const rows = await t.ctx.db.selectFrom('reactions').select('id').where('message_id', '=', msg.id).execute();
    assert.equal(rows.length, 0);
  });

  it('sends every change to the room as a reaction event', async () => {
    const msg = await send(t, a, room.id, 'watch');
    const sock = await socketOf(t, a);
    try {
      const r = await ok(react(b, msg.id, 'like'), 201);
      const changed = await ok(call(t, b, 'PATCH', `/api/reactions/${r.id}/`, { reaction_type: 'love' }));
      await ok(call(t, b, 'PATCH', `/api/reactions/${r.id}/`, { reaction_type: 'love' }));
      await ok(call(t, b, 'DELETE', `/api/reactions/${r.id}/`), 204);
      await sock.next((e) => e.type === 'reaction' && e.action === 'removed');
      const events = sock.events.filter((e) => e.type === 'reaction');
      assert.deepEqual(events.map((e) => [e.action, e.reaction.reaction_type]), [['added', 'like'], ['changed', 'love'], ['removed', 'love']], 'no event for a no-op change');
      assert.deepEqual(events[0].reaction, r);
      assert.deepEqual(events[1].reaction, changed);
      assert.ok(events.every((e) => e.chat_room === room.id && Number.isInteger(e.id)));
      assert.ok(events[0].id < events[1].id && events[1].id < events[2].id);
      assert.ok(events[0].seq < events[1].seq && events[1].seq < events[2].seq);
      const logged = await t.ctx.db.selectFrom('events').select(['id', 'type']).where('message_id', '=', msg.id).where('type', '=', 'reaction').orderBy('id').execute();
      assert.deepEqual(logged.map((e) => e.id), events.map((e) => e.id), 'the event ids are rows of the event log');
    } finally {
      await sock.close();
    }
  });
});
