// Upload quota and rate (issue 15): UPLOAD_QUOTA_BYTES_PER_USER bytes of attachments stored per
// user (413 beyond, naming the quota), RATE_LIMIT_UPLOADS_PER_USER uploads a minute (429 beyond).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, group, ok, privateRoom, send, users } from './chat-helpers.js';
import { bigVideo, dataUrl, storedFiles, uploadDataUrl, uploadMultipart } from './media-helpers.js';

const FILE = 1200;
const video = () => ({ data: bigVideo(FILE), filename: 'clip.mp4' });
const upload = (t: TestApp, u: TestUser, messageId: number) => uploadMultipart(t, u, { message: messageId, file_type: 'video', file: video() });

async function storedBytes(t: TestApp, userId: number): Promise<number> {
  const row = await t.ctx.db.selectFrom('attachments').select((eb) => eb.fn.sum<number>('size').as('n')).where('uploader_id', '=', userId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

describe('upload quota', () => {
  it('refuses an upload beyond the quota with 413 naming it, keeps nothing, and frees quota on deletion', async () => {
    const t = await chatApp({ UPLOAD_QUOTA_BYTES_PER_USER: String(3 * FILE - 1) });
    try {
      const [a, b] = await users(t, 2);
      const room = await privateRoom(t, a, b);
      const msgs = [];
      for (let i = 0; i < 4; i++) msgs.push(await send(t, a, room.id, `file ${i}`));
      const first = await ok(upload(t, a, msgs[0].id), 201);
      await ok(upload(t, a, msgs[1].id), 201);
      const before = storedFiles(t);
      for (const res of [await upload(t, a, msgs[2].id), await uploadDataUrl(t, a, { message: msgs[2].id, file_type: 'video', file: dataUrl(bigVideo(FILE)) })]) {
        assert.equal(res.statusCode, 413, res.body);
        assert.match(res.json().file[0], new RegExp(`quota of ${3 * FILE - 1} bytes`));
      }
      assert.deepEqual(storedFiles(t), before, 'nothing of the refused uploads is kept');
      assert.equal((await ok(call(t, a, 'GET', `/api/messages/${msgs[2].id}/`))).attachment, null);
      assert.equal(await storedBytes(t, a.id), 2 * FILE);
      // Someone else's quota is their own.
      const fromB = await send(t, b, room.id, 'mine');
      await ok(upload(t, b, fromB.id), 201);
      // Deleting an attachment frees its bytes; so does deleting its message.
      await ok(call(t, a, 'DELETE', `/api/attachments/${first.id}/`), 204);
      await ok(upload(t, a, msgs[2].id), 201);
      assert.equal((await upload(t, a, msgs[3].id)).statusCode, 413);
      await ok(call(t, a, 'DELETE', `/api/messages/${msgs[1].id}/`), 204);
      await ok(upload(t, a, msgs[3].id), 201);
      assert.equal(await storedBytes(t, a.id), 2 * FILE);
    } finally {
      await t.close();
    }
  });

  it('refuses at once, before storing anything, when the quota is already used up', async () => {
    const t = await chatApp({ UPLOAD_QUOTA_BYTES_PER_USER: String(FILE) });
    try {
      const [a, b] = await users(t, 2);
      const room = await privateRoom(t, a, b);
      await ok(upload(t, a, (await send(t, a, room.id, 'one')).id), 201);
      const msg = await send(t, a, room.id, 'two');
      const before = storedFiles(t);
      const res = await uploadMultipart(t, a, { message: msg.id, file_type: 'video', file: { data: bigVideo(100 * 1024), filename: 'x.mp4' } });
      assert.equal(res.statusCode, 413);
      assert.match(res.json().file[0], /quota/);
      assert.deepEqual(storedFiles(t), before);
    } finally {
      await t.close();
    }
  });

  it('holds under concurrent uploads to different rooms', async () => {
    // Eight write lanes and one change a transaction: on PostgreSQL the attaching transactions run side by side.
    const t = await chatApp({ UPLOAD_QUOTA_BYTES_PER_USER: String(4 * FILE), WRITE_CONCURRENCY: '8', WRITE_BATCH_MAX: '1' });
    try {
      const [a, ...others] = await users(t, 9);
      const rooms = [];
      for (const o of others) rooms.push(await group(t, a, [o]));
      const msgs = [];
      for (let i = 0; i < 24; i++) msgs.push(await send(t, a, rooms[i % rooms.length].id, `m${i}`));
      const before = storedFiles(t).length;
      const codes = (await Promise.all(msgs.map((m) => upload(t, a, m.id)))).map((r) => r.statusCode);
      assert.equal(codes.filter((c) => c === 201).length, 4, codes.join());
      assert.equal(codes.filter((c) => c === 413).length, 20, codes.join());
      assert.equal(await storedBytes(t, a.id), 4 * FILE);
      assert.equal(storedFiles(t).length, before + 4, 'the refused files were removed');
    } finally {
      await t.close();
    }
  });

  it('is off with 0', async () => {
    const t = await chatApp({ UPLOAD_QUOTA_BYTES_PER_USER: '0' });
    try {
      const [a, b] = await users(t, 2);
      const room = await privateRoom(t, a, b);
      for (let i = 0; i < 3; i++) await ok(upload(t, a, (await send(t, a, room.id, `f${i}`)).id), 201);
    } finally {
      await t.close();
    }
  });
});

describe('upload rate', () => {
  it('limits uploads per user per minute with 429 and Retry-After, before anything is stored', async () => {
    const t = await chatApp({ RATE_LIMIT_UPLOADS_PER_USER: '2' });
    try {
      const [a, b] = await users(t, 2);
      const room = await privateRoom(t, a, b);
      const msgs = [];
      for (let i = 0; i < 3; i++) msgs.push(await send(t, a, room.id, `f${i}`));
      await ok(upload(t, a, msgs[0].id), 201);
      assert.equal((await uploadMultipart(t, a, { message: msgs[1].id, file_type: 'image', file: video() })).statusCode, 400, 'a refused upload counts too');
      const before = storedFiles(t);
      const res = await upload(t, a, msgs[2].id);
      assert.equal(res.statusCode, 429, res.body);
      assert.ok(Number(res.headers['retry-after']) > 0);
      assert.ok(res.json().detail);
      assert.deepEqual(storedFiles(t), before);
      assert.equal((await ok(call(t, a, 'GET', `/api/messages/${msgs[2].id}/`))).attachment, null);
      await ok(upload(t, b, (await send(t, b, room.id, 'b')).id), 201);
    } finally {
      await t.close();
    }
  });
});

describe('limits in the OpenAPI description', () => {
  it('names the upload knobs on the upload route', async () => {
    const t = await chatApp();
    try {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const text = spec.paths['/api/attachments/'].post.description as string;
      for (const knob of ['UPLOAD_QUOTA_BYTES_PER_USER', 'RATE_LIMIT_UPLOADS_PER_USER']) assert.ok(text.includes(knob), knob);
      assert.ok(spec.paths['/api/attachments/'].post.responses['429']);
    } finally {
      await t.close();
    }
  });
});
