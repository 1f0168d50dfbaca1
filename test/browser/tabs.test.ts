// One session in several tabs: a new tab is logged in already, tabs stay logged in across
// access-token expiries (one refresh per expiry, shared), two tabs refreshing at the same
// moment do not trip the server's re-use detection, and logging out in one logs out all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, createGroup, launch, messages, send, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();
const TTL = 5;

describe('web client: one session in several tabs', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let tab2: Page;
  /** Each refresh the tabs made: its status, and whether it rotated the cookie (a concurrent duplicate would not). */
  const refreshes: string[] = [];

  before(async () => {
    s = await site({ ACCESS_TOKEN_TTL: String(TTL) });
    browser = await launch();
    ada = await signUp(browser, s.base);
    ada.context.on('response', async (r) => {
      if (new URL(r.url()).pathname !== '/api/auth/session/refresh/') return;
      const rotated = (await r.headersArray()).some((h) => h.name.toLowerCase() === 'set-cookie');
      refreshes.push(`${r.status()}${rotated ? ' rotated' : ''}`);
    });
    await createGroup(ada.page, 'tabs');
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a second tab opens logged in, in the same session', async () => {
    tab2 = await ada.context.newPage();
    await tab2.goto('/#/');
    await tab2.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: 'tabs' }).waitFor();
  });

  test('both tabs stay logged in across access-token expiries, refreshing one at a time', async () => {
    const start = refreshes.length;
    // Three expiries of the access token, each renewed ahead of time by one of the tabs.
    while (refreshes.length < start + 3) await ada.context.waitForEvent('response', (r) => new URL(r.url()).pathname === '/api/auth/session/refresh/');
    // Never two tabs at once: every refresh rotated the cookie (the server's grace for duplicates was not needed).
    assert.deepEqual(refreshes.slice(start, start + 3), ['200 rotated', '200 rotated', '200 rotated']);

    await ada.page.getByRole('link', { name: 'tabs' }).click();
    await tab2.getByRole('link', { name: 'tabs' }).click();
    await send(ada.page, 'from the first tab');
    await send(tab2, 'from the second tab');
    for (const page of [ada.page, tab2]) {
      await messages(page).filter({ hasText: 'from the first tab' }).waitFor();
      await messages(page).filter({ hasText: 'from the second tab' }).waitFor();
    }
    ada.watched.assertClean();
  });

  test('two tabs refreshing at the same moment both succeed, and the session lives on', async () => {
    const refresh = (page: Page) =>
      page.evaluate(async () => (await fetch('/api/auth/session/refresh/', { method: 'POST', headers: { 'x-requested-with': 'XMLHttpRequest' } })).status);
    const statuses = await Promise.all([refresh(ada.page), refresh(tab2)]);
    assert.deepEqual(statuses, [200, 200]);
    // The session was not revoked: the next refresh (the tabs' own, or this one) still works.
    assert.equal(await refresh(ada.page), 200);
    await send(tab2, 'still here');
    await messages(ada.page).filter({ hasText: 'still here' }).waitFor();
  });

  test('logging out in one tab logs out the other, and a reload stays logged out', async () => {
    await ada.page.getByRole('button', { name: 'Log out' }).click();
    await ada.page.getByRole('button', { name: 'Log in' }).waitFor();
    await tab2.getByRole('button', { name: 'Log in' }).waitFor();
    await tab2.reload();
    await tab2.getByRole('button', { name: 'Log in' }).waitFor();
    assert.equal(await tab2.getByRole('navigation', { name: 'Conversations' }).count(), 0);
  });
});
