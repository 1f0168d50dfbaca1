// A long conversation in the browser: opening with many unread shows "Jump to first unread",
// which lands on the "New messages" divider; scrolling up loads older pages to the start.
// Files dropped or pasted are sent with a progress bar; a message the server refuses is kept,
// marked, and can be discarded; writing in the conversation takes the divider away; desktop
// notifications while the tab is hidden.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { PNG } from '../helpers.js';
import { browserSkipReason, conversationLink, createGroup, launch, messages, send, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

describe('web client: history, files and notifications', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;

  before(async () => {
    s = await site();
    browser = await launch();
    ada = await signUp(browser, s.base);
    bob = await signUp(browser, s.base, { expectStatuses: [400] });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('many unread: jump to the first unread, then scroll up to the beginning', async () => {
    await createGroup(ada.page, 'busy', [bob.username]);
    await send(ada.page, 'read by bob');
    await conversationLink(bob.page, 'busy').click();
    await messages(bob.page).filter({ hasText: 'read by bob' }).waitFor();
    await bob.page.goto('/#/');
    // 120 more while Bob is elsewhere (sent over the API, as a busy room would).
    const token = await ada.page.evaluate(async () => (await (await fetch('/api/auth/session/refresh/', { method: 'POST', headers: { 'x-requested-with': 'XMLHttpRequest' } })).json()).access);
    const room = (await ada.page.evaluate(async (t) => (await (await fetch('/api/user_chats/', { headers: { authorization: `Bearer ${t}` } })).json())[0].chat_room, token)) as number;
    for (let i = 1; i <= 120; i++) {
      const res = await fetch(`${s.base}/api/messages/`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ chat_room: room, content: `busy ${i}` }) });
      assert.equal(res.status, 201);
    }
    // The conversation was open before: its messages arrived live, and it opens at the divider.
    await bob.page.getByRole('link', { name: 'busy, 120 unread' }).click();
    const divider = bob.page.getByRole('separator').filter({ hasText: 'New messages' });
    await divider.waitFor();
    assert.ok(await divider.isVisible());
    await bob.page.getByRole('log', { name: 'Messages' }).locator('article .text').filter({ hasText: /^busy 1$/ }).waitFor();
    assert.equal(await bob.page.getByRole('button', { name: 'Jump to first unread' }).count(), 0);

    // Loaded afresh at the conversation's address, only the newest page is there: the first unread is a jump away.
    await bob.page.reload();
    await messages(bob.page).filter({ hasText: 'busy 120' }).waitFor();
    assert.equal(await divider.count(), 0);
    await bob.page.getByRole('button', { name: 'Jump to first unread' }).click();
    await divider.waitFor();
    await bob.page.getByRole('log', { name: 'Messages' }).locator('article .text').filter({ hasText: /^busy 1$/ }).waitFor();
    assert.ok(await divider.isVisible());
    assert.ok(await bob.page.getByRole('log', { name: 'Messages' }).locator('article .text').filter({ hasText: /^busy 1$/ }).isVisible());

    // Up to the very first message, page by page.
    const log = bob.page.getByRole('log', { name: 'Messages' });
    while (!(await log.getByText('This is the beginning of the conversation.').count())) {
      await log.evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await bob.page.waitForFunction(() => !document.querySelector('[role="log"]')?.textContent?.includes('Loading earlier messages…'));
    }
    await messages(bob.page).filter({ hasText: 'read by bob' }).waitFor();
    bob.watched.assertClean();
  });

  test('a dropped file and a pasted image are sent; a slow upload shows its progress', async () => {
    // Bob read back to the start in the previous test; new messages wait below.
    await bob.page.getByRole('button', { name: 'Jump to latest' }).click();
    await conversationLink(ada.page, 'busy').click();
    const cdp = await ada.context.newCDPSession(ada.page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
    await ada.page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(160 * 1024).fill(65)], 'slow-notes.txt', { type: 'text/plain' }));
      const pane = document.querySelector('.conversation-pane')!;
      pane.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      pane.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const progress = ada.page.getByRole('progressbar', { name: 'Uploading slow-notes.txt' });
    await progress.waitFor();
    await progress.waitFor({ state: 'detached' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await messages(bob.page).getByRole('link', { name: 'slow-notes.txt' }).waitFor();

    await ada.page.getByRole('textbox', { name: 'Message' }).evaluate((box, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...PNG]);
    await messages(bob.page).getByRole('img', { name: 'pasted.png' }).waitFor();
  });

  test('a message the server refuses stays, marked "Not sent" with the reason, until discarded', async () => {
    await conversationLink(bob.page, 'busy').click();
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('bad \u0000 byte');
    await bob.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    const failed = messages(bob.page).filter({ hasText: 'Not sent' });
    await failed.filter({ hasText: 'Null characters are not allowed.' }).waitFor();
    await failed.getByRole('button', { name: 'Retry' }).waitFor();
    await failed.getByRole('button', { name: 'Discard' }).click();
    await failed.waitFor({ state: 'detached' });
  });

  test('writing in the conversation takes the "New messages" divider away', async () => {
    await createGroup(ada.page, 'answered', [bob.username]);
    await send(ada.page, 'first, read');
    await conversationLink(bob.page, 'answered').click();
    await messages(bob.page).filter({ hasText: 'first, read' }).waitFor();
    // Two more while Bob is in another conversation.
    await conversationLink(bob.page, 'busy').click();
    await send(ada.page, 'second, unread');
    await send(ada.page, 'third, unread');
    await bob.page.getByRole('link', { name: 'answered, 2 unread' }).click();
    const divider = bob.page.getByRole('separator').filter({ hasText: 'New messages' });
    await divider.waitFor();
    await send(bob.page, 'on it');
    await messages(bob.page).filter({ hasText: 'on it' }).waitFor();
    await divider.waitFor({ state: 'detached' });
    bob.watched.assertClean();
  });

  test('desktop notifications: asked for from a click, shown while the tab is hidden', async () => {
    await ada.context.grantPermissions(['notifications']);
    await ada.page.goto('/#/');
    // After the reload, wait until the event socket is live: a notification that arrives while the
    // page is still connecting is loaded over REST, not announced on the desktop.
    const live = new Promise<void>((resolve) =>
      ada.page.on('websocket', (ws) => {
        if (ws.url().includes('/ws/general_updates/')) ws.on('framereceived', (f) => String(f.payload).includes('"type":"ready"') && resolve());
      }),
    );
    await ada.page.reload();
    await live;
    // Record what the page shows on the desktop, and hide the tab. (A string: the test runner
    // renames functions in ways the page cannot run.)
    await ada.page.evaluate(`(() => {
      const shown = [];
      window.shown = shown;
      const Native = window.Notification;
      const Recording = function (title, options) {
        shown.push((options && options.body) || '');
        return new Native(title, options);
      };
      Recording.permission = Native.permission;
      Recording.requestPermission = Native.requestPermission.bind(Native);
      Object.defineProperty(window, 'Notification', { value: Recording });
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    })()`);
    await send(bob.page, 'are you there?');
    await ada.page.waitForFunction(() => (window as unknown as { shown: string[] }).shown.length > 0, undefined, { polling: 100 });
    const shown = await ada.page.evaluate(() => (window as unknown as { shown: string[] }).shown);
    assert.match(shown[0], new RegExp(`${bob.username} sent a message`));
  });
});
