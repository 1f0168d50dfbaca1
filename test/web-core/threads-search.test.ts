// Mentions, threads, pins and search through the SDK against a real server: a thread's replies
// reach the other client's thread and never its room's list, the root's summary follows, pins
// follow their events, and search results split into text and marks without any HTML parsing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { highlightPieces, mentionAt, mentionPieces, unescapeHtml } from '../../web/core/index.js';
import { onlineClients, until } from './core-helpers.js';

describe('web core: text pieces', () => {
  test('a highlight splits into text and marks, unescaping the text only', () => {
    assert.deepEqual(highlightPieces('…see &lt;b&gt;<mark>deploy</mark>&lt;/b&gt; &amp; <mark>ship</mark>'), [
      { text: '…see <b>' },
      { text: 'deploy', mark: true },
      { text: '</b> & ' },
      { text: 'ship', mark: true },
    ]);
    assert.deepEqual(highlightPieces('no match'), [{ text: 'no match' }]);
    assert.equal(unescapeHtml('&quot;a&#39;b&#x27;c&#60;&nbsp;'), `"a'b'c<&nbsp;`);
  });

  test('mentions: the @usernames of mentioned members, not emails or others', () => {
    const names = new Map([['bob', 2], ['ada.l', 1]]);
    assert.deepEqual(mentionPieces('hi @Bob, and @ada.l. mail bob@x.org or @carol', names), [
      { text: 'hi ' },
      { text: '@Bob', user: 2 },
      { text: ', and ' },
      { text: '@ada.l', user: 1 },
      { text: '. mail bob@x.org or @carol' },
    ]);
    assert.deepEqual(mentionPieces('@bob', new Map()), [{ text: '@bob' }]);
    assert.deepEqual(mentionAt('hello @bo', 9), { start: 6, query: 'bo' });
    assert.deepEqual(mentionAt('@', 1), { start: 0, query: '' });
    assert.equal(mentionAt('mail bob@x', 10), null);
    assert.equal(mentionAt('@bob done', 9), null);
  });
});

describe('web core: threads, pins and search through the SDK', () => {
  const { client } = onlineClients();

  test('a thread reply reaches the thread, not the room’s list; the root’s summary follows; mentions are sent', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'threads', is_public: false, members: [bob.user.id] });
    await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'the group at bob');
    await Promise.all([ada.chat.openRoom(room.id), bob.chat.openRoom(room.id)]);

    ada.chat.send(room.id, 'release plan', null, { mentions: [bob.user.id] });
    const root = (await until(() => bob.chat.store.timeline(room.id).messages.value.find((m) => m.content === 'release plan'), Boolean, 'the root at bob'))!;
    assert.deepEqual(root.mentions, [bob.user.id]);
    const thread = await bob.chat.openThread(root);
    assert.equal(thread.messages.value.length, 0);

    ada.chat.send(room.id, 'step one', null, { thread: root.id });
    await until(() => thread.messages.value.map((m) => m.content), (c) => c.join() === 'step one', 'the reply in bob’s thread');
    await until(() => bob.chat.store.timeline(room.id).find(root.id)?.thread_summary?.reply_count, (n) => n === 1, 'the summary in bob’s room');
    await until(() => thread.root.value?.thread_summary?.reply_count, (n) => n === 1, 'the summary on bob’s thread root');
    await until(() => ada.chat.outbox.value!.items.value.length, (n) => n === 0, 'ada’s outbox empty');
    for (const c of [ada, bob]) assert.equal(c.chat.store.timeline(room.id).messages.value.some((m) => m.content === 'step one'), false, 'the reply is not in the room’s list');

    // A reply's edit changes it in the thread only.
    const reply = thread.messages.value[0];
    const adaThread = await ada.chat.openThread(root);
    assert.deepEqual(adaThread.messages.value.map((m) => m.id), [reply.id]);
    await ada.chat.edit(reply.id, 'step one (edited)');
    await until(() => thread.find(reply.id)?.content, (c) => c === 'step one (edited)', 'the edit in bob’s thread');
    assert.equal(bob.chat.store.timeline(room.id).find(reply.id), undefined);
  });

  test('pins: the owner pins, every loaded pin list follows; a member of a group may not', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'pins', is_public: false, members: [bob.user.id] });
    await until(() => bob.chat.store.conversations.value.get(room.id), Boolean, 'the group at bob');
    await Promise.all([ada.chat.openRoom(room.id), bob.chat.openRoom(room.id)]);
    assert.equal(ada.chat.canPin(room.id), true);
    assert.equal(bob.chat.canPin(room.id), false);
    assert.deepEqual(await bob.chat.loadPins(room.id), []);

    ada.chat.send(room.id, 'the agenda');
    const m = (await until(() => ada.chat.store.timeline(room.id).messages.value.find((x) => x.content === 'the agenda' && x.id > 0), Boolean, 'the message'))!;
    await ada.chat.setPinned(m, true);
    await until(() => bob.chat.store.pinsOf(room.id).value?.map((x) => x.id), (ids) => ids?.join() === String(m.id), 'the pin at bob');
    await until(() => bob.chat.store.timeline(room.id).find(m.id)?.pinned_by, (by) => by === ada.user.id, 'pinned_by at bob');
    await assert.rejects(bob.chat.setPinned(m, false), (err: { status?: number }) => err.status === 403);
    await ada.chat.setPinned(m, false);
    await until(() => bob.chat.store.pinsOf(room.id).value, (p) => p?.length === 0, 'the unpin at bob');
  });

  test('search finds by prefix in your rooms, with the highlight', async () => {
    const ada = await client();
    const bob = await client();
    const room = await ada.chat.createGroup({ name: 'search', is_public: false, members: [bob.user.id] });
    ada.chat.send(room.id, 'the deployment is done');
    await until(() => ada.chat.outbox.value!.items.value.length, (n) => n === 0, 'sent');
    const page = await bob.chat.search('deploy');
    assert.equal(page.count, 1);
    assert.equal(page.results[0].message.chat_room, room.id);
    assert.deepEqual(highlightPieces(page.results[0].highlight).filter((p) => p.mark).map((p) => p.text), ['deployment']);
    const none = await bob.chat.search('deploy', { chatRoom: room.id, sender: bob.user.id });
    assert.equal(none.count, 0);
  });
});
