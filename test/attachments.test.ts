import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, group, nextEvent, ok, privateRoom, send, users } from './chat-helpers.js';
import { FILES, bigVideo, dataUrl, padTo, storedFiles, uploadDataUrl, uploadMultipart, type FileName } from './media-helpers.js';

const ATTACHMENT_KEYS = ['created_at', 'download_url', 'file', 'file_name', 'file_type', 'id', 'message', 'mime_type', 'signed_url', 'signed_url_expires_at', 'size'];

const download = (t: TestApp, user: TestUser | null, id: number, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: `/api/attachments/${id}/download/`, headers: { ...(user ? user.auth : {}), ...headers } });

describe('attachments', () => {
  let t: TestApp;
  let a: TestUser, b: TestUser, outsider: TestUser;
  let room: any;
  before(async () => {
    t = await chatApp({ UPLOAD_MAX_BYTES: String(200 * 1024), PUBLIC_URL: 'https://chat.example.com' });
    [a, b, outsider] = await users(t, 3);
    room = await privateRoom(t, a, b);
  });
  after(() => t.close());

  const cases: Array<[FileName, string, string, string]> = [
    ['png', 'image', 'image/png', 'photo.png'],
    ['jpg', 'image', 'image/jpeg', 'holiday.jpeg'],
    ['gif', 'image', 'image/gif', 'anim.gif'],
    ['pdf', 'document', 'application/pdf', 'report.pdf'],
    ['docx', 'document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'letter.docx'],
    ['txt', 'document', 'text/plain; charset=utf-8', 'notes.csv'],
    ['mp3', 'audio', 'audio/mpeg', 'song.mp3'],
    ['ogg', 'audio', 'audio/ogg', 'voice.opus'],
    ['wav', 'audio', 'audio/wav', 'clip.wav'],
    ['webm', 'audio', 'audio/webm', 'voice-note.webm'],
    ['mp4', 'video', 'video/mp4', 'movie.mp4'],
    ['webm', 'video', 'video/webm', 'screen.webm'],
  ];

  for (const [kind, fileType, mime, filename] of cases) {
    it(`uploads ${kind} as ${fileType} by multipart, and downloads it byte for byte`, async () => {
      const msg = await send(t, a, room.id, `with ${kind}`);
      const res = await uploadMultipart(t, a, { message: msg.id, file_type: fileType, file: { data: FILES[kind], filename, type: 'application/x-made-up' } });
      const att = await ok(res, 201);
      assert.deepEqual(Object.keys(att).sort(), ATTACHMENT_KEYS);
      assert.equal(att.message, msg.id);
      assert.equal(att.file_type, fileType);
      assert.equal(att.mime_type, mime, 'the type comes from the bytes, not the declared one');
      assert.equal(att.size, FILES[kind].length);
      assert.equal(att.file_name, filename);
      assert.equal(att.download_url, `/api/attachments/${att.id}/download/`);
      assert.equal(att.file, `https://chat.example.com/api/attachments/${att.id}/download/`);
      const got = await download(t, b, att.id);
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.rawPayload, FILES[kind]);
      assert.equal(got.headers['content-type'], mime);
      assert.equal(got.headers['x-content-type-options'], 'nosniff');
      assert.equal(got.headers['accept-ranges'], 'bytes');
      assert.equal(Number(got.headers['content-length']), FILES[kind].length);
      const disposition = fileType === 'document' ? 'attachment' : 'inline';
      assert.equal(got.headers['content-disposition'], `${disposition}; filename="${filename}"; filename*=UTF-8''${filename}`);
    });
  }

  it('takes the form fields before or after the file', async () => {
    const msg = await send(t, a, room.id, 'fields first');
    await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image', file: { data: FILES.png, filename: 'x.png' } }, 'file-last'), 201);
  });

  it('uploads a data: URL in JSON and in a urlencoded form', async () => {
    const m1 = await send(t, a, room.id, 'json');
    const json = await ok(uploadDataUrl(t, a, { message: m1.id, file_type: 'document', file: dataUrl(FILES.pdf, 'image/png'), file_name: 'Q3 report.pdf' }), 201);
    assert.equal(json.mime_type, 'application/pdf');
    assert.equal(json.file_name, 'Q3 report.pdf');
    assert.deepEqual((await download(t, a, json.id)).rawPayload, FILES.pdf);
    const m2 = await send(t, a, room.id, 'form');
    const form = new URLSearchParams({ message: String(m2.id), file_type: 'audio', file: dataUrl(FILES.mp3) });
    const res = await t.app.inject({ method: 'POST', url: '/api/attachments/', payload: form.toString(), headers: { ...a.auth, 'content-type': 'application/x-www-form-urlencoded' } });
    const viaForm = await ok(res, 201);
    assert.equal(viaForm.mime_type, 'audio/mpeg');
    assert.equal(viaForm.file_name, 'attachment.mp3', 'a default name with the real extension');
    const m3 = await send(t, a, room.id, 'bad url');
    const bad = await ok(uploadDataUrl(t, a, { message: m3.id, file_type: 'image', file: 'https://example.com/cat.png' }), 400);
    assert.ok(bad.file);
  });

  it('shows the attachment in the message, its history and a message_updated event', async () => {
    const msg = await send(t, a, room.id, 'look');
    const seen = await nextEvent(t, b, (e) => e.type === 'message_updated' && e.message.id === msg.id);
    const att = await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image', file: { data: FILES.png, filename: 'look.png' } }), 201);
    const event = await seen.seen;
    const expected = { id: att.id, message: msg.id, file_type: 'image', mime_type: 'image/png', file_name: 'look.png', size: FILES.png.length, download_url: att.download_url, created_at: att.created_at };
    assert.deepEqual(event.message.attachment, expected);
    assert.deepEqual((await ok(call(t, b, 'GET', `/api/messages/${msg.id}/`))).attachment, expected);
    const history = await ok(call(t, b, 'GET', `/api/messages/?chat_room=${room.id}`));
    assert.deepEqual(history.results.find((m: any) => m.id === msg.id).attachment, expected);
    const { signed_url: ownLink, signed_url_expires_at: _a, ...same } = att;
    const { signed_url: theirLink, signed_url_expires_at: _b, ...seenByB } = await ok(call(t, b, 'GET', `/api/attachments/${att.id}/`));
    assert.deepEqual(seenByB, same);
    assert.match(ownLink, new RegExp(`&user=${a.id}&`));
    assert.match(theirLink, new RegExp(`&user=${b.id}&`), "each reader gets a link of their own");
  });

  it('refuses a file whose bytes do not match file_type, or are not an accepted type, and keeps nothing', async () => {
    const before = storedFiles(t);
    const spoofs: Array<[FileName, string, string, string]> = [
      ['png', 'video', 'cat.mp4', 'video/mp4'],
      ['mp4', 'image', 'cat.png', 'image/png'],
      ['pdf', 'image', 'scan.png', 'image/png'],
      ['txt', 'image', 'notes.png', 'image/png'],
      ['exe', 'document', 'invoice.pdf', 'application/pdf'],
      ['exe', 'image', 'cat.png', 'image/png'],
      ['html', 'image', 'cat.png', 'image/png'],
      ['svg', 'image', 'logo.svg', 'image/svg+xml'],
      ['zip', 'document', 'docs.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ['mp3', 'video', 'song.mp4', 'video/mp4'],
    ];
    for (const [kind, fileType, filename, type] of spoofs) {
      const msg = await send(t, a, room.id, `spoof ${kind}`);
      for (const order of ['file-first', 'file-last'] as const) {
        const res = await uploadMultipart(t, a, { message: msg.id, file_type: fileType, file: { data: FILES[kind], filename, type } }, order);
        assert.equal(res.statusCode, 400, `${kind} as ${fileType} (${order}): ${res.body}`);
        assert.ok(res.json().file || res.json().file_type, res.body);
      }
      const json = await uploadDataUrl(t, a, { message: msg.id, file_type: fileType, file: dataUrl(FILES[kind], type) });
      assert.equal(json.statusCode, 400, `${kind} as ${fileType} (data URL)`);
      assert.equal((await ok(call(t, a, 'GET', `/api/messages/${msg.id}/`))).attachment, null);
    }
    const empty = await send(t, a, room.id, 'empty');
    assert.equal((await uploadMultipart(t, a, { message: empty.id, file_type: 'document', file: { data: Buffer.alloc(0) } })).statusCode, 400);
    assert.deepEqual(storedFiles(t), before, 'no refused file was kept');
  });

  it('refuses a file over UPLOAD_MAX_BYTES with 413 and keeps nothing', async () => {
    const before = storedFiles(t);
    const msg = await send(t, a, room.id, 'huge');
    const big = bigVideo(200 * 1024 + 1);
    const multi = await uploadMultipart(t, a, { message: msg.id, file_type: 'video', file: { data: big, filename: 'huge.mp4' } });
    assert.equal(multi.statusCode, 413, multi.body);
    const small = await chatApp({ UPLOAD_MAX_BYTES: '2048' });
    try {
      const [x, y] = await users(small, 2);
      const r = await privateRoom(small, x, y);
      const m = await send(small, x, r.id, 'data url');
      const res = await uploadDataUrl(small, x, { message: m.id, file_type: 'video', file: dataUrl(bigVideo(2049)) });
      assert.equal(res.statusCode, 413, res.body);
      await ok(uploadDataUrl(small, x, { message: m.id, file_type: 'video', file: dataUrl(bigVideo(2048)) }), 201);
    } finally {
      await small.close();
    }
    assert.deepEqual(storedFiles(t), before);
    await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'video', file: { data: bigVideo(200 * 1024), filename: 'fits.mp4' } }), 201);
  });

  it('lets only the sender attach: 403 for another member, 404 for anyone else; one attachment, not on deleted messages', async () => {
    const msg = await send(t, a, room.id, 'mine');
    const file = { data: FILES.png, filename: 'p.png' };
    assert.equal((await uploadMultipart(t, b, { message: msg.id, file_type: 'image', file })).statusCode, 403);
    assert.equal((await uploadMultipart(t, outsider, { message: msg.id, file_type: 'image', file })).statusCode, 404);
    assert.equal((await uploadMultipart(t, a, { message: 999_999, file_type: 'image', file })).statusCode, 404);
    assert.equal((await uploadDataUrl(t, outsider, { message: msg.id, file_type: 'image', file: dataUrl(FILES.png) })).statusCode, 404);
    assert.deepEqual(Object.keys(await ok(uploadMultipart(t, a, { file_type: 'image', file }), 400)), ['message']);
    assert.deepEqual(Object.keys(await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'photo', file }), 400)), ['file_type']);
    assert.deepEqual(Object.keys(await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image' }), 400)), ['file']);
    await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image', file }), 201);
    assert.ok((await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image', file }), 400)).message, 'one attachment per message');
    const gone = await send(t, a, room.id, 'to delete');
    await ok(call(t, a, 'DELETE', `/api/messages/${gone.id}/`), 204);
    assert.equal((await uploadMultipart(t, a, { message: gone.id, file_type: 'image', file })).statusCode, 400);
    assert.equal((await uploadMultipart(t, a, { message: msg.id, file_type: 'image', file: { data: FILES.png } })).statusCode, 400);
    const anon = await t.app.inject({ method: 'POST', url: '/api/attachments/', payload: { message: msg.id, file_type: 'image', file: dataUrl(FILES.png) } });
    assert.equal(anon.statusCode, 401);
  });

  it('lets only active members download: 404 for outsiders and former members, exactly as for a missing one', async () => {
    const [owner, member] = await users(t, 2);
    const g = await group(t, owner, [member], false);
    const msg = await send(t, owner, g.id, 'secret file');
    const att = await ok(uploadMultipart(t, owner, { message: msg.id, file_type: 'document', file: { data: FILES.pdf, filename: 's.pdf' } }), 201);
    assert.equal((await download(t, member, att.id)).statusCode, 200);
    const hidden = await download(t, outsider, att.id);
    const missing = await download(t, outsider, 999_999);
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.body, missing.body);
    assert.equal((await call(t, outsider, 'GET', `/api/attachments/${att.id}/`)).statusCode, 404);
    assert.equal((await download(t, null, att.id)).statusCode, 401);
    await ok(call(t, member, 'POST', `/api/chat_rooms/${g.id}/leave/`), 204);
    assert.equal((await download(t, member, att.id)).statusCode, 404);
  });

  it('answers range requests with 206 and Content-Range, and 416 past the end', async () => {
    const video = bigVideo(10_000);
    video.fill(7, 100);
    for (let i = 0; i < video.length; i += 97) video[i] = i % 251;
    const msg = await send(t, a, room.id, 'video');
    const att = await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'video', file: { data: video, filename: 'v.mp4' } }), 201);
    const ranges: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, 9_999],
      ['bytes=-500', 9_500, 9_999],
      ['bytes=9000-20000', 9_000, 9_999],
      ['bytes=4242-4242', 4_242, 4_242],
    ];
    for (const [header, start, end] of ranges) {
      const res = await download(t, b, att.id, { range: header });
      assert.equal(res.statusCode, 206, header);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/10000`, header);
      assert.equal(Number(res.headers['content-length']), end - start + 1);
      assert.deepEqual(res.rawPayload, video.subarray(start, end + 1), header);
      assert.equal(res.headers['content-type'], 'video/mp4');
    }
    for (const header of ['bytes=10000-', 'bytes=20000-30000', 'bytes=-0']) {
      const res = await download(t, b, att.id, { range: header });
      assert.equal(res.statusCode, 416, header);
      assert.equal(res.headers['content-range'], 'bytes */10000');
    }
    const several = await download(t, b, att.id, { range: 'bytes=0-1,5-6' });
    assert.equal(several.statusCode, 200, 'several ranges: the whole file');
    assert.equal(several.rawPayload.length, 10_000);
    const stale = await download(t, b, att.id, { range: 'bytes=0-1', 'if-range': '"something-else"' });
    assert.equal(stale.statusCode, 200, 'an If-Range that does not match: the whole file');
    const fresh = await download(t, b, att.id, { range: 'bytes=0-1', 'if-range': stale.headers.etag as string });
    assert.equal(fresh.statusCode, 206);
  });

  it('makes the download name safe and gives it the real extension', async () => {
    const names: Array<[FileName, string, string, string]> = [
      ['png', '../../etc/passwd.png', 'passwd.png', `inline; filename="passwd.png"; filename*=UTF-8''passwd.png`],
      ['png', 'C:\\Users\\me\\evil.html', 'evil.html.png', `inline; filename="evil.html.png"; filename*=UTF-8''evil.html.png`],
      ['pdf', 'Résumé "final"; v2.pdf', 'Résumé "final"; v2.pdf', `attachment; filename="R_sum_ _final__ v2.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%3B%20v2.pdf`],
      ['txt', 'gpj.\u202eexe.txt', 'gpj.exe.txt', `attachment; filename="gpj.exe.txt"; filename*=UTF-8''gpj.exe.txt`],
      ['txt', 'script.sh', 'script.sh.txt', `attachment; filename="script.sh.txt"; filename*=UTF-8''script.sh.txt`],
    ];
    for (const [kind, raw, shown, header] of names) {
      const msg = await send(t, a, room.id, `name ${raw}`);
      const fileType = kind === 'png' ? 'image' : 'document';
      // A multipart filename cannot hold a double quote; a data-URL upload's file_name can.
      const res = raw.includes('"')
        ? uploadDataUrl(t, a, { message: msg.id, file_type: fileType, file: dataUrl(FILES[kind]), file_name: raw })
        : uploadMultipart(t, a, { message: msg.id, file_type: fileType, file: { data: FILES[kind], filename: raw } });
      const att = await ok(res, 201);
      assert.equal(att.file_name, shown);
      assert.equal((await download(t, a, att.id)).headers['content-disposition'], header);
    }
    assert.ok(storedFiles(t).every((f) => /^[A-Za-z0-9_-]{24}\.[a-z0-9]+$/.test(f)), 'stored under server-chosen names only');
  });

  it('lets the sender delete an attachment: the file is removed and the room told', async () => {
    const msg = await send(t, a, room.id, 'temporary');
    const att = await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image', file: { data: FILES.gif, filename: 'g.gif' } }), 201);
    const before = storedFiles(t);
    assert.equal((await call(t, b, 'DELETE', `/api/attachments/${att.id}/`)).statusCode, 403);
    assert.equal((await call(t, outsider, 'DELETE', `/api/attachments/${att.id}/`)).statusCode, 404);
    // (The upload's own message_updated may reach the new socket too: it committed as the socket opened.)
    const seen = await nextEvent(t, b, (e) => e.type === 'message_updated' && e.message.id === msg.id && e.message.attachment === null);
    await ok(call(t, a, 'DELETE', `/api/attachments/${att.id}/`), 204);
    await seen.seen;
    assert.equal(storedFiles(t).length, before.length - 1);
    assert.equal((await call(t, a, 'GET', `/api/attachments/${att.id}/`)).statusCode, 404);
    assert.equal((await download(t, a, att.id)).statusCode, 404);
    assert.equal((await ok(call(t, a, 'GET', `/api/messages/${msg.id}/`))).attachment, null);
    await ok(uploadMultipart(t, a, { message: msg.id, file_type: 'image', file: { data: FILES.png, filename: 'again.png' } }), 201);
  });

  it('removes the files of a deleted message and of a deleted room', async () => {
    const [owner, member] = await users(t, 2);
    const g = await group(t, owner, [member]);
    const m1 = await send(t, owner, g.id, 'one');
    const m2 = await send(t, owner, g.id, 'two');
    const start = storedFiles(t).length;
    const att1 = await ok(uploadMultipart(t, owner, { message: m1.id, file_type: 'audio', file: { data: FILES.wav, filename: 'a.wav' } }), 201);
    await ok(uploadMultipart(t, owner, { message: m2.id, file_type: 'video', file: { data: FILES.mp4, filename: 'b.mp4' } }), 201);
    assert.equal(storedFiles(t).length, start + 2);
    await ok(call(t, owner, 'DELETE', `/api/messages/${m1.id}/`), 204);
    assert.equal(storedFiles(t).length, start + 1);
    assert.equal((await call(t, member, 'GET', `/api/attachments/${att1.id}/`)).statusCode, 404);
    const deleted = await ok(call(t, member, 'GET', `/api/messages/${m1.id}/`));
    assert.equal(deleted.attachment, null);
    await ok(call(t, owner, 'DELETE', `/api/chat_rooms/${g.id}/`), 204);
    assert.equal(storedFiles(t).length, start);
  });

  it('documents the routes in the OpenAPI schema', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const upload = spec.paths['/api/attachments/'].post;
    assert.deepEqual(Object.keys(upload.requestBody.content).sort(), ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    assert.ok(upload.responses['413']);
    assert.ok(spec.paths['/api/attachments/{id}/download/'].get.responses['206']);
  });
});

