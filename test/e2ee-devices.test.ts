// End-to-end encryption, the server's side (issue 12): the device-aware key directory, its
// events, and the to-device envelope channel. The room flag, search and attachments: e2ee-server.test.ts.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createTestEnv, PASSWORD, REDIS_URL, type TestApp, type TestUser } from './helpers.js';
import { call, chatApp, createRoom, group, ok, privateRoom, socketOf, users } from './chat-helpers.js';
import { account, request, startServer } from './process-helpers.js';
import { connect, listen, refusedStatus } from './ws-helpers.js';

const DEVICE_KEYS = ['created_at', 'device_id', 'display_name', 'identity_key', 'signed_prekey', 'signing_key', 'user'];
const BUNDLE_KEYS = ['device_id', 'identity_key', 'one_time_prekey', 'signed_prekey', 'signing_key', 'user'];

const key32 = () => crypto.randomBytes(32).toString('base64');
const signedPrekey = (keyId = 1) => ({ key_id: keyId, public_key: key32(), signature: crypto.randomBytes(64).toString('base64') });
const prekeys = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key_id: from + i, public_key: key32() }));
/** As the browser client makes them: base64url of 12 random bytes. */
const newDeviceId = () => crypto.randomBytes(12).toString('base64url');
const deviceBody = (extra: Record<string, unknown> = {}): any => ({ device_id: newDeviceId(), identity_key: key32(), signing_key: key32(), signed_prekey: signedPrekey(), ...extra });

/** The app's address (listening through the socket helper, which listens once per app). */
async function addressOf(t: TestApp): Promise<{ http: string; ws: string }> {
  const [probe] = await users(t, 1);
  await (await socketOf(t, probe)).close();
  const { port } = t.app.server.address() as { port: number };
  return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
}

/**
 * Opens a general_updates socket that the server is expected to close after the upgrade: its close
 * code and reason, and every frame it received first.
 */
function refusedSocket(wsBase: string, token: string, query: Record<string, string>): Promise<{ code: number; reason: string; frames: any[] }> {
  const url = new URL('/ws/general_updates/', wsBase);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const frames: any[] = [];
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      frames.push(frame);
      if (frame.type === 'ready') {
        ws.close();
        reject(new Error(`not refused: the socket became ready (${query.device_id})`));
      }
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), frames }));
  });
}

function directory(t: TestApp) {
  return {
    register: (user: TestUser, body: Record<string, unknown>, status = 201) => ok(call(t, user, 'POST', '/api/e2ee_keys/devices/', body), status),
    list: (user: TestUser, of?: number) => call(t, user, 'GET', `/api/e2ee_keys/devices/${of === undefined ? '' : `?user=${of}`}`),
    claim: (user: TestUser, devices: Array<{ user: number; device_id: string }>) => call(t, user, 'POST', '/api/e2ee_keys/devices/claim/', { devices }),
    prekeys: (user: TestUser, deviceId: string, body?: Record<string, unknown>) =>
      call(t, user, body ? 'POST' : 'GET', `/api/e2ee_keys/devices/${deviceId}/prekeys/`, body),
    remove: (user: TestUser, deviceId: string) => call(t, user, 'DELETE', `/api/e2ee_keys/devices/${deviceId}/`),
  };
}

