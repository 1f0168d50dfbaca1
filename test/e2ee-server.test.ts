// End-to-end encrypted rooms, the server's side (issue 12): the one-way room flag, search that
// never reads an encrypted room, and attachments of ciphertext. Devices and the to-device
// channel: e2ee-devices.test.ts.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { newMarkers } from '../src/modules/search/search.highlight.js';
import { parseQuery } from '../src/modules/search/search.query.js';
import { searchRepository } from '../src/modules/search/search.repository.js';
import { uniq, type TestApp, type TestUser } from './helpers.js';
import { call, chatApp, createRoom, group, membershipOf, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';
import { FILES, dataUrl, storedFiles, uploadDataUrl, uploadMultipart } from './media-helpers.js';

const searchUrl = (params: Record<string, string | number>) => `/api/messages/search/?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;
/** A word no other test's messages contain. */
const word = () => uniq('w').replace(/[^a-z0-9]/gi, '').toLowerCase();

describe('encrypted rooms: the is_encrypted flag', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const patch = (user: TestUser, id: number, body: Record<string, unknown>) => call(t, user, 'PATCH', `/api/chat_rooms/${id}/`, body);

  it('is false by default, may be set at creation, and shows on rooms, lists and conversations', async () => {
    const [a, b] = await users(t, 2);
    const plain = await group(t, a, [b]);
    assert.equal(plain.is_encrypted, false);
    const secret = await createRoom(t, a, { room_type: 'group', name: 'secret', is_public: false, members: [b.id], is_encrypted: true });
    assert.equal(secret.is_encrypted, true);
    const dm = await createRoom(t, a, { room_type: 'private', members: [b.id], is_encrypted: true });
    assert.equal(dm.is_encrypted, true);
    assert.equal((await ok(call(t, b, 'GET', `/api/chat_rooms/${secret.id}/`))).is_encrypted, true);
    const listed = (await ok(call(t, b, 'GET', '/api/chat_rooms/'))).results;
    assert.equal(listed.find((r: any) => r.id === secret.id).is_encrypted, true);
    assert.equal(listed.find((r: any) => r.id === plain.id).is_encrypted, false);
    assert.equal((await membershipOf(t, b, secret.id)).is_encrypted, true);
    assert.equal((await membershipOf(t, b, plain.id)).is_encrypted, false);
    // The seed-0 room list shows it too.
    const seed0 = await ok(call(t, b, 'GET', '/chat/'));
    assert.equal(seed0.find((r: any) => r.id === dm.id).is_encrypted, true);
  });

  it("is turned on by a group's owner, live for the members, and never off again", async () => {
    const [owner, member] = await users(t, 2);
    const room = await group(t, owner, [member], false);
    const sock = await socketOf(t, member);
    try {
      assert.equal((await patch(member, room.id, { is_encrypted: true })).statusCode, 403, 'a member of a group may not');
      const on = await ok(patch(owner, room.id, { is_encrypted: true }));
      assert.equal(on.is_encrypted, true);
      const event = await sock.next((e) => e.type === 'room_updated' && e.chat_room === room.id);
      assert.equal(event.room.is_encrypted, true);
      const off = await ok(patch(owner, room.id, { is_encrypted: false }), 400);
      assert.ok(Array.isArray(off.is_encrypted), JSON.stringify(off));
      assert.equal((await ok(patch(member, room.id, { is_encrypted: false }), 400)).is_encrypted.length, 1, 'for anyone');
      assert.equal((await ok(call(t, owner, 'PUT', `/api/chat_rooms/${room.id}/`, { is_encrypted: false, name: 'x' }), 400)).is_encrypted.length, 1);
      assert.equal((await ok(call(t, member, 'GET', `/api/chat_rooms/${room.id}/`))).is_encrypted, true);
      // Sending it again changes nothing (no second event).
      await ok(patch(owner, room.id, { is_encrypted: true, name: 'renamed' }));
      const renamed = await sock.next((e) => e.type === 'room_updated' && e.chat_room === room.id);
      assert.equal(renamed.room.name, 'renamed');
      assert.equal(renamed.room.is_encrypted, true);
    } finally {
      await sock.close();
    }
  });

  it('is turned on by either member of a private room; an encrypted ask never returns the pair\'s room unencrypted', async () => {
    const [a, b, c] = await users(t, 3);
    const dm = await privateRoom(t, a, b);
    assert.equal((await ok(patch(b, dm.id, { is_encrypted: true }))).is_encrypted, true);
    const plain = await privateRoom(t, a, c);
    assert.equal(plain.is_encrypted, false);
    const again = await createRoom(t, c, { room_type: 'private', members: [a.id], is_encrypted: true }, 200);
    assert.equal(again.id, plain.id, 'the same room');
    assert.equal(again.is_encrypted, true, 'turned on, not silently handed back unencrypted');
    const unasked = await createRoom(t, a, { room_type: 'private', members: [c.id] }, 200);
    assert.equal(unasked.is_encrypted, true, 'and it stays on');
  });

  it('refuses anything but a boolean, and a room the caller cannot see', async () => {
    const [a, b, outsider] = await users(t, 3);
    const room = await group(t, a, [b], false);
    assert.equal((await patch(a, room.id, { is_encrypted: 'maybe' })).statusCode, 400);
    assert.equal((await call(t, a, 'POST', '/api/chat_rooms/', { room_type: 'group', name: 'x', is_encrypted: 'maybe' })).statusCode, 400);
    assert.equal((await patch(outsider, room.id, { is_encrypted: true })).statusCode, 404);
    const pub = await group(t, a, [b], true);
    assert.equal((await patch(outsider, pub.id, { is_encrypted: true })).statusCode, 403, 'a public group not joined');
    assert.equal((await ok(call(t, a, 'GET', `/api/chat_rooms/${room.id}/`))).is_encrypted, false);
  });

  it('is never searched, not even for what was written before it was turned on; its members are told why (400), nobody else that it exists (404)', async () => {
    const [owner, member] = await users(t, 2);
    const room = await group(t, owner, [member], false);
    const plain = await group(t, owner, [member], false);
    const tag = word();
    await send(t, owner, room.id, `${tag} the launch code is swordfish`);
    await send(t, owner, plain.id, `${tag} lunch is at noon`);
    const search = (user: TestUser, params: Record<string, string | number>) => ok(call(t, user, 'GET', searchUrl(params)));
    assert.equal((await search(member, { q: tag })).count, 2, 'both rooms are searched while neither is encrypted');
    await ok(patch(owner, room.id, { is_encrypted: true }));
    await send(t, owner, room.id, `${tag} ciphertext that happens to look like words`);
    for (const user of [owner, member]) {
      const page = await search(user, { q: tag });
      assert.equal(page.count, 1);
      assert.deepEqual(page.results.map((r: any) => r.message.chat_room), [plain.id]);
      assert.equal((await search(user, { q: `${tag} swordfish` })).count, 0);
      assert.equal((await search(user, { q: 'swordfish', sender: owner.id })).count, 0);
      const inside = await call(t, user, 'GET', searchUrl({ q: tag, chat_room: room.id }));
      assert.equal(inside.statusCode, 400, `searching inside it, as a member: ${inside.body}`);
      assert.deepEqual(inside.json(), { chat_room: ['This conversation is end-to-end encrypted: its messages are not searchable.'] });
    }
    // Anyone else learns nothing of the room: not even that it exists, nor that it is encrypted.
    const [outsider, leaver] = await users(t, 2);
    const born = await createRoom(t, owner, { room_type: 'group', name: 'g', is_public: false, members: [leaver.id], is_encrypted: true });
    await send(t, owner, born.id, `${tag} ciphertext`);
    assert.equal((await call(t, leaver, 'GET', searchUrl({ q: tag, chat_room: born.id }))).statusCode, 400, 'a member of a room encrypted from the start');
    await ok(call(t, leaver, 'POST', `/api/chat_rooms/${born.id}/leave/`), 204);
    for (const [user, id, who] of [[outsider, room.id, 'a non-member'], [outsider, born.id, 'a non-member'], [leaver, born.id, 'a former member']] as const) {
      const res = await call(t, user, 'GET', searchUrl({ q: tag, chat_room: id }));
      assert.equal(res.statusCode, 404, `${who}: ${res.body}`);
      assert.deepEqual(res.json(), (await call(t, user, 'GET', searchUrl({ q: tag, chat_room: 2_000_000_000 }))).json(), `${who}: as for a room that does not exist`);
    }
    // Both orders a page can come in (ranked, or the older matches after the ranked ones), straight at the repository.
    for (const rankedMax of [0, 1_000_000_000]) {
      for (const q of [tag, 'swordfish', `"launch code"`]) {
        const hits = await searchRepository.find(t.ctx.db, { userId: member.id, parts: parseQuery(q), limit: 20, offset: 0, rankedMax }, newMarkers());
        const rooms = new Set(await Promise.all(hits.ids.map(async (id) => (await t.ctx.db.selectFrom('messages').select('chat_room_id').where('id', '=', id).executeTakeFirstOrThrow()).chat_room_id)));
        assert.ok(!rooms.has(room.id), `${q} (rankedMax ${rankedMax}) found nothing of the encrypted room`);
      }
    }
    assert.equal(await searchRepository.canSearchRoom(t.ctx.db, member.id, room.id), false);
    assert.equal(await searchRepository.canSearchRoom(t.ctx.db, member.id, plain.id), true);
  });

  it('documents the flag in the OpenAPI schema', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const schemaOf = (s: any) => (s.$ref ? spec.components.schemas[s.$ref.split('/').pop()] : s);
    const room = schemaOf(spec.paths['/api/chat_rooms/{id}/'].get.responses['200'].content['application/json'].schema);
    assert.ok(room.properties.is_encrypted, 'the room shows it');
    const body = schemaOf(spec.paths['/api/chat_rooms/{id}/'].patch.requestBody.content['application/json'].schema);
    assert.ok(body.properties.is_encrypted);
    assert.match(spec.paths['/api/chat_rooms/{id}/'].patch.description, /is_encrypted/);
    assert.match(spec.paths['/api/messages/search/'].get.description, /encrypted room you are an active member of → 400/, 'search names the 400');
  });
});

describe('encrypted rooms: attachments of ciphertext', () => {
  let t: TestApp;
  let a: TestUser, b: TestUser, outsider: TestUser;
  let secret: any, plain: any;
  before(async () => {
    t = await chatApp({ UPLOAD_MAX_BYTES: String(64 * 1024) });
    [a, b, outsider] = await users(t, 3);
    secret = await createRoom(t, a, { room_type: 'private', members: [b.id], is_encrypted: true });
    plain = await group(t, a, [b], false);
  });
  after(() => t.close());

  /** Bytes no sniffer accepts: an executable's magic number, then random bytes (as ciphertext looks). */
  const ciphertext = (n = 3000) => Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), crypto.randomBytes(n)]);
  const download = (user: TestUser | null, id: number) => t.app.inject({ method: 'GET', url: `/api/attachments/${id}/download/`, headers: user ? user.auth : {} });

  for (const order of ['file-first', 'file-last'] as const) {
    it(`takes file_type "encrypted" without sniffing (multipart, ${order}) and serves it as octet-stream for download`, async () => {
      const msg = await send(t, a, secret.id, 'b64ciphertext==');
      const bytes = ciphertext();
      const att = await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'encrypted', file: { data: bytes, filename: 'holiday photo.jpg', type: 'image/jpeg' } }, order), 201);
      assert.equal(att.file_type, 'encrypted');
      assert.equal(att.mime_type, 'application/octet-stream');
      assert.equal(att.size, bytes.length);
      assert.equal(att.file_name, 'attachment.bin', 'the plaintext name is not kept beside the ciphertext');
      const got = await download(b, att.id);
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.rawPayload, bytes, 'byte for byte');
      assert.equal(got.headers['content-type'], 'application/octet-stream');
      assert.match(String(got.headers['content-disposition']), /^attachment; filename="attachment\.bin"/);
      assert.equal(got.headers['x-content-type-options'], 'nosniff');
      assert.equal((await download(outsider, att.id)).statusCode, 404, 'members only');
      const shown = await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`));
      assert.equal(shown.attachment.file_type, 'encrypted');
    });
  }

  it('takes it as a data URL too, and files that would sniff as something else', async () => {
    const msg = await send(t, a, secret.id, 'b64ciphertext==');
    const att = await ok(uploadDataUrl(t, a, { message: msg.id, file_type: 'encrypted', file: dataUrl(FILES.png, 'image/png') }), 201);
    assert.equal(att.mime_type, 'application/octet-stream', 'a PNG sent as encrypted is served as opaque bytes, not as an image');
    const got = await download(a, att.id);
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(got.rawPayload, FILES.png);
  });

  it('takes only encrypted files in an encrypted room, and encrypted ones only there', async () => {
    const before = storedFiles(t);
    const inSecret = await send(t, a, secret.id, 'b64ciphertext==');
    for (const order of ['file-first', 'file-last'] as const) {
      const res = await ok(uploadMultipart(t, a, { message: inSecret.id, file_type: 'image', file: { data: FILES.png, filename: 'x.png' } }, order), 400);
      assert.match(res.file_type[0], /encrypted/);
    }
    assert.ok((await ok(uploadDataUrl(t, a, { message: inSecret.id, file_type: 'image', file: dataUrl(FILES.png) }), 400)).file_type);
    const inPlain = await send(t, a, plain.id, 'hello');
    for (const order of ['file-first', 'file-last'] as const) {
      const res = await ok(uploadMultipart(t, a, { message: inPlain.id, file_type: 'encrypted', file: { data: ciphertext() } }, order), 400);
      assert.match(res.file_type[0], /encrypted rooms only/);
    }
    // Unrecognised bytes sent first, then a plain file type: the sniffer's refusal, as before.
    const refused = await ok(uploadMultipart(t, a, { message: inPlain.id, file_type: 'document', file: { data: ciphertext() } }, 'file-first'), 400);
    assert.match(refused.file[0], /Unsupported file/);
    assert.ok((await ok(uploadMultipart(t, a, { message: inSecret.id, file_type: 'encrypted', file: { data: Buffer.alloc(0) } }), 400)).file, 'an empty file');
    assert.deepEqual(storedFiles(t), before, 'nothing refused is kept');
  });

  it('keeps the size limit (413)', async () => {
    const msg = await send(t, a, secret.id, 'b64ciphertext==');
    const res = await uploadMultipart(t, a, { message: msg.id, file_type: 'encrypted', file: { data: ciphertext(70 * 1024) } }, 'file-last');
    assert.equal(res.statusCode, 413);
  });
});
