// Attachments (round trip, tamper detection), safety numbers (equal on both sides, changing with
// a key) and the stores (in-memory round trip; nothing private in what the façade hands out).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromBase64, fromBase64Url, toBase64 } from '../../web/core/e2ee/encoding.js';
import { DecryptError, E2ee, IndexedDbStore, MemoryStore, decryptAttachment, encryptAttachment, safetyNumber } from '../../web/core/e2ee/index.js';
import { aesGcmDecrypt, ed25519KeyPair, randomBytes, sha256 } from '../../web/core/e2ee/primitives.js';
import { storeKeys } from '../../web/core/e2ee/store.js';
import { Directory, newDevice } from './helpers.js';

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof DecryptError && e.code === code);
}

describe('attachments', () => {
  test('round trip, small and large, Uint8Array or ArrayBuffer', async () => {
    for (const size of [0, 1, 1000, 1 << 20]) {
      const data = randomBytes(size);
      const { ciphertext, info } = await encryptAttachment(data.buffer, { name: 'photo.jpg', mime: 'image/jpeg' });
      assert.equal(ciphertext.length, size + 16);
      assert.deepEqual({ name: info.name, mime: info.mime, size: info.size, v: info.v }, { name: 'photo.jpg', mime: 'image/jpeg', size, v: 1 });
      assert.deepEqual(fromBase64(info.sha256), sha256(ciphertext));
      assert.deepEqual(await decryptAttachment(ciphertext, info), data);
      // The WebCrypto ciphertext is the same format the noble fallback opens (pages without crypto.subtle).
      assert.deepEqual(aesGcmDecrypt(fromBase64(info.key), fromBase64(info.iv), ciphertext), data);
    }
  });

  test('changed bytes fail the hash; a matching hash with the wrong key or IV fails GCM', async () => {
    const data = new TextEncoder().encode('secret plans');
    const { ciphertext, info } = await encryptAttachment(data, { name: 'plans.txt', mime: 'text/plain' });
    const changed = Uint8Array.from(ciphertext);
    changed[3] ^= 1;
    await rejects(decryptAttachment(changed, info), 'bad_hash');
    await rejects(decryptAttachment(changed, { ...info, sha256: toBase64(sha256(changed)) }), 'bad_ciphertext');
    await rejects(decryptAttachment(ciphertext, { ...info, key: toBase64(randomBytes(32)) }), 'bad_ciphertext');
    await rejects(decryptAttachment(ciphertext, { ...info, iv: toBase64(randomBytes(12)) }), 'bad_ciphertext');
    await rejects(decryptAttachment(ciphertext, { ...info, key: 'short' }), 'malformed');
    await rejects(decryptAttachment(ciphertext, { ...info, size: 3 }), 'malformed');
  });
});

describe('safety numbers', () => {
  test('the same on both sides, 12 groups of 5 digits, changing with a key or a user', () => {
    const a = toBase64(ed25519KeyPair().publicKey);
    const b = toBase64(ed25519KeyPair().publicKey);
    const ab = safetyNumber({ user: 1, signing_key: a }, { user: 2, signing_key: b });
    assert.equal(ab, safetyNumber({ user: 2, signing_key: b }, { user: 1, signing_key: a }));
    assert.match(ab, /^\d{5}( \d{5}){11}$/);
    assert.notEqual(ab, safetyNumber({ user: 1, signing_key: a }, { user: 2, signing_key: toBase64(ed25519KeyPair().publicKey) }));
    assert.notEqual(ab, safetyNumber({ user: 1, signing_key: a }, { user: 3, signing_key: b }));
  });

  test('through the façade: both devices compute the same number', async () => {
    const dir = new Directory();
    const alice = await newDevice(dir, 1, 0);
    const bob = await newDevice(dir, 2, 0);
    assert.equal(alice.safetyNumber(2, bob.publicIdentity.signing_key), bob.safetyNumber(1, alice.publicIdentity.signing_key));
  });
});

describe('stores', () => {
  test('the in-memory store round-trips records as copies and lists keys by prefix', async () => {
    const s = new MemoryStore();
    const rec = { a: 1, nested: { b: [1, 2] } };
    await s.put('x:1', rec);
    await s.put('x:2', { a: 2 });
    await s.put('y:1', { a: 3 });
    rec.nested.b.push(3);
    const got = await s.get<typeof rec>('x:1');
    assert.deepEqual(got, { a: 1, nested: { b: [1, 2] } });
    got!.a = 9;
    assert.equal((await s.get<typeof rec>('x:1'))!.a, 1);
    assert.deepEqual(await s.keys('x:'), ['x:1', 'x:2']);
    await s.delete('x:1');
    assert.deepEqual(await s.keys('x:'), ['x:2']);
    assert.equal(await s.get('x:1'), undefined);
  });

  test('a device reloads from its store with its keys; nothing the façade returns holds a private key', async () => {
    const store = new MemoryStore();
    const { e2ee, upload } = await E2ee.createDevice(store, 5, 10);
    assert.match(e2ee.deviceId, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(fromBase64Url(e2ee.deviceId).length, 12);
    assert.equal(upload.one_time_prekeys.length, 10);
    assert.deepEqual(Object.keys(upload).sort(), ['device_id', 'identity_key', 'one_time_prekeys', 'signed_prekey', 'signing_key']);
    assert.equal(fromBase64(upload.signed_prekey.signature).length, 64);
    const reloaded = (await E2ee.load(store))!;
    assert.deepEqual(reloaded.upload(), { ...upload, one_time_prekeys: [] });
    assert.equal(await E2ee.load(new MemoryStore()), null);

    const more = await reloaded.refillOneTimePrekeys(5);
    assert.deepEqual(more.map((k) => k.key_id), [11, 12, 13, 14, 15]);
    assert.equal(await reloaded.oneTimePrekeyCount(), 15);
    const spk = await reloaded.rotateSignedPrekey();
    assert.equal(spk.key_id, 2);

    // Every secret the store holds, and everything the façade handed out.
    const secrets: string[] = [];
    for (const key of await store.keys('')) {
      JSON.stringify(await store.get(key), (k, v) => {
        if (k === 'secret_key') secrets.push(v);
        return v;
      });
    }
    assert.ok(secrets.length >= 4 + 15);
    const dir = new Directory();
    const peer = await newDevice(dir, 6, 1);
    await reloaded.ensureRoomSession(1, [{ user: 6, device_id: peer.deviceId }]);
    const outward = JSON.stringify([upload, reloaded.upload(), more, spk, reloaded.publicIdentity, await reloaded.roomSession(1)]);
    for (const secret of secrets) assert.ok(!outward.includes(secret));
    assert.ok(!outward.includes('chain_key'));
    assert.ok(await store.get(storeKeys.outboundGroup('1')));
  });

  test('the IndexedDB store is browser-only but typed (exercised by the browser tests)', () => {
    assert.equal(typeof IndexedDbStore.open, 'function');
  });
});