describe('e2ee device directory', () => {
  let t: TestApp;
  let d: ReturnType<typeof directory>;
  before(async () => {
    // Claim limits off: these tests drain prekeys on purpose (the limits have their own test below).
    t = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '0', RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET: '0', PREKEY_MAX_UNCLAIMED: '150', E2EE_MAX_DEVICES_PER_USER: '4' });
    d = directory(t);
  });
  after(() => t.close());

  it('registers a device (201), answers the same keys again with 200, and refuses other keys for it (409)', async () => {
    const [a, b] = await users(t, 2);
    const body = deviceBody({ display_name: 'Firefox\u202e on the\nlaptop', one_time_prekeys: prekeys(1, 5) });
    const device = await d.register(a, body);
    assert.deepEqual(Object.keys(device).sort(), DEVICE_KEYS);
    assert.equal(device.user, a.id);
    assert.equal(device.device_id, body.device_id);
    assert.equal(device.identity_key, body.identity_key);
    assert.deepEqual(device.signed_prekey, body.signed_prekey);
    assert.equal(device.display_name, 'Firefox on thelaptop', 'control and bidirectional characters removed');
    assert.deepEqual(await d.register(a, body, 200), device, 'a retry changes nothing');
    // The same bytes in base64url without padding are the same keys (answered in standard base64).
    const urlSafe = { ...body, identity_key: Buffer.from(body.identity_key, 'base64').toString('base64url'), one_time_prekeys: undefined };
    assert.deepEqual(await d.register(a, urlSafe, 200), device);
    assert.ok((await ok(call(t, a, 'POST', '/api/e2ee_keys/devices/', { ...body, identity_key: key32() }), 409)).detail);
    assert.equal((await call(t, a, 'POST', '/api/e2ee_keys/devices/', { ...body, signing_key: key32() })).statusCode, 409);
    assert.deepEqual(await ok(d.prekeys(a, body.device_id)), { one_time_prekeys: 5 });
    // Another user may use the same device_id: it names a device of theirs.
    assert.equal((await d.register(b, { ...deviceBody(), device_id: body.device_id })).user, b.id);
    const second = await d.register(a, deviceBody());
    assert.deepEqual(await ok(d.list(a)), [device, second], 'yours, oldest first');
    assert.deepEqual(await ok(d.list(b, a.id)), [device, second], 'anyone may list them');
    assert.equal((await d.list(b, 999_999)).statusCode, 404);
    assert.equal((await call(t, null, 'GET', '/api/e2ee_keys/devices/')).statusCode, 401);
  });

  it('refuses private key material, keys of the wrong size and malformed fields, and stores nothing', async () => {
    const [user] = await users(t, 1);
    const x = crypto.generateKeyPairSync('x25519');
    const ed = crypto.generateKeyPairSync('ed25519');
    const secrets = [
      x.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      JSON.stringify(ed.privateKey.export({ format: 'jwk' })),
      x.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      ed.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url'),
    ];
    for (const secret of secrets) {
      for (const field of ['identity_key', 'signing_key']) {
        const res = await call(t, user, 'POST', '/api/e2ee_keys/devices/', deviceBody({ [field]: secret }));
        assert.equal(res.statusCode, 400, `${field}: ${secret.slice(0, 30)}`);
        assert.ok(res.json()[field], res.body);
      }
    }
    const der = x.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    assert.match((await ok(call(t, user, 'POST', '/api/e2ee_keys/devices/', deviceBody({ identity_key: der })), 400)).identity_key[0], /private/);
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ identity_key: crypto.randomBytes(31).toString('base64') }, 'identity_key'],
      [{ signing_key: crypto.randomBytes(33).toString('base64') }, 'signing_key'],
      [{ identity_key: 'not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!' }, 'identity_key'],
      [{ signed_prekey: { ...signedPrekey(), signature: crypto.randomBytes(63).toString('base64') } }, 'signed_prekey'],
      [{ signed_prekey: { ...signedPrekey(), public_key: crypto.randomBytes(33).toString('base64') } }, 'signed_prekey'],
      [{ signed_prekey: undefined }, 'signed_prekey'],
      [{ one_time_prekeys: [...prekeys(1, 2), ...prekeys(1, 1)] }, 'one_time_prekeys'],
      [{ one_time_prekeys: prekeys(1, 101) }, 'one_time_prekeys'],
      [{ one_time_prekeys: [{ key_id: -1, public_key: key32() }] }, 'one_time_prekeys'],
      [{ device_id: 'has space' }, 'device_id'],
      [{ device_id: 'é' }, 'device_id'],
      [{ device_id: 'x'.repeat(65) }, 'device_id'],
      [{ device_id: '' }, 'device_id'],
      [{ display_name: 'n'.repeat(65) }, 'display_name'],
    ];
    for (const [change, field] of bad) {
      const res = await call(t, user, 'POST', '/api/e2ee_keys/devices/', deviceBody(change));
      assert.equal(res.statusCode, 400, JSON.stringify(change).slice(0, 80));
      assert.ok(res.json()[field], `${field}: ${res.body}`);
    }
    assert.deepEqual(await ok(d.list(user)), [], 'nothing was stored');
  });

  it('caps the devices of one user (E2EE_MAX_DEVICES_PER_USER), and a removed one frees its place', async () => {
    const [user] = await users(t, 1);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await d.register(user, deviceBody())).device_id);
    const fifth = deviceBody();
    assert.ok((await ok(call(t, user, 'POST', '/api/e2ee_keys/devices/', fifth), 400)).device_id);
    await ok(d.remove(user, ids[0]), 204);
    await d.register(user, fifth);
    assert.equal((await ok(d.list(user))).length, 4);
  });

  it("rotates a device's signed prekey and refills its one-time prekeys, within the caps", async () => {
    const [owner, other] = await users(t, 2);
    const body = deviceBody({ one_time_prekeys: prekeys(1, 100) });
    await d.register(owner, body);
    assert.deepEqual(await ok(d.prekeys(owner, body.device_id, { one_time_prekeys: prekeys(101, 40) })), { one_time_prekeys: 140 });
    assert.ok((await ok(d.prekeys(owner, body.device_id, { one_time_prekeys: prekeys(141, 11) }), 400)).one_time_prekeys, 'PREKEY_MAX_UNCLAIMED is 150 per device');
    assert.ok((await ok(d.prekeys(owner, body.device_id, { one_time_prekeys: prekeys(100, 2) }), 400)).one_time_prekeys, 'key_id 100 is unclaimed');
    assert.ok((await ok(d.prekeys(owner, body.device_id, { one_time_prekeys: prekeys(500, 101) }), 400)).one_time_prekeys, 'at most 100 a request');
    const rotated = signedPrekey(2);
    assert.deepEqual(await ok(d.prekeys(owner, body.device_id, { signed_prekey: rotated })), { one_time_prekeys: 140 });
    assert.deepEqual((await ok(d.list(other, owner.id)))[0].signed_prekey, rotated);
    assert.deepEqual(await ok(d.prekeys(owner, body.device_id)), { one_time_prekeys: 140 });
    assert.equal((await d.prekeys(other, body.device_id)).statusCode, 404, "someone else's device");
    assert.equal((await d.prekeys(other, body.device_id, { one_time_prekeys: prekeys(900, 1) })).statusCode, 404);
    assert.equal((await d.prekeys(owner, 'no-such-device')).statusCode, 404);
    assert.equal((await d.prekeys(owner, 'bad id!')).statusCode, 400);
  });

  it("lists a room's member devices for its members only", async () => {
    const [owner, member, leaver, outsider] = await users(t, 4);
    const room = await group(t, owner, [member, leaver], false);
    const pub = await group(t, owner, [member], true);
    const mine = await d.register(owner, deviceBody());
    const theirs = [await d.register(member, deviceBody()), await d.register(member, deviceBody())];
    await d.register(leaver, deviceBody());
    await d.register(outsider, deviceBody());
    await ok(call(t, leaver, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    const listed = await ok(call(t, member, 'GET', `/api/chat_rooms/${room.id}/devices/`));
    assert.deepEqual(listed.map((x: any) => [x.user, x.device_id]).sort(), [mine, ...theirs].map((x) => [x.user, x.device_id]).sort(), "active members' devices only");
    assert.deepEqual(Object.keys(listed[0]).sort(), DEVICE_KEYS);
    assert.equal((await call(t, outsider, 'GET', `/api/chat_rooms/${room.id}/devices/`)).statusCode, 404, 'a room the caller cannot see');
    assert.equal((await call(t, leaver, 'GET', `/api/chat_rooms/${room.id}/devices/`)).statusCode, 404, 'a former member');
    assert.equal((await call(t, outsider, 'GET', `/api/chat_rooms/${pub.id}/devices/`)).statusCode, 403, 'a public group not joined');
    assert.equal((await call(t, outsider, 'GET', '/api/chat_rooms/999999/devices/')).statusCode, 404);
  });

  it('claims one bundle per device, each one-time prekey handed out once, unknown devices left out', async () => {
    const [owner, claimer] = await users(t, 2);
    const first = deviceBody({ one_time_prekeys: prekeys(1, 2) });
    const second = deviceBody();
    await d.register(owner, first);
    await d.register(owner, second);
    const mine = deviceBody({ one_time_prekeys: prekeys(7, 1) });
    await d.register(claimer, mine);
    const refs = [
      { user: owner.id, device_id: second.device_id },
      { user: owner.id, device_id: 'unknown' },
      { user: owner.id, device_id: first.device_id },
      { user: 999_999, device_id: first.device_id },
      { user: owner.id, device_id: first.device_id },
      { user: claimer.id, device_id: mine.device_id },
    ];
    const { bundles } = await ok(d.claim(claimer, refs));
    assert.deepEqual(bundles.map((b: any) => b.device_id), [second.device_id, first.device_id, mine.device_id], 'in the order asked, once each, unknown ones absent');
    assert.deepEqual(Object.keys(bundles[0]).sort(), BUNDLE_KEYS);
    assert.equal(bundles[0].one_time_prekey, null, 'none uploaded');
    assert.deepEqual(bundles[1], { user: owner.id, device_id: first.device_id, identity_key: first.identity_key, signing_key: first.signing_key, signed_prekey: first.signed_prekey, one_time_prekey: first.one_time_prekeys[0] });
    assert.deepEqual(bundles[2].one_time_prekey, mine.one_time_prekeys[0], "one's own other devices too");
    const next = (await ok(d.claim(claimer, [{ user: owner.id, device_id: first.device_id }]))).bundles;
    assert.deepEqual(next[0].one_time_prekey, first.one_time_prekeys[1], 'oldest first');
    assert.equal((await ok(d.claim(claimer, [{ user: owner.id, device_id: first.device_id }]))).bundles[0].one_time_prekey, null, 'none left');
    assert.deepEqual(await ok(d.claim(claimer, [{ user: owner.id, device_id: 'unknown' }])), { bundles: [] });
    assert.equal((await d.claim(claimer, [])).statusCode, 400);
    assert.equal((await d.claim(claimer, Array.from({ length: 201 }, () => ({ user: owner.id, device_id: first.device_id })))).statusCode, 400);
    assert.equal((await d.claim(claimer, [{ user: owner.id, device_id: 'bad id' }])).statusCode, 400);
    assert.equal((await call(t, null, 'POST', '/api/e2ee_keys/devices/claim/', { devices: refs })).statusCode, 401);
  });

  it('never hands out a one-time prekey twice under concurrent claims (HTTP)', async () => {
    const base = (await addressOf(t)).http;
    const [owner] = await users(t, 1);
    const claimers = await users(t, 6);
    const devices = [deviceBody({ one_time_prekeys: prekeys(1, 40) }), deviceBody({ one_time_prekeys: prekeys(1, 40) }), deviceBody({ one_time_prekeys: prekeys(41, 20) })];
    for (const body of devices) await d.register(owner, body);
    const refs = devices.map((x) => ({ user: owner.id, device_id: x.device_id }));
    const claim = (user: TestUser) =>
      fetch(`${base}/api/e2ee_keys/devices/claim/`, { method: 'POST', headers: { ...user.auth, 'content-type': 'application/json' }, body: JSON.stringify({ devices: refs }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => claim(claimers[i % claimers.length])));
    assert.ok(results.every((r) => r.status === 200), results.map((r) => r.status).join());
    for (const [i, body] of devices.entries()) {
      const handed = results.map((r) => r.body.bundles[i]).map((b: any) => b.one_time_prekey).filter((k: any) => k !== null);
      assert.equal(handed.length, body.one_time_prekeys.length, `device ${i}: every key handed out`);
      assert.equal(new Set(handed.map((k: any) => k.key_id)).size, handed.length, `device ${i}: none twice`);
      assert.deepEqual(handed.map((k: any) => k.public_key).sort(), body.one_time_prekeys.map((k: any) => k.public_key).sort());
    }
    const left = await t.ctx.db.selectFrom('device_prekeys as p').innerJoin('e2ee_devices as e', 'e.id', 'p.device_pk').select('p.id').where('e.user_id', '=', owner.id).execute();
    assert.equal(left.length, 0);
  });

  it('tells the rooms of a user when a device is added or removed, and deletes its prekeys and envelopes', async () => {
    const [owner, mate, other] = await users(t, 3);
    const g = await group(t, owner, [mate], false);
    const dm = await privateRoom(t, owner, mate);
    const sock = await socketOf(t, mate);
    try {
      const body = deviceBody({ one_time_prekeys: prekeys(1, 3) });
      await d.register(owner, body);
      for (const room of [g.id, dm.id]) {
        const added = await sock.next((e) => e.type === 'device_added' && e.chat_room === room);
        assert.equal(added.user, owner.id);
        assert.equal(added.device_id, body.device_id);
        assert.equal(typeof added.id, 'number', 'a logged event, replayed on resume');
        assert.equal(typeof added.seq, 'number');
      }
      await d.register(owner, body, 200);
      const sender = deviceBody();
      await d.register(mate, sender);
      const sent = await ok(call(t, mate, 'POST', '/api/e2ee_keys/to_device/', { sender_device: sender.device_id, messages: [{ user: owner.id, device_id: body.device_id, envelope: 'x' }] }));
      assert.equal(sent.queued, 1);
      assert.equal((await d.remove(other, body.device_id)).statusCode, 404, "someone else's device");
      await ok(d.remove(owner, body.device_id), 204);
      for (const room of [g.id, dm.id]) {
        const removed = await sock.next((e) => e.type === 'device_removed' && e.chat_room === room);
        assert.deepEqual([removed.user, removed.device_id], [owner.id, body.device_id]);
      }
      assert.equal((await d.remove(owner, body.device_id)).statusCode, 404, 'gone');
      assert.deepEqual(await ok(d.list(mate, owner.id)), []);
      const orphans = await t.ctx.db
        .selectFrom('to_device_messages as m')
        .leftJoin('e2ee_devices as e', 'e.id', 'm.device_pk')
        .select('m.id')
        .where('e.id', 'is', null)
        .execute();
      assert.deepEqual(orphans, [], 'its envelopes went with it');
      const prekeysLeft = await t.ctx.db.selectFrom('device_prekeys as p').leftJoin('e2ee_devices as e', 'e.id', 'p.device_pk').select('p.id').where('e.id', 'is', null).execute();
      assert.deepEqual(prekeysLeft, [], 'and its prekeys');
    } finally {
      await sock.close();
    }
  });

  it('removes the devices of a deleted account', async () => {
    const [gone, mate] = await users(t, 2);
    await privateRoom(t, gone, mate);
    await d.register(gone, deviceBody({ one_time_prekeys: prekeys(1, 2) }));
    await d.register(gone, deviceBody());
    await ok(call(t, gone, 'DELETE', `/api/users/${gone.id}/`), 204);
    assert.equal((await d.list(mate, gone.id)).statusCode, 404);
    assert.deepEqual(await t.ctx.db.selectFrom('e2ee_devices').select('id').where('user_id', '=', gone.id).execute(), []);
  });

  it('applies the seed claim limits: per claimer (429) and per target (bundles without a one-time prekey)', async () => {
    const limited = await chatApp({ RATE_LIMIT_PREKEY_CLAIMS_PER_USER: '2', RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET: '1' });
    try {
      const l = directory(limited);
      const [x, y, z, claimer] = await users(limited, 4);
      const xs = [deviceBody({ one_time_prekeys: prekeys(1, 5) }), deviceBody({ one_time_prekeys: prekeys(1, 5) })];
      for (const body of xs) await l.register(x, body);
      const yd = deviceBody({ one_time_prekeys: prekeys(1, 5) });
      await l.register(y, yd);
      const zd = deviceBody({ one_time_prekeys: prekeys(1, 5) });
      await l.register(z, zd);
      const first = (await ok(l.claim(claimer, xs.map((b) => ({ user: x.id, device_id: b.device_id }))))).bundles;
      assert.deepEqual(first.map((b: any) => b.one_time_prekey !== null), [true, false], "one a minute from x's devices, by everyone together");
      // A request counts as one claim however many users it names: a first message to a big room needs them all.
      const second = (await ok(l.claim(claimer, [{ user: y.id, device_id: yd.device_id }, { user: z.id, device_id: zd.device_id }]))).bundles;
      assert.equal(second.length, 2);
      const third = await l.claim(claimer, [{ user: z.id, device_id: zd.device_id }]);
      assert.equal(third.statusCode, 429, 'past 2 claims a minute');
      assert.ok(Number(third.headers['retry-after']) > 0);
      assert.deepEqual(await ok(l.prekeys(z, zd.device_id)), { one_time_prekeys: 4 }, 'the refused claim took nothing');
    } finally {
      await limited.close();
    }
  });

  it('documents the device routes in the OpenAPI schema', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const routes: Array<[string, string]> = [
      ['/api/e2ee_keys/devices/', 'post'],
      ['/api/e2ee_keys/devices/', 'get'],
      ['/api/e2ee_keys/devices/claim/', 'post'],
      ['/api/e2ee_keys/devices/{device_id}/prekeys/', 'post'],
      ['/api/e2ee_keys/devices/{device_id}/prekeys/', 'get'],
      ['/api/e2ee_keys/devices/{device_id}/', 'delete'],
      ['/api/chat_rooms/{id}/devices/', 'get'],
      ['/api/e2ee_keys/to_device/', 'post'],
      ['/api/e2ee_keys/to_device/', 'get'],
      ['/api/e2ee_keys/to_device/ack/', 'post'],
    ];
    for (const [path, method] of routes) {
      const op = spec.paths[path]?.[method];
      assert.ok(op, `${method} ${path}`);
      assert.ok(op.summary && op.tags.includes('e2ee devices'), `${method} ${path} has a summary and tag`);
    }
    assert.match(spec.paths['/api/e2ee_keys/devices/{device_id}/'].delete.description, /sockets opened with `\?device_id=` of it close with 4410/);
  });
});

