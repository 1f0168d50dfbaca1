// Threads on top-level messages, pins and mentions: the REST shapes, who may do what, and the
// events a room's sockets see.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, createRoom, group, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';
import type { TestApp, TestUser } from './helpers.js';

describe('threads', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const history = (u: TestUser, query: string) => call(t, u, 'GET', `/api/messages/?${query}`);

  it('replies in the thread of a top-level message; the root carries its summary, live', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await group(t, a, [b, c], false);
    const root = await send(t, a, room.id, 'deploy at five?');
    const watcher = await socketOf(t, c);
    const r1 = await send(t, b, room.id, 'yes', { thread: root.id });
    assert.equal(r1.thread, root.id);
    const live = await watcher.next((e) => e.type === 'new_message' && e.message.id === r1.id);
    assert.equal(live.message.thread, root.id);
    const summary = await watcher.next((e) => e.type === 'message_updated' && e.message.id === root.id);
    assert.deepEqual(summary.message.thread_summary, { reply_count: 1, last_reply_at: r1.created_at, participants: [b.id] });
    const r2 = await send(t, c, room.id, 'fine by me', { thread: root.id });
    await send(t, b, room.id, 'and again', { thread: root.id });
    await watcher.close();

    const fetched = await ok(call(t, c, 'GET', `/api/messages/${root.id}/`));
    assert.equal(fetched.thread_summary.reply_count, 3);
    assert.deepEqual(fetched.thread_summary.participants, [b.id, c.id]);
    const top = await send(t, c, room.id, 'unrelated');
    // The room's history holds top-level messages only, newest first.
    assert.deepEqual((await ok(history(a, `chat_room=${room.id}`))).results.map((m: any) => m.id), [top.id, root.id]);
    // The thread: replies oldest first, with the same cursors.
    const thread = await ok(history(a, `thread=${root.id}`));
    assert.deepEqual(thread.results.map((m: any) => m.content), ['yes', 'fine by me', 'and again']);
    const page = await ok(history(a, `thread=${root.id}&limit=2`));
    assert.deepEqual(page.results.map((m: any) => m.content), ['yes', 'fine by me']);
    assert.ok(page.previous, 'a link to the newer replies');
    const rest = await ok(history(a, `thread=${root.id}&after=${r2.id}`));
    assert.deepEqual(rest.results.map((m: any) => m.content), ['and again']);
    assert.equal(rest.previous, null);
  });

  it('keeps the first ten repliers of a thread, each once, and counts every reply', async () => {
    const [owner, ...others] = await users(t, 12);
    const room = await group(t, owner, others, false);
    const root = await send(t, owner, room.id, 'who is in?');
    for (const u of [...others, others[0], others[10]]) await send(t, u, room.id, 'me', { thread: root.id });
    const summary = (await ok(call(t, owner, 'GET', `/api/messages/${root.id}/`))).thread_summary;
    assert.equal(summary.reply_count, 13);
    assert.deepEqual(summary.participants, others.slice(0, 10).map((u) => u.id));
  });

  it('refuses threads on replies, on other rooms, and for people outside the room', async () => {
    const [a, b, outsider] = await users(t, 3);
    const room = await group(t, a, [b], false);
    const other = await group(t, a, [], false);
    const root = await send(t, a, room.id, 'root');
    const reply = await send(t, b, room.id, 'reply', { thread: root.id });
    const elsewhere = await send(t, a, other.id, 'elsewhere');
    assert.ok((await send(t, a, room.id, 'nested', { thread: reply.id }, 400)).thread, 'a thread on a reply');
    assert.ok((await send(t, a, room.id, 'cross', { thread: elsewhere.id }, 400)).thread, "another room's message");
    assert.equal((await history(a, `thread=${reply.id}`)).statusCode, 400, 'a reply has no thread');
    assert.equal((await history(outsider, `thread=${root.id}`)).statusCode, 404, 'a room you cannot see');
    assert.equal((await history(a, `chat_room=${room.id}&thread=${root.id}`)).statusCode, 400, 'not both');
    assert.equal((await history(a, '')).statusCode, 400, 'neither');
    // 0, false and "" are not null: no silent top-level message.
    for (const bad of [0, false, '']) assert.ok((await send(t, a, room.id, 'x', { thread: bad, reply_to: bad }, 400)).thread);
    assert.equal((await send(t, a, room.id, 'top', { thread: null, reply_to: null })).thread, null);
    // A former member reads the thread no more.
    await ok(call(t, b, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    assert.equal((await history(b, `thread=${root.id}`)).statusCode, 404);
  });
});

