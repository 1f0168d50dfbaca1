import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, ok, users } from './chat-helpers.js';

const KEY_KEYS = ['created_at', 'id', 'key_format', 'private_key', 'public_key', 'user'];
const b64 = (n: number, fill?: number) => (fill === undefined ? crypto.randomBytes(n) : Buffer.alloc(n, fill)).toString('base64');
const x25519 = () => crypto.generateKeyPairSync('x25519');

/** A Signal-style compact public key (0x05 type byte + 32 bytes). */
const signalKey = () => Buffer.concat([Buffer.from([5]), crypto.randomBytes(32)]).toString('base64');
const prekeys = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key_id: from + i, public_key: signalKey() }));
const signed = (keyId = 1) => ({ key_id: keyId, public_key: signalKey(), signature: b64(64) });

describe('e2ee key directory', () => {
  let t: TestApp;
  let a: TestUser, b: TestUser;
  before(async () => {
    // Claim limits off: these tests drain prekeys on purpose (the limits: below, and limits-prekeys.test.ts).
    t = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '0', RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET: '0', PREKEY_MAX_UNCLAIMED: '150' });
    [a, b] = await users(t, 2);
  });
  after(() => t.close());

  const publish = (user: TestUser, body: Record<string, unknown>) => call(t, user, 'POST', '/api/e2ee_keys/', body);

  it('stores public keys in the usual encodings, and lists a user\'s keys', async () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ed = crypto.generateKeyPairSync('ed25519');
    const samples: Array<[string, string]> = [
      [b64(32), 'raw'],
      [signalKey(), 'raw'],
      [ec.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), 'spki'],
      [ec.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'pem'],
      [rsa.publicKey.export({ format: 'pem', type: 'pkcs1' }) as string, 'pem'],
      [JSON.stringify(ed.publicKey.export({ format: 'jwk' })), 'jwk'],
      [x25519().publicKey.export({ format: 'der', type: 'spki' }).toString('base64url'), 'spki'],
    ];
    const stored = [];
    for (const [publicKey, format] of samples) {
      const key = await ok(publish(a, { public_key: publicKey, private_key: 'laptop keychain' }), 201);
      assert.deepEqual(Object.keys(key).sort(), KEY_KEYS);
      assert.equal(key.key_format, format, publicKey);
      assert.equal(key.user, a.id);
      assert.equal(key.public_key, publicKey.trim());
      assert.equal(key.private_key, 'laptop keychain', 'the label, for its owner');
      stored.push(key);
    }
    const again = await ok(publish(a, { public_key: samples[0][0] }), 200);
    assert.equal(again.id, stored[0].id, 'the same key again is not stored twice');
    const theirs = await ok(call(t, b, 'GET', `/api/e2ee_keys/?user=${a.id}`));
    assert.deepEqual(theirs.map((k: any) => k.id), stored.map((k) => k.id));
    assert.ok(theirs.every((k: any) => k.private_key === null), 'the label is shown to its owner only');
    assert.deepEqual((await ok(call(t, a, 'GET', '/api/e2ee_keys/'))).map((k: any) => k.id), stored.map((k) => k.id));
    assert.equal((await ok(call(t, b, 'GET', `/api/e2ee_keys/${stored[1].id}/`))).public_key, samples[1][0]);
    assert.equal((await call(t, b, 'GET', '/api/e2ee_keys/?user=999999')).statusCode, 404);
    assert.equal((await call(t, null, 'GET', `/api/e2ee_keys/?user=${a.id}`)).statusCode, 401);
  });

  it('refuses anything that parses as a private key, in either field, and stores nothing', async () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const x = x25519();
    const secrets = [
      x.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      ec.privateKey.export({ format: 'pem', type: 'sec1' }) as string,
      rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string,
      rsa.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----',
      JSON.stringify(ec.privateKey.export({ format: 'jwk' })),
      JSON.stringify(x.privateKey.export({ format: 'jwk' })),
      JSON.stringify({ kty: 'oct', k: b64(32) }),
      x.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      ec.privateKey.export({ format: 'der', type: 'sec1' }).toString('base64url'),
      rsa.privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64'),
      x.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
    ];
    const [user] = await users(t, 1);
    for (const secret of secrets) {
      const asPublic = await ok(publish(user, { public_key: secret }), 400);
      assert.match(asPublic.public_key[0], /private|Only PEM/i, secret.slice(0, 40));
      const asLabel = await ok(publish(user, { public_key: b64(32), private_key: secret }), 400);
      assert.match(asLabel.private_key[0], /private/i, secret.slice(0, 40));
    }
    // What could be raw secret bytes is no label either.
    for (const label of [b64(32), crypto.randomBytes(32).toString('hex')]) {
      assert.ok((await ok(publish(user, { public_key: b64(32), private_key: label }), 400)).private_key, label);
    }
    assert.ok((await ok(publish(user, { public_key: b64(32), private_key: 'x'.repeat(101) }), 400)).private_key);
    assert.deepEqual(await ok(call(t, user, 'GET', '/api/e2ee_keys/')), [], 'nothing was stored');
    const fine = await ok(publish(user, { public_key: b64(32), private_key: 'stored-in-the-phone-secure-enclave-slot-2' }), 201);
    assert.equal(fine.private_key, 'stored-in-the-phone-secure-enclave-slot-2');
  });

  it('refuses public keys that are not sane', async () => {
    const [user] = await users(t, 1);
    for (const value of ['...', 'hello world', b64(31), b64(40), b64(5000), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', '{"kty":"EC"}', '{"x":1}', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----']) {
      const res = await publish(user, { public_key: value });
      assert.equal(res.statusCode, 400, value.slice(0, 30));
      assert.ok(res.json().public_key, res.body);
    }
    assert.ok((await ok(publish(user, { public_key: 'A'.repeat(16385) }), 400)).public_key);
    assert.ok((await ok(publish(user, {}), 400)).public_key);
  });

  it('lets only the owner delete a key', async () => {
    const [owner, other] = await users(t, 2);
    const key = await ok(publish(owner, { public_key: b64(32) }), 201);
    assert.equal((await call(t, other, 'DELETE', `/api/e2ee_keys/${key.id}/`)).statusCode, 403);
    await ok(call(t, owner, 'DELETE', `/api/e2ee_keys/${key.id}/`), 204);
    assert.equal((await call(t, owner, 'GET', `/api/e2ee_keys/${key.id}/`)).statusCode, 404);
  });

  it('publishes an identity key, a signed prekey and bounded batches of one-time prekeys', async () => {
    const [user] = await users(t, 1);
    const upload = (body: Record<string, unknown>) => call(t, user, 'POST', '/api/e2ee_keys/prekeys/', body);
    assert.ok((await ok(upload({ one_time_prekeys: prekeys(1, 5) }), 400)).signed_prekey, 'the first upload needs the identity and signed prekey');
    assert.ok((await ok(upload({ identity_key: signalKey() }), 400)).signed_prekey);
    assert.ok((await ok(upload({ signed_prekey: signed() }), 400)).identity_key);
    assert.ok((await ok(upload({ identity_key: b64(20), signed_prekey: signed() }), 400)).identity_key);
    assert.ok((await ok(upload({ identity_key: signalKey(), signed_prekey: { ...signed(), signature: b64(10) } }), 400)).signed_prekey);
    const identity = signalKey();
    const spk = signed(7);
    const status = await ok(upload({ identity_key: identity, signed_prekey: spk, one_time_prekeys: prekeys(1, 100) }));
    assert.deepEqual(status, { identity_key: identity, signed_prekey: spk, one_time_prekeys: 100 });
    assert.ok((await ok(upload({ one_time_prekeys: prekeys(200, 101) }), 400)).one_time_prekeys, 'at most 100 a request');
    assert.ok((await ok(upload({ one_time_prekeys: prekeys(100, 2) }), 400)).one_time_prekeys, 'key_id 100 is taken');
    assert.ok((await ok(upload({ one_time_prekeys: [...prekeys(300, 1), ...prekeys(300, 1)] }), 400)).one_time_prekeys, 'repeated key_id');
    assert.ok((await ok(upload({ one_time_prekeys: [{ key_id: 400, public_key: b64(48) }] }), 400)).one_time_prekeys);
    await ok(upload({ one_time_prekeys: prekeys(101, 50) }));
    assert.ok((await ok(upload({ one_time_prekeys: prekeys(151, 1) }), 400)).one_time_prekeys, 'PREKEY_MAX_UNCLAIMED is 150');
    assert.deepEqual(await ok(call(t, user, 'GET', '/api/e2ee_keys/prekeys/count/')), { count: 150 });
    const rotated = signed(8);
    assert.deepEqual((await ok(upload({ signed_prekey: rotated }))).signed_prekey, rotated);
    assert.ok((await ok(upload({ identity_key: signalKey() }), 400)).signed_prekey, 'a new identity needs a new signed prekey');
    const fresh = await ok(upload({ identity_key: signalKey(), signed_prekey: signed(9), one_time_prekeys: prekeys(1, 3) }));
    assert.equal(fresh.one_time_prekeys, 3, "the old identity's one-time prekeys are gone");
    assert.deepEqual(await ok(call(t, user, 'GET', '/api/e2ee_keys/prekeys/')), fresh);
  });

  it('hands out a bundle with one one-time prekey per claim, then bundles without one', async () => {
    const [owner, claimer] = await users(t, 2);
    const identity = signalKey();
    const spk = signed(1);
    const otps = prekeys(10, 3);
    await ok(call(t, owner, 'POST', '/api/e2ee_keys/prekeys/', { identity_key: identity, signed_prekey: spk, one_time_prekeys: otps }));
    const claim = (user: TestUser, target: number) => call(t, user, 'POST', `/api/e2ee_keys/bundle/${target}/claim/`);
    const got = [];
    for (let i = 0; i < 3; i++) {
      const bundle = await ok(claim(claimer, owner.id));
      assert.equal(bundle.user, owner.id);
      assert.equal(bundle.identity_key, identity);
      assert.deepEqual(bundle.signed_prekey, spk);
      got.push(bundle.one_time_prekey);
    }
    assert.deepEqual(got, otps, 'oldest first, each once');
    assert.deepEqual(await ok(call(t, owner, 'GET', '/api/e2ee_keys/prekeys/count/')), { count: 0 });
    const empty = await ok(claim(claimer, owner.id));
    assert.equal(empty.one_time_prekey, null);
    assert.equal(empty.identity_key, identity);
    assert.equal((await claim(owner, owner.id)).statusCode, 400, 'not your own');
    assert.equal((await claim(owner, claimer.id)).statusCode, 404, 'no prekeys published');
    assert.equal((await claim(owner, 999_999)).statusCode, 404);
    assert.equal((await call(t, null, 'POST', `/api/e2ee_keys/bundle/${owner.id}/claim/`)).statusCode, 401);
  });

  it('never hands out a one-time prekey twice under concurrent claims (app.inject)', async () => {
    const owner = (await users(t, 1))[0];
    const claimers = await users(t, 5);
    const keys = prekeys(1, 40);
    await ok(call(t, owner, 'POST', '/api/e2ee_keys/prekeys/', { identity_key: signalKey(), signed_prekey: signed(), one_time_prekeys: keys }));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(t, claimers[i % claimers.length], 'POST', `/api/e2ee_keys/bundle/${owner.id}/claim/`)),
    );
    assert.ok(results.every((r) => r.statusCode === 200), results.map((r) => r.statusCode).join());
    const handed = results.map((r) => r.json().one_time_prekey).filter((k) => k !== null);
    assert.equal(handed.length, 40, 'every key handed out, none twice');
    assert.equal(new Set(handed.map((k) => k.key_id)).size, 40);
    assert.deepEqual(handed.map((k) => k.key_id).sort((x, y) => x - y), keys.map((k) => k.key_id));
    for (const k of handed) assert.equal(k.public_key, keys[k.key_id - 1].public_key);
    assert.deepEqual(await ok(call(t, owner, 'GET', '/api/e2ee_keys/prekeys/count/')), { count: 0 });
  });

  it('never hands out a one-time prekey twice under concurrent claims (HTTP)', async () => {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const owner = (await users(t, 1))[0];
    const claimers = await users(t, 8);
    const keys = prekeys(1000, 100);
    await ok(call(t, owner, 'POST', '/api/e2ee_keys/prekeys/', { identity_key: signalKey(), signed_prekey: signed(), one_time_prekeys: keys }));
    const claim = (user: TestUser) => fetch(`${base}/api/e2ee_keys/bundle/${owner.id}/claim/`, { method: 'POST', headers: user.auth }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => claim(claimers[i % claimers.length])));
    assert.ok(results.every((r) => r.status === 200), results.map((r) => r.status).join());
    const handed = results.map((r) => r.body.one_time_prekey).filter((k) => k !== null);
    assert.equal(handed.length, 100);
    assert.equal(new Set(handed.map((k: any) => k.key_id)).size, 100);
    assert.equal(results.filter((r) => r.body.one_time_prekey === null).length, 20);
    const left = await t.ctx.db.selectFrom('one_time_prekeys').select('id').where('user_id', '=', owner.id).execute();
    assert.equal(left.length, 0);
  });

  it('limits claims per claimer when configured (429)', async () => {
    const limited = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '2' });
    try {
      const [owner, claimer] = await users(limited, 2);
      await ok(call(limited, owner, 'POST', '/api/e2ee_keys/prekeys/', { identity_key: signalKey(), signed_prekey: signed(), one_time_prekeys: prekeys(1, 10) }));
      const url = `/api/e2ee_keys/bundle/${owner.id}/claim/`;
      await ok(call(limited, claimer, 'POST', url));
      await ok(call(limited, claimer, 'POST', url));
      const third = await call(limited, claimer, 'POST', url);
      assert.equal(third.statusCode, 429);
      assert.ok(Number(third.headers['retry-after']) > 0);
      assert.deepEqual(await ok(call(limited, owner, 'GET', '/api/e2ee_keys/prekeys/count/')), { count: 8 }, 'the refused claim took nothing');
    } finally {
      await limited.close();
    }
  });

  it('documents the key routes in the OpenAPI schema', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const p of ['/api/e2ee_keys/', '/api/e2ee_keys/prekeys/', '/api/e2ee_keys/prekeys/count/', '/api/e2ee_keys/bundle/{user_id}/claim/', '/api/reactions/', '/api/notifications/', '/api/notifications/mark_all_read/']) {
      assert.ok(spec.paths[p], p);
    }
    assert.deepEqual(spec.paths['/api/e2ee_keys/bundle/{user_id}/claim/'].post.tags, ['e2ee keys']);
  });
});
