// Known-answer tests: the RFC / NIST vectors through the exact wrappers the library uses, and
// our own vectors for the ratchet, X3DH, envelope and group formats (any change to a KDF chain,
// label or layout fails here and must come with a protocol version change).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { keyPairOf, signedPrekeyMessage, verifyBundle } from '../../web/core/e2ee/device.js';
import { frame, fromHex, toBase64, toHex, utf8 } from '../../web/core/e2ee/encoding.js';
import { createOutboundSession, decryptGroupMessage, encryptGroupMessage, exportSessionKey, importSessionKey } from '../../web/core/e2ee/group.js';
import { openEnvelope, openOutboundChannel, sealEnvelope, x3dhInitiate, x3dhRespond } from '../../web/core/e2ee/pairwise.js';
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  ed25519KeyPair,
  ed25519Sign,
  ed25519Verify,
  hkdfSha256,
  hmacSha256,
  setEd25519Backend,
  x25519Dh,
  x25519KeyPair,
  x25519PublicKey,
} from '../../web/core/e2ee/primitives.js';
import { LABELS, advance, aesKeyOf, chainStep } from '../../web/core/e2ee/ratchet.js';
import { fingerprintDigits, safetyNumber } from '../../web/core/e2ee/safety.js';
import { bundleOf, fixedDevice, seed } from './helpers.js';

