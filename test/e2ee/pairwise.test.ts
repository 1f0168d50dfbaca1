// Pairwise channels through the façade: X3DH from claimed bundles, envelopes in and out of
// order, replays, tampering, wrong recipients, one-time prekeys used once, identity changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DeviceRecord, verifyBundle } from '../../web/core/e2ee/device.js';
import { frame, fromBase64, toBase64 } from '../../web/core/e2ee/encoding.js';
import { DecryptError, E2ee, IdentityChangedError, MemoryStore, type ToDevicePayload } from '../../web/core/e2ee/index.js';
import { MAX_SKIPPED_KEYS, headerBytes, openOutboundChannel, sealEnvelope } from '../../web/core/e2ee/pairwise.js';
import { advance } from '../../web/core/e2ee/ratchet.js';
import { ed25519KeyPair, ed25519Sign } from '../../web/core/e2ee/primitives.js';
import { storeKeys } from '../../web/core/e2ee/store.js';
import { Directory, bundleOf, fixedDevice, newDevice, receive } from './helpers.js';

const text = (body: string): ToDevicePayload => ({ type: 'text', body });

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DecryptError, `expected DecryptError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/** Alice's envelopes to Bob's single device, the channel made from a claimed bundle. */
async function aliceToBob(count: number) {
  const dir = new Directory();
  const alice = await newDevice(dir, 1);
  const bobStore = new MemoryStore();
  const { e2ee: bob, upload } = await E2ee.createDevice(bobStore, 2, 3);
  dir.add(2, upload);
  const envelopes: string[] = [];
  for (let i = 0; i < count; i++) {
    const targets = i === 0 ? dir.claim([2]) : [{ user: 2, device_id: bob.deviceId }];
    const r = await alice.encryptForDevices(targets, text(`m${i}`));
    assert.equal(r.envelopes.length, 1);
    envelopes.push(r.envelopes[0].envelope);
  }
  return { dir, alice, bob, bobStore, envelopes };
}

/** An envelope with one JSON field changed (signature left as it was). */
function edit(envelope: string, change: (e: Record<string, unknown>) => void): string {
  const e = JSON.parse(envelope);
  change(e);
  return JSON.stringify(e);
}

describe('pairwise channels', () => {
  test('envelopes decrypt in and out of order, with the sender named', async () => {
    const { alice, bob, envelopes } = await aliceToBob(4);
    const order = [2, 0, 3, 1];
    for (const i of order) {
      const got = await bob.receiveEnvelope(envelopes[i], { sender: 1, sender_device: alice.deviceId });
      assert.deepEqual(got.payload, text(`m${i}`));
      assert.equal(got.sender_user, '1');
      assert.equal(got.sender_device, alice.deviceId);
      assert.equal(got.sender_signing, alice.publicIdentity.signing_key);
    }
    assert.equal((await bob.knownIdentity(1, alice.deviceId))?.identity_key, alice.publicIdentity.identity_key);
  });

  test('a replayed envelope is refused, whether first received in order or out of it', async () => {
    const { bob, envelopes } = await aliceToBob(3);
    await receive(bob, envelopes[0]);
    await receive(bob, envelopes[2]);
    await rejects(receive(bob, envelopes[0]), 'replay');
    await rejects(receive(bob, envelopes[2]), 'replay');
    await receive(bob, envelopes[1]); // the skipped one still opens, once
    await rejects(receive(bob, envelopes[1]), 'replay');
  });

  test('tampered ciphertext, header or signature is refused and changes nothing', async () => {
    const { bob, envelopes } = await aliceToBob(2);
    const ct = fromBase64(JSON.parse(envelopes[0]).ct);
    ct[0] ^= 1;
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.ct = toBase64(ct)))), 'bad_signature');
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.n = 1))), 'bad_signature');
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.opk_id = null))), 'bad_signature');
    const sig = fromBase64(JSON.parse(envelopes[0]).sig);
    sig[10] ^= 1;
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.sig = toBase64(sig)))), 'bad_signature');
    // The genuine envelopes still open afterwards.
    assert.deepEqual((await receive(bob, envelopes[0])).payload, text('m0'));
    assert.deepEqual((await receive(bob, envelopes[1])).payload, text('m1'));
  });

  test('an envelope re-signed by someone else with their own key does not decrypt', async () => {
    const { bob, envelopes } = await aliceToBob(1);
    const mallory = ed25519KeyPair();
    // Mallory swaps in her signing key and re-signs: the AAD still names Alice's, so GCM fails.
    const forged = edit(envelopes[0], (e) => (e.sender_signing = toBase64(mallory.publicKey)));
    const e = JSON.parse(forged);
    const sig = await ed25519Sign(frame('chat-e2ee v1 envelope signature', fromBase64(bob.publicIdentity.identity_key), headerBytes(e), fromBase64(e.ct)), mallory);
    await rejects(receive(bob, JSON.stringify({ ...e, sig: toBase64(sig) })), 'bad_ciphertext');
  });

  test('a device the envelope was not made for cannot open it', async () => {
    const { dir, envelopes } = await aliceToBob(1);
    const carol = await newDevice(dir, 3);
    await rejects(receive(carol, envelopes[0]), 'wrong_recipient');
    // Readdressed to Carol, the signature breaks.
    await rejects(receive(carol, edit(envelopes[0], (e) => (e.recipient_device = carol.deviceId))), 'bad_signature');
  });

  test('the server naming another sender is refused', async () => {
    const { alice, bob, envelopes } = await aliceToBob(1);
    await rejects(bob.receiveEnvelope(envelopes[0], { sender: 99, sender_device: alice.deviceId }), 'sender_mismatch');
    await rejects(bob.receiveEnvelope(envelopes[0], { sender: 2, sender_device: alice.deviceId }), 'sender_mismatch');
    await rejects(bob.receiveEnvelope(envelopes[0], { sender: 1, sender_device: 'other' }), 'sender_mismatch');
    // A deleted account's envelopes name no sender user: the device still has to match.
    await bob.receiveEnvelope(envelopes[0], { sender: null, sender_device: alice.deviceId });
  });

  test('a one-time prekey is used once: its private key is deleted and the header cannot be re-established', async () => {
    const { alice, bob, bobStore, envelopes } = await aliceToBob(1);
    assert.equal(await bob.oneTimePrekeyCount(), 3);
    const opkId = JSON.parse(envelopes[0]).opk_id as number;
    assert.ok(await bobStore.get(storeKeys.oneTimePrekey(opkId)));
    await receive(bob, envelopes[0]);
    assert.equal(await bob.oneTimePrekeyCount(), 2);
    assert.equal(await bobStore.get(storeKeys.oneTimePrekey(opkId)), undefined);
    // Only the stored channel knew it: without it, the same header is refused.
    const eph = JSON.parse(envelopes[0]).eph as string;
    await bobStore.delete(storeKeys.inboundChannel(alice.deviceId, eph));
    await rejects(receive(bob, envelopes[0]), 'unknown_prekey');
  });

  test('a bundle with no one-time prekey left still sets up a channel (3-DH)', async () => {
    const dir = new Directory();
    const alice = await newDevice(dir, 1);
    const bob = await newDevice(dir, 2, 0);
    const [bundle] = dir.claim([2]);
    assert.equal(bundle.one_time_prekey, null);
    const r = await alice.encryptForDevices([bundle], text('no opk'));
    assert.equal(JSON.parse(r.envelopes[0].envelope).opk_id, null);
    assert.deepEqual((await receive(bob, r.envelopes[0].envelope)).payload, text('no opk'));
  });

  test('devices without a channel or bundle are reported missing; badly signed bundles fail', async () => {
    const dir = new Directory();
    const alice = await newDevice(dir, 1);
    const bob = await newDevice(dir, 2);
    const carol = await newDevice(dir, 3);
    const [carolBundle] = dir.claim([3]);
    const other = ed25519KeyPair();
    const badSig = { ...carolBundle, signed_prekey: { ...carolBundle.signed_prekey, signature: toBase64(await ed25519Sign(new Uint8Array(1), other)) } };
    const r = await alice.encryptForDevices([{ user: 2, device_id: bob.deviceId }, badSig, { user: 1, device_id: alice.deviceId }], text('x'));
    assert.deepEqual(r.envelopes, []);
    assert.deepEqual(r.missing, [{ user: '2', device_id: bob.deviceId }]);
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0].device_id, carol.deviceId);
    assert.match(r.failures[0].error, /signature/);
  });

  test('a known device presenting other keys surfaces as an identity change, both ways', async () => {
    const dir = new Directory();
    const bobStore = new MemoryStore();
    const { e2ee: bob, upload: bobUpload } = await E2ee.createDevice(bobStore, 2, 3);
    dir.add(2, bobUpload);
    const alice = await newDevice(dir, 1);
    const first = await alice.encryptForDevices(dir.claim([2]), text('hi'));
    await receive(bob, first.envelopes[0].envelope);

    // Someone (the server, or a reinstall) reuses Alice's device id with new keys.
    const imposterStore = new MemoryStore();
    await E2ee.createDevice(imposterStore, 1, 1);
    const record = (await imposterStore.get<DeviceRecord>('device'))!;
    record.device_id = alice.deviceId;
    const fakeStore = new MemoryStore();
    await fakeStore.put('device', record);
    const fake = (await E2ee.load(fakeStore))!;
    const r = await fake.encryptForDevices(dir.claim([2]), text('trust me'));
    await assert.rejects(receive(bob, r.envelopes[0].envelope), (e: unknown) => {
      assert.ok(e instanceof IdentityChangedError);
      assert.equal(e.code, 'identity_changed');
      assert.equal(e.device_id, alice.deviceId);
      assert.equal(e.known.signing_key, alice.publicIdentity.signing_key);
      assert.equal(e.seen.signing_key, record.signing.public_key);
      return true;
    });
    // Nothing was replaced silently; after the user accepts, it opens.
    assert.equal((await bob.knownIdentity(1, alice.deviceId))?.signing_key, alice.publicIdentity.signing_key);
    await bob.acceptIdentity(1, alice.deviceId, { identity_key: record.identity.public_key, signing_key: record.signing.public_key });
    assert.deepEqual((await receive(bob, r.envelopes[0].envelope)).payload, text('trust me'));

    // Sending side: a claimed bundle for a known device with other keys is not encrypted to.
    const swapped = { ...bundleOf(record, null), user: 2, device_id: bob.deviceId };
    const out = await alice.encryptForDevices([swapped], text('to whom?'));
    assert.deepEqual(out.envelopes, []);
    assert.equal(out.identityChanges.length, 1);
    assert.equal(out.identityChanges[0].known.signing_key, bob.publicIdentity.signing_key);
  });

  test('an index further ahead than the skipped-key window is refused', async () => {
    const a = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const bStore = new MemoryStore();
    const b = await fixedDevice('2', 'BBBBBBBBBBBBBBBB', 0x40);
    await bStore.put('device', b.device);
    for (const k of b.opks) await bStore.put(storeKeys.oneTimePrekey(k.key_id), k);
    const bob = (await E2ee.load(bStore))!;
    const channel = openOutboundChannel(a.device, await verifyBundle(bundleOf(b.device, b.opks[0])));
    const first = await sealEnvelope(a.device, channel, new TextEncoder().encode(JSON.stringify(text('0'))));
    await receive(bob, first.envelope);
    const far = { ...first.channel, chain_key: toBase64(advance(fromBase64(first.channel.chain_key), MAX_SKIPPED_KEYS + 1)), n: first.channel.n + MAX_SKIPPED_KEYS + 1 };
    const tooFar = await sealEnvelope(a.device, far, new TextEncoder().encode(JSON.stringify(text('far'))));
    await rejects(receive(bob, tooFar.envelope), 'too_far');
    // Exactly at the window's edge is fine.
    const edge = { ...first.channel, chain_key: toBase64(advance(fromBase64(first.channel.chain_key), MAX_SKIPPED_KEYS)), n: first.channel.n + MAX_SKIPPED_KEYS };
    assert.deepEqual((await receive(bob, (await sealEnvelope(a.device, edge, new TextEncoder().encode(JSON.stringify(text('edge'))))).envelope)).payload, text('edge'));
  });

  test('malformed envelopes and payloads are refused', async () => {
    const { bob, envelopes } = await aliceToBob(1);
    await rejects(receive(bob, 'not json'), 'malformed');
    await rejects(receive(bob, '[]'), 'malformed');
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.v = 2))), 'unsupported_version');
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.eph = 'AAAA'))), 'malformed');
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.extra = 1))), 'malformed');
    await rejects(receive(bob, edit(envelopes[0], (e) => (e.n = -1))), 'malformed');
  });

  test('envelopes stay under the 16 KiB the server relays', async () => {
    const { alice, bob } = await aliceToBob(1);
    await assert.rejects(alice.encryptForDevices([{ user: 2, device_id: bob.deviceId }], text('x'.repeat(16 * 1024))), RangeError);
  });
});