describe('attachments over HTTP', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    // Files far larger than BODY_LIMIT: multipart is streamed, never parsed as a whole body.
    t = await chatApp({ UPLOAD_MAX_BYTES: String(4 * 1024 * 1024), BODY_LIMIT: String(64 * 1024) });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => t.close());

  const form = (messageId: number, fileType: string, data: Buffer, name: string) => {
    const body = new FormData();
    body.append('file', new Blob([data], { type: 'application/octet-stream' }), name);
    body.append('message', String(messageId));
    body.append('file_type', fileType);
    return body;
  };

  it('streams a large upload to storage and serves ranges of it', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'big');
    const video = bigVideo(3 * 1024 * 1024);
    video.fill(42, video.length - 10);
    const res = await fetch(`${base}/api/attachments/`, { method: 'POST', headers: a.auth, body: form(msg.id, 'video', video, 'big.mp4') });
    assert.equal(res.status, 201, await res.clone().text());
    const att = (await res.json()) as any;
    assert.equal(att.size, video.length);
    const tail = await fetch(`${base}${att.download_url}`, { headers: { ...b.auth, range: 'bytes=-10' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${video.length - 10}-${video.length - 1}/${video.length}`);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), Buffer.alloc(10, 42));
    const whole = await fetch(`${base}${att.download_url}`, { headers: b.auth });
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), video);
  });

  it('answers 413 to an oversize upload and 400 to a refused one, and the server goes on', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'too big');
    const before = storedFiles(t);
    const huge = await fetch(`${base}/api/attachments/`, { method: 'POST', headers: a.auth, body: form(msg.id, 'video', bigVideo(4 * 1024 * 1024 + 1), 'huge.mp4') });
    assert.equal(huge.status, 413);
    assert.ok(((await huge.json()) as any).file);
    const exe = padTo(FILES.exe, FILES.exe.length + 2 * 1024 * 1024);
    const refused = await fetch(`${base}/api/attachments/`, { method: 'POST', headers: a.auth, body: form(msg.id, 'document', exe, 'setup.pdf') });
    assert.equal(refused.status, 400);
    await refused.text();
    assert.deepEqual(storedFiles(t), before);
    const okRes = await fetch(`${base}/api/attachments/`, { method: 'POST', headers: a.auth, body: form(msg.id, 'image', FILES.png, 'fine.png') });
    assert.equal(okRes.status, 201);
  });
});