describe('e2ee to-device channel', () => {
  let t: TestApp;
  let d: ReturnType<typeof directory>;
  before(async () => {
    t = await chatApp({ TO_DEVICE_QUEUE_MAX: '5', BODY_LIMIT: String(64 * 1024) });
    d = directory(t);
  });
  after(() => t.close());

  const send = (user: TestUser, body: Record<string, unknown>) => call(t, user, 'POST', '/api/e2ee_keys/to_device/', body);
  const fetchQueue = (user: TestUser, deviceId: string, extra = '') => call(t, user, 'GET', `/api/e2ee_keys/to_device/?device_id=${deviceId}${extra}`);
  const ack = (user: TestUser, deviceId: string, upTo: number) => call(t, user, 'POST', '/api/e2ee_keys/to_device/ack/', { device_id: deviceId, up_to: upTo });

  /** Two users sharing a room, each with a device (b with two). */
  async function pair() {
    const [a, b] = await users(t, 2);
    const room = await createRoom(t, a, { room_type: 'private', members: [b.id], is_encrypted: true });
    const ad = (await d.register(a, deviceBody())).device_id;
    const [b1, b2] = [(await d.register(b, deviceBody())).device_id, (await d.register(b, deviceBody())).device_id];
    return { a, b, room, ad, b1, b2 };
  }

  it("reaches the socket of the device it is for, and no other; waits in the device's queue until acknowledged", async () => {
    const { a, b, ad, b1, b2 } = await pair();
    const s1 = await socketOf(t, b, { device_id: b1 });
    const s2 = await socketOf(t, b, { device_id: b2 });
    const plain = await socketOf(t, b);
    try {
      const envelope = crypto.randomBytes(600).toString('base64');
      const res = await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b1, envelope }] }));
      assert.deepEqual(res, { queued: 1, skipped: [] });
      const frame = await s1.next((e) => e.type === 'to_device');
      assert.deepEqual(Object.keys(frame).sort(), ['to_device', 'type']);
      assert.deepEqual(Object.keys(frame.to_device).sort(), ['created_at', 'envelope', 'id', 'sender', 'sender_device']);
      assert.equal(frame.to_device.envelope, envelope, 'byte for byte');
      assert.equal(frame.to_device.sender, a.id);
      assert.equal(frame.to_device.sender_device, ad);
      // A second envelope, for b2: only s2 gets it; then s1 has had exactly one.
      await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b2, envelope: 'second' }] }));
      assert.equal((await s2.next((e) => e.type === 'to_device')).to_device.envelope, 'second');
      await s2.close();
      await s1.close();
      assert.equal(s1.events.filter((e) => e.type === 'to_device').length, 1, 'not the other device\'s');
      assert.equal(s2.events.filter((e) => e.type === 'to_device').length, 1);
      assert.ok(!plain.events.some((e) => e.type === 'to_device'), 'a socket that names no device gets none');
      const queued = await ok(fetchQueue(b, b1));
      assert.deepEqual(queued, [frame.to_device], 'the same envelope waits in the queue');
      await ok(ack(b, b1, frame.to_device.id), 204);
      assert.deepEqual(await ok(fetchQueue(b, b1)), []);
      assert.equal((await ok(fetchQueue(b, b2))).length, 1, "the other device's queue is its own");
    } finally {
      await Promise.all([s1.close(), s2.close(), plain.close()]);
    }
  });

  it('lists oldest first, at most 100 a call, pages with after, and acknowledges up to an id', async () => {
    const [a] = await users(t, 1);
    const from = (await d.register(a, deviceBody())).device_id;
    const to = (await d.register(a, deviceBody())).device_id;
    const big = await chatApp({ TO_DEVICE_QUEUE_MAX: '1000' });
    try {
      const bd = directory(big);
      const [u] = await users(big, 1);
      const f = (await bd.register(u, deviceBody())).device_id;
      const g = (await bd.register(u, deviceBody())).device_id;
      const res = await ok(call(big, u, 'POST', '/api/e2ee_keys/to_device/', { sender_device: f, messages: Array.from({ length: 150 }, (_, i) => ({ user: u.id, device_id: g, envelope: `e${i}` })) }));
      assert.equal(res.queued, 150, 'to your own other device, without any room');
      const page = await ok(call(big, u, 'GET', `/api/e2ee_keys/to_device/?device_id=${g}`));
      assert.equal(page.length, 100);
      assert.deepEqual(page.slice(0, 3).map((m: any) => m.envelope), ['e0', 'e1', 'e2']);
      const rest = await ok(call(big, u, 'GET', `/api/e2ee_keys/to_device/?device_id=${g}&after=${page[99].id}`));
      assert.deepEqual(rest.map((m: any) => m.envelope), Array.from({ length: 50 }, (_, i) => `e${100 + i}`));
      assert.equal((await ok(call(big, u, 'GET', `/api/e2ee_keys/to_device/?device_id=${g}&limit=7`))).length, 7);
      await ok(call(big, u, 'POST', '/api/e2ee_keys/to_device/ack/', { device_id: g, up_to: page[99].id }), 204);
      assert.deepEqual((await ok(call(big, u, 'GET', `/api/e2ee_keys/to_device/?device_id=${g}`))).map((m: any) => m.envelope), rest.map((m: any) => m.envelope));
    } finally {
      await big.close();
    }
    assert.equal((await fetchQueue(a, to, '&limit=101')).statusCode, 400);
    assert.equal((await fetchQueue(a, to, '&limit=0')).statusCode, 400);
    assert.equal((await call(t, a, 'GET', '/api/e2ee_keys/to_device/')).statusCode, 400, 'device_id is required');
    assert.deepEqual(await ok(fetchQueue(a, from)), []);
  });

  it('skips recipients who share no room, unknown devices and full queues, and queues the rest', async () => {
    const { a, b, ad, b1, b2 } = await pair();
    const [stranger] = await users(t, 1);
    const sd = (await d.register(stranger, deviceBody())).device_id;
    const messages = [
      { user: b.id, device_id: b1, envelope: '1' },
      { user: stranger.id, device_id: sd, envelope: '2' },
      { user: b.id, device_id: 'nope', envelope: '3' },
      { user: 999_999, device_id: b1, envelope: '4' },
      ...Array.from({ length: 6 }, (_, i) => ({ user: b.id, device_id: b2, envelope: `q${i}` })),
    ];
    const res = await ok(send(a, { sender_device: ad, messages }));
    assert.equal(res.queued, 6, 'one for b1, five for b2 (TO_DEVICE_QUEUE_MAX)');
    assert.deepEqual(res.skipped, [
      { user: stranger.id, device_id: sd, reason: 'no_shared_room' },
      { user: b.id, device_id: 'nope', reason: 'unknown_device' },
      { user: 999_999, device_id: b1, reason: 'no_shared_room' },
      { user: b.id, device_id: b2, reason: 'queue_full' },
    ]);
    assert.deepEqual((await ok(fetchQueue(b, b2))).map((m: any) => m.envelope), ['q0', 'q1', 'q2', 'q3', 'q4']);
    assert.deepEqual(await ok(fetchQueue(stranger, sd)), [], 'nothing reached the stranger');
    const full = await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b2, envelope: 'later' }] }));
    assert.deepEqual(full, { queued: 0, skipped: [{ user: b.id, device_id: b2, reason: 'queue_full' }] });
    const [first] = await ok(fetchQueue(b, b2));
    await ok(ack(b, b2, first.id), 204);
    assert.equal((await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b2, envelope: 'later' }] }))).queued, 1, 'room again once one is acknowledged');
    // A member who left shares the room no more.
    const [c] = await users(t, 1);
    const g = await group(t, a, [c], false);
    const cd = (await d.register(c, deviceBody())).device_id;
    assert.equal((await ok(send(a, { sender_device: ad, messages: [{ user: c.id, device_id: cd, envelope: 'x' }] }))).queued, 1);
    await ok(call(t, c, 'POST', `/api/chat_rooms/${g.id}/leave/`), 204);
    assert.deepEqual((await ok(send(a, { sender_device: ad, messages: [{ user: c.id, device_id: cd, envelope: 'y' }] }))).skipped[0].reason, 'no_shared_room');
  });

  it('keeps room in a device\'s queue for other senders (TO_DEVICE_QUEUE_MAX_PER_SENDER) and limits send requests (429)', async () => {
    const capped = await chatApp({ TO_DEVICE_QUEUE_MAX: '5', TO_DEVICE_QUEUE_MAX_PER_SENDER: '2', RATE_LIMIT_TO_DEVICE_PER_USER: '2' });
    try {
      const dir = directory(capped);
      const [a, b, c] = await users(capped, 3);
      await group(capped, a, [b, c], false);
      const [ad, bd, cd] = await Promise.all([a, b, c].map(async (u) => (await dir.register(u, deviceBody())).device_id));
      const to = (from: TestUser, fromDevice: string, n: number) =>
        call(capped, from, 'POST', '/api/e2ee_keys/to_device/', { sender_device: fromDevice, messages: Array.from({ length: n }, (_, i) => ({ user: b.id, device_id: bd, envelope: `e${i}` })) });
      const flood = await ok(to(a, ad, 4));
      assert.equal(flood.queued, 2);
      assert.deepEqual(flood.skipped.map((x: any) => x.reason), ['sender_queue_full', 'sender_queue_full']);
      assert.equal((await ok(to(c, cd, 1))).queued, 1, 'another sender still reaches the device');
      assert.equal((await to(a, ad, 1)).statusCode, 200);
      const limited = await to(a, ad, 1);
      assert.equal(limited.statusCode, 429, 'a third request of one user within the minute');
      assert.ok(Number(limited.headers['retry-after']) > 0);
    } finally {
      await capped.close();
    }
  });

  it('keeps the queue bound under concurrent sends', async () => {
    const { a, b, ad, b1 } = await pair();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b1, envelope: `c${i}` }] }))),
    );
    assert.equal(results.reduce((n, r) => n + r.queued, 0), 5, 'TO_DEVICE_QUEUE_MAX, not one more');
    assert.equal(results.filter((r) => r.skipped[0]?.reason === 'queue_full').length, 7);
    const queued = await ok(fetchQueue(b, b1));
    assert.equal(queued.length, 5);
    assert.deepEqual(queued.map((m: any) => m.id), [...queued.map((m: any) => m.id)].sort((x, y) => x - y), 'oldest first');
  });

  it('refuses malformed input (400), an envelope over 16 KiB (400) and a body over BODY_LIMIT (413)', async () => {
    const { a, b, ad, b1 } = await pair();
    const [other] = await users(t, 1);
    const otherDevice = (await d.register(other, deviceBody())).device_id;
    const msg = (extra: Record<string, unknown> = {}) => ({ user: b.id, device_id: b1, envelope: 'x', ...extra });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messages: [msg()] }, 'sender_device'],
      [{ sender_device: 'not mine', messages: [msg()] }, 'sender_device'],
      [{ sender_device: otherDevice, messages: [msg()] }, 'sender_device'],
      [{ sender_device: 'bad id!', messages: [msg()] }, 'sender_device'],
      [{ sender_device: ad, messages: [] }, 'messages'],
      [{ sender_device: ad }, 'messages'],
      [{ sender_device: ad, messages: Array.from({ length: 501 }, () => msg()) }, 'messages'],
      [{ sender_device: ad, messages: [msg({ envelope: '' })] }, 'messages'],
      [{ sender_device: ad, messages: [msg({ device_id: 'a b' })] }, 'messages'],
      [{ sender_device: ad, messages: [msg({ user: 0 })] }, 'messages'],
      [{ sender_device: ad, messages: [msg({ envelope: 'e'.repeat(16 * 1024 + 1) })] }, 'messages'],
      // 8,193 two-byte characters: within 16,384 characters, over 16,384 bytes.
      [{ sender_device: ad, messages: [msg({ envelope: 'é'.repeat(8193) })] }, 'messages'],
    ];
    for (const [body, field] of cases) {
      const res = await send(a, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 100));
      assert.ok(res.json()[field], `${field}: ${res.body.slice(0, 200)}`);
    }
    assert.equal((await ok(send(a, { sender_device: ad, messages: [msg({ envelope: 'e'.repeat(16 * 1024) })] }))).queued, 1, 'exactly 16 KiB is fine');
    const tooLarge = await send(a, { sender_device: ad, messages: Array.from({ length: 5 }, () => msg({ envelope: 'e'.repeat(16 * 1024) })) });
    assert.equal(tooLarge.statusCode, 413, 'the whole body over BODY_LIMIT');
    assert.equal((await ok(fetchQueue(b, b1))).length, 1, 'nothing of the refused requests was queued');
    assert.equal((await fetchQueue(a, b1)).statusCode, 404, "someone else's device");
    assert.equal((await ack(a, b1, 1)).statusCode, 404);
    assert.equal((await call(t, b, 'POST', '/api/e2ee_keys/to_device/ack/', { device_id: b1, up_to: 0 })).statusCode, 400);
    assert.equal((await call(t, null, 'POST', '/api/e2ee_keys/to_device/', { sender_device: ad, messages: [msg()] })).statusCode, 401);
    assert.equal(await refusedStatus((await addressOf(t)).ws, '/ws/general_updates/', { token: b.access, query: { device_id: 'bad id!' } }), 400, 'a malformed device_id on the socket');
  });

  it("closes the sockets of a removed device (4410), and only those: the user's other sockets keep receiving", async () => {
    const { a, b, room, ad, b1, b2 } = await pair();
    const [removed, removedToo, otherDevice, plain, sender] = await Promise.all([
      socketOf(t, b, { device_id: b1 }),
      socketOf(t, b, { device_id: b1 }),
      socketOf(t, b, { device_id: b2 }),
      socketOf(t, b),
      socketOf(t, a, { device_id: ad }),
    ]);
    try {
      await ok(d.remove(b, b1), 204);
      for (const sock of [removed, removedToo]) assert.deepEqual(await sock.closed, { code: 4410, reason: 'device removed' });
      for (const sock of [otherDevice, plain, sender]) {
        const gone = await sock.next((e) => e.type === 'device_removed' && e.chat_room === room.id);
        assert.deepEqual([gone.user, gone.device_id], [b.id, b1]);
      }
      // Still open, and still live: a message of the room and an envelope for the other device arrive.
      const msg = await ok(call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'after the removal' }), 201);
      for (const sock of [otherDevice, plain, sender]) await sock.next((e) => e.type === 'new_message' && e.message.id === msg.id);
      assert.deepEqual(await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b2, envelope: 'still here' }] })), { queued: 1, skipped: [] });
      assert.equal((await otherDevice.next((e) => e.type === 'to_device')).to_device.envelope, 'still here');
      for (const sock of [otherDevice, plain, sender]) assert.equal(sock.ws.readyState, WebSocket.OPEN);
    } finally {
      await Promise.all([removed, removedToo, otherDevice, plain, sender].map((s) => s.close()));
    }
  });

  it("closes a socket naming a device that is not one of the user's (4410) before it is ready", async () => {
    const { a, b, ad, b1 } = await pair();
    const { ws: base } = await addressOf(t);
    await ok(d.remove(b, b1), 204);
    for (const [deviceId, why] of [['never-registered', 'unknown'], [ad, "another user's"], [b1, 'removed']]) {
      const refused = await refusedSocket(base, b.access, { device_id: deviceId });
      assert.deepEqual([refused.code, refused.reason], [4410, 'no such device'], why);
      assert.deepEqual(refused.frames, [], `${why}: no frame, not even ready`);
    }
    // The owner of that device may, and a socket naming no device is not concerned.
    for (const [user, query] of [[a, { device_id: ad }], [b, {}]] as const) {
      const sock = await socketOf(t, user, query);
      await sock.close();
    }
  });

  it('reaches a socket on another instance through Redis', { skip: !REDIS_URL && 'needs TEST_REDIS_URL' }, async () => {
    const other = await chatApp({}, t.env);
    try {
      const { a, b, ad, b1 } = await pair();
      const base = await listen(other);
      const sock = await connect(base, '/ws/general_updates/', { token: b.access, query: { device_id: b1 } });
      try {
        await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b1, envelope: 'across' }] }));
        assert.equal((await sock.next((e) => e.type === 'to_device')).to_device.envelope, 'across');
      } finally {
        await sock.close();
      }
    } finally {
      await other.close();
    }
  });

  it('closes the sockets of a removed device on another instance through Redis', { skip: !REDIS_URL && 'needs TEST_REDIS_URL' }, async () => {
    const other = await chatApp({}, t.env);
    try {
      const { a, b, room, ad, b1, b2 } = await pair();
      const base = await listen(other);
      const [removed, kept, plain] = await Promise.all([
        connect(base, '/ws/general_updates/', { token: b.access, query: { device_id: b1 } }),
        connect(base, '/ws/general_updates/', { token: b.access, query: { device_id: b2 } }),
        connect(base, '/ws/general_updates/', { token: b.access }),
      ]);
      try {
        await ok(d.remove(b, b1), 204);
        assert.deepEqual(await removed.closed, { code: 4410, reason: 'device removed' });
        const msg = await ok(call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content: 'across, after the removal' }), 201);
        for (const sock of [kept, plain]) await sock.next((e) => e.type === 'new_message' && e.message.id === msg.id);
        await ok(send(a, { sender_device: ad, messages: [{ user: b.id, device_id: b2, envelope: 'across' }] }));
        assert.equal((await kept.next((e) => e.type === 'to_device')).to_device.envelope, 'across');
      } finally {
        await Promise.all([removed.close(), kept.close(), plain.close()]);
      }
    } finally {
      await other.close();
    }
  });
});

