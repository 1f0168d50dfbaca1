import assert from 'node:assert/strict';
import { messagesRepository } from '../src/modules/messages/messages.repository.js';
import { after, before, describe, it } from 'node:test';
import { eventLog } from '../src/modules/events/event-log.js';
import type { TestApp } from './helpers.js';
import { call, chatApp, createRoom, group, membershipOf, nextEvent, ok, pathOf, privateRoom, send, socketOf, users } from './chat-helpers.js';

const ROOM_KEYS = ['created_at', 'created_by', 'id', 'is_encrypted', 'is_public', 'member_count', 'name', 'room_type', 'updated_at'];

// One app for the whole file: every suite here runs on the defaults and works in rooms of its own.
let t: TestApp;
before(async () => {
  t = await chatApp();
});
after(() => t.close());

describe('rooms', () => {
  it('creates a public group by default, with the creator as owner and the given members', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await createRoom(t, a, { room_type: 'group', name: 'Team', members: [b.id, c.id, b.id, a.id] });
    assert.deepEqual(Object.keys(room).sort(), ROOM_KEYS);
    assert.equal(room.room_type, 'group');
    assert.equal(room.name, 'Team');
    assert.equal(room.is_public, true);
    assert.equal(room.created_by, a.id);
    assert.equal(room.member_count, 3);
    const members = (await ok(call(t, b, 'GET', `/api/chat_rooms/${room.id}/members/`))).results;
    assert.deepEqual(members.map((m: any) => [m.user, m.role]), [[a.id, 'owner'], [b.id, 'member'], [c.id, 'member']]);
    const closed = await createRoom(t, a, { room_type: 'group', name: 'Closed', is_public: false });
    assert.equal(closed.is_public, false);
    assert.equal(closed.member_count, 1);
  });

  it('refuses invalid rooms with field errors', async () => {
    const [a, b, c] = await users(t, 3);
    const cases: Array<[unknown, string]> = [
      [{}, 'room_type'],
      [{ room_type: 'channel' }, 'room_type'],
      [{ room_type: 'private', members: [b.id, c.id] }, 'members'],
      [{ room_type: 'private', name: 'x', members: [b.id] }, 'name'],
      [{ room_type: 'group', members: [999999] }, 'members'],
      [{ room_type: 'group', name: 'x'.repeat(256) }, 'name'],
      [{ room_type: 'group', name: 'nul\u0000' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await call(t, a, 'POST', '/api/chat_rooms/', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.ok(res.json()[field], `${JSON.stringify(body)} → ${res.body}`);
    }
    assert.equal((await call(t, null, 'POST', '/api/chat_rooms/', { room_type: 'group' })).statusCode, 401);
  });

  it('returns the existing private room for the same pair, in either direction', async () => {
    const [a, b, c] = await users(t, 3);
    const first = await privateRoom(t, a, b);
    assert.equal(first.room_type, 'private');
    assert.equal(first.is_public, false);
    assert.equal(first.member_count, 2);
    const again = await createRoom(t, a, { room_type: 'private', members: [b.id] }, 200);
    assert.equal(again.id, first.id);
    const reverse = await createRoom(t, b, { room_type: 'private', members: [a.id, b.id] }, 200);
    assert.equal(reverse.id, first.id);
    const concurrent = await Promise.all([0, 1, 2, 3].map((i) => call(t, i % 2 ? a : c, 'POST', '/api/chat_rooms/', { room_type: 'private', members: [i % 2 ? c.id : a.id] })));
    const ids = new Set(concurrent.map((r) => r.json().id));
    assert.equal(ids.size, 1, 'concurrent requests for one pair make one room');
    assert.deepEqual(concurrent.map((r) => r.statusCode).sort(), [200, 200, 200, 201]);
  });

  it('takes the second member of a private room through user_chats, never a third', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await createRoom(t, a, { room_type: 'private' });
    assert.equal(room.member_count, 1);
    const added = await ok(call(t, a, 'POST', '/api/user_chats/', { chat_room: room.id, user: b.id }), 201);
    assert.equal(added.user, b.id);
    assert.equal(added.chat_room, room.id);
    const third = await call(t, a, 'POST', '/api/user_chats/', { chat_room: room.id, user: c.id });
    assert.equal(third.statusCode, 400);
    assert.match(third.json().detail, /exactly two/);
    // The pair now has its room: asking for it returns this one; a second private room for the pair cannot be filled.
    assert.equal((await createRoom(t, b, { room_type: 'private', members: [a.id] }, 200)).id, room.id);
    const other = await createRoom(t, a, { room_type: 'private' });
    const dup = await call(t, a, 'POST', '/api/user_chats/', { chat_room: other.id, user: b.id });
    assert.equal(dup.statusCode, 400);
    assert.match(dup.json().detail, /already exists/);
  });

  it('lists member rooms and public groups, 20 a page', async () => {
    const own = await chatApp();
    try {
      const [a, b] = await users(own, 2);
      const mine = [];
      for (let i = 0; i < 12; i++) mine.push((await group(own, a, [], false)).id);
      const publicOnes = [];
      for (let i = 0; i < 10; i++) publicOnes.push((await group(own, b)).id);
      const hidden = (await group(own, b, [], false)).id;
      const privateOfB = (await privateRoom(own, b, (await users(own, 1))[0])).id;
      const p1 = await ok(call(own, a, 'GET', '/api/chat_rooms/'));
      assert.equal(p1.count, 22);
      assert.equal(p1.results.length, 20);
      assert.equal(p1.previous, null);
      const p2 = await ok(call(own, a, 'GET', pathOf(p1.next)));
      assert.equal(p2.results.length, 2);
      assert.equal(p2.next, null);
      const ids = [...p1.results, ...p2.results].map((r: any) => r.id);
      assert.deepEqual(ids, [...mine, ...publicOnes].sort((x, y) => x - y));
      assert.ok(!ids.includes(hidden) && !ids.includes(privateOfB));
    } finally {
      await own.close();
    }
  });

  it('shows a room to its members and a public group to anyone; others get 404', async () => {
    const [a, b, c] = await users(t, 3);
    const priv = await privateRoom(t, a, b);
    const pub = await group(t, a);
    assert.equal((await ok(call(t, b, 'GET', `/api/chat_rooms/${priv.id}/`))).id, priv.id);
    assert.equal((await ok(call(t, c, 'GET', `/api/chat_rooms/${pub.id}`))).id, pub.id);
    assert.equal((await call(t, c, 'GET', `/api/chat_rooms/${priv.id}/`)).statusCode, 404);
    assert.equal((await call(t, c, 'GET', '/api/chat_rooms/999999/')).statusCode, 404);
    assert.equal((await call(t, c, 'GET', '/api/chat_rooms/abc/')).statusCode, 400);
  });

  it('lets members rename a group; only the owner changes is_public', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await group(t, a, [b]);
    const renamed = await ok(call(t, b, 'PATCH', `/api/chat_rooms/${room.id}/`, { name: 'Renamed' }));
    assert.equal(renamed.name, 'Renamed');
    assert.ok(renamed.updated_at >= room.updated_at);
    const put = await ok(call(t, a, 'PUT', `/api/chat_rooms/${room.id}`, { name: 'Put' }));
    assert.equal(put.name, 'Put');
    assert.equal((await call(t, b, 'PATCH', `/api/chat_rooms/${room.id}/`, { is_public: false })).statusCode, 403);
    assert.equal((await ok(call(t, a, 'PATCH', `/api/chat_rooms/${room.id}/`, { is_public: false }))).is_public, false);
    assert.equal((await call(t, c, 'PATCH', `/api/chat_rooms/${room.id}/`, { name: 'x' })).statusCode, 404, 'no longer public: invisible');
    const pub = await group(t, a);
    assert.equal((await call(t, c, 'PATCH', `/api/chat_rooms/${pub.id}/`, { name: 'x' })).statusCode, 403, 'visible, but not a member');
  });

  it('turns a private room into a group (seed flow) but never a group into a private room', async () => {
    const [a, b] = await users(t, 2);
    const priv = await privateRoom(t, a, b);
    assert.equal((await call(t, a, 'PATCH', `/api/chat_rooms/${priv.id}/`, { name: 'x' })).statusCode, 400);
    const converted = await ok(call(t, b, 'PUT', `/api/chat_rooms/${priv.id}/`, { room_type: 'group' }));
    assert.equal(converted.room_type, 'group');
    assert.equal(converted.is_public, false, 'a conversation does not become public by itself');
    const back = await call(t, a, 'PATCH', `/api/chat_rooms/${priv.id}/`, { room_type: 'private' });
    assert.equal(back.statusCode, 400);
    assert.ok(back.json().room_type);
    // The pair can have a new private room now.
    assert.notEqual((await privateRoom(t, a, b)).id, priv.id);
  });

  it('never turns a private conversation with messages into a group (its history would show to newcomers)', async () => {
    const [a, b] = await users(t, 2);
    const priv = await privateRoom(t, a, b);
    await send(t, a, priv.id, 'between us');
    const refused = await call(t, a, 'PUT', `/api/chat_rooms/${priv.id}/`, { room_type: 'group' });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json().room_type[0], /start a group instead/);
    const still = await ok(call(t, b, 'GET', `/api/chat_rooms/${priv.id}/`));
    assert.equal(still.room_type, 'private');
  });

  it('of two leaves at once, one leaves and one member_left is written', async () => {
    for (let round = 0; round < 5; round++) {
      const [owner, member] = await users(t, 2);
      const room = await group(t, owner, [member]);
      const answers = await Promise.all([0, 1, 2].map(() => call(t, member, 'POST', `/api/chat_rooms/${room.id}/leave/`)));
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [204, 400, 400], `round ${round}`);
      const left = await t.ctx.db.selectFrom('events').select('id').where('chat_room_id', '=', room.id).where('type', '=', 'member_left').execute();
      assert.equal(left.length, 1, `round ${round}: one member_left`);
    }
  });

  it('lets only the owner delete a room; it is then gone for everyone', async () => {
    const [a, b] = await users(t, 2);
    const room = await group(t, a, [b]);
    const msg = await send(t, b, room.id, 'bye');
    assert.equal((await call(t, b, 'DELETE', `/api/chat_rooms/${room.id}/`)).statusCode, 403);
    const events = await nextEvent(t, b, (e) => e.type === 'room_deleted' && e.chat_room === room.id && e.by === a.id);
    assert.equal((await call(t, a, 'DELETE', `/api/chat_rooms/${room.id}/`)).statusCode, 204);
    const event = await events.seen;
    assert.deepEqual(event.members.sort(), [a.id, b.id].sort());
    assert.equal(event.chat_room, room.id);
    for (const u of [a, b]) {
      assert.equal((await call(t, u, 'GET', `/api/chat_rooms/${room.id}/`)).statusCode, 404);
      assert.equal((await call(t, u, 'GET', `/api/messages/${msg.id}/`)).statusCode, 404);
      assert.equal(await membershipOf(t, u, room.id), undefined);
    }
    const left = await t.ctx.db.selectFrom('events').select('type').where('chat_room_id', '=', room.id).execute();
    assert.deepEqual(left.map((e) => e.type), ['room_deleted'], 'the deleted room keeps only its deletion event');
  });

  it('joins public groups only, idempotently', async () => {
    const [a, b] = await users(t, 2);
    const pub = await group(t, a);
    const joined = await ok(call(t, b, 'POST', `/api/chat_rooms/${pub.id}/join/`));
    assert.equal(joined.member_count, 2);
    assert.equal((await ok(call(t, b, 'POST', `/api/chat_rooms/${pub.id}/join/`))).member_count, 2);
    const withHeader = await t.app.inject({ method: 'POST', url: `/api/chat_rooms/${pub.id}/join/`, headers: { ...b.auth, 'content-type': 'application/json' } });
    assert.equal(withHeader.statusCode, 200, 'an empty JSON body is no body');
    const priv = await privateRoom(t, a, b);
    assert.equal((await call(t, a, 'POST', `/api/chat_rooms/${priv.id}/join/`)).statusCode, 400);
    const closed = await group(t, a, [], false);
    assert.equal((await call(t, a, 'POST', `/api/chat_rooms/${closed.id}/join/`)).statusCode, 400);
    assert.equal((await call(t, b, 'POST', `/api/chat_rooms/${closed.id}/join/`)).statusCode, 404);
  });

  it('leaves groups only; an owner who leaves hands the group on', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await group(t, a, [b, c], false);
    assert.equal((await call(t, a, 'POST', `/api/chat_rooms/${room.id}/leave/`)).statusCode, 204);
    assert.equal((await call(t, a, 'GET', `/api/chat_rooms/${room.id}/`)).statusCode, 404, 'a non-public group is invisible once left');
    const members = (await ok(call(t, c, 'GET', `/api/chat_rooms/${room.id}/members/`))).results;
    assert.deepEqual(members.map((m: any) => [m.user, m.role]), [[b.id, 'owner'], [c.id, 'member']]);
    assert.equal((await call(t, b, 'DELETE', `/api/chat_rooms/${room.id}/`)).statusCode, 204, 'the new owner may delete');
    const priv = await privateRoom(t, a, b);
    assert.equal((await call(t, a, 'POST', `/api/chat_rooms/${priv.id}/leave/`)).statusCode, 400);
    const pub = await group(t, a);
    assert.equal((await call(t, c, 'POST', `/api/chat_rooms/${pub.id}/leave/`)).statusCode, 400, 'not a member');
  });

  it('writes one event per change, in order, with gapless seqs, and sends each to the room once committed', async () => {
    const [a, b] = await users(t, 2);
    const room = await group(t, a);
    const sock = await socketOf(t, a);
    const raw: string[] = [];
    sock.ws.on('message', (data) => raw.push(data.toString()));
    await ok(call(t, b, 'POST', `/api/chat_rooms/${room.id}/join/`));
    await ok(call(t, a, 'PATCH', `/api/chat_rooms/${room.id}/`, { name: 'n2' }));
    await ok(call(t, b, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    await sock.next((e) => e.type === 'member_left' && e.user === b.id);
    await sock.close();
    const rows = await t.ctx.db.selectFrom('events').selectAll().where('chat_room_id', '=', room.id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.type), ['room_created', 'member_joined', 'room_updated', 'member_left']);
    assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4], "the room's own counter");
    // Exactly the log rows' bytes, in log order.
    const wires = (await eventLog.wire(t.ctx.db, rows.slice(1))).map((w) => w.wire);
    const roomFrames = raw.filter((frame) => {
      const e = JSON.parse(frame);
      return e.chat_room === room.id && e.seq > 1;
    });
    assert.deepEqual(roomFrames, wires);
    const live = wires.map((w) => JSON.parse(w));
    assert.deepEqual(live.map((e) => e.id), rows.slice(1).map((r) => r.id), 'the ids clients see are the log ids');
    assert.deepEqual(live.map((e) => e.seq), [2, 3, 4]);
    assert.equal(live[0].user, b.id);
    assert.equal(live[1].room.name, 'n2');
    assert.equal(live[2].chat_room, room.id);
  });
});