// RFC 8032 §7.1, TEST 1–3.
const ED25519 = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('RFC known answers through our wrappers', () => {
  after(() => setEd25519Backend('auto'));

  for (const backend of ['noble', 'auto'] as const) {
    test(`RFC 8032 §7.1 Ed25519 tests 1–3 (${backend === 'auto' ? 'WebCrypto where available' : 'noble'})`, async () => {
      setEd25519Backend(backend);
      for (const v of ED25519) {
        const pair = ed25519KeyPair(fromHex(v.secret));
        assert.equal(toHex(pair.publicKey), v.public);
        const sig = await ed25519Sign(fromHex(v.message), pair);
        assert.equal(toHex(sig), v.signature);
        assert.equal(await ed25519Verify(sig, fromHex(v.message), pair.publicKey), true);
        const forged = fromHex(v.signature);
        forged[63] ^= 0x01;
        assert.equal(await ed25519Verify(forged, fromHex(v.message), pair.publicKey), false);
        assert.equal(await ed25519Verify(sig, utf8('other'), pair.publicKey), false);
      }
    });
  }

  test('RFC 7748 §5.2 X25519 scalar multiplication', () => {
    assert.equal(
      toHex(x25519Dh(fromHex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), fromHex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'))),
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    );
    assert.equal(
      toHex(x25519Dh(fromHex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'), fromHex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'))),
      '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    );
  });

  test('RFC 7748 §5.2 X25519 iterated once', () => {
    const nine = new Uint8Array(32);
    nine[0] = 9;
    assert.equal(toHex(x25519Dh(nine, nine)), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
  });

  test('RFC 7748 §6.1 X25519 Diffie-Hellman', () => {
    const alice = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    assert.equal(toHex(x25519PublicKey(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(toHex(x25519KeyPair(bob).publicKey), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    assert.equal(toHex(x25519Dh(alice, x25519PublicKey(bob))), shared);
    assert.equal(toHex(x25519Dh(bob, x25519PublicKey(alice))), shared);
  });

  test('X25519 refuses a low-order public key', () => {
    assert.throws(() => x25519Dh(seed(1), new Uint8Array(32)));
  });

  test('RFC 5869 test case 1: HKDF-SHA256', () => {
    const okm = hkdfSha256(fromHex('0b'.repeat(22)), fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    assert.equal(toHex(okm), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });

  test('RFC 4231 test case 2: HMAC-SHA256', () => {
    assert.equal(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?'))), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  test('AES-256-GCM: McGrew–Viega test cases 14 and 15', () => {
    const k14 = new Uint8Array(32);
    const iv14 = new Uint8Array(12);
    const c14 = aesGcmEncrypt(k14, iv14, new Uint8Array(16));
    assert.equal(toHex(c14), 'cea7403d4d606b6e074ec5d3baf39d18' + 'd0d1c8a799996bf0265b98b5d48ab919');
    assert.equal(toHex(aesGcmDecrypt(k14, iv14, c14)!), '00'.repeat(16));

    const k15 = fromHex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
    const iv15 = fromHex('cafebabefacedbaddecaf888');
    const p15 = fromHex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255');
    const c15 = aesGcmEncrypt(k15, iv15, p15);
    assert.equal(
      toHex(c15),
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad' + 'b094dac5d93471bdec1a502270e3cc6c',
    );
    assert.deepEqual(aesGcmDecrypt(k15, iv15, c15), p15);
    const bad = Uint8Array.from(c15);
    bad[0] ^= 1;
    assert.equal(aesGcmDecrypt(k15, iv15, bad), null);
  });
});

describe('our own vectors (protocol v1)', () => {
  test('canonical framing', () => {
    assert.equal(toHex(frame('x', 'ab', 7, new Uint8Array([1, 2]))), '00000001' + '78' + '00000002' + '6162' + '00000004' + '00000007' + '00000002' + '0102');
  });

  test('hash ratchet: KDF_CK and message AES keys', () => {
    const ck = seed(0);
    const step = chainStep(ck);
    assert.equal(toHex(step.messageKey), '9b4c8120a4823a95f47cde17a244f4507244ee6e3957d1fab9fa29b44d3829b7');
    assert.equal(toHex(step.next), '4304c22c84a53755ab08ead8d97a8d429be5efa480682d7ad1da27f73e1fbe1d');
    assert.equal(toHex(advance(ck, 1)), toHex(step.next));
    assert.equal(toHex(advance(ck, 3)), '04428b813675036c07233edd0be13b7c422610a8c3d6ecc7c8fbd85671e47a13');
    assert.equal(toHex(aesKeyOf(step.messageKey, LABELS.pairwiseKey)), '4d21640389c2925bdbb037631f7b8c556b591f32592e121d014241ac1b0f4ff9');
    assert.equal(toHex(aesKeyOf(step.messageKey, LABELS.groupKey)), 'e051e3e14f96bfb8c2811f896906bbf5de7de78f3b3527e7a658ef7900416fdf');
  });

  test('device keys and signed prekey signature from fixed seeds', async () => {
    const { device } = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    assert.equal(device.signing.public_key, 'd3bocLkzVPKgskwj8qNsxOgOIjIYwbl5Jv3QGDlqK5s=');
    assert.equal(device.identity.public_key, 'TSe87jE1xJRLKNJ92Amwe+EMNRYNIBMcqn6FV1SY0Hw=');
    assert.equal(device.signed_prekeys[0].signature, 'MseV4x2ylLKrqM22KYY+n4KrrCOKONVuX2HFaAgOqmd1rL0Re6wgaUt6VQJntb4i/sgZPnSmMKQj+nFFD49XCg==');
    const spk = device.signed_prekeys[0];
    const msg = signedPrekeyMessage(keyPairOf(device.signing).publicKey, keyPairOf(device.identity).publicKey, 1, keyPairOf(spk).publicKey);
    assert.equal(msg.length, 4 + 26 + 3 * (4 + 32) + 4 + 4);
  });

  test('X3DH shared secret, with and without a one-time prekey, equal on both sides', async () => {
    const a = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const b = await fixedDevice('2', 'BBBBBBBBBBBBBBBB', 0x40);
    const eph = x25519KeyPair(seed(0x80));
    const with4 = await verifyBundle(bundleOf(b.device, b.opks[0]));
    const with3 = await verifyBundle(bundleOf(b.device, null));
    const sk4 = x3dhInitiate(keyPairOf(a.device.identity), eph, with4);
    const sk3 = x3dhInitiate(keyPairOf(a.device.identity), eph, with3);
    assert.equal(toHex(sk4), '90c5df463b9f4ed09dc84e787bd83e90bddc9455253ad0f382d8e0ffecec8500');
    assert.equal(toHex(sk3), 'ebc1cf57041d7c918e16c935d8928b5e05c6ce76bf2bc21ada1755b54761fe25');
    const bId = keyPairOf(b.device.identity);
    const spkSecret = keyPairOf(b.device.signed_prekeys[0]).secretKey;
    const aId = keyPairOf(a.device.identity).publicKey;
    assert.equal(toHex(x3dhRespond(bId, spkSecret, keyPairOf(b.opks[0]).secretKey, aId, eph.publicKey)), toHex(sk4));
    assert.equal(toHex(x3dhRespond(bId, spkSecret, null, aId, eph.publicKey)), toHex(sk3));
  });

  test('pairwise envelope bytes', async () => {
    const a = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const b = await fixedDevice('2', 'BBBBBBBBBBBBBBBB', 0x40);
    const channel = openOutboundChannel(a.device, await verifyBundle(bundleOf(b.device, b.opks[0])), 0, x25519KeyPair(seed(0x80)));
    const { envelope } = await sealEnvelope(a.device, channel, utf8('hello bob'), seed(0x90).slice(0, 12));
    assert.equal(
      envelope,
      '{"v":1,"sender_user":"1","sender_device":"AAAAAAAAAAAAAAAA","sender_identity":"TSe87jE1xJRLKNJ92Amwe+EMNRYNIBMcqn6FV1SY0Hw=",' +
        '"sender_signing":"d3bocLkzVPKgskwj8qNsxOgOIjIYwbl5Jv3QGDlqK5s=","recipient_device":"BBBBBBBBBBBBBBBB","eph":"ST6C/HRGSlkmiBdiPSBTxeuOLMSpiLT+4XnsawENUx0=",' +
        '"spk_id":1,"opk_id":1,"n":0,"iv":"kJGSk5SVlpeYmZqb","ct":"68bsAU8mB5L3qS948VeWaM+KCPYHDdd2jg==",' +
        '"sig":"caXJVvnnkjmcTrW5yDDKSLLPNqXJuIWTpFmlZUyPbT9VhN28cFUrjmKVS/1ARIF9YQNXBn5kJ1o+YfLDCsILAg=="}',
    );
    const opened = await openEnvelope(envelope, { device: b.device, known: undefined, channel: undefined, oneTimePrekey: b.opks[0] });
    assert.equal(new TextDecoder().decode(opened.plaintext), 'hello bob');
    assert.equal(opened.consumedOneTimePrekey, 1);
  });

  test('group message bytes at indices 0 and 1', async () => {
    const a = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const session = createOutboundSession(42, a.device, 0, { session_id: seed(0xa0).slice(0, 16), chain_key: seed(0xb0) });
    const key = exportSessionKey(session, a.device);
    const m0 = await encryptGroupMessage(session, a.device, utf8('hello room'), seed(0xc0).slice(0, 12));
    const m1 = await encryptGroupMessage(m0.session, a.device, utf8('second'), seed(0xd0).slice(0, 12));
    assert.equal(
      m0.content,
      'e2ee:1:AaChoqOkpaanqKmqq6ytrq8QQUFBQUFBQUFBQUFBQUFBQQAAAADAwcLDxMXGx8jJysuqXa-3eyK0ENhr25nhZJa58tdPsdwJfzLxi7C9CR5E1e-kJ7w6erD_VuEYnFWa4lA0OT-PY5vmG1PjB8Hg_x8DNQpmlblnaOjHZ6UFadllh-1we5IUYZcq81s',
    );
    assert.equal(
      m1.content,
      'e2ee:1:AaChoqOkpaanqKmqq6ytrq8QQUFBQUFBQUFBQUFBQUFBQQAAAAHQ0dLT1NXW19jZ2tsMJDKV_AbL2rL4dVqScV1mD3RxtkLNVi3HPic35or_gh4KSpLFv0sqozBDsxd4iZhicULoENgwXqiNHKMzGP4M93XgjB_C07qX-F_4yuDPwZvcvFNoEQ',
    );
    assert.equal(m1.session.chain_key, toBase64(advance(seed(0xb0), 2)));
    const inbound = importSessionKey(key, { user: '1', device_id: 'AAAAAAAAAAAAAAAA', signing_key: a.device.signing.public_key }, undefined, 0);
    const d1 = await decryptGroupMessage(inbound, 42, { id: 11, sender: 1, content: m1.content });
    assert.equal(new TextDecoder().decode(d1.plaintext), 'second');
  });

  test('safety number (5,200 SHA-512 iterations per side)', async () => {
    const a = await fixedDevice('1', 'AAAAAAAAAAAAAAAA', 0x10);
    const b = await fixedDevice('2', 'BBBBBBBBBBBBBBBB', 0x40);
    const ab = safetyNumber({ user: 1, signing_key: a.device.signing.public_key }, { user: 2, signing_key: b.device.signing.public_key });
    assert.equal(ab, '08951 90014 53822 35798 97970 47215 88881 49120 42091 04798 66299 69734');
    assert.equal(fingerprintDigits({ user: 1, signing_key: a.device.signing.public_key }).length, 30);
  });
});
