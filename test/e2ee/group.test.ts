// Group (sender-key) sessions through the façade: every member device with the key decrypts and
// no one else does; a late joiner reads from joining on; a removed member reads nothing after
// rotation; tampered, replayed or wrongly signed messages fail alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromBase64Url, toBase64, toBase64Url } from '../../web/core/e2ee/encoding.js';
import {
  MAX_RATCHET_STEPS,
  ROTATE_AFTER_MESSAGES,
  ROTATE_AFTER_MS,
  createOutboundSession,
  decryptGroupMessage,
  encryptGroupMessage,
  exportSessionKey,
  importSessionKey,
  needsRotation,
} from '../../web/core/e2ee/group.js';
import { DecryptError, E2ee, E2eeError, MemoryStore, type RoomMessage } from '../../web/core/e2ee/index.js';
import { ed25519KeyPair } from '../../web/core/e2ee/primitives.js';
import { advance } from '../../web/core/e2ee/ratchet.js';
import { Directory, fixedDevice, newDevice, receive, seed } from './helpers.js';

const ROOM = 7;

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DecryptError, `expected DecryptError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/** A room with a sender, a directory and a server-ish message log. */
class Room {
  readonly dir = new Directory();
  private nextId = 1;
  readonly log: RoomMessage[] = [];

  /** Makes sure `sender` has a current session and every listed device has its key (claiming bundles as needed). */
  async share(sender: E2ee, members: E2ee[]): Promise<{ rotated: boolean }> {
    const devices = members.map((m) => ({ user: m.user, device_id: m.deviceId }));
    const { rotated, unshared } = await sender.ensureRoomSession(ROOM, devices);
    if (unshared.length) {
      let r = await sender.shareRoomKey(ROOM, unshared);
      if (r.missing.length) {
        const users = [...new Set(r.missing.map((m) => m.user))];
        const bundles = this.dir.claim(users).filter((b) => r.missing.some((m) => m.device_id === b.device_id));
        const again = await sender.shareRoomKey(ROOM, bundles);
        r = { ...again, envelopes: [...r.envelopes, ...again.envelopes] };
      }
      for (const { device_id, envelope } of r.envelopes) {
        const member = members.find((m) => m.deviceId === device_id)!;
        const got = await member.receiveEnvelope(envelope, { sender: sender.user, sender_device: sender.deviceId });
        assert.equal(got.payload.type, 'room_key');
        assert.equal(got.imported?.room, String(ROOM));
      }
    }
    return { rotated };
  }

  async send(sender: E2ee, text: string): Promise<RoomMessage> {
    const message = { id: this.nextId++, sender: Number(sender.user), content: await sender.encryptRoomMessage(ROOM, text) };
    this.log.push(message);
    return message;
  }
}

describe('group sessions', () => {
  test('every member device with the key decrypts (the sender too); a device without it cannot', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    const bob2 = await newDevice(room.dir, 2); // Bob's second browser
    const carol = await newDevice(room.dir, 3);
    const outsider = await newDevice(room.dir, 4);
    await room.share(alice, [bob, bob2, carol]);
    const m = await room.send(alice, 'hello everyone');
    assert.ok(m.content.startsWith('e2ee:1:'));
    assert.ok(!m.content.includes('hello'));
    for (const reader of [alice, bob, bob2, carol]) assert.equal(await reader.decryptRoomMessage(ROOM, m), 'hello everyone');
    await rejects(outsider.decryptRoomMessage(ROOM, m), 'unknown_session');
    // The same message decrypts again (re-render).
    assert.equal(await bob.decryptRoomMessage(ROOM, m), 'hello everyone');
    // Another room's id does not open it.
    await rejects(bob.decryptRoomMessage(8, m), 'unknown_session');
  });

  test('a late joiner decrypts from the index it was given on, and nothing earlier', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    await room.share(alice, [bob]);
    for (let i = 0; i < 5; i++) await room.send(alice, `before ${i}`);
    const dave = await newDevice(room.dir, 5);
    const { rotated } = await room.share(alice, [bob, dave]);
    assert.equal(rotated, false, 'a join does not rotate');
    for (let i = 0; i < 3; i++) await room.send(alice, `after ${i}`);
    const results = await dave.decryptRoomMessages(ROOM, room.log);
    assert.deepEqual(
      results.map((r) => ('error' in r ? r.error.code : r.plaintext)),
      ['index_too_early', 'index_too_early', 'index_too_early', 'index_too_early', 'index_too_early', 'after 0', 'after 1', 'after 2'],
    );
    assert.deepEqual(
      (await bob.decryptRoomMessages(ROOM, room.log)).map((r) => ('plaintext' in r ? r.plaintext : r.error.code)),
      room.log.map((_, i) => (i < 5 ? `before ${i}` : `after ${i - 5}`)),
    );
  });

  test('after a member leaves the session rotates: the removed member reads nothing new', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    const carol = await newDevice(room.dir, 3);
    await room.share(alice, [bob, carol]);
    const old = await room.send(alice, 'carol can read this');
    const oldSession = (await alice.roomSession(ROOM))!.session_id;
    const { rotated } = await room.share(alice, [bob]); // Carol left
    assert.equal(rotated, true);
    assert.notEqual((await alice.roomSession(ROOM))!.session_id, oldSession);
    assert.deepEqual((await alice.roomSession(ROOM))!.shared_with, [`2:${bob.deviceId}`]);
    const fresh = await room.send(alice, 'carol cannot');
    assert.equal(await carol.decryptRoomMessage(ROOM, old), 'carol can read this');
    await rejects(carol.decryptRoomMessage(ROOM, fresh), 'unknown_session');
    assert.equal(await bob.decryptRoomMessage(ROOM, fresh), 'carol cannot');
    assert.equal(await alice.decryptRoomMessage(ROOM, fresh), 'carol cannot');
  });

  test('a removed device of a member also rotates the session', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    const bobOld = await newDevice(room.dir, 2);
    await room.share(alice, [bob, bobOld]);
    await alice.rotateRoomSession(ROOM); // the "device removed" event
    const { rotated } = await room.share(alice, [bob]);
    assert.equal(rotated, true);
    const m = await room.send(alice, 'new key');
    await rejects(bobOld.decryptRoomMessage(ROOM, m), 'unknown_session');
    assert.equal(await bob.decryptRoomMessage(ROOM, m), 'new key');
  });

  test('tampered, replayed, misattributed and wrongly signed messages fail alone', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    await room.share(alice, [bob]);
    const [m0, m1, m2] = [await room.send(alice, 'zero'), await room.send(alice, 'one'), await room.send(alice, 'two')];
    const bytes = fromBase64Url(m1.content.slice(7));
    const flip = (at: number) => {
      const b = Uint8Array.from(bytes);
      b[at] ^= 1;
      return { ...m1, id: 100 + at, content: 'e2ee:1:' + toBase64Url(b) };
    };
    const ctTampered = flip(bytes.length - 1);
    const indexTampered = flip(1 + 16 + 1 + 16 + 3); // last byte of the index
    const sigTampered = flip(1 + 16 + 1 + 16 + 4 + 12 + 5);
    const replay = { ...m1, id: 99 }; // the same ciphertext as another message
    const misattributed = { ...m2, sender: 2 };
    // Wrongly signed: a valid payload re-signed by another key.
    const mallory = ed25519KeyPair();
    const { device } = await fixedDevice('1', alice.deviceId, 0x30);
    device.signing = { public_key: toBase64(mallory.publicKey), secret_key: toBase64(mallory.secretKey) };
    const wrongSession = createOutboundSession(ROOM, device);
    const session = (await alice.roomSession(ROOM))!;
    const forgedOut = await encryptGroupMessage({ ...wrongSession, session_id: session.session_id, index: 3 }, device, new TextEncoder().encode('forged'));
    const forged = { id: 50, sender: 1, content: forgedOut.content };

    const results = await bob.decryptRoomMessages(ROOM, [m0, ctTampered, m1, indexTampered, sigTampered, replay, misattributed, forged, m2, { id: 77, sender: 1, content: 'e2ee:1:%%%' }, m1]);
    assert.deepEqual(
      results.map((r) => ('error' in r ? r.error.code : r.plaintext)),
      ['zero', 'bad_signature', 'one', 'bad_signature', 'bad_signature', 'replay', 'sender_mismatch', 'bad_signature', 'two', 'malformed', 'one'],
    );
    // A replay is caught across calls too (the seen index is stored).
    await rejects(bob.decryptRoomMessage(ROOM, { ...m0, id: 1234 }), 'replay');
    assert.equal(await bob.decryptRoomMessage(ROOM, m0), 'zero');
  });

  test('a device can share only its own sessions: a room key naming another signer is refused, and the envelope is used up', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    const carol = await newDevice(room.dir, 3);
    await room.share(carol, [bob]);
    const carolKey = await carol.exportSessionKey(ROOM);
    // Alice forwards Carol's key as if it were hers to give.
    const r = await alice.encryptForDevices(room.dir.claim([2]), { ...carolKey });
    await rejects(receive(bob, r.envelopes[0].envelope), 'malformed');
    await rejects(receive(bob, r.envelopes[0].envelope), 'replay');
    // Alice's own key still comes through the same channel.
    await alice.ensureRoomSession(ROOM, [{ user: 2, device_id: bob.deviceId }]);
    const shared = await alice.shareRoomKey(ROOM, [{ user: 2, device_id: bob.deviceId }]);
    assert.equal((await receive(bob, shared.envelopes[0].envelope)).imported?.first_index, 0);
  });

  test('200 messages of one session decrypt in any order in one call', async () => {
    const { device } = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    let out = createOutboundSession(ROOM, device);
    const key = exportSessionKey(out, device);
    const history: RoomMessage[] = [];
    for (let i = 0; i < 200; i++) {
      const m = await encryptGroupMessage(out, device, new TextEncoder().encode(`n${i}`));
      out = m.session;
      history.push({ id: i + 1, sender: 1, content: m.content });
    }
    const reader = await newDevice(new Directory(), 2, 0);
    await reader.importSessionKey(key, { user: 1, device_id: device.device_id, signing_key: device.signing.public_key });
    const shuffled = history.map((m, i) => [(i * 7919) % 200, m] as const).sort((a, b) => a[0] - b[0]).map(([, m]) => m);
    const results = await reader.decryptRoomMessages(ROOM, shuffled);
    assert.deepEqual(results.map((r) => ('plaintext' in r ? r.plaintext : r.error.code)), shuffled.map((m) => `n${Number(m.id) - 1}`));
    // Again (re-render): the same messages decrypt, nothing is a replay.
    assert.ok((await reader.decryptRoomMessages(ROOM, history)).every((r) => 'plaintext' in r));
  });

  test('accepting a device’s new identity rotates the sessions that device had', async () => {
    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    await room.share(alice, [bob]);
    const before = (await alice.roomSession(ROOM))!.session_id;
    await alice.acceptIdentity(2, bob.deviceId, bob.publicIdentity);
    assert.equal(await alice.roomSession(ROOM), null);
    const { rotated, unshared } = await alice.ensureRoomSession(ROOM, [{ user: 2, device_id: bob.deviceId }]);
    assert.equal(rotated, true);
    assert.notEqual((await alice.roomSession(ROOM))!.session_id, before);
    assert.deepEqual(unshared, [{ user: '2', device_id: bob.deviceId }]);
  });

  test('rotation policy: after 100 messages or 7 days, and encrypting refuses a stale session', async () => {
    const t0 = 1_000_000;
    assert.equal(needsRotation({ message_count: ROTATE_AFTER_MESSAGES - 1, created_at: t0 }, t0 + ROTATE_AFTER_MS - 1), false);
    assert.equal(needsRotation({ message_count: ROTATE_AFTER_MESSAGES, created_at: t0 }, t0), true);
    assert.equal(needsRotation({ message_count: 0, created_at: t0 }, t0 + ROTATE_AFTER_MS), true);

    const room = new Room();
    const alice = await newDevice(room.dir, 1);
    const bob = await newDevice(room.dir, 2);
    await room.share(alice, [bob]);
    const first = (await alice.roomSession(ROOM))!.session_id;
    await assert.rejects(alice.encryptRoomMessage(ROOM, 'late', Date.now() + ROTATE_AFTER_MS), E2eeError);
    for (let i = 0; i < ROTATE_AFTER_MESSAGES; i++) await room.send(alice, `m${i}`);
    assert.equal((await alice.roomSession(ROOM))!.message_count, ROTATE_AFTER_MESSAGES);
    await assert.rejects(alice.encryptRoomMessage(ROOM, 'one too many'), E2eeError);
    const { rotated } = await room.share(alice, [bob]);
    assert.equal(rotated, true);
    assert.notEqual((await alice.roomSession(ROOM))!.session_id, first);
    const m = await room.send(alice, 'fresh');
    assert.equal(await bob.decryptRoomMessage(ROOM, m), 'fresh');
    // 101 messages of two sessions, all readable by Bob.
    const all = await bob.decryptRoomMessages(ROOM, room.log);
    assert.equal(all.filter((r) => 'plaintext' in r).length, ROTATE_AFTER_MESSAGES + 1);
  });

  test('importing keys: the lower index wins when both lie on one chain; a contradicting key is refused', async () => {
    const { device } = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const out = createOutboundSession(ROOM, device, 0, { session_id: seed(0xa0).slice(0, 16), chain_key: seed(0xb0) });
    const sender = { user: '1', device_id: device.device_id, signing_key: device.signing.public_key };
    const at0 = exportSessionKey(out, device);
    const at5 = { ...at0, index: 5, chain_key: toBase64(advance(seed(0xb0), 5)) };
    const high = importSessionKey(at5, sender, undefined);
    const merged = importSessionKey(at0, sender, high);
    assert.equal(merged.first_index, 0);
    assert.equal(importSessionKey(at5, sender, merged).first_index, 0);
    assert.throws(() => importSessionKey({ ...at5, chain_key: toBase64(seed(1)) }, sender, merged), E2eeError);
    assert.throws(() => importSessionKey(at0, { ...sender, signing_key: toBase64(ed25519KeyPair().publicKey) }, undefined), E2eeError);
  });

  test('an index beyond the ratchet bound is refused without the work', async () => {
    const { device } = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const out = createOutboundSession(ROOM, device, 0);
    const inbound = importSessionKey(exportSessionKey(out, device), { user: '1', device_id: device.device_id, signing_key: device.signing.public_key }, undefined);
    const far = await encryptGroupMessage({ ...out, index: MAX_RATCHET_STEPS + 1 }, device, new TextEncoder().encode('far'));
    await rejects(decryptGroupMessage(inbound, ROOM, { id: 1, sender: 1, content: far.content }), 'too_far');
  });

  test('state survives a reload from the store (keys persist)', async () => {
    const room = new Room();
    const aliceStore = new MemoryStore();
    const bobStore = new MemoryStore();
    const { e2ee: alice, upload: a } = await E2ee.createDevice(aliceStore, 1, 2);
    const { e2ee: bob, upload: b } = await E2ee.createDevice(bobStore, 2, 2);
    room.dir.add(1, a);
    room.dir.add(2, b);
    await room.share(alice, [bob]);
    const m0 = await room.send(alice, 'before reload');
    const alice2 = (await E2ee.load(aliceStore))!;
    const bob2 = (await E2ee.load(bobStore))!;
    assert.equal(alice2.deviceId, alice.deviceId);
    const m1 = await room.send(alice2, 'after reload');
    assert.equal(await bob2.decryptRoomMessage(ROOM, m0), 'before reload');
    assert.equal(await bob2.decryptRoomMessage(ROOM, m1), 'after reload');
    // The pairwise channel carries on too.
    const r = await alice2.encryptForDevices([{ user: 2, device_id: bob.deviceId }], { type: 'ping' });
    assert.deepEqual((await receive(bob2, r.envelopes[0].envelope)).payload, { type: 'ping' });
  });
});