describe('memberships (user_chats)', () => {
  it('lists conversations with names, unread counts, last message and read position', async () => {
    const [a, b, c] = await users(t, 3);
    const priv = await privateRoom(t, a, b);
    const grp = await group(t, a, [b, c]);
    await send(t, a, priv.id, 'one');
    const m2 = await send(t, a, priv.id, 'two');
    await send(t, b, priv.id, 'mine');
    const list = await ok(call(t, b, 'GET', '/api/user_chats/'));
    assert.deepEqual(list.map((m: any) => m.chat_room), [priv.id, grp.id], 'most recent activity first');
    const [p, g] = list;
    assert.deepEqual(Object.keys(p).sort(), ['chat_room', 'id', 'is_active', 'is_encrypted', 'is_muted', 'is_read', 'joined_at', 'last_message', 'last_seen_message', 'name', 'peer', 'role', 'room_name', 'room_type', 'unread_count', 'user']);
    assert.equal(p.user, b.id);
    assert.equal(p.name, a.username);
    assert.equal(p.peer, a.id, "a private room names the other person's id (for their presence)");
    assert.equal(p.room_type, 'private');
    assert.equal(p.unread_count, 2, "one's own messages are not unread");
    assert.equal(p.is_read, false);
    assert.equal(p.last_message.content, 'mine');
    assert.equal(p.last_seen_message, null);
    assert.equal(g.name, `${a.username}, ${c.username}`);
    assert.equal(g.peer, null);
    assert.equal(g.room_name, 'g');
    assert.equal(g.unread_count, 0);
    assert.equal(g.is_read, true);
    assert.equal(g.last_message, null);

    const read = await ok(call(t, b, 'PATCH', `/api/user_chats/${p.id}/`, { last_seen_message: m2.id }));
    assert.equal(read.last_seen_message, m2.id);
    assert.equal(read.unread_count, 0);
    assert.equal(read.is_read, true);
  });

  it('moves the read position forward only and marks read or unread', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const first = await send(t, a, room.id, '1');
    await send(t, a, room.id, '2');
    const third = await send(t, a, room.id, '3');
    const mine = await membershipOf(t, b, room.id);
    assert.equal(mine.unread_count, 3);
    const readEvent = await nextEvent(t, a, (e) => e.type === 'read' && e.user === b.id && e.message === third.id);
    const allRead = await ok(call(t, b, 'PATCH', `/api/user_chats/${mine.id}/`, { is_read: true }));
    assert.equal(allRead.last_seen_message, third.id);
    assert.equal(allRead.unread_count, 0);
    assert.deepEqual((await readEvent.seen).message, third.id);
    const back = await ok(call(t, b, 'PATCH', `/api/user_chats/${mine.id}/`, { last_seen_message: first.id }));
    assert.equal(back.last_seen_message, third.id, 'an older position does not move it back');
    const unread = await ok(call(t, b, 'PUT', `/api/user_chats/${mine.id}`, { is_read: false }));
    assert.equal(unread.is_read, false);
    assert.equal(unread.unread_count, 0);
    const other = await group(t, a);
    const foreign = await send(t, a, other.id, 'elsewhere');
    const bad = await call(t, b, 'PATCH', `/api/user_chats/${mine.id}/`, { last_seen_message: foreign.id });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().last_seen_message);
  });

  it('answers a bounded conversation list: ten names and "+N", unread counted up to 100', async () => {
    const [me, ...others] = await users(t, 13);
    const room = await group(t, me, others, false);
    const now = new Date().toISOString();
    await messagesRepository.insertMany(t.ctx.db, Array.from({ length: 120 }, (_, i) => ({ chat_room_id: room.id, sender_id: others[0].id, content: `m${i}`, created_at: now, updated_at: now })));
    const mine = await membershipOf(t, me, room.id);
    assert.equal(mine.unread_count, 100);
    assert.equal(mine.name, `${others.slice(0, 10).map((u) => u.username).join(', ')} +2`);
  });

  it('hides a conversation until a new message arrives', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    await send(t, a, room.id, 'hello');
    const mine = await membershipOf(t, b, room.id);
    assert.equal((await call(t, b, 'DELETE', `/api/user_chats/${mine.id}/`)).statusCode, 204);
    assert.equal(await membershipOf(t, b, room.id), undefined);
    const hidden = await ok(call(t, b, 'GET', `/api/user_chats/${mine.id}/`));
    assert.equal(hidden.is_active, false);
    await send(t, b, room.id, 'still a member');
    assert.equal((await membershipOf(t, b, room.id)).is_active, true, 'a new message shows it again');
    await ok(call(t, b, 'PATCH', `/api/user_chats/${mine.id}/`, { is_active: false }));
    assert.equal(await membershipOf(t, b, room.id), undefined);
    await ok(call(t, b, 'PATCH', `/api/user_chats/${mine.id}/`, { is_active: true }));
    assert.ok(await membershipOf(t, b, room.id));
    await ok(call(t, b, 'DELETE', `/api/user_chats/${mine.id}/`), 204);
    const shown = await ok(call(t, b, 'POST', '/api/user_chats/', { chat_room: room.id }), 200);
    assert.equal(shown.id, mine.id);
    assert.equal(shown.is_active, true);
  });

  it('adds yourself to a public group, others as a member; re-adding reactivates with 200', async () => {
    const [a, b, c] = await users(t, 3);
    const pub = await group(t, a);
    const joined = await ok(call(t, b, 'POST', '/api/user_chats/', { chat_room: pub.id }), 201);
    assert.equal(joined.user, b.id);
    assert.equal((await call(t, b, 'POST', '/api/user_chats/', { chat_room: pub.id })).statusCode, 400, 'already a member');
    await ok(call(t, b, 'POST', `/api/chat_rooms/${pub.id}/leave/`), 204);
    const back = await ok(call(t, b, 'POST', '/api/user_chats/', { chat_room: pub.id }), 200);
    assert.equal(back.id, joined.id, 'the same membership, reactivated');
    const closed = await group(t, a, [], false);
    assert.equal((await call(t, c, 'POST', '/api/user_chats/', { chat_room: closed.id })).statusCode, 404);
    const added = await ok(call(t, a, 'POST', '/api/user_chats/', { chat_room: closed.id, user: c.id }), 201);
    assert.equal(added.user, c.id);
    assert.equal((await call(t, a, 'POST', '/api/user_chats/', { chat_room: closed.id, user: c.id })).statusCode, 400);
    const missing = await call(t, a, 'POST', '/api/user_chats/', { chat_room: closed.id, user: 999999 });
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.json().user);
    assert.equal((await call(t, b, 'POST', '/api/user_chats/', { chat_room: pub.id, user: c.id })).statusCode, 201, 'members of a public group add people too');
    assert.equal((await call(t, a, 'POST', '/api/user_chats/', { user: c.id })).statusCode, 400);
  });

  it("lists members with their presence and read position (for read receipts)", async () => {
    const [a, b, c] = await users(t, 3);
    const room = await group(t, a, [b, c]);
    const m1 = await send(t, a, room.id, 'one');
    await send(t, a, room.id, 'two');
    await ok(call(t, b, 'PATCH', `/api/user_chats/${(await membershipOf(t, b, room.id)).id}/`, { last_seen_message: m1.id }));
    const presence = t.ctx.presence;
    t.ctx.presence = { isOnline: (id) => id === c.id, onlineCount: () => 1 };
    let members: any[];
    try {
      members = (await ok(call(t, b, 'GET', `/api/chat_rooms/${room.id}/members/`))).results;
    } finally {
      t.ctx.presence = presence;
    }
    assert.deepEqual(Object.keys(members[0]).sort(), ['joined_at', 'last_seen_message', 'role', 'status', 'user', 'username']);
    const byUser = new Map(members.map((m) => [m.user, m]));
    assert.deepEqual([a, b, c].map((u) => byUser.get(u.id).status), ['offline', 'offline', 'online']);
    assert.equal(byUser.get(b.id).last_seen_message, m1.id);
    for (const u of [a, c]) {
      assert.equal(byUser.get(u.id).last_seen_message, (await membershipOf(t, u, room.id)).last_seen_message, 'the same position as the member\'s own user_chats');
    }
    assert.equal(byUser.get(c.id).last_seen_message, null, 'c has read nothing');
  });

  it('shows, changes and reports status of your own memberships only', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const mine = await membershipOf(t, a, room.id);
    const theirs = await membershipOf(t, b, room.id);
    assert.equal((await ok(call(t, a, 'GET', `/api/user_chats/${mine.id}/`))).id, mine.id);
    for (const [method, url] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['GET', 'status/']] as const) {
      const res = await call(t, a, method, `/api/user_chats/${theirs.id}/${url}`, method === 'PATCH' ? { is_read: true } : undefined);
      assert.equal(res.statusCode, 404, `${method} ${url}`);
    }
    assert.deepEqual(await ok(call(t, a, 'GET', `/api/user_chats/${mine.id}/status/`)), { status: 'offline' });
    const presence = t.ctx.presence;
    t.ctx.presence = { isOnline: (id) => id === b.id, onlineCount: () => 1 };
    try {
      assert.deepEqual(await ok(call(t, a, 'GET', `/api/user_chats/${mine.id}/status/`)), { status: 'online' });
      assert.deepEqual(await ok(call(t, b, 'GET', `/api/user_chats/${theirs.id}/status/`)), { status: 'offline' }, 'only other members count');
    } finally {
      t.ctx.presence = presence;
    }
  });
});
