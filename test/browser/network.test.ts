// When the network drops: a banner says so, sends made meanwhile wait (shown as pending) and go
// out once on reconnect, and the missed messages arrive with no gap and no duplicate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Relay, browserSkipReason, conversationLink, createGroup, launch, messages, send, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

describe('web client: a dropped network', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let relay: Relay;
  let ada: Person;
  let bob: Person;

  before(async () => {
    s = await site();
    browser = await launch();
    relay = new Relay(s.base);
    await relay.start();
    ada = await signUp(browser, s.base);
    // Bob reaches the server through a relay the test can cut.
    bob = await signUp(browser, s.base, { origin: relay.origin });
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
    await s?.close();
  });

  test('resumes with every missed message once, in order, and sends what was written offline once', async () => {
    await createGroup(ada.page, 'field-trip', [bob.username]);
    await send(ada.page, 'before the tunnel');
    await conversationLink(bob.page, 'field-trip').click();
    await messages(bob.page).filter({ hasText: 'before the tunnel' }).waitFor();

    relay.cut();
    const banner = bob.page.getByRole('status').filter({ hasText: 'Connection lost' });
    await banner.waitFor();
    for (let i = 1; i <= 4; i++) await send(ada.page, `in the tunnel ${i}`);
    await send(bob.page, 'written offline');
    await messages(bob.page).filter({ hasText: 'written offline' }).filter({ hasText: 'Sending…' }).waitFor();

    relay.restore();
    await banner.waitFor({ state: 'detached' });
    await messages(bob.page).filter({ hasText: 'in the tunnel 4' }).waitFor();
    await messages(ada.page).filter({ hasText: 'written offline' }).waitFor();
    await messages(bob.page).filter({ hasText: 'Sending…' }).waitFor({ state: 'detached' });

    const texts = (page: Person['page']) => page.getByRole('log', { name: 'Messages' }).locator('article .text').allTextContents();
    const expected = ['before the tunnel', 'in the tunnel 1', 'in the tunnel 2', 'in the tunnel 3', 'in the tunnel 4', 'written offline'];
    assert.deepEqual(await texts(bob.page), expected);
    assert.deepEqual(await texts(ada.page), expected);
    // The server stored the offline message once.
    const stored = await s.t.ctx.db.selectFrom('messages').select('content').where('content', '=', 'written offline').execute();
    assert.equal(stored.length, 1);
  });
});
