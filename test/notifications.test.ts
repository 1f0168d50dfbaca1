import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventLog } from '../src/modules/events/event-log.js';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, createRoom, group, membershipOf, ok, pathOf, privateRoom, send, users } from './chat-helpers.js';
import { connect, listen, type Sock } from './ws-helpers.js';

const GENERAL = '/ws/general_updates/';
const NOTIFICATION_KEYS = ['actor', 'body', 'chat_room', 'created_at', 'id', 'is_read', 'message', 'reaction', 'type'];

describe('notifications', () => {
  let t: TestApp;
  let base: string;
  const open: Sock[] = [];
  const sock = async (user: TestUser, query?: Record<string, string | number>) => {
    const s = await connect(base, GENERAL, { token: user.access, query });
    open.push(s);
    return s;
  };
  before(async () => {
    t = await chatApp();
    base = await listen(t);
  });
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  const list = async (user: TestUser, query = '') => (await ok(call(t, user, 'GET', `/api/notifications/${query}`))).results as any[];

  it('notifies the other members of a new message, never the sender, without its content', async () => {
    const [owner, m1, m2] = await users(t, 3);
    await ok(call(t, owner, 'PATCH', `/api/users/${owner.id}/`, { first_name: 'Olga', last_name: 'Owner' }));
    const g = await createRoom(t, owner, { room_type: 'group', name: 'Team', members: [m1.id, m2.id] });
    const msg = await send(t, owner, g.id, 'the secret plan');
    for (const user of [m1, m2]) {
      const [n] = (await list(user)).filter((x) => x.type === 'message');
      assert.deepEqual(Object.keys(n).sort(), NOTIFICATION_KEYS);
      assert.equal(n.chat_room, g.id);
      assert.equal(n.message, msg.id);
      assert.equal(n.actor, owner.id);
      assert.equal(n.reaction, null);
      assert.equal(n.is_read, false);
      assert.equal(n.body, 'Olga Owner sent a message in "Team"');
      assert.ok(!n.body.includes('secret'));
    }
    assert.deepEqual((await list(owner)).filter((x) => x.type === 'message'), []);
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    await send(t, a, room.id, 'hi');
    assert.equal((await list(b)).find((x) => x.type === 'message').body, `${a.username} sent you a message`);
  });

  it('notifies you of reactions to your messages, not of your own', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'react');
    const r = await ok(call(t, b, 'POST', '/api/reactions/', { message: msg.id, reaction_type: 'wow' }), 201);
    await ok(call(t, a, 'POST', '/api/reactions/', { message: msg.id, reaction_type: 'like' }), 201);
    const reactions = (await list(a)).filter((x) => x.type === 'reaction');
    assert.equal(reactions.length, 1);
    assert.equal(reactions[0].reaction, r.id);
    assert.equal(reactions[0].message, msg.id);
    assert.equal(reactions[0].actor, b.id);
    assert.equal(reactions[0].body, `${b.username} reacted with "wow" to your message`);
    assert.deepEqual((await list(b)).filter((x) => x.type === 'reaction'), []);
    await ok(call(t, b, 'PATCH', `/api/reactions/${r.id}/`, { reaction_type: 'sad' }));
    assert.equal((await list(a)).filter((x) => x.type === 'reaction').length, 1, 'changing a reaction does not notify again');
    await ok(call(t, b, 'DELETE', `/api/reactions/${r.id}/`), 204);
    assert.deepEqual((await list(a)).filter((x) => x.type === 'reaction'), [], 'a removed reaction takes its notification with it');
  });

  it('notifies the other members of joins and leaves, and you when someone adds you', async () => {
    const [owner, member, joiner, added] = await users(t, 4);
    const g = await createRoom(t, owner, { room_type: 'group', name: 'Open house', members: [member.id] });
    assert.equal((await list(member)).find((x) => x.type === 'join').body, `${owner.username} added you to "Open house"`);
    await ok(call(t, joiner, 'POST', `/api/chat_rooms/${g.id}/join/`));
    for (const user of [owner, member]) {
      const joins = (await list(user)).filter((x) => x.type === 'join' && x.actor === joiner.id);
      assert.deepEqual(joins.map((x) => x.body), [`${joiner.username} joined "Open house"`]);
    }
    assert.deepEqual((await list(joiner)).filter((x) => x.type === 'join'), [], 'not told of your own join');
    await ok(call(t, member, 'POST', '/api/user_chats/', { chat_room: g.id, user: added.id }), 201);
    assert.equal((await list(added)).find((x) => x.type === 'join').body, `${member.username} added you to "Open house"`);
    assert.ok((await list(owner)).some((x) => x.body === `${member.username} added ${added.username} to "Open house"`));
    await ok(call(t, joiner, 'POST', `/api/chat_rooms/${g.id}/leave/`), 204);
    for (const user of [owner, member, added]) {
      assert.deepEqual((await list(user)).filter((x) => x.type === 'leave').map((x) => x.body), [`${joiner.username} left "Open house"`]);
    }
    assert.deepEqual((await list(joiner)).filter((x) => x.type === 'leave'), []);
  });

  it('pushes each notification to its owner\'s sockets only, as the REST API shows it', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await privateRoom(t, a, b);
    const own = await group(t, c);
    const [sa, sb1, sb2, sc] = [await sock(a), await sock(b), await sock(b), await sock(c)];
    const msg = await send(t, a, room.id, 'ping b');
    // (A notification of the room's creation may come first: committed as the sockets opened.)
    const pushed = await sb1.next((e) => e.type === 'notification' && e.notification.message === msg.id);
    assert.deepEqual(await sb2.next((e) => e.type === 'notification' && e.notification.message === msg.id), pushed, 'every socket of the owner');
    assert.ok(Number.isInteger(pushed.id) && pushed.id > 0);
    assert.equal(pushed.chat_room, room.id);
    const [stored] = await list(b);
    assert.deepEqual(pushed.notification, stored);
    assert.equal(pushed.notification.message, msg.id);
    // Markers: once these arrive, anything about b's notification would have arrived first.
    await send(t, b, room.id, 'marker for a');
    await sa.next((e) => e.type === 'notification' && e.notification.actor === b.id);
    await send(t, c, own.id, 'marker for c');
    await sc.next((e) => e.type === 'new_message');
    assert.ok(!sa.events.some((e) => e.type === 'notification' && e.notification.actor === a.id), 'the sender is not notified');
    assert.ok(!sc.events.some((e) => e.type === 'notification'), 'an outsider gets nothing');
  });

  it('never shows anyone else\'s notifications: REST, live or ?since= replay', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await privateRoom(t, a, b);
    const shared = await group(t, c, [a, b]);
    const before = await sock(c);
    const mark = await send(t, c, shared.id, 'before');
    const since = (await before.next((e) => e.type === 'new_message' && e.message.id === mark.id)).id;
    await before.close();
    await send(t, a, room.id, 'for b only');
    await send(t, b, room.id, 'for a only');
    await send(t, a, shared.id, 'for b and c');
    const nb = (await list(b)).find((x) => x.chat_room === room.id);
    assert.ok(nb);
    for (const [method, body] of [['GET', undefined], ['PATCH', { is_read: true }], ['PUT', { is_read: true }], ['DELETE', undefined]] as const) {
      const res = await call(t, c, method, `/api/notifications/${nb.id}/`, body);
      assert.equal(res.statusCode, 404, method);
      assert.equal(res.body, (await call(t, c, method, '/api/notifications/999999/', body)).body, 'as for a missing one');
    }
    assert.equal((await ok(call(t, b, 'GET', `/api/notifications/${nb.id}/`))).is_read, false, 'unchanged by the refused requests');
    const mine = await t.ctx.db.selectFrom('notifications').select('id').where('user_id', '=', c.id).execute();
    assert.deepEqual((await list(c)).map((x) => x.id).sort(), mine.map((x) => x.id).sort());

    // Replay: c missed notifications of a and b (in a room c shares with them, and one c is not in).
    const again = await sock(c, { since });
    const live = await send(t, a, shared.id, 'live after replay');
    await again.next((e) => e.type === 'notification' && e.notification.message === live.id);
    assert.ok(again.events.some((e) => e.type === 'new_message' && e.message.content === 'for b and c'), 'room events are replayed');
    const cIds = new Set((await t.ctx.db.selectFrom('notifications').select('id').where('user_id', '=', c.id).execute()).map((x) => x.id));
    const notes = again.events.filter((e) => e.type === 'notification');
    assert.ok(notes.length > 0 && notes.every((e) => cIds.has(e.notification.id)), `only c's own notifications: ${JSON.stringify(notes)}`);
    assert.ok(!JSON.stringify(again.events).includes('for a only'));

    // The log itself: events addressed to a user are returned for that user alone.
    const upto = Number.MAX_SAFE_INTEGER;
    const logB = await eventLog.forUser(t.ctx.db, { after: since, upto, roomIds: [room.id, shared.id], recipientId: b.id, limit: 1000 });
    const logC = await eventLog.forUser(t.ctx.db, { after: since, upto, roomIds: [shared.id], recipientId: c.id, limit: 1000 });
    const roomsOnly = await eventLog.forUser(t.ctx.db, { after: since, upto, roomIds: [room.id, shared.id], recipientId: 0, limit: 1000 });
    assert.ok(logB.some((e) => e.type === 'notification'));
    assert.ok(logB.filter((e) => e.type === 'notification').every((e) => e.recipient_id === b.id));
    assert.ok(logC.filter((e) => e.type === 'notification').every((e) => e.recipient_id === c.id));
    assert.ok(!roomsOnly.some((e) => e.type === 'notification'), 'room replay carries no one\'s notifications');
  });

  it('marks read one by one or all, filters by is_read and deletes your own', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    for (let i = 0; i < 3; i++) await send(t, a, room.id, `m${i}`);
    const [n3, n2, n1] = (await list(b)).filter((x) => x.type === 'message');
    assert.ok(n3.id > n2.id && n2.id > n1.id, 'newest first');
    assert.equal((await ok(call(t, b, 'PATCH', `/api/notifications/${n2.id}/`, { is_read: true }))).is_read, true);
    assert.deepEqual((await list(b, '?is_read=true')).map((x) => x.id), [n2.id]);
    assert.ok(!(await list(b, '?is_read=false')).some((x) => x.id === n2.id));
    assert.equal((await ok(call(t, b, 'PATCH', `/api/notifications/${n2.id}/`, { is_read: false }))).is_read, false);
    assert.ok((await ok(call(t, b, 'PATCH', `/api/notifications/${n2.id}/`, { is_read: 'maybe' }), 400)).is_read);
    const unread = (await list(b, '?is_read=false')).length;
    assert.deepEqual(await ok(call(t, b, 'POST', '/api/notifications/mark_all_read/')), { marked: unread });
    assert.deepEqual(await list(b, '?is_read=false'), []);
    assert.deepEqual(await ok(call(t, b, 'POST', '/api/notifications/mark_all_read/')), { marked: 0 });
    await ok(call(t, b, 'DELETE', `/api/notifications/${n1.id}/`), 204);
    assert.equal((await call(t, b, 'GET', `/api/notifications/${n1.id}/`)).statusCode, 404);
    assert.equal((await call(t, b, 'DELETE', `/api/notifications/${n1.id}/`)).statusCode, 404);
  });

  it('pages newest first, 20 a page', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    for (let i = 0; i < 24; i++) await send(t, a, room.id, `n${i}`);
    const first = await ok(call(t, b, 'GET', '/api/notifications/'));
    assert.equal(first.count, 25, '24 messages and the new conversation');
    assert.equal(first.results.length, 20);
    assert.equal(first.previous, null);
    const second = await ok(call(t, b, 'GET', pathOf(first.next)));
    assert.equal(second.results.length, 5);
    assert.equal(second.next, null);
    const ids = [...first.results, ...second.results].map((x: any) => x.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => y - x));
  });

  it('makes none for a muted conversation, and again once unmuted', async () => {
    const [owner, muted, other] = await users(t, 3);
    const g = await createRoom(t, owner, { room_type: 'group', name: 'Noisy', members: [muted.id] });
    const membership = await membershipOf(t, muted, g.id);
    assert.equal(membership.is_muted, false);
    const updated = await ok(call(t, muted, 'PATCH', `/api/user_chats/${membership.id}/`, { is_muted: true }));
    assert.equal(updated.is_muted, true);
    assert.equal((await membershipOf(t, muted, g.id)).is_muted, true);
    assert.equal((await call(t, owner, 'PATCH', `/api/user_chats/${membership.id}/`, { is_muted: false })).statusCode, 404, 'only its own user mutes it');
    const count = async () => (await ok(call(t, muted, 'GET', '/api/notifications/'))).count;
    const start = await count();
    const s = await sock(muted);
    await send(t, owner, g.id, 'quiet please');
    const mine = await send(t, muted, g.id, 'my message');
    await ok(call(t, owner, 'POST', '/api/reactions/', { message: mine.id, reaction_type: 'like' }), 201);
    await ok(call(t, other, 'POST', `/api/chat_rooms/${g.id}/join/`));
    await ok(call(t, other, 'POST', `/api/chat_rooms/${g.id}/leave/`), 204);
    assert.equal(await count(), start);
    await ok(call(t, muted, 'PATCH', `/api/user_chats/${membership.id}/`, { is_muted: false }));
    const loud = await send(t, owner, g.id, 'back');
    const pushed = await s.next((e) => e.type === 'notification' && e.notification.message !== null);
    assert.equal(pushed.notification.message, loud.id, 'the first message notification pushed is the one after unmuting');
    assert.equal(await count(), start + 1);
    assert.ok(s.events.some((e) => e.type === 'new_message' && e.message.content === 'quiet please'), 'a muted room still delivers its events');
  });

  it('cannot be created through the API, and needs a token', async () => {
    const [a] = await users(t, 1);
    const res = await call(t, a, 'POST', '/api/notifications/', { type: 'message', body: 'fake' });
    assert.equal(res.statusCode, 405);
    assert.match(res.headers.allow as string, /GET/);
    assert.equal((await call(t, null, 'GET', '/api/notifications/')).statusCode, 401);
    assert.equal((await call(t, null, 'POST', '/api/notifications/mark_all_read/')).statusCode, 401);
  });

  it('drops the notifications of a deleted message and of a deleted room', async () => {
    const [owner, member] = await users(t, 2);
    const g = await createRoom(t, owner, { room_type: 'group', name: 'Temp', members: [member.id] });
    const msg = await send(t, owner, g.id, 'soon gone');
    assert.ok((await list(member)).some((x) => x.message === msg.id));
    await ok(call(t, owner, 'DELETE', `/api/messages/${msg.id}/`), 204);
    assert.ok(!(await list(member)).some((x) => x.message === msg.id));
    await send(t, owner, g.id, 'another');
    await ok(call(t, owner, 'DELETE', `/api/chat_rooms/${g.id}/`), 204);
    assert.ok(!(await list(member)).some((x) => x.chat_room === g.id));
  });
});

describe('notifications in large rooms', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp({ LARGE_ROOM_MEMBERS: '3' });
  });
  after(() => t.close());

  const messageNotes = async (u: TestUser, msg: number) => (await ok(call(t, u, 'GET', '/api/notifications/'))).results.filter((n: any) => n.message === msg);

  it('writes no message notifications in rooms over LARGE_ROOM_MEMBERS members; unread counts and mentions still tell', async () => {
    const [a, b, c, d] = await users(t, 4);
    const small = await group(t, a, [b, c], false);
    const large = await group(t, a, [b, c, d], false);
    const inSmall = await send(t, a, small.id, 'three of us');
    assert.deepEqual((await messageNotes(b, inSmall.id)).map((n: any) => n.type), ['message']);
    const inLarge = await send(t, a, large.id, `four of us, @${c.username}`);
    assert.deepEqual(await messageNotes(b, inLarge.id), []);
    assert.deepEqual((await messageNotes(c, inLarge.id)).map((n: any) => n.type), ['mention']);
    assert.equal((await membershipOf(t, b, large.id)).unread_count, 1);
  });
});
