// A 413 reaches the client as a 413, even while it is still sending the body: the server answers
// as soon as the limit is known, then reads and drops the rest before closing (no TCP reset).
// Against a spawned server (its own process, as in production): in-process the client and the
// server share one event loop, which hides the race.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestEnv, PASSWORD, PNG, type TestEnv } from './helpers.js';
import { bigVideo } from './media-helpers.js';
import { account, request, startServer, type Server } from './process-helpers.js';

const LIMIT = 64 * 1024;
const ROUNDS = 20;

/** Every file under DATA_DIR/uploads (temporary files included). */
function uploadedFiles(env: TestEnv): string[] {
  const root = path.join(env.dataDir, 'uploads');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile());
}

interface RawAnswer {
  head: string;
  body: string;
  /** The server half-closed (FIN) while the body was unfinished. */
  ended: boolean;
  /** A socket error (ECONNRESET…), if any. */
  error: string | null;
}

/**
 * Sends a request head and the first part of a body over a plain socket, never finishing the body,
 * and resolves once the server has answered and closed its side (or the connection broke, or the
 * answer came without `Connection: close`).
 */
function sendUnfinished(base: string, head: string, firstBytes: Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (ended: boolean, error: string | null) => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      resolve({ head: split >= 0 ? text.slice(0, split) : text, body: split >= 0 ? text.slice(split + 4) : '', ended, error });
      socket.destroy();
    };
    socket.on('data', (d) => {
      chunks.push(d);
      // A whole answer that does not announce a close: nothing more will come (do not wait for a FIN).
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const length = Number(/^content-length: *(\d+)/im.exec(text.slice(0, split))?.[1]);
      if (split >= 0 && text.length - split - 4 >= length && !/^connection: *close/im.test(text.slice(0, split))) finish(false, null);
    });
    socket.on('end', () => finish(true, null));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    socket.on('close', () => finish(false, 'closed without FIN'));
    socket.write(head);
    socket.write(firstBytes);
  });
}

