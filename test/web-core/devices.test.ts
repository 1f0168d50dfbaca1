// A user's own E2EE devices through the SDK: listing them (this one marked, fingerprints that agree
// across devices), removing another one, the notices a room's members get when devices come and go,
// and what a client does when the server removes its device: a new device replaces it (the room
// keys it held are kept), it reads new messages again, and its socket never goes back to the
// removed id (a 4410 close, the room event, or finding out at start).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatClient } from '../../web/core/index.js';
import { MemoryStore } from '../../web/core/e2ee/index.js';
import { PASSWORD } from '../helpers.js';
import { Network, coreServer, newClient, until, type CoreServer, type TestClient } from './core-helpers.js';

describe('web core: your devices, and a removed device replaced', () => {
  let server: CoreServer;
  const clients: ChatClient[] = [];
  /** One key store per (user, "browser"). */
  const browsers = new Map<string, MemoryStore>();
  const storeOf = (browser: string) => async () => browsers.get(browser) ?? browsers.set(browser, new MemoryStore()).get(browser)!;
  before(async () => {
    server = await coreServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  const ready = async (chat: ChatClient) => {
    await until(() => chat.encryption.status.value, (s) => s === 'ready', 'encryption ready');
    await until(() => chat.connection.value, (s) => s === 'online', 'socket online');
  };
  const person = async (browser: string): Promise<TestClient> => {
    const c = await newClient(server, { keyStore: storeOf(browser) });
    clients.push(c.chat);
    await ready(c.chat);
    return c;
  };
  /** The same account in another "browser" (its own key store). */
  const another = async (of: TestClient, browser: string): Promise<TestClient> => {
    const net = new Network();
    const chat = new ChatClient({ baseUrl: server.base, mode: 'token', fetch: net.fetch, WebSocket: net.WebSocket, name: browser, keyStore: storeOf(browser) });
    clients.push(chat);
    await chat.login(of.user.email, PASSWORD);
    await ready(chat);
    return { chat, net, user: of.user };
  };
  type Hub = { hub: { clients: Iterable<{ endpoint: string; deviceId: string | null; principal: { userId: number }; ws: { close(code: number, reason: string): void } }> } };
  const sockets = (userId: number) => [...(server.t.app as unknown as { gateway: Hub }).gateway.hub.clients].filter((c) => c.endpoint === 'general_updates' && c.principal.userId === userId);
  const texts = (c: TestClient, room: number) => c.chat.store.timeline(room).messages.value.map((m) => (m.e2ee?.state === 'failed' ? '(unable)' : m.content));
  const shown = (c: TestClient, room: number, text: string) => until(() => texts(c, room), (list) => list.includes(text), `"${text}" at ${c.user.username}`);
  /** Waits until the server's sockets of a user satisfy `ok` (server state: polled, no signal to watch). */
  const socketsUntil = async (userId: number, ok: (ids: Array<string | null>) => boolean, what: string) => {
    const end = Date.now() + 15_000;
    while (!ok(sockets(userId).map((c) => c.deviceId))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(sockets(userId).map((c) => c.deviceId))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const registered = async (deviceId: string) => !!(await server.t.ctx.db.selectFrom('e2ee_devices').select('id').where('device_id', '=', deviceId).executeTakeFirst());

  test('own devices: this one marked, fingerprints agree across devices; another is removed, the room is told, the removed one replaces itself', async () => {
    const ada = await person('ada-1');
    const bob = await person('bob-1');
    const room = (await ada.chat.createGroup({ name: 'devices', is_public: false, members: [bob.user.id], is_encrypted: true })).id;
    await until(() => bob.chat.store.conversations.value.get(room)?.is_encrypted, Boolean, 'room at bob');
    await ada.chat.openRoom(room);
    await bob.chat.openRoom(room);
    ada.chat.send(room, 'before the second device');
    await shown(bob, room, 'before the second device');

    const ada2 = await another(ada, 'ada-2');
    await ada2.chat.openRoom(room);
    await until(() => bob.chat.encryption.deviceNotices.value, (list) => list.some((n) => n.kind === 'added' && n.user === ada.user.id && n.room === room), 'bob told of the new device');
    assert.equal(ada2.chat.encryption.deviceNotices.value.length, 0, 'a device is not told of itself');
    ada.chat.send(room, 'read by both browsers');
    await shown(ada2, room, 'read by both browsers');

    const one = await ada.chat.encryption.ownDevices();
    const two = await ada2.chat.encryption.ownDevices();
    assert.deepEqual(one.map((d) => d.current).sort(), [false, true]);
    const id1 = ada.chat.encryption.deviceId.value!;
    const id2 = ada2.chat.encryption.deviceId.value!;
    assert.equal(one.find((d) => d.current)!.device_id, id1);
    assert.equal(two.find((d) => d.current)!.device_id, id2);
    for (const list of [one, two]) for (const d of list) assert.match(d.fingerprint, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(one.find((d) => d.device_id === id2)!.fingerprint, two.find((d) => d.current)!.fingerprint);
    assert.equal(two.find((d) => d.device_id === id1)!.fingerprint, one.find((d) => d.current)!.fingerprint);
    assert.ok(one.every((d) => d.listed && !d.mismatch && d.created_at));
    await assert.rejects(ada.chat.encryption.removeDevice(id1), /cannot be removed/);

    const replaced = new Promise<{ removed: string; replacement: string | null }>((resolve) => ada2.chat.encryption.onDeviceReplaced(resolve));
    await ada.chat.encryption.removeDevice(id2);
    assert.equal(await registered(id2), false);
    await until(() => bob.chat.encryption.deviceNotices.value, (list) => list.some((n) => n.kind === 'removed' && n.device_id === id2), 'bob told of the removal');
    // The removed client learns it from the room's event (the server may also close its socket with 4410).
    const info = await replaced;
    assert.equal(info.removed, id2);
    assert.ok(info.replacement && info.replacement !== id2);
    await until(() => ada2.chat.encryption.deviceId.value, (id) => id === info.replacement, 'the new device in use');
    assert.equal(await registered(info.replacement!), true);
    await socketsUntil(ada.user.id, (ids) => ids.includes(info.replacement!) && !ids.includes(id2), 'the socket on the new device');
    // New messages reach the new device; the room keys it held are kept (what it read before it still reads, loaded afresh).
    bob.chat.send(room, 'to the new device');
    await shown(ada2, room, 'to the new device');
    ada2.chat.store.dropConversation(room);
    await ada2.chat.refreshConversations();
    await ada2.chat.openRoom(room);
    assert.deepEqual(texts(ada2, room), ['(unable)', 'read by both browsers', 'to the new device']);
    assert.ok(ada2.chat.store.timeline(room).messages.value.every((m) => m.e2ee), 'loaded afresh: each read through the engine');
    assert.equal((await ada.chat.encryption.ownDevices()).length, 2);
  });

  test('a 4410 close replaces the device (never reconnecting with the old id); a device removed while away is found out at start', async () => {
    const dan = await person('dan-1');
    const old = dan.chat.encryption.deviceId.value!;
    await socketsUntil(dan.user.id, (ids) => ids.includes(old), 'the socket on the device');
    const replaced = new Promise<{ removed: string; replacement: string | null }>((resolve) => dan.chat.encryption.onDeviceReplaced(resolve));
    const before = dan.net.opened.length;
    for (const c of sockets(dan.user.id)) c.ws.close(4410, 'device removed');
    const info = await replaced;
    assert.equal(info.removed, old);
    await socketsUntil(dan.user.id, (ids) => ids.includes(info.replacement!), 'reconnected with the new device');
    assert.ok(!sockets(dan.user.id).some((c) => c.deviceId === old));
    const since = dan.net.opened.slice(before).filter((u) => u.includes('/ws/general_updates/'));
    assert.ok(since.length >= 1);
    assert.ok(since.every((u) => new URL(u).searchParams.get('device_id') !== old), `never reconnected with the removed device: ${since.join(' ')}`);
    await ready(dan.chat);

    // Logged out, its device removed meanwhile (from elsewhere), logged in again: a new device, the old one stays removed.
    const current = dan.chat.encryption.deviceId.value!;
    await dan.chat.logout();
    const loggedOut = dan.net.opened.length;
    const other = await another(dan, 'dan-2');
    await other.chat.encryption.removeDevice(current);
    const again = new Promise<{ removed: string; replacement: string | null }>((resolve) => dan.chat.encryption.onDeviceReplaced(resolve));
    await dan.chat.login(dan.user.email, PASSWORD);
    const back = await again;
    assert.equal(back.removed, current);
    await ready(dan.chat);
    assert.equal(dan.chat.encryption.deviceId.value, back.replacement);
    assert.equal(await registered(current), false, 'not registered again');
    assert.ok(!sockets(dan.user.id).some((c) => c.deviceId === current));
    const afterLogin = dan.net.opened.slice(loggedOut);
    assert.ok(afterLogin.some((u) => new URL(u).searchParams.get('device_id') === back.replacement));
    assert.ok(afterLogin.every((u) => new URL(u).searchParams.get('device_id') !== current), `the removed device never named on a socket again: ${afterLogin.join(' ')}`);
  });
});