describe('pins', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const pin = (u: TestUser, id: number) => call(t, u, 'POST', `/api/messages/${id}/pin/`);
  const unpin = (u: TestUser, id: number) => call(t, u, 'DELETE', `/api/messages/${id}/pin/`);
  const pins = (u: TestUser, room: number) => call(t, u, 'GET', `/api/chat_rooms/${room}/pins/`);

  it('lets the owner and admins of a group pin, lists pins newest first, and tells the room', async () => {
    const [owner, admin, member, outsider] = await users(t, 4);
    const room = await group(t, owner, [admin, member], false);
    await ok(call(t, owner, 'PATCH', `/api/chat_rooms/${room.id}/members/${admin.id}/`, { role: 'admin' }));
    const first = await send(t, member, room.id, 'rules');
    const second = await send(t, member, room.id, 'schedule');
    const watcher = await socketOf(t, member);
    assert.equal((await pin(member, first.id)).statusCode, 403, 'a member of a group');
    assert.equal((await pin(outsider, first.id)).statusCode, 404, 'outside the room');
    const pinned = await ok(pin(admin, first.id));
    assert.deepEqual([pinned.pinned_by, typeof pinned.pinned_at], [admin.id, 'string']);
    const event = await watcher.next((e) => e.type === 'message_pinned');
    assert.deepEqual([event.message.id, event.message.pinned_by], [first.id, admin.id]);
    await ok(pin(owner, second.id));
    assert.equal((await ok(pin(owner, second.id))).pinned_by, owner.id, 'pinning again changes nothing');
    assert.deepEqual((await ok(pins(member, room.id))).map((m: any) => m.id), [second.id, first.id]);
    assert.equal((await pins(outsider, room.id)).statusCode, 404);

    const unpinned = await ok(unpin(owner, first.id));
    assert.equal(unpinned.pinned_at, null);
    await watcher.next((e) => e.type === 'message_unpinned' && e.message.id === first.id);
    await watcher.close();
    // Deleting a pinned message unpins it; a deleted message cannot be pinned.
    await ok(call(t, member, 'DELETE', `/api/messages/${second.id}/`), 204);
    assert.deepEqual(await ok(pins(member, room.id)), []);
    assert.equal((await pin(owner, second.id)).statusCode, 400);
    // A former member sees the pins no more, nor pins.
    await ok(call(t, admin, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    assert.equal((await pins(admin, room.id)).statusCode, 404);
    assert.equal((await pin(admin, first.id)).statusCode, 404);
  });

  it('lets either person of a private conversation pin', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'address');
    assert.equal((await ok(pin(b, msg.id))).pinned_by, b.id);
  });
});

describe('mentions', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const notes = async (u: TestUser) => (await ok(call(t, u, 'GET', '/api/notifications/'))).results;

  it('mentions members by id and by @username, even in a muted room; non-members are ignored', async () => {
    const [a, b, c, d, outsider] = await users(t, 5);
    const room = await group(t, a, [b, c, d], false);
    const muted = (await ok(call(t, c, 'GET', '/api/user_chats/'))).find((m: any) => m.chat_room === room.id);
    await ok(call(t, c, 'PATCH', `/api/user_chats/${muted.id}/`, { is_muted: true }));
    const msg = await send(t, a, room.id, `hi @${c.username.toUpperCase()}, and @${outsider.username}.`, { mentions: [b.id, outsider.id, 999_999] });
    assert.deepEqual(msg.mentions, [b.id, c.id].sort((x, y) => x - y));
    const forB = (await notes(b)).filter((n: any) => n.message === msg.id);
    assert.deepEqual(forB.map((n: any) => n.type), ['mention'], 'a mention instead of a message notification');
    assert.match(forB[0].body, /mentioned you/);
    assert.deepEqual((await notes(c)).filter((n: any) => n.message === msg.id).map((n: any) => n.type), ['mention'], 'muted, still told');
    assert.deepEqual((await notes(d)).filter((n: any) => n.message === msg.id).map((n: any) => n.type), ['message']);
    assert.deepEqual((await notes(outsider)).filter((n: any) => n.message === msg.id), []);
  });

  it('takes a sentence-final period and e-mail-like text for what they are', async () => {
    const [a, b] = await users(t, 2);
    const room = await group(t, a, [b], false);
    assert.deepEqual((await send(t, a, room.id, `thanks @${b.username}.`)).mentions, [b.id]);
    assert.deepEqual((await send(t, a, room.id, `mail x@${b.username} please`)).mentions, [], 'not a mention inside a word');
    assert.deepEqual((await send(t, a, room.id, `me: @${a.username}`)).mentions, [a.id], 'yourself: listed, not notified');
    assert.equal((await send(t, a, room.id, 'x', { mentions: Array.from({ length: 101 }, (_, i) => i + 1) }, 400)).mentions !== undefined, true);
  });

  it('reads no @name in an encrypted room (its content is ciphertext); mentions by id still count', async () => {
    const [a, b, c] = await users(t, 3);
    const room = await createRoom(t, a, { room_type: 'group', name: 'sealed', is_public: false, members: [b.id, c.id], is_encrypted: true });
    const msg = await send(t, a, room.id, `e2ee:1:@${b.username}`, { mentions: [c.id] });
    assert.deepEqual(msg.mentions, [c.id]);
    assert.deepEqual((await notes(b)).filter((n: any) => n.message === msg.id).map((n: any) => n.type), ['message']);
    assert.deepEqual((await notes(c)).filter((n: any) => n.message === msg.id).map((n: any) => n.type), ['mention']);
  });
});
