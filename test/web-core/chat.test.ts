// The SDK end to end against a real server: conversations and unread counts follow live
// events, reads move both sides, offline sends go out once, a cut socket resumes with no gap
// and no duplicate.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayName } from '../../web/core/index.js';
import { PASSWORD } from '../helpers.js';
import { onlineClients, until } from './core-helpers.js';

describe('web core: chatting through the SDK', () => {
  const { client, fresh } = onlineClients();

  test('a group created by one user appears for the other, with live messages and unread counts', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'launch', is_public: false, members: [bob.user.id] });
    const conv = await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'the group in bob’s list');
    assert.equal(displayName(conv!), 'launch');

    ada.chat.send(room.id, 'first');
    ada.chat.send(room.id, 'second');
    const bobs = await until(() => bob.chat.store.conversations.value.get(room.id), (c) => c?.unread_count === 2, 'two unread for bob');
    assert.equal(bobs!.last_message?.content, 'second');
    assert.equal(bob.chat.store.unreadTotal.value, 2);
    assert.equal(bob.chat.store.conversationList.value[0].chat_room, room.id, 'most recent activity first');
    // Ada's own messages count as read for her.
    assert.equal(ada.chat.store.conversations.value.get(room.id)?.unread_count, 0);

    // Bob opens it and reads to the newest message; Ada sees his read position move.
    await bob.chat.openRoom(room.id);
    await ada.chat.openRoom(room.id);
    const newest = bob.chat.store.timeline(room.id).newest!;
    assert.deepEqual(bob.chat.store.timeline(room.id).messages.value.map((m) => m.content), ['first', 'second']);
    bob.chat.markRead(room.id, newest.id);
    assert.equal(bob.chat.store.conversations.value.get(room.id)?.unread_count, 0);
    await until(() => ada.chat.store.membersOf(room.id).value?.find((m) => m.user === bob.user.id)?.last_seen_message, (id) => id === newest.id, 'bob’s read position at ada');
  });

  test('typing is shown to the others and ends with the message', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'typing', is_public: false, members: [bob.user.id] });
    await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'room at bob');
    ada.chat.typing(room.id);
    await until(() => (bob.chat.store.typing.value, bob.chat.store.typers(room.id)), (t) => t.includes(ada.user.id), 'ada typing at bob');
    ada.chat.send(room.id, 'done typing');
    await until(() => (bob.chat.store.typing.value, bob.chat.store.typers(room.id)), (t) => t.length === 0, 'typing over');
  });

  test('a send whose answer is lost, and sends made offline, reach the room exactly once each, in order', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'offline', is_public: false, members: [bob.user.id] });
    await bob.chat.openRoom(room.id);

    // The server stores it, the answer never arrives: the outbox keeps it until its message shows
    // up on the socket (or a retry, which the server answers with the same message).
    ada.net.loseAnswers = 1;
    ada.chat.send(room.id, 'answer lost');
    const outbox = ada.chat.outbox.value!;
    await until(() => outbox.items.value.length, (n) => n === 0, 'settled');

    ada.net.cut();
    await until(() => ada.chat.connection.value, (s) => s !== 'online', 'ada offline');
    ada.chat.send(room.id, 'offline one');
    ada.chat.send(room.id, 'offline two');
    await until(() => outbox.items.value, (items) => items.length === 2 && items.every((i) => i.state === 'pending'), 'both pending');

    ada.net.restore();
    ada.chat.socket.reconnectNow();
    await until(() => outbox.items.value, (items) => items.length === 0, 'outbox empty');
    const got = await until(
      () => bob.chat.store.timeline(room.id).messages.value.map((m) => m.content),
      (c) => c.length >= 3,
      'three messages at bob',
    );
    assert.deepEqual(got, ['answer lost', 'offline one', 'offline two']);
    const history = await bob.chat.api.get<{ results: unknown[] }>('/api/messages/', { chat_room: room.id });
    assert.equal(history.results.length, 3, 'stored once each');
  });

  test('a refused send is kept as failed with the reason, and can be discarded', async () => {
    const ada = await client();
    const room = await ada.chat.createGroup({ name: 'refused', is_public: true, members: [] });
    ada.chat.send(room.id, 'x'.repeat(70_000));
    const outbox = ada.chat.outbox.value!;
    const [item] = await until(() => outbox.items.value, (items) => items[0]?.state === 'failed', 'failed');
    assert.match(item.error!, /large|long|bytes/i);
    outbox.discard(item.client_id);
    assert.equal(outbox.items.value.length, 0);
  });

  test('a refused send can be retried once the reason is gone, and is then stored once', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'retry', is_public: true, members: [bob.user.id] });
    await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'room at bob');
    await bob.chat.leave(room.id);
    // Written in the conversation just left (as from a tab that had not noticed yet): refused.
    bob.chat.send(room.id, 'after leaving');
    const outbox = bob.chat.outbox.value!;
    const [item] = await until(() => outbox.items.value, (items) => items[0]?.state === 'failed', 'failed');
    await bob.chat.join(room.id);
    outbox.retry(item.client_id);
    await until(() => outbox.items.value.length, (n) => n === 0, 'sent');
    const history = await ada.chat.api.get<{ results: Array<{ content: string }> }>('/api/messages/', { chat_room: room.id });
    assert.deepEqual(history.results.map((m) => m.content), ['after leaving']);
  });

  test('a socket cut mid-conversation resumes with every missed event once, in order', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'resume', is_public: false, members: [bob.user.id] });
    await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'room at bob');
    await bob.chat.openRoom(room.id);
    ada.chat.send(room.id, 'before');
    await until(() => bob.chat.store.timeline(room.id).messages.value.length, (n) => n === 1, 'first message at bob');

    bob.net.cut();
    await until(() => bob.chat.connection.value, (s) => s !== 'online', 'bob offline');
    for (let i = 0; i < 5; i++) ada.chat.send(room.id, `missed ${i}`);
    await until(() => ada.chat.outbox.value!.items.value.length, (n) => n === 0, 'ada sent all');
    assert.equal(bob.chat.store.timeline(room.id).messages.value.length, 1, 'nothing arrives while cut');

    bob.net.restore();
    bob.chat.socket.reconnectNow();
    const contents = await until(() => bob.chat.store.timeline(room.id).messages.value.map((m) => m.content), (c) => c.length >= 6, 'missed messages');
    assert.deepEqual(contents, ['before', 'missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4']);
    assert.equal(bob.chat.store.conversations.value.get(room.id)?.unread_count, 6, 'each counted once');
  });

  test('reactions, edits and deletes reach the other side', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'changes', is_public: false, members: [bob.user.id] });
    await Promise.all([ada.chat.openRoom(room.id), bob.chat.openRoom(room.id)]);
    ada.chat.send(room.id, 'original');
    const [m] = await until(() => bob.chat.store.timeline(room.id).messages.value, (l) => l.length === 1, 'message at bob');

    await bob.chat.react(m, 'like');
    await until(() => ada.chat.store.timeline(room.id).find(m.id)?.reactions, (r) => r?.length === 1 && r[0].reaction_type === 'like', 'like at ada');
    await bob.chat.react(bob.chat.store.timeline(room.id).find(m.id)!, 'love');
    await until(() => ada.chat.store.timeline(room.id).find(m.id)?.reactions, (r) => r?.length === 1 && r[0].reaction_type === 'love', 'changed to love');
    await bob.chat.react(bob.chat.store.timeline(room.id).find(m.id)!, 'love');
    await until(() => ada.chat.store.timeline(room.id).find(m.id)?.reactions, (r) => r?.length === 0, 'taken back');

    await ada.chat.edit(m.id, 'edited');
    await until(() => bob.chat.store.timeline(room.id).find(m.id), (x) => x?.content === 'edited' && x.is_edited, 'edit at bob');
    await ada.chat.deleteMessage(ada.chat.store.timeline(room.id).find(m.id)!);
    await until(() => bob.chat.store.timeline(room.id).find(m.id), (x) => x?.is_deleted === true && x.content === '', 'delete at bob');
  });

  test('leaving a group drops it from the list; the others see the member go', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'leaving', is_public: true, members: [bob.user.id] });
    await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'room at bob');
    await ada.chat.loadMembers(room.id);
    await bob.chat.leave(room.id);
    assert.equal(bob.chat.store.conversations.value.has(room.id), false);
    await until(() => ada.chat.store.membersOf(room.id).value?.map((m) => m.user), (ids) => !!ids && !ids.includes(bob.user.id), 'bob gone at ada');
    // And a public group can be found and joined again.
    const page = await bob.chat.publicGroups();
    assert.ok(page.results.some((r) => r.id === room.id));
    await bob.chat.join(room.id);
    assert.equal(bob.chat.store.conversations.value.has(room.id), true);
  });

  test('a direct message is one conversation per pair, named after the other person', async () => {
    const ada = await client();
    const bob = await client();
    const found = await ada.chat.searchUsers(bob.user.username);
    assert.equal(found[0]?.id, bob.user.id);
    const first = await ada.chat.startDirect(bob.user.id);
    const again = await ada.chat.startDirect(bob.user.id);
    assert.equal(first.id, again.id);
    assert.equal(displayName(ada.chat.store.conversations.value.get(first.id)!), bob.user.username);
    ada.chat.send(first.id, 'hi bob');
    const conv = await until(() => bob.chat.store.conversations.value.get(first.id), (c) => c?.unread_count === 1, 'dm at bob');
    assert.equal(displayName(conv!), ada.user.username);
  });

  test('notifications arrive live and can be marked read', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'notes', is_public: false, members: [bob.user.id] });
    const start = bob.chat.store.unreadNotifications.value;
    ada.chat.send(room.id, 'ping');
    await until(() => bob.chat.store.unreadNotifications.value, (n) => n > start, 'a notification');
    assert.ok(bob.chat.store.notifications.value[0].body.length > 0);
    await bob.chat.markAllNotificationsRead();
    assert.equal(bob.chat.store.unreadNotifications.value, 0);
    await bob.chat.loadNotifications();
    assert.equal(bob.chat.store.unreadNotifications.value, 0, 'the server agrees');
  });

  test('drafts are kept per conversation', async () => {
    const ada = await client();
    ada.chat.setDraft(1, 'half a thought');
    ada.chat.setDraft(2, 'another');
    assert.equal(ada.chat.draft(1), 'half a thought');
    ada.chat.setDraft(1, '');
    assert.equal(ada.chat.draft(1), '');
    assert.equal(ada.chat.draft(2), 'another');
  });

  test('logging out removes the drafts and unsent messages kept on the device', async () => {
    const storage = new Map<string, string>();
    const like = (m: Map<string, string>) => ({ getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) });
    const tab = new Map<string, string>();
    const ada = await fresh({ storage: like(storage), tabStorage: like(tab) });
    const room = await ada.chat.createGroup({ name: 'private thoughts', is_public: false, members: [] });
    ada.chat.setDraft(room.id, 'not for the next user of this browser');
    ada.net.cut();
    ada.chat.send(room.id, 'unsent');
    assert.ok([...storage.keys()].some((k) => k.includes(':draft:')));
    assert.ok([...tab.keys()].some((k) => k.includes(':outbox:')), 'the unsent message is kept for the tab');
    ada.net.restore();
    await ada.chat.logout();
    assert.deepEqual([...storage.keys()].filter((k) => k.includes(':draft')), []);
    assert.deepEqual([...tab.keys()].filter((k) => k.includes(':outbox:')), []);
    assert.equal(ada.chat.outbox.value, null);
  });
});

