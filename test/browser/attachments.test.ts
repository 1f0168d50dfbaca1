// Files in the browser: an image picked in one profile shows inline in the other (a signed
// URL, no bearer header) and opens full size; other files are links with name and size; a file
// over the limit is refused before uploading, and the server's own 413 reaches the page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { PNG } from '../helpers.js';
import { browserSkipReason, conversationLink, createGroup, launch, messages, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();
const LIMIT = 64 * 1024;

describe('web client: attachments', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;

  before(async () => {
    s = await site({ UPLOAD_MAX_BYTES: String(LIMIT) });
    browser = await launch();
    ada = await signUp(browser, s.base, { expectStatuses: [413] });
    bob = await signUp(browser, s.base);
    await createGroup(ada.page, 'photos', [bob.username]);
    await conversationLink(bob.page, 'photos').click();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('an image shows inline for the other person and opens full size', async () => {
    await ada.page.getByLabel('Attach file').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const onBob = messages(bob.page).filter({ hasText: ada.username }).getByRole('img', { name: 'dot.png' });
    await onBob.waitFor();
    await bob.page.waitForFunction(() => {
      const img = document.querySelector('article img') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth === 1;
    });
    const src = await onBob.getAttribute('src');
    assert.match(src!, /\/api\/attachments\/\d+\/download\/\?.*sig=/, 'a signed URL');
    await bob.page.getByRole('button', { name: /^Open image dot\.png/ }).click();
    const viewer = bob.page.getByRole('dialog', { name: 'dot.png' });
    await viewer.getByRole('img', { name: 'dot.png' }).waitFor();
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    bob.watched.assertClean();
  });

  test('another file is a download link with its name and size', async () => {
    const text = Buffer.from('minutes of the meeting\n'.repeat(100));
    await ada.page.getByLabel('Attach file').setInputFiles({ name: 'minutes.txt', mimeType: 'text/plain', buffer: text });
    const link = messages(bob.page).getByRole('link', { name: 'minutes.txt' });
    await link.waitFor();
    await messages(bob.page).filter({ hasText: 'minutes.txt' }).filter({ hasText: '(2.2 KB)' }).waitFor();
    // The link works without a bearer header.
    const res = await bob.page.request.get(new URL((await link.getAttribute('href'))!, s.base).toString());
    assert.equal(res.status(), 200);
    assert.equal((await res.body()).length, text.length);
  });

  test('a file over the limit is refused before uploading, naming the limit', async () => {
    const before = await s.t.ctx.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await ada.page.getByLabel('Attach file').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(LIMIT + 1) });
    await ada.page.getByRole('alert').filter({ hasText: "big.png (64 KB) is larger than this server's limit of 64 KB per file." }).waitFor();
    const afterCount = await s.t.ctx.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n), 'no message was created');
    await ada.page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
  });

  test('the server’s 413 reaches the browser while it is still sending', async () => {
    // Past the client's own check: a raw upload of 40× the limit.
    const status = await ada.page.evaluate(async (size) => {
      const refresh = await fetch('/api/auth/session/refresh/', { method: 'POST', headers: { 'x-requested-with': 'XMLHttpRequest' } });
      const { access } = await refresh.json();
      const headers = { authorization: `Bearer ${access}` };
      const rooms = await (await fetch('/api/user_chats/', { headers })).json();
      const sent = await fetch('/api/messages/', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ chat_room: rooms[0].chat_room, content: 'huge file' }) });
      const message = await sent.json();
      const form = new FormData();
      form.append('message', String(message.id));
      form.append('file_type', 'image');
      form.append('file', new Blob([new Uint8Array(size)], { type: 'image/png' }), 'huge.png');
      const res = await fetch('/api/attachments/', { method: 'POST', body: form, headers });
      return { status: res.status, body: await res.json() };
    }, LIMIT * 40);
    assert.equal(status.status, 413);
    assert.ok(status.body && typeof status.body === 'object', 'a JSON error body');
  });
});