describe('e2ee keys and envelopes in the logs', () => {
  it('are never logged, not even for refused requests', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer({ ...env.env, RATE_LIMIT_SIGNUP_PER_IP: '0', RATE_LIMIT_LOGIN_PER_IP: '0', BODY_LIMIT: String(32 * 1024) });
      try {
        const a = await account(s.base, 'envsender', PASSWORD);
        const b = await account(s.base, 'envreader', PASSWORD);
        await request(s.base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id], is_encrypted: true });
        const ad = deviceBody();
        const bd = deviceBody();
        assert.equal((await request(s.base, 'POST', '/api/e2ee_keys/devices/', a.token, ad)).status, 201);
        assert.equal((await request(s.base, 'POST', '/api/e2ee_keys/devices/', b.token, bd)).status, 201);
        const secret = `SECRET${crypto.randomBytes(24).toString('hex')}`;
        const sent = (body: unknown) => request(s.base, 'POST', '/api/e2ee_keys/to_device/', a.token, body);
        assert.equal((await sent({ sender_device: ad.device_id, messages: [{ user: b.id, device_id: bd.device_id, envelope: secret }] })).status, 200);
        assert.equal((await sent({ sender_device: 'nope', messages: [{ user: b.id, device_id: bd.device_id, envelope: secret }] })).status, 400);
        assert.equal((await sent({ sender_device: ad.device_id, messages: [{ user: b.id, device_id: bd.device_id, envelope: secret.repeat(700) }] })).status, 413);
        assert.equal((await request(s.base, 'POST', '/api/e2ee_keys/devices/', a.token, { ...ad, identity_key: key32() })).status, 409);
        const got = await request(s.base, 'GET', `/api/e2ee_keys/to_device/?device_id=${bd.device_id}`, b.token);
        assert.equal(got.body[0].envelope, secret);
      } finally {
        s.proc.kill('SIGTERM');
        assert.equal(await s.exited, 0);
      }
      const log = JSON.stringify(s.lines);
      assert.ok(s.lines.some((l) => l.req?.path === '/api/e2ee_keys/to_device/'), 'the requests were logged');
      assert.ok(!log.includes('SECRET') && !s.tail().includes('SECRET'), 'no envelope in the logs');
    } finally {
      await env.cleanup();
    }
  });
});