describe('web core: what the review found (no lost or stale state)', () => {
  const { client, fresh } = onlineClients();

  test('logging out and in again does not show the history as it was before', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'again', is_public: false, members: [bob.user.id] });
    bob.chat.send(room.id, 'one');
    await until(() => ada.chat.store.conversations.value.get(room.id)?.last_message?.content, (c) => c === 'one', 'one at ada');
    await ada.chat.openRoom(room.id);
    await ada.chat.logout();
    bob.chat.send(room.id, 'two while ada was away');
    await until(() => bob.chat.outbox.value!.items.value.length, (n) => n === 0, 'sent');
    await ada.chat.login(ada.user.email, PASSWORD);
    await ada.chat.openRoom(room.id);
    assert.deepEqual(ada.chat.store.timeline(room.id).messages.value.map((m) => m.content), ['one', 'two while ada was away']);
  });

  test('names forgotten at log-out are loaded again after logging back in', async () => {
    const ada = await client();
    const carol = await fresh();
    const ask = () => (ada.chat.store.usernames.value, ada.chat.username(carol.user.id));
    await until(ask, (name) => name === carol.user.username, 'carol’s name');
    await ada.chat.logout();
    await ada.chat.login(ada.user.email, PASSWORD);
    await until(ask, (name) => name === carol.user.username, 'carol’s name again');
  });

  test('a message sent while the history is loading is not lost', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'racing', is_public: false, members: [bob.user.id] });
    await until(() => ada.chat.store.conversations.value.get(room.id), Boolean, 'room at ada');
    const slow = ada.net.hold((m, p) => m === 'GET' && p === '/api/messages/', { answer: true });
    const opening = ada.chat.openRoom(room.id);
    await slow.reached;
    // The message's event reaches ada's socket while her history is still loading.
    const arrived = ada.net.nextFrame((e) => e.type === 'new_message' && e.message.content === 'racing');
    bob.chat.send(room.id, 'racing');
    await arrived;
    slow.release();
    await opening;
    assert.deepEqual(ada.chat.store.timeline(room.id).messages.value.map((m) => m.content), ['racing']);
  });

  test('a message committed while the first socket connects is in the list once it is live', async () => {
    const ada = await client();
    const bob = await fresh();
    // Bob logs in again with a slow first ticket: the list is loaded, the socket not yet listening.
    bob.chat.close();
    const again = await fresh();
    const room = await ada.chat.createGroup({ name: 'gap', is_public: false, members: [again.user.id] });
    await until(() => again.chat.store.conversations.value.get(room.id), Boolean, 'room');
    await again.chat.logout();
    const slow = again.net.hold((m, p) => m === 'POST' && p === '/api/auth/ws-ticket/');
    await again.chat.login(again.user.email, PASSWORD);
    await slow.reached;
    ada.chat.send(room.id, 'in the gap');
    await until(() => ada.chat.outbox.value!.items.value.length, (n) => n === 0, 'sent');
    slow.release();
    const conv = await until(() => again.chat.store.conversations.value.get(room.id), (c) => c?.unread_count === 1, 'the gap message counted');
    assert.equal(conv!.last_message?.content, 'in the gap');
  });

  test('a send whose answer is lost leaves no pending copy once its message arrives on the socket', async () => {
    const ada = await client();
    const room = await ada.chat.createGroup({ name: 'once', is_public: false, members: [] });
    await ada.chat.openRoom(room.id);
    ada.net.loseAnswers = 1;
    ada.chat.send(room.id, 'only once');
    await until(() => ada.chat.outbox.value!.items.value.length, (n) => n === 0, 'the outbox empties without a reconnect');
    await until(() => ada.chat.store.timeline(room.id).messages.value.map((m) => m.content), (c) => c.length === 1 && c[0] === 'only once', 'shown once');
  });

  test('a conversation list that fails to load at log-in loads when the socket is live', async () => {
    const ada = await client();
    await ada.chat.createGroup({ name: 'later', is_public: false, members: [] });
    await ada.chat.logout();
    ada.net.failOnce((m, p) => m === 'GET' && p === '/api/user_chats/');
    await ada.chat.login(ada.user.email, PASSWORD);
    await until(() => ada.chat.store.conversationList.value.map((c) => c.room_name), (names) => names.includes('later'), 'the list');
    assert.equal(ada.chat.store.conversationsLoaded.value, true);
  });

  test('deleting an unread message takes it off the unread count', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'oops', is_public: false, members: [bob.user.id] });
    ada.chat.send(room.id, 'wrong room, sorry');
    await until(() => bob.chat.store.conversations.value.get(room.id)?.unread_count, (n) => n === 1, 'unread at bob');
    await ada.chat.openRoom(room.id);
    await ada.chat.deleteMessage(ada.chat.store.timeline(room.id).newest!);
    await until(() => bob.chat.store.conversations.value.get(room.id)?.unread_count, (n) => n === 0, 'no longer unread');
  });
});