const statusOf = (head: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
const headerOf = (head: string, name: string) => new RegExp(`^${name}: *(.*)$`, 'im').exec(head)?.[1]?.trim();

describe('413 while the body is still being sent', () => {
  let env: TestEnv;
  let server: Server;
  let token: string;
  let roomId: number;
  /** A message of `token`'s user without an attachment (each upload test takes its own). */
  const newMessage = async (): Promise<number> => (await request(server.base, 'POST', '/api/messages/', token, { chat_room: roomId, content: 'clip' })).body.id;

  before(async () => {
    env = await createTestEnv();
    server = await startServer({
      ...env.env,
      UPLOAD_MAX_BYTES: String(LIMIT),
      AVATAR_MAX_BYTES: String(LIMIT),
      BODY_LIMIT: String(LIMIT),
      RATE_LIMIT_SIGNUP_PER_IP: '0',
      RATE_LIMIT_LOGIN_PER_IP: '0',
    });
    const a = await account(server.base, 'sender', PASSWORD);
    const b = await account(server.base, 'reader', PASSWORD);
    token = a.token;
    roomId = (await request(server.base, 'POST', '/api/chat_rooms/', token, { room_type: 'private', members: [b.id] })).body.id;
  });
  after(async () => {
    server.proc.kill('SIGTERM');
    await server.exited;
    await env.cleanup();
  });

  const uploadForm = (messageId: number, size: number, fileFirst: boolean) => {
    const form = new FormData();
    const file = new Blob([bigVideo(size)], { type: 'video/mp4' });
    if (fileFirst) form.append('file', file, 'big.mp4');
    form.append('message', String(messageId));
    form.append('file_type', 'video');
    if (!fileFirst) form.append('file', file, 'big.mp4');
    return form;
  };

  it(`answers fetch's multipart uploads of 2× and 10× UPLOAD_MAX_BYTES with 413 JSON, ${ROUNDS} times in a row, and keeps nothing`, async () => {
    const messageId = await newMessage();
    for (const times of [2, 10]) {
      for (let i = 0; i < ROUNDS; i++) {
        const res = await fetch(`${server.base}/api/attachments/`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: uploadForm(messageId, times * LIMIT, i % 2 === 0) });
        assert.equal(res.status, 413, `${times}× round ${i}`);
        assert.deepEqual(await res.json(), { file: [`The file is larger than ${LIMIT} bytes.`] });
      }
    }
    assert.deepEqual(uploadedFiles(env), []);
    const fits = await fetch(`${server.base}/api/attachments/`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: uploadForm(messageId, LIMIT, false) });
    assert.equal(fits.status, 201, 'a file of exactly the limit is taken');
  });

  it(`answers a sign-up whose profile picture is 2× or 10× AVATAR_MAX_BYTES with 413 JSON, ${ROUNDS} times in a row`, async () => {
    for (const times of [2, 10]) {
      for (let i = 0; i < ROUNDS; i++) {
        const form = new FormData();
        form.append('username', `big${times}x${i}`);
        form.append('email', `big${times}x${i}@example.com`);
        form.append('password', PASSWORD);
        form.append('profile_picture', new Blob([PNG, Buffer.alloc(times * LIMIT)], { type: 'image/png' }), 'me.png');
        const res = await fetch(`${server.base}/api/users/`, { method: 'POST', body: form });
        assert.equal(res.status, 413, `${times}× round ${i}`);
        assert.deepEqual(await res.json(), { profile_picture: [`The image is larger than ${LIMIT} bytes.`] });
      }
    }
    assert.ok(!uploadedFiles(env).some((f) => f.startsWith('avatars')), 'no picture kept');
  });

  it(`answers JSON bodies of 2×, 10×, 30× and 100× BODY_LIMIT with 413 JSON, ${ROUNDS} times in a row`, async () => {
    for (const times of [2, 10, 30, 100]) {
      const body = JSON.stringify({ chat_room: 1, content: 'x'.repeat(times * LIMIT) });
      for (let i = 0; i < ROUNDS; i++) {
        const res = await fetch(`${server.base}/api/messages/`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        assert.equal(res.status, 413, `${times}× round ${i}`);
        assert.deepEqual(await res.json(), { detail: 'Request body is too large.', code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
      }
    }
  });

  it('answers from Content-Length before the body arrives, then half-closes (FIN, not a reset) while the client is still sending', async () => {
    const messageId = await newMessage();
    const boundary = 'declared-too-large';
    const declared = 10 * LIMIT;
    const head =
      `POST /api/attachments/ HTTP/1.1\r\nHost: ${new URL(server.base).host}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${declared}\r\n\r\n`;
    const firstPart = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n${messageId}\r\n`);
    const answer = await sendUnfinished(server.base, head, firstPart);
    assert.equal(answer.error, null);
    assert.equal(answer.ended, true, 'the server half-closed after its answer');
    assert.equal(statusOf(answer.head), 413, answer.head);
    assert.equal(headerOf(answer.head, 'connection'), 'close');
    assert.match(headerOf(answer.head, 'content-type')!, /^application\/json/);
    assert.deepEqual(JSON.parse(answer.body), { file: [`The file is larger than ${LIMIT} bytes.`] });
  });

  it('answers as soon as a streamed file passes the limit (no Content-Length), without waiting for the rest', async () => {
    const messageId = await newMessage();
    const boundary = 'streamed-too-large';
    const head =
      `POST /api/attachments/ HTTP/1.1\r\nHost: ${new URL(server.base).host}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const form = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n${messageId}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nvideo\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="endless.mp4"\r\nContent-Type: video/mp4\r\n\r\n`),
      bigVideo(2 * LIMIT),
    ]);
    // One chunk of the chunked encoding; the body never ends.
    const chunk = Buffer.concat([Buffer.from(`${form.length.toString(16)}\r\n`), form, Buffer.from('\r\n')]);
    const answer = await sendUnfinished(server.base, head, chunk);
    assert.equal(answer.error, null);
    assert.equal(answer.ended, true);
    assert.equal(statusOf(answer.head), 413, answer.head);
    assert.equal(headerOf(answer.head, 'connection'), 'close');
    assert.match(answer.body, /The file is larger than 65536 bytes/);
    assert.deepEqual(uploadedFiles(env).filter((f) => f.endsWith('.tmp')), [], 'the partial file was removed');
  });

  it('keeps serving afterwards', async () => {
    assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
    assert.equal((await request(server.base, 'GET', '/api/chat_rooms/', token)).status, 200);
  });
});
