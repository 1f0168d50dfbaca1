// End-to-end encrypted rooms through the SDK against a real server: each client is a device with
// its keys in a MemoryStore (IndexedDB in browsers). Two users chat; a late joiner reads from
// joining on; a removed member reads nothing sent after; a second device of a user reads new
// messages; a key that arrives late decrypts what waited for it; tampered content, and only it,
// is undecryptable; edits, files and offline sends are encrypted too; the server holds no plaintext.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatClient, type Message } from '../../web/core/index.js';
import { E2ee, MemoryStore } from '../../web/core/e2ee/index.js';
import { PASSWORD } from '../helpers.js';
import { Network, coreServer, newClient, until, type CoreServer, type TestClient } from './core-helpers.js';

const stores = () => {
  const byUser = new Map<number, MemoryStore>();
  return async (userId: number) => byUser.get(userId) ?? byUser.set(userId, new MemoryStore()).get(userId)!;
};

describe('web core: end-to-end encrypted rooms', () => {
  let server: CoreServer;
  const clients: ChatClient[] = [];
  before(async () => {
    server = await coreServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  /** A new account whose client is a device (its own key store) with its socket online. */
  const person = async (): Promise<TestClient> => {
    const c = await newClient(server, { keyStore: stores() });
    clients.push(c.chat);
    await online(c.chat);
    return c;
  };
  /** Another device (client, key store) of an existing account. */
  const secondDevice = async (of: TestClient): Promise<TestClient> => {
    const net = new Network();
    const chat = new ChatClient({ baseUrl: server.base, mode: 'token', fetch: net.fetch, WebSocket: net.WebSocket, name: `${of.user.username}-2`, keyStore: stores() });
    clients.push(chat);
    await chat.login(of.user.email, PASSWORD);
    await online(chat);
    return { chat, net, user: of.user };
  };
  const online = async (chat: ChatClient) => {
    await until(() => chat.encryption.status.value, (s) => s === 'ready' || s === 'unavailable', 'encryption ready');
    assert.equal(chat.encryption.status.value, 'ready');
    await until(() => chat.connection.value, (s) => s === 'online', 'socket online');
  };
  const texts = (c: TestClient, room: number) => c.chat.store.timeline(room).messages.value.map((m) => (m.e2ee?.state === 'failed' ? `(unable: ${m.e2ee.reason})` : m.content));
  const shown = (c: TestClient, room: number, text: string) => until(() => texts(c, room), (list) => list.includes(text), `"${text}" decrypted`);
  const stored = async (room: number) => server.t.ctx.db.selectFrom('messages').select(['id', 'content', 'sender_id']).where('chat_room_id', '=', room).orderBy('id').execute();
  const group = async (owner: TestClient, members: TestClient[], name = 'secret plans') => {
    const room = await owner.chat.createGroup({ name, is_public: false, members: members.map((m) => m.user.id), is_encrypted: true });
    for (const m of members) await until(() => m.chat.store.conversations.value.get(room.id)?.is_encrypted, Boolean, 'the encrypted room in the list');
    await owner.chat.openRoom(room.id);
    for (const m of members) await m.chat.openRoom(room.id);
    return room.id;
  };

  test('two users exchange encrypted messages; the server stores only ciphertext', async () => {
    const ada = await person();
    const bob = await person();
    const room = await group(ada, [bob]);
    ada.chat.send(room, 'meet at the old mill at nine');
    await shown(bob, room, 'meet at the old mill at nine');
    bob.chat.send(room, 'bringing the lantern');
    await shown(ada, room, 'bringing the lantern');
    await shown(ada, room, 'meet at the old mill at nine');
    const m = bob.chat.store.timeline(room).messages.value[0];
    assert.equal(m.e2ee?.state, 'decrypted');
    // The conversation list shows the decrypted text too.
    await until(() => bob.chat.store.conversations.value.get(room)?.last_message?.content, (c) => c === 'bringing the lantern', 'preview at bob');

    const rows = await stored(room);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.match(r.content, /^e2ee:1:/);
      assert.ok(!r.content.includes('mill') && !r.content.includes('lantern'));
    }
    // A reload of the history (a fresh client of the same device) decrypts from its keys; its own messages too.
    const history = await ada.chat.store.timeline(room);
    await history.loadLatest();
    assert.deepEqual(texts(ada, room), ['meet at the old mill at nine', 'bringing the lantern']);
  });

  test('a conversation’s devices are asked for once while the socket stays live; again after a member joins, and after the socket was down', async () => {
    const ada = await person();
    const bob = await person();
    const carol = await person();
    const room = await group(ada, [bob], 'asked once');
    const asked = () => ada.net.requests.filter((r) => r === `GET /api/chat_rooms/${room}/devices/`).length;
    for (const text of ['one', 'two', 'three']) {
      ada.chat.send(room, text);
      await shown(bob, room, text);
    }
    assert.equal(asked(), 1, 'three sends, one listing');

    const joined = ada.net.nextFrame((e) => e.type === 'member_joined' && e.chat_room === room);
    await ada.chat.addMember(room, carol.user.id);
    await joined;
    await until(() => carol.chat.store.conversations.value.get(room), Boolean, 'room at carol');
    await carol.chat.openRoom(room);
    ada.chat.send(room, 'hello carol');
    await shown(carol, room, 'hello carol');
    assert.equal(asked(), 2, 'listed again after the join');

    ada.net.cut();
    await until(() => ada.chat.connection.value, (s) => s !== 'online', 'ada offline');
    ada.net.restore();
    await until(() => ada.chat.connection.value, (s) => s === 'online', 'ada online again');
    ada.chat.send(room, 'back again');
    await shown(bob, room, 'back again');
    await shown(carol, room, 'back again');
    assert.equal(asked(), 3, 'listed again after the socket was down');
  });

  test('a late joiner reads from joining on, not before; a removed member reads nothing sent after', async () => {
    const ada = await person();
    const bob = await person();
    const carol = await person();
    const room = await group(ada, [bob]);
    ada.chat.send(room, 'before carol');
    await shown(bob, room, 'before carol');

    await ada.chat.addMember(room, carol.user.id);
    await until(() => carol.chat.store.conversations.value.get(room), Boolean, 'room at carol');
    await carol.chat.openRoom(room);
    ada.chat.send(room, 'welcome carol');
    bob.chat.send(room, 'hi carol, bob here');
    await shown(carol, room, 'welcome carol');
    await shown(carol, room, 'hi carol, bob here');
    assert.match(texts(carol, room)[0], /^\(unable: (index_too_early|unknown_session)\)$/, 'what was sent before she joined stays closed');

    // Carol is removed: the others rotate, and what they send next has keys she never gets.
    await ada.chat.team.remove(room, carol.user.id);
    await until(() => carol.chat.store.conversations.value.has(room), (has) => !has, 'carol out');
    await until(() => bob.chat.store.membersOf(room).value?.some((m) => m.user === carol.user.id), (still) => !still, 'bob saw carol leave');
    ada.chat.send(room, 'carol must not read this');
    bob.chat.send(room, 'nor this');
    await shown(bob, room, 'carol must not read this');
    await shown(ada, room, 'nor this');
    // Carol gets the ciphertext (from the server's database, as a server could hand it to her) and
    // every key material that waits for her device: she still cannot open it.
    await carol.chat.encryption.sync();
    const rows = (await stored(room)).slice(-2);
    const asMessages = rows.map((r) => ({ id: r.id, chat_room: room, sender: r.sender_id, content: r.content, is_deleted: false }) as unknown as Message);
    const attempt = await carol.chat.encryption.decode(asMessages);
    assert.deepEqual(
      attempt.map((m) => m.e2ee?.reason),
      ['unknown_session', 'unknown_session'],
    );
    const queue = await carol.chat.api.get<unknown[]>('/api/e2ee_keys/to_device/', { device_id: carol.chat.encryption.deviceId.value });
    assert.equal(queue.length, 0, 'no key material waits for her');
  });

  test('a second device of a user reads new messages, and the others read what it sends', async () => {
    const ada = await person();
    const bob = await person();
    const room = await group(ada, [bob]);
    ada.chat.send(room, 'to bob’s first browser');
    await shown(bob, room, 'to bob’s first browser');

    const bob2 = await secondDevice(bob);
    assert.notEqual(bob2.chat.encryption.deviceId.value, bob.chat.encryption.deviceId.value);
    await until(() => bob2.chat.store.conversations.value.get(room), Boolean, 'room at bob’s second device');
    await bob2.chat.openRoom(room);
    ada.chat.send(room, 'to both of bob’s browsers');
    await shown(bob2, room, 'to both of bob’s browsers');
    await shown(bob, room, 'to both of bob’s browsers');
    bob2.chat.send(room, 'from bob’s laptop');
    await shown(ada, room, 'from bob’s laptop');
    await shown(bob, room, 'from bob’s laptop');
    // Older history is closed to the new device (no key sharing between a user's own devices yet).
    assert.match(texts(bob2, room)[0], /^\(unable: (index_too_early|unknown_session)\)$/);
  });

  test('a key that arrives after its message decrypts it then; a tampered message alone is undecryptable', async () => {
    const ada = await person();
    const bob = await person();
    const carol = await person();
    const room = await group(ada, [bob, carol]);
    ada.chat.send(room, 'first');
    await shown(bob, room, 'first');

    // Bob's browser is away when Carol writes for the first time: her session's key waits in his queue,
    // and he reads the queue only once the test lets him, after the message is on his screen.
    bob.net.cut();
    await until(() => bob.chat.connection.value, (s) => s !== 'online', 'bob offline');
    carol.chat.send(room, 'while you were away');
    await shown(ada, room, 'while you were away');
    const held = bob.net.hold((method, p) => method === 'GET' && p === '/api/e2ee_keys/to_device/');
    bob.net.restore();
    bob.chat.socket.reconnectNow();
    await until(() => texts(bob, room), (t) => t[1] === '(unable: unknown_session)', 'the message, not yet readable');
    await held.reached;
    held.release();
    await shown(bob, room, 'while you were away');

    // Someone with the database changes one message: it alone fails, the others still read.
    ada.chat.send(room, 'third');
    await shown(bob, room, 'third');
    const [target] = (await stored(room)).filter((r) => r.sender_id === ada.user.id).slice(-1);
    const bytes = target.content.slice('e2ee:1:'.length);
    const i = Math.floor(bytes.length * 0.8);
    const tampered = `e2ee:1:${bytes.slice(0, i)}${bytes[i] === 'A' ? 'B' : 'A'}${bytes.slice(i + 1)}`;
    await server.t.ctx.db.updateTable('messages').set({ content: tampered }).where('id', '=', target.id).execute();
    await bob.chat.store.timeline(room).loadLatest();
    const list = bob.chat.store.timeline(room).messages.value;
    const bad = list.find((m) => m.id === target.id)!;
    assert.equal(bad.e2ee?.state, 'failed');
    assert.equal(bad.content, '');
    assert.deepEqual(
      list.filter((m) => m.id !== target.id).map((m) => m.content),
      ['first', 'while you were away'],
    );
  });

  test('edits, files and messages written offline are encrypted; the upload folder holds no plaintext', async () => {
    const ada = await person();
    const bob = await person();
    const room = await group(ada, [bob]);

    ada.net.cut();
    await until(() => ada.chat.connection.value, (s) => s !== 'online', 'ada offline');
    ada.chat.send(room, 'written on the train');
    await until(() => ada.chat.outbox.value!.items.value, (items) => items.length === 1 && items[0].state === 'pending', 'pending');
    ada.net.restore();
    ada.chat.socket.reconnectNow();
    await shown(bob, room, 'written on the train');

    const mine = ada.chat.store.timeline(room).messages.value.find((m) => m.content === 'written on the train')!;
    await ada.chat.edit(mine.id, 'written on the night train', mine);
    await shown(bob, room, 'written on the night train');
    assert.equal(bob.chat.store.timeline(room).find(mine.id)?.is_edited, true);

    const secret = Buffer.from('the treasure map: ten paces north of the oak\n'.repeat(20));
    const sent = await ada.chat.sendFile(room, new Blob([secret], { type: 'text/plain' }) as Blob & { name: string }, { caption: 'map attached' });
    assert.equal(sent.e2ee?.file?.name, 'file');
    const atBob = await until(() => bob.chat.store.timeline(room).find(sent.id), (m) => !!m?.attachment && m.e2ee?.file?.size === secret.length, 'the file at bob');
    assert.equal(atBob!.content, 'map attached');
    assert.equal(atBob!.attachment!.file_type, 'encrypted');
    const blob = await bob.chat.encryptedFile(atBob!);
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), secret);
    assert.equal(blob.type, 'application/octet-stream', 'only images keep their type');

    const rows = await stored(room);
    for (const r of rows) assert.ok(!/train|map attached/.test(r.content), 'no plaintext in the messages table');
    const attachment = await server.t.ctx.db.selectFrom('attachments').selectAll().where('message_id', '=', sent.id).executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(attachment).includes('treasure'));
    const uploads = path.join(server.t.env.dataDir, 'uploads');
    const files = fs.readdirSync(uploads, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.ok(files.length > 0);
    for (const f of files) assert.equal(fs.readFileSync(path.join(f.parentPath, f.name)).indexOf('treasure'), -1, 'no plaintext in the upload folder');
  });

  test('a client without a key store never sends plaintext to an encrypted room, and shows its messages as undecryptable', async () => {
    const ada = await person();
    const bot = await newClient(server);
    clients.push(bot.chat);
    await until(() => bot.chat.encryption.status.value, (s) => s === 'unavailable', 'no encryption without a key store');
    const room = await group(ada, [bot]);
    ada.chat.send(room, 'only for browsers with keys');
    await until(() => bot.chat.store.timeline(room).messages.value, (list) => list.length === 1, 'the message at the bot');
    assert.equal(bot.chat.store.timeline(room).messages.value[0].e2ee?.reason, 'unavailable');
    bot.chat.send(room, 'would be plaintext');
    const [item] = await until(() => bot.chat.outbox.value!.items.value, (items) => items[0]?.state === 'failed', 'not sent');
    assert.match(item.error!, /not available/);
    assert.equal((await stored(room)).length, 1, 'nothing reached the server');
  });

  test('a device whose keys change is warned about and gets no room key until its new keys are accepted', async () => {
    const ada = await person();
    const bob = await person();
    const room = await group(ada, [bob]);
    ada.chat.send(room, 'before the change');
    await shown(bob, room, 'before the change');

    // The server (or whoever controls it) swaps bob's device keys for its own...
    const device = bob.chat.encryption.deviceId.value!;
    const fake = (await E2ee.createDevice(new MemoryStore(), bob.user.id)).upload;
    await server.t.ctx.db.updateTable('e2ee_devices').set({ identity_key: fake.identity_key, signing_key: fake.signing_key }).where('device_id', '=', device).execute();
    // ...and a membership change makes ada start a new session, shared after she reads the device list.
    const carol = await person();
    await ada.chat.addMember(room, carol.user.id);
    await ada.chat.team.remove(room, carol.user.id);
    ada.chat.send(room, 'after the change');
    const warnings = await until(() => ada.chat.encryption.warnings.value, (w) => w.length === 1, 'a warning at ada');
    assert.equal(warnings[0].user, bob.user.id);
    assert.equal(warnings[0].device_id, device);
    assert.equal(warnings[0].seen.signing_key, fake.signing_key);
    await until(() => ada.chat.outbox.value!.items.value.length, (n) => n === 0, 'sent');
    await until(() => texts(bob, room), (t) => t.length === 2, 'the message at bob');
    assert.equal(texts(bob, room)[1], '(unable: unknown_session)', 'no key went to the changed device');

    await ada.chat.encryption.acceptIdentity(warnings[0]);
    assert.equal(ada.chat.encryption.warnings.value.length, 0);
  });
});
