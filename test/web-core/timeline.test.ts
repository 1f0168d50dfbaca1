// A long history scrolls as a bounded window: pages load as the reader goes up or down, the
// window never holds more than its limit, and walking it end to end yields every message once,
// in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Timeline, type Message } from '../../web/core/index.js';
import { coreServer, newClient, type CoreServer, type TestClient } from './core-helpers.js';

describe('web core: the history window', () => {
  let server: CoreServer;
  let ada: TestClient;
  let roomId: number;
  const TOTAL = 230;
  let ids: number[] = [];

  before(async () => {
    server = await coreServer();
    ada = await newClient(server);
    roomId = (await ada.chat.createGroup({ name: 'long', is_public: false, members: [] })).id;
    for (let i = 0; i < TOTAL; i++) {
      const m = await ada.chat.api.post<Message>('/api/messages/', { chat_room: roomId, content: `m${i}` });
      ids.push(m.id);
    }
  });
  after(async () => {
    ada.chat.close();
    await server.close();
  });

  test('opens at the newest page, then loads older pages up to the start without exceeding the window', async () => {
    const t = new Timeline(ada.chat.api, roomId, { pageSize: 20, maxWindow: 60 });
    await t.loadLatest();
    assert.deepEqual(t.messages.value.map((m) => m.id), ids.slice(-20));
    assert.equal(t.hasOlder.value, true);
    assert.equal(t.hasNewer.value, false);

    const seen: number[] = [...t.messages.value.map((m) => m.id)];
    let largest = 0;
    while (t.hasOlder.value) {
      const before = t.messages.value[0].id;
      const added = await t.loadOlder();
      assert.ok(added > 0);
      largest = Math.max(largest, t.messages.value.length);
      seen.unshift(...t.messages.value.filter((m) => m.id < before).map((m) => m.id));
    }
    assert.ok(largest <= 60, `the window held ${largest}`);
    assert.deepEqual(seen, ids, 'every message once, in order');
    assert.equal(t.messages.value[0].id, ids[0]);
    assert.equal(t.hasNewer.value, true, 'the newest were dropped from the window');

    // And back down to the present.
    const down: number[] = [...t.messages.value.map((m) => m.id)];
    while (t.hasNewer.value) {
      const last = t.messages.value[t.messages.value.length - 1].id;
      await t.loadNewer();
      assert.ok(t.messages.value.length <= 60);
      down.push(...t.messages.value.filter((m) => m.id > last).map((m) => m.id));
    }
    assert.deepEqual(down, ids);
    assert.equal(t.newest?.id, ids[ids.length - 1]);
  });

  test('opens around a read position, with the first unread message in the window', async () => {
    const t = new Timeline(ada.chat.api, roomId, { pageSize: 20, maxWindow: 60 });
    const readUpTo = ids[100];
    await t.loadAround(readUpTo);
    const got = t.messages.value.map((m) => m.id);
    assert.ok(got.includes(readUpTo) && got.includes(ids[101]), 'the read position and the first unread');
    assert.deepEqual(got, ids.slice(ids.indexOf(got[0]), ids.indexOf(got[0]) + got.length), 'contiguous');
    assert.equal(t.hasOlder.value, true);
    assert.equal(t.hasNewer.value, true);
  });

  test('new messages join a window at the present, and wait for one scrolled back', async () => {
    const live = new Timeline(ada.chat.api, roomId, { pageSize: 20, maxWindow: 60 });
    await live.loadLatest();
    const back = new Timeline(ada.chat.api, roomId, { pageSize: 20, maxWindow: 60 });
    await back.loadAround(ids[10]);
    const m = await ada.chat.api.post<Message>('/api/messages/', { chat_room: roomId, content: 'latest' });
    ids = [...ids, m.id];
    live.upsert(m);
    back.upsert(m);
    assert.equal(live.newest?.id, m.id);
    assert.equal(back.find(m.id), undefined);
    // An edit of a message in the window replaces it in place.
    const edited = await ada.chat.api.patch<Message>(`/api/messages/${ids[5]}/`, { content: 'changed' });
    back.upsert(edited);
    assert.equal(back.find(ids[5])?.content, 'changed');
  });
});
