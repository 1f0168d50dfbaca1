// Two people chat in two browser profiles: sign-up, a group, live messages both ways, unread
// counts, typing, read receipts, replies, reactions, edits, reload, and the keyboard.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserSkipReason, conversationLink, createGroup, launch, messages, send, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

describe('web client: two people chatting', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;
  const group = 'launch-plans';

  before(async () => {
    s = await site();
    browser = await launch();
    ada = await signUp(browser, s.base);
    bob = await signUp(browser, s.base);
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a group with live messages both ways, unread counts and the unread total in the title', async () => {
    await createGroup(ada.page, group, [bob.username]);
    await send(ada.page, 'Hello Bob, the launch is on Friday.');
    await messages(ada.page).filter({ hasText: 'the launch is on Friday' }).filter({ hasText: ada.username }).waitFor();
    await ada.page.getByRole('log', { name: 'Messages' }).getByRole('separator').filter({ hasText: 'Today' }).waitFor();

    // Bob has not opened it: the link says how many are unread, and so does the title.
    const link = conversationLink(bob.page, group);
    await link.and(bob.page.getByRole('link', { name: `${group}, 1 unread` })).waitFor();
    await bob.page.waitForFunction(() => document.title.startsWith('(1)'));

    await link.click();
    await messages(bob.page).filter({ hasText: 'the launch is on Friday' }).filter({ hasText: ada.username }).waitFor();
    await bob.page.getByRole('link', { name: group, exact: true }).waitFor();
    await send(bob.page, 'Great, I will bring the slides.');
    await messages(ada.page).filter({ hasText: 'I will bring the slides' }).filter({ hasText: bob.username }).waitFor();
    // Ada is looking at the conversation, so Bob's message counts as read for her, and so does its notification.
    await ada.page.getByRole('link', { name: group, exact: true }).waitFor();
    await ada.page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();
    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('typing shows in a status region, and "Seen by" follows the reader', async () => {
    await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Typing a thought');
    await ada.page.getByRole('status').filter({ hasText: `${bob.username} is typing…` }).waitFor();
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('');

    await send(ada.page, 'Did you see this?');
    await messages(bob.page).filter({ hasText: 'Did you see this?' }).waitFor();
    await ada.page.getByText(`Seen by ${bob.username}`).waitFor();
  });

  test('reply, react, edit (Up) and delete', async () => {
    const original = messages(bob.page).filter({ hasText: 'Did you see this?' }).first();
    await original.hover();
    await original.getByRole('button', { name: 'Reply' }).click();
    await send(bob.page, 'Yes, I saw it.');
    const reply = messages(ada.page).filter({ hasText: 'Yes, I saw it.' });
    await reply.getByRole('button', { name: /^Reply to .*Did you see this\?/ }).waitFor();

    await original.hover();
    await original.getByRole('button', { name: 'React' }).click();
    await original.getByRole('button', { name: 'love' }).click();
    const onAda = messages(ada.page).filter({ hasText: 'Did you see this?' }).first();
    await onAda.getByRole('button', { name: new RegExp(`^love: 1, by ${bob.username}$`) }).waitFor();

    // Up in an empty box edits your last message.
    const box = bob.page.getByRole('textbox', { name: 'Message' });
    await box.press('ArrowUp');
    await assert.doesNotReject(bob.page.waitForFunction(() => (document.querySelector('textarea') as HTMLTextAreaElement).value === 'Yes, I saw it.'));
    await box.fill('Yes, I saw it. Looks good!');
    await box.press('Enter');
    await messages(ada.page).filter({ hasText: 'Looks good!' }).filter({ hasText: '(edited)' }).waitFor();

    const mine = messages(bob.page).filter({ hasText: 'Looks good!' });
    await mine.hover();
    await mine.getByRole('button', { name: 'Delete' }).click();
    await bob.page.getByRole('dialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete message' }).click();
    await messages(ada.page).filter({ hasText: 'This message was deleted.' }).waitFor();
    assert.equal(await messages(ada.page).filter({ hasText: 'Looks good!' }).count(), 0);
  });

  test('a draft survives switching conversations and a reload; the conversation survives a reload', async () => {
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('half-written plan');
    await bob.page.goto('/#/');
    await bob.page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await conversationLink(bob.page, group).click();
    assert.equal(await bob.page.getByRole('textbox', { name: 'Message' }).inputValue(), 'half-written plan');
    await bob.page.reload();
    await messages(bob.page).filter({ hasText: 'Hello Bob' }).waitFor();
    assert.equal(await bob.page.getByRole('textbox', { name: 'Message' }).inputValue(), 'half-written plan');
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('');
    bob.watched.assertClean();
  });

  test('the keyboard: Ctrl+K switches conversation, Esc closes dialogs', async () => {
    await ada.page.getByRole('button', { name: 'New direct message' }).click();
    const dm = ada.page.getByRole('dialog', { name: 'New direct message' });
    await dm.getByRole('combobox', { name: 'Username' }).fill(bob.username);
    await dm.getByRole('option', { name: bob.username }).click();
    await dm.getByRole('button', { name: 'Start' }).click();
    await ada.page.getByRole('heading', { name: bob.username, exact: true }).waitFor();
    await send(ada.page, 'A private word.');
    // Bob is online: a dot on the conversation, and the word for screen readers.
    await conversationLink(ada.page, bob.username).locator('.presence-dot.online').waitFor();
    await ada.page.locator(`[id^="preview-"]`, { hasText: 'Online.' }).waitFor({ state: 'attached' });

    await ada.page.keyboard.press('Control+k');
    const switcher = ada.page.getByRole('dialog', { name: 'Switch conversation' });
    await switcher.getByRole('combobox', { name: 'Conversation' }).fill(group.slice(0, 6));
    await switcher.getByRole('option', { name: group }).waitFor();
    await ada.page.keyboard.press('Enter');
    await ada.page.getByRole('heading', { name: group, exact: true }).waitFor();
    assert.equal(await switcher.count(), 0);

    await ada.page.getByRole('button', { name: 'Members' }).click();
    const members = ada.page.getByRole('dialog', { name: 'Members' });
    await members.getByText(bob.username, { exact: true }).waitFor();
    await ada.page.keyboard.press('Escape');
    await members.waitFor({ state: 'detached' });

    // In the message list the arrow keys move from message to message; Tab reaches that message's actions.
    const articles = ada.page.getByRole('log', { name: 'Messages' }).getByRole('article');
    const count = await articles.count();
    await articles.nth(count - 1).focus();
    await ada.page.keyboard.press('ArrowUp');
    const focusedId = await ada.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id);
    assert.equal(focusedId, await articles.nth(count - 2).getAttribute('data-id'));
    await ada.page.keyboard.press('Tab');
    const inside = await ada.page.evaluate(() => ({ tag: document.activeElement?.tagName, in: (document.activeElement?.closest('article') as HTMLElement | null)?.dataset.id }));
    assert.deepEqual(inside, { tag: 'BUTTON', in: focusedId });

    // Bob gets the direct message as a conversation named after Ada.
    await conversationLink(bob.page, ada.username).and(bob.page.getByRole('link', { name: `${ada.username}, 1 unread` })).waitFor();
    ada.watched.assertClean();
  });

  test('notifications: the button counts unread ones, the list marks them read', async () => {
    const button = bob.page.getByRole('button', { name: /^Notifications(, \d+ unread)?$/ });
    const name = await button.getAttribute('aria-label');
    assert.match(name!, /^Notifications, \d+ unread$/);
    await button.click();
    const dialog = bob.page.getByRole('dialog', { name: 'Notifications' });
    await dialog.getByRole('button', { name: 'Mark all read' }).click();
    await bob.page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();
    await bob.page.keyboard.press('Escape');
  });

  test('leaving a group removes it; a public group can be found and joined again', async () => {
    await conversationLink(bob.page, group).click();
    await bob.page.getByRole('button', { name: 'Leave' }).click();
    await bob.page.getByRole('dialog', { name: `Leave ${group}?` }).getByRole('button', { name: 'Leave group' }).click();
    await conversationLink(bob.page, group).waitFor({ state: 'detached' });
    await bob.page.getByRole('button', { name: 'Browse groups' }).click();
    await bob.page.getByRole('dialog', { name: 'Browse groups' }).getByRole('button', { name: `Join ${group}` }).click();
    await bob.page.getByRole('heading', { name: group, exact: true }).waitFor();
    await conversationLink(bob.page, group).waitFor();
    bob.watched.assertClean();
  });

  test('a refused log-in shows the server’s message as an alert', async () => {
    const context = await browser.newContext({ baseURL: s.base });
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('textbox', { name: 'Email' }).fill(ada.email);
    await page.getByRole('textbox', { name: 'Password' }).fill('not-the-password-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'No active account found with the given credentials.' }).waitFor();
    await context.close();
  });
});
