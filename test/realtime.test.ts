import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, membershipOf, ok, privateRoom, send, users } from './chat-helpers.js';
import { sql } from 'kysely';
import { DIALECT, type TestApp, type TestUser } from './helpers.js';
import { connect, listen, refusedStatus, type Sock } from './ws-helpers.js';

const GENERAL = '/ws/general_updates/';
const STATUS = '/ws/user_status/';

describe('WebSocket gateway', () => {
  let t: TestApp;
  let base: string;
  const open: Sock[] = [];
  const sock = async (user: TestUser, path = GENERAL, query?: Record<string, string | number>) => {
    const s = await connect(base, path, { token: user.access, query });
    open.push(s);
    return s;
  };
  before(async () => {
    t = await chatApp({ WS_FRAMES_PER_SECOND: '5' });
    base = await listen(t);
  });
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  it('refuses the upgrade with 401 without valid auth', async () => {
    const [u] = await users(t, 1);
    assert.equal(await refusedStatus(base, GENERAL), 401);
    assert.equal(await refusedStatus(base, STATUS, { token: 'garbage' }), 401);
    assert.equal(await refusedStatus(base, GENERAL, { token: u.refresh }), 401);
    assert.equal(await refusedStatus(base, GENERAL, { query: { ticket: 'made-up' } }), 401);
  });

  it('accepts a single-use ticket from POST /api/auth/ws-ticket/', async () => {
    const [u] = await users(t, 1);
    const { ticket } = await ok(call(t, u, 'POST', '/api/auth/ws-ticket/'));
    assert.equal((await ok(call(t, null, 'POST', '/api/auth/ws-ticket/'), 401)).detail !== undefined, true);
    const s = await connect(base, GENERAL, { query: { ticket } });
    open.push(s);
    s.ws.send(JSON.stringify({ type: 'ping' }));
    assert.deepEqual(await s.next(), { type: 'pong' });
    assert.equal(await refusedStatus(base, GENERAL, { query: { ticket } }), 401, 'a ticket works once');
  });

  it('delivers new, edited and deleted messages of member rooms, with event-log ids', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const sb = await sock(b);
    const msg = await send(t, a, room.id, 'hello b');
    const created = await sb.next((e) => e.type === 'new_message');
    assert.equal(created.message.id, msg.id);
    assert.equal(created.message.content, 'hello b');
    assert.equal(created.chat_room, room.id);
    assert.ok(Number.isInteger(created.id) && created.id > 0);
    await ok(call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: 'hello again' }));
    const edited = await sb.next((e) => e.type === 'message_updated');
    assert.equal(edited.message.content, 'hello again');
    assert.equal(edited.message.is_edited, true);
    assert.ok(edited.id > created.id);
    await ok(call(t, a, 'DELETE', `/api/messages/${msg.id}/`), 204);
    const deleted = await sb.next((e) => e.type === 'message_deleted');
    assert.equal(deleted.message.id, msg.id);
    assert.ok(deleted.id > edited.id);
  });

  it('an outsider receives nothing of a room', async () => {
    const [a, b, outsider] = await users(t, 3);
    const room = await privateRoom(t, a, b);
    const own = await group(t, outsider);
    const so = await sock(outsider);
    await send(t, a, room.id, 'secret');
    await send(t, outsider, own.id, 'mine');
    const first = await so.next((e) => e.type === 'new_message');
    assert.equal(first.message.content, 'mine');
    assert.ok(!so.events.some((e) => JSON.stringify(e).includes('secret')));
  });

  it('follows rooms joined after connecting, and stops at leaving', async () => {
    const [owner, b] = await users(t, 2);
    const g = await group(t, owner);
    const other = await group(t, owner, [b]);
    const sb = await sock(b);
    await ok(call(t, b, 'POST', `/api/chat_rooms/${g.id}/join/`));
    const joined = await sb.next((e) => e.type === 'member_joined' && e.chat_room === g.id);
    assert.equal(joined.user, b.id);
    await send(t, owner, g.id, 'after join');
    assert.equal((await sb.next((e) => e.type === 'new_message')).message.content, 'after join');
    await ok(call(t, b, 'POST', `/api/chat_rooms/${g.id}/leave/`), 204);
    await sb.next((e) => e.type === 'member_left' && e.chat_room === g.id);
    await send(t, owner, g.id, 'after leave');
    await send(t, owner, other.id, 'marker');
    const next = await sb.next((e) => e.type === 'new_message');
    assert.equal(next.message.content, 'marker');
    assert.ok(!sb.events.some((e) => e.message?.content === 'after leave'));
  });

  it('relays typing to the other members only, and read positions', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const sa = await sock(a);
    const sb = await sock(b);
    sa.ws.send(JSON.stringify({ type: 'typing', chat_room: room.id }));
    const typing = await sb.next((e) => e.type === 'typing');
    assert.equal(typing.user, a.id);
    assert.equal(typing.chat_room, room.id);
    const msg = await send(t, a, room.id, 'read me');
    await sb.next((e) => e.type === 'new_message');
    sb.ws.send(JSON.stringify({ type: 'read', chat_room: room.id, message: msg.id }));
    const read = await sa.next((e) => e.type === 'read');
    assert.equal(read.user, b.id);
    assert.equal(read.message, msg.id);
    assert.ok(!sa.events.some((e) => e.type === 'typing'), 'no echo of your own typing');
    const membership = await membershipOf(t, b, room.id);
    assert.equal(membership.last_seen_message, msg.id);
    assert.equal(membership.unread_count, 0);
  });

  it('answers invalid frames with an error, typing in a foreign room with an error, and closes a flood', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await privateRoom(t, b, c);
    const s = await sock(a);
    s.ws.send('not json');
    assert.equal((await s.next()).type, 'error');
    s.ws.send(JSON.stringify({ type: 'shout' }));
    assert.match((await s.next()).detail, /Unknown frame type/);
    s.ws.send(JSON.stringify({ type: 'typing', chat_room: room.id }));
    assert.equal((await s.next()).type, 'error');
    for (let i = 0; i < 40; i++) s.ws.send(JSON.stringify({ type: 'ping' }));
    const closed = await s.closed;
    assert.equal(closed.code, 1008);
  });

  it('replays missed events with ?since=, then continues live without gaps or duplicates', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const first = await sock(b);
    await send(t, a, room.id, 'm0');
    const seen = await first.next((e) => e.type === 'new_message');
    await first.close();
    for (let i = 1; i <= 5; i++) await send(t, a, room.id, `m${i}`);
    // More messages are sent while the socket reconnects.
    const during = Promise.all([6, 7, 8].map((i) => send(t, a, room.id, `m${i}`)));
    const again = await sock(b, GENERAL, { since: seen.id });
    await during;
    await send(t, a, room.id, 'm9');
    const got: any[] = [];
    while (got.length < 9) got.push(await again.next((e) => e.type === 'new_message'));
    const contents = got.map((e) => e.message.content);
    assert.deepEqual(contents.slice(0, 5), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.deepEqual([...contents].sort(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    assert.equal(new Set(got.map((e) => e.id)).size, 9);
    const ids = got.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'in event-log order');
  });

  it('replays your own notifications with ?since=, and nobody else\'s', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await group(t, a, [b, c]);
    const sb = await sock(b);
    await send(t, a, room.id, 'n0');
    const seen = await sb.next((e) => e.type === 'new_message');
    await sb.close();
    const msg = await send(t, a, room.id, 'while b is away');
    const again = await sock(b, GENERAL, { since: seen.id });
    const note = await again.next((e) => e.type === 'notification' && e.notification.message === msg.id);
    assert.equal(note.notification.type, 'message');
    const cNotes = await ok(call(t, c, 'GET', '/api/notifications/'));
    const cIds = new Set(cNotes.results.map((n: { id: number }) => n.id));
    assert.ok(!again.events.some((e) => e.type === 'notification' && cIds.has(e.notification.id)), 'c\'s notifications are not replayed to b');
  });

  it('tells a device resuming with ?since= of the rooms it lost meanwhile, and nothing more of them', async () => {
    const [me, owner, stranger] = await users(t, 3);
    const left = await group(t, owner, [me, stranger], false);
    const deleted = await group(t, owner, [me], false);
    const kept = await group(t, owner, [me], false);
    const away = await sock(me);
    await send(t, owner, kept.id, 'before');
    const seen = await away.next((e) => e.type === 'new_message');
    await away.close();
    // While this device is away, another one leaves a group, and the owner deletes another.
    await ok(call(t, me, 'POST', `/api/chat_rooms/${left.id}/leave/`), 204);
    const after = await send(t, owner, left.id, 'after you left');
    await ok(call(t, owner, 'DELETE', `/api/chat_rooms/${deleted.id}/`), 204);
    await ok(call(t, stranger, 'POST', `/api/chat_rooms/${left.id}/leave/`), 204);
    const marker = await send(t, owner, kept.id, 'marker');
    const back = await sock(me, GENERAL, { since: seen.id });
    await back.next((e) => e.type === 'new_message' && e.message.id === marker.id);
    const lost = back.events.filter((e) => e.type === 'member_left' || e.type === 'room_deleted').map((e) => [e.type, e.chat_room, e.user ?? null]);
    assert.deepEqual(lost, [['member_left', left.id, me.id], ['room_deleted', deleted.id, null]], "its own departures only, not the stranger's");
    assert.ok(!back.events.some((e) => e.type === 'new_message' && e.message.id === after.id), 'nothing of the room after leaving');
    await back.close();
  });

  it('never replays the text an edit replaced', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'my password is hunter2');
    await ok(call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: 'oops, nothing to see' }));
    const s = await sock(b, GENERAL, { since: 0 });
    await s.next((e) => e.type === 'message_updated' && e.message.id === msg.id);
    assert.ok(!JSON.stringify(s.events).includes('hunter2'));
  });

  it('handles event ids beyond 32 bits (the log grows by a row per member per message)', async () => {
    const big = await chatApp();
    const bigBase = await listen(big);
    try {
      if (DIALECT === 'postgres') await sql`alter sequence events_id_seq restart with 3000000001`.execute(big.ctx.db);
      else await sql`insert or replace into sqlite_sequence (name, seq) values ('events', 3000000000)`.execute(big.ctx.db);
      const [a, b] = await users(big, 2);
      const room = await privateRoom(big, a, b);
      await send(big, a, room.id, 'first');
      // The first id is 3,000,000,001 on both engines.
      const s1 = await connect(bigBase, GENERAL, { token: b.access, query: { since: 3_000_000_000 } });
      const first = await s1.next((e) => e.type === 'new_message');
      assert.ok(first.id > 2 ** 31, String(first.id));
      await s1.close();
      await send(big, a, room.id, 'second');
      const s2 = await connect(bigBase, GENERAL, { token: b.access, query: { since: first.id } });
      assert.equal((await s2.next((e) => e.type === 'new_message')).message.content, 'second');
      await s2.close();
    } finally {
      await big.close();
    }
  });

  it('asks for a resync when too much was missed', async () => {
    const small = await chatApp({ WS_REPLAY_MAX_EVENTS: '3' });
    const smallBase = await listen(small);
    try {
      const [a, b] = await users(small, 2);
      const room = await privateRoom(small, a, b);
      for (let i = 0; i < 5; i++) await send(small, a, room.id, `x${i}`);
      const s = await connect(smallBase, GENERAL, { token: b.access, query: { since: 0 } });
      const first = await s.next();
      assert.equal(first.type, 'resync_required');
      await send(small, a, room.id, 'live');
      assert.equal((await s.next((e) => e.type === 'new_message')).message.content, 'live');
      await s.close();
    } finally {
      await small.close();
    }
  });

  it('asks for a resync when the missed events are past the retention window', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const old = await send(t, a, room.id, 'old');
    await send(t, a, room.id, 'newer');
    // What the retention prune does to events older than EVENT_RETENTION_HOURS.
    const { id: cutoff } = await t.ctx.db.selectFrom('events').select((eb) => eb.fn.max<number>('id').as('id')).where('message_id', '=', old.id).executeTakeFirstOrThrow();
    await t.ctx.db.deleteFrom('events').where('id', '<=', cutoff).execute();
    const s = await sock(b, GENERAL, { since: 0 });
    assert.equal(s.events[0].type, 'resync_required');
  });

  it('drops a peer that stops answering heartbeats, and its user goes offline', async () => {
    const quick = await chatApp({ WS_HEARTBEAT_MS: '100' });
    const quickBase = await listen(quick);
    try {
      const [a, b] = await users(quick, 2);
      await privateRoom(quick, a, b);
      const watcher = await connect(quickBase, STATUS, { token: b.access });
      const silent = await connect(quickBase, STATUS, { token: a.access });
      assert.equal((await watcher.next((e) => e.type === 'presence' && e.user === a.id)).status, 'online');
      // A frozen client: its socket stays open but nothing is read, so no pong is sent.
      (silent.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const offline = await watcher.next((e) => e.type === 'presence' && e.user === a.id);
      assert.equal(offline.status, 'offline');
      await watcher.close();
      silent.ws.terminate();
    } finally {
      await quick.close();
    }
  });

  it('closes the sockets of a session when it is revoked', async () => {
    const [a] = await users(t, 1);
    const s = await sock(a);
    const st = await sock(a, STATUS);
    await ok(call(t, a, 'POST', '/api/auth/logout/'), 204);
    assert.equal((await s.closed).code, 4401);
    assert.equal((await st.closed).code, 4401);
  });

  it('tracks presence over several sockets and tells room mates', async () => {
    const [a, b] = await users(t, 2);
    await privateRoom(t, a, b);
    const watcher = await sock(b, STATUS);
    const tab1 = await sock(a, STATUS);
    const online = await watcher.next((e) => e.type === 'presence' && e.user === a.id);
    assert.equal(online.status, 'online');
    assert.equal((await ok(call(t, b, 'GET', `/api/users/${a.id}/`))).status, 'online');
    const tab2 = await sock(a, STATUS);
    await tab1.close();
    assert.equal((await ok(call(t, b, 'GET', `/api/users/${a.id}/`))).status, 'online', 'still online in another tab');
    await tab2.close();
    const offline = await watcher.next((e) => e.type === 'presence' && e.user === a.id);
    assert.equal(offline.status, 'offline');
    assert.ok(offline.last_seen);
    const user = await ok(call(t, b, 'GET', `/api/users/${a.id}/`));
    assert.equal(user.status, 'offline');
    assert.equal(user.last_seen, offline.last_seen, JSON.stringify(watcher.events));
    assert.equal(watcher.events.filter((e) => e.type === 'presence' && e.user === a.id).length, 2, 'one online, one offline');
  });

  it('carries presence only on user_status, even with ?since=', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    await send(t, a, room.id, 'not for the status socket');
    const st = await sock(b, STATUS, { since: 0 });
    // `ready` comes after any replay: by now everything replayed has arrived.
    assert.deepEqual(st.events.filter((e) => e.type !== 'presence' && e.type !== 'ready'), []);
  });

  it('sends a presence snapshot of online room mates on connect', async () => {
    const [a, b] = await users(t, 2);
    await privateRoom(t, a, b);
    await sock(a, STATUS);
    const sb = await sock(b, STATUS);
    const snap = await sb.next((e) => e.type === 'presence' && e.user === a.id);
    assert.equal(snap.status, 'online');
  });

  it('tells both sides who is online when two online users come to share a room', async () => {
    const [a, b] = await users(t, 2);
    const sa = await sock(a, STATUS);
    const sb = await sock(b, STATUS);
    assert.equal(sb.events.filter((e) => e.type === 'presence' && e.user === a.id).length, 0, 'no shared room yet');
    await privateRoom(t, a, b);
    assert.equal((await sb.next((e) => e.type === 'presence' && e.user === a.id)).status, 'online');
    assert.equal((await sa.next((e) => e.type === 'presence' && e.user === b.id)).status, 'online');
  });

  it('disconnects a reader that stops reading instead of buffering without bound', async () => {
    const slow = await chatApp({ WS_MAX_BUFFERED_BYTES: '65536' });
    const slowBase = await listen(slow);
    try {
      const [a, b] = await users(slow, 2);
      const room = await privateRoom(slow, a, b);
      const s = await connect(slowBase, GENERAL, { token: b.access });
      (s.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const big = 'x'.repeat(60_000);
      // Send until the server has let go of the socket (it cannot tell us: we are not reading).
      const gateway = (slow.app as unknown as { gateway: { hub: { clients: Set<{ ws: { readyState: number } }> } } }).gateway;
      const stillOpen = () => [...gateway.hub.clients].some((c) => c.ws.readyState === 1);
      let sent = 0;
      while (stillOpen() && sent < 1000) {
        await send(slow, a, room.id, big);
        sent++;
      }
      (s.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      assert.equal(stillOpen(), false, `still open after ${sent} messages of 60 kB`);
      assert.equal((await s.closed).code, 4008);
    } finally {
      await slow.close();
    }
  });
});
