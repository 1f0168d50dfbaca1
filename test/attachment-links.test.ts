// Signed download links: what `<img src>` and plain links use, since they cannot send a bearer header.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DownloadLinks, SIGNED_URL_ROUNDING_SEC, SIGNED_URL_TTL_SEC } from '../src/modules/attachments/attachments.links.js';
import { UrlSigner } from '../src/lib/url-signing.js';
import { PASSWORD, createTestEnv, type TestApp, type TestUser } from './helpers.js';
import { account, request, startServer } from './process-helpers.js';
import { call, chatApp, group, ok, send, users } from './chat-helpers.js';
import { FILES, bigVideo, uploadMultipart } from './media-helpers.js';

const JWT_SECRET = 'signed-links-test-secret-0123456789abcdef';

describe('signed download links', () => {
  let t: TestApp;
  let base: string;
  let a: TestUser, b: TestUser, c: TestUser;
  let room: any;
  let video: Buffer;
  let att: any;
  // The server's own signer, made the same way from the same secret.
  const links = new DownloadLinks(new UrlSigner(new TextEncoder().encode(JWT_SECRET), 'attachment-download'));

  before(async () => {
    t = await chatApp({ JWT_SECRET });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    [a, b, c] = await users(t, 3);
    room = await group(t, a, [b, c]);
    const msg = await send(t, a, room.id, 'a clip');
    video = bigVideo(50_000);
    video.fill(7, 40_000);
    att = await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'video', file: { data: video, filename: 'clip.mp4' } }), 201);
  });
  after(() => t.close());

  const linkOf = async (user: TestUser, id = att.id) => ok(call(t, user, 'GET', `/api/attachments/${id}/`));

  it("gives each reader a link of their own: the path, the reader, an expiry an hour or a little more ahead on a 10-minute boundary", async () => {
    const before = Math.floor(Date.now() / 1000);
    const mine = await linkOf(b);
    const after = Math.ceil(Date.now() / 1000);
    const m = new RegExp(`^/api/attachments/${att.id}/download/\\?expires=(\\d+)&user=${b.id}&sig=([A-Za-z0-9_-]{43})$`).exec(mine.signed_url);
    assert.ok(m, mine.signed_url);
    const expires = Number(m[1]);
    assert.equal(expires % SIGNED_URL_ROUNDING_SEC, 0);
    assert.ok(expires >= before + SIGNED_URL_TTL_SEC && expires <= after + SIGNED_URL_TTL_SEC + SIGNED_URL_ROUNDING_SEC, String(expires - before));
    assert.equal(mine.signed_url_expires_at, new Date(expires * 1000).toISOString());
    assert.match(att.signed_url, new RegExp(`&user=${a.id}&`), "the upload's answer carries the uploader's link");
  });

  it('keeps the same URL within one 10-minute bucket (so browsers can cache it)', async () => {
    for (let attempt = 0; ; attempt++) {
      const start = Math.floor(Date.now() / 1000);
      const [first, second] = [await linkOf(b), await linkOf(b)];
      const end = Math.floor(Date.now() / 1000);
      if (DownloadLinks.expiryFor(start) !== DownloadLinks.expiryFor(end)) {
        assert.ok(attempt < 2, 'crossed a bucket boundary twice in a row');
        continue; // the two calls straddled a boundary: try again, now inside the next bucket
      }
      assert.equal(first.signed_url, second.signed_url);
      assert.equal(first.signed_url_expires_at, second.signed_url_expires_at);
      break;
    }
  });

  it('downloads with the link alone, no header: the bytes, the same safety headers, byte ranges, and caching until the link expires', async () => {
    const { signed_url, signed_url_expires_at } = await linkOf(b);
    const res = await fetch(base + signed_url);
    const now = Date.now();
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), video);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('content-disposition'), `inline; filename="clip.mp4"; filename*=UTF-8''clip.mp4`);
    assert.match(res.headers.get('content-security-policy')!, /sandbox/);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers.get('cache-control')!)![1]);
    const left = (Date.parse(signed_url_expires_at) - now) / 1000;
    assert.ok(maxAge <= left + 1 && maxAge >= left - 5, `${maxAge} vs ${left}`);
    const range = await fetch(base + signed_url, { headers: { range: 'bytes=39998-40001' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 39998-40001/${video.length}`);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), Buffer.from([0, 0, 7, 7]));
    const bearer = await fetch(`${base}/api/attachments/${att.id}/download/`, { headers: b.auth });
    assert.equal(bearer.status, 200, 'the bearer header works as before');
    assert.equal(bearer.headers.get('cache-control'), 'private, no-cache');
    await bearer.arrayBuffer();
    const stale = await fetch(base + signed_url, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(stale.status, 200, 'a valid link is enough beside an invalid token');
    await stale.arrayBuffer();
  });

  it('refuses a tampered link with 401 JSON: signature, reader, attachment or expiry changed, or parts missing', async () => {
    const other = await ok(uploadMultipart(t, a, { message: (await send(t, a, room.id, 'another')).id, file_type: 'image', file: { data: FILES.png, filename: 'x.png' } }), 201);
    const { signed_url } = await linkOf(b);
    const u = new URL(signed_url, base);
    const q = Object.fromEntries(u.searchParams) as { expires: string; user: string; sig: string };
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const tampered: Record<string, string> = {
      sig: `/api/attachments/${att.id}/download/?expires=${q.expires}&user=${q.user}&sig=${flip(q.sig)}`,
      'short sig': `/api/attachments/${att.id}/download/?expires=${q.expires}&user=${q.user}&sig=${q.sig.slice(0, -1)}`,
      user: `/api/attachments/${att.id}/download/?expires=${q.expires}&user=${a.id}&sig=${q.sig}`,
      attachment: `/api/attachments/${other.id}/download/?expires=${q.expires}&user=${q.user}&sig=${q.sig}`,
      expiry: `/api/attachments/${att.id}/download/?expires=${Number(q.expires) + SIGNED_URL_ROUNDING_SEC}&user=${q.user}&sig=${q.sig}`,
      'no sig': `/api/attachments/${att.id}/download/?expires=${q.expires}&user=${q.user}`,
      'no user': `/api/attachments/${att.id}/download/?expires=${q.expires}&sig=${q.sig}`,
      'not a number': `/api/attachments/${att.id}/download/?expires=${q.expires}x&user=${q.user}&sig=${q.sig}`,
      nothing: `/api/attachments/${att.id}/download/`,
    };
    for (const [what, path] of Object.entries(tampered)) {
      const res = await fetch(base + path);
      assert.equal(res.status, 401, what);
      const body = (await res.json()) as { detail?: string };
      assert.ok(body.detail, what);
    }
    // Signed with the JWT key itself instead of the derived one: refused too.
    const jwtKeySig = crypto.createHmac('sha256', JWT_SECRET).update(['attachment-download', att.id, b.id, q.expires].join('\n')).digest('base64url');
    assert.equal((await fetch(`${base}/api/attachments/${att.id}/download/?expires=${q.expires}&user=${b.id}&sig=${jwtKeySig}`)).status, 401);
    assert.equal((await fetch(base + signed_url)).status, 200, 'the untouched link still works');
  });

  it('refuses an expired link with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = links.pathFor(att.id, b.id, now - 1);
    const res = await fetch(base + expired);
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { detail: string }).detail, /expired/);
    const fresh = links.pathFor(att.id, b.id, now + 120);
    const ok200 = await fetch(base + fresh);
    assert.equal(ok200.status, 200, 'the same signer with a future expiry: accepted (the test signs as the server does)');
    await ok200.arrayBuffer();
  });

  it("answers 404 to a link whose reader can no longer read the attachment (left the room, or deleted the account)", async () => {
    const [d] = await users(t, 1);
    await ok(call(t, a, 'POST', '/api/user_chats/', { chat_room: room.id, user: d.id }), 201);
    const cLink = (await linkOf(c)).signed_url;
    const dLink = (await linkOf(d)).signed_url;
    assert.equal((await fetch(base + cLink)).status, 200);
    await ok(call(t, c, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    const gone = await fetch(base + cLink);
    assert.equal(gone.status, 404);
    assert.deepEqual(await gone.json(), { detail: 'No such attachment.', code: 'not_found' });
    await ok(call(t, d, 'DELETE', `/api/users/${d.id}/`), 204);
    assert.equal((await fetch(base + dLink)).status, 404);
    const outsider = links.pathFor(att.id, (await users(t, 1))[0].id, Math.floor(Date.now() / 1000) + 600);
    assert.equal((await fetch(base + outsider)).status, 404, 'a genuine link for someone who was never a member');
  });

  it('documents the link in the OpenAPI schema', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const download = spec.paths['/api/attachments/{id}/download/'].get;
    assert.deepEqual(download.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name).sort(), ['expires', 'sig', 'user']);
    assert.match(download.description, /signed_url/);
    const detail = spec.paths['/api/attachments/{id}/'].get.responses['200'].content['application/json'].schema;
    assert.ok(detail.properties.signed_url && detail.properties.signed_url_expires_at);
  });
});

describe('signed download links in the logs', () => {
  it('are logged by path only: no signature, reader or expiry', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer({ ...env.env, RATE_LIMIT_SIGNUP_PER_IP: '0', RATE_LIMIT_LOGIN_PER_IP: '0' });
      const a = await account(s.base, 'linkowner', PASSWORD);
      const b = await account(s.base, 'linkreader', PASSWORD);
      const room = await request(s.base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
      const msg = await request(s.base, 'POST', '/api/messages/', a.token, { chat_room: room.body.id, content: 'pic' });
      const form = new FormData();
      form.append('message', String(msg.body.id));
      form.append('file_type', 'image');
      form.append('file', new Blob([FILES.png], { type: 'image/png' }), 'pic.png');
      const up = await fetch(`${s.base}/api/attachments/`, { method: 'POST', headers: { authorization: `Bearer ${a.token}` }, body: form });
      assert.equal(up.status, 201);
      const link = await request(s.base, 'GET', `/api/attachments/${((await up.json()) as { id: number }).id}/`, b.token);
      const res = await fetch(s.base + link.body.signed_url);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      s.proc.kill('SIGTERM');
      assert.equal(await s.exited, 0);
      const sig = new URL(link.body.signed_url, s.base).searchParams.get('sig')!;
      assert.ok(s.lines.some((l) => l.req?.path === new URL(link.body.signed_url, s.base).pathname), 'the download was logged');
      const log = JSON.stringify(s.lines);
      assert.ok(!log.includes(sig) && !log.includes('expires='), 'no part of the query is logged');
    } finally {
      await env.cleanup();
    }
  });
});
