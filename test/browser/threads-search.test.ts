// Mentions, threads, pins and search in real pages: a member picked from the `@` list is
// mentioned (their page marks the message and notifies them), a thread's replies reach the other
// page's thread panel and its root's summary live but never the main list, an owner's pin reaches
// a member's open pin list (a member of a group has no Pin), and search finds words by prefix,
// marks them without ever reading the text as HTML, pages on, and opens a result at its message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { call, ok } from '../chat-helpers.js';
import { login, type TestUser } from '../helpers.js';
import { browserSkipReason, conversationLink, createGroup, launch, messages, send, signUp, site, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

describe('web client: mentions, threads, pins and search', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;
  let adaApi: TestUser;
  let roomId = 0;
  const group = 'launch-plans';

  const box = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
  const threadPanel = (page: Page) => page.getByRole('complementary', { name: 'Thread' });
  const replies = (page: Page) => threadPanel(page).getByRole('log', { name: 'Thread replies' }).getByRole('article');
  // The matches: role `mark` (Playwright finds it; its typings do not list it yet).
  const marks = (l: Locator) => l.getByRole('mark' as 'generic').allInnerTexts();
  const action = async (message: Locator, name: string) => {
    await message.hover();
    await message.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name, exact: true }).click();
  };
  /** Waits until the message has the keyboard focus and is within its scrolling list's view. */
  const shownAndFocused = async (page: Page, message: Locator) => {
    await message.and(page.locator(':focus')).waitFor();
    const inView = await message.evaluate((el) => {
      // The scrolling box: a thread's panel body, or the main log itself.
      const list = el.closest('.thread-body') ?? el.closest('[role="log"]')!;
      const a = el.getBoundingClientRect();
      const b = list.getBoundingClientRect();
      return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
    });
    assert.ok(inView, 'the message is scrolled into view');
  };

  before(async () => {
    s = await site();
    browser = await launch();
    ada = await signUp(browser, s.base);
    // Bob's search for a word too common to search on its own is refused (400).
    bob = await signUp(browser, s.base, { expectStatuses: [400] });
    // Ada over the API too (a busy room's messages arrive faster than anyone types).
    adaApi = { id: 0, username: ada.username, email: ada.email, ...(await login(s.t.app, ada.email)) };
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a member picked from the @ list is mentioned: their page marks the message and notifies them', async () => {
    await createGroup(ada.page, group, [bob.username]);
    roomId = Number(/#\/c\/(\d+)/.exec(ada.page.url())![1]);
    await conversationLink(bob.page, group).click();

    await box(ada.page).pressSequentially(`Hi @${bob.username.slice(0, 4)}`);
    const list = ada.page.getByRole('listbox', { name: 'Mention a member' });
    await list.getByRole('option', { name: bob.username, exact: true }).waitFor();
    assert.equal(await list.getByRole('option', { name: ada.username, exact: true }).count(), 0, 'you are not offered');
    await box(ada.page).press('Enter');
    await list.waitFor({ state: 'detached' });
    assert.equal(await box(ada.page).inputValue(), `Hi @${bob.username} `);
    await box(ada.page).pressSequentially('can you review the copy?');
    await box(ada.page).press('Enter');

    const onBob = bob.page.getByRole('log', { name: 'Messages' }).getByRole('article', { name: /\(mentions you\)/ }).filter({ hasText: 'can you review the copy?' });
    await onBob.waitFor();
    await onBob.getByText(`@${bob.username}`, { exact: true }).waitFor();
    // Ada's own copy does not say it mentions her.
    await messages(ada.page).filter({ hasText: 'can you review the copy?' }).waitFor();
    assert.equal(await ada.page.getByRole('article', { name: /\(mentions you\)/ }).count(), 0);

    await bob.page.getByRole('button', { name: /^Notifications, \d+ unread$/ }).click();
    await bob.page.getByRole('dialog', { name: 'Notifications' }).getByRole('button', { name: new RegExp(`^${ada.username} mentioned you in .${group}.`) }).waitFor();
    await bob.page.keyboard.press('Escape');

    // With the list closed (Esc), Enter sends as ever.
    await box(ada.page).pressSequentially(`ping @${bob.username.slice(0, 3)}`);
    await list.waitFor();
    await box(ada.page).press('Escape');
    await list.waitFor({ state: 'detached' });
    await box(ada.page).press('Enter');
    await messages(bob.page).filter({ hasText: `ping @${bob.username.slice(0, 3)}` }).waitFor();
    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('a reply in a thread reaches the other page’s thread panel and the root’s count live, never the main list', async () => {
    await send(ada.page, 'Release plan for Friday');
    const rootOnBob = messages(bob.page).filter({ hasText: 'Release plan for Friday' });
    await action(rootOnBob, 'Open thread');
    await threadPanel(bob.page).getByText('No replies yet').waitFor();

    const rootOnAda = messages(ada.page).filter({ hasText: 'Release plan for Friday' });
    await action(rootOnAda, 'Open thread');
    const adaReply = threadPanel(ada.page).getByRole('textbox', { name: 'Thread reply' });
    await adaReply.fill('Step one: freeze the branch');
    await adaReply.press('Enter');

    await replies(bob.page).filter({ hasText: 'Step one: freeze the branch' }).waitFor();
    await rootOnBob.getByRole('button', { name: '1 reply', exact: true }).waitFor();
    await threadPanel(bob.page).getByText('1 reply', { exact: true }).waitFor();
    assert.equal(await messages(bob.page).filter({ hasText: 'Step one' }).count(), 0, 'the reply is not in the main list');

    await threadPanel(bob.page).getByRole('textbox', { name: 'Thread reply' }).fill('Step two: tag it');
    await threadPanel(bob.page).getByRole('button', { name: 'Send reply', exact: true }).click();
    await replies(ada.page).filter({ hasText: 'Step two: tag it' }).waitFor();
    await rootOnAda.getByRole('button', { name: '2 replies', exact: true }).waitFor();
    assert.equal(await messages(ada.page).filter({ hasText: 'Step two' }).count(), 0, 'the reply is not in the main list');
    // A reply has no thread of its own.
    await replies(ada.page).first().hover();
    await replies(ada.page).first().getByRole('button', { name: 'React', exact: true }).waitFor();
    assert.equal(await replies(ada.page).first().getByRole('button', { name: 'Open thread', exact: true }).count(), 0);

    await threadPanel(ada.page).getByRole('button', { name: 'Close thread' }).click();
    await threadPanel(ada.page).waitFor({ state: 'detached' });
    // The count opens it again.
    await rootOnAda.getByRole('button', { name: '2 replies', exact: true }).click();
    await replies(ada.page).nth(1).waitFor();
    await ada.page.keyboard.press('Escape');
    await threadPanel(ada.page).waitFor({ state: 'detached' });
    await threadPanel(bob.page).getByRole('button', { name: 'Close thread' }).click();
    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('an owner’s pin shows in a member’s open pin list live; a member of a group has no Pin', async () => {
    await bob.page.getByRole('button', { name: 'Pinned messages', exact: true }).click();
    const pinsOnBob = bob.page.getByRole('dialog', { name: 'Pinned messages' });
    await pinsOnBob.getByText('No pinned messages yet.').waitFor();

    const onAda = messages(ada.page).filter({ hasText: 'Release plan for Friday' });
    await action(onAda, 'Pin');
    await onAda.getByText('Pinned', { exact: true }).waitFor();

    const item = pinsOnBob.getByRole('list', { name: 'Pinned messages' }).getByRole('button', { name: /Release plan for Friday/ });
    await item.waitFor();
    assert.equal(await pinsOnBob.getByRole('button', { name: /^Unpin/ }).count(), 0, 'a member cannot unpin');
    await item.click();
    await pinsOnBob.waitFor({ state: 'detached' });
    const onBob = messages(bob.page).filter({ hasText: 'Release plan for Friday' });
    await shownAndFocused(bob.page, onBob);
    await onBob.getByText('Pinned', { exact: true }).waitFor();

    await onBob.hover();
    await onBob.getByRole('button', { name: 'React', exact: true }).waitFor();
    assert.equal(await onBob.getByRole('button', { name: 'Pin', exact: true }).count(), 0);

    // Unpinned: gone from the list there too.
    await bob.page.getByRole('button', { name: 'Pinned messages', exact: true }).click();
    await item.waitFor();
    await action(onAda, 'Unpin');
    await pinsOnBob.getByText('No pinned messages yet.').waitFor();
    await bob.page.keyboard.press('Escape');
    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('search: a word by its prefix, marked; HTML in a message stays text; More results; choosing a result opens it at the message', async () => {
    // An old message far up the conversation, a message with markup in it, then plenty after them.
    await ok(call(s.t, adaApi, 'POST', '/api/messages/', { chat_room: roomId, content: 'The deployment checklist is ready' }), 201);
    await ok(call(s.t, adaApi, 'POST', '/api/messages/', { chat_room: roomId, content: 'Literal <b>deploy</b> tags & more' }), 201);
    for (let i = 1; i <= 45; i++) await ok(call(s.t, adaApi, 'POST', '/api/messages/', { chat_room: roomId, content: `filler note ${i}` }), 201);
    await messages(bob.page).filter({ hasText: 'filler note 45' }).waitFor();

    const search = bob.page.getByRole('searchbox', { name: 'Search messages' });
    await search.fill('deploy');
    await search.press('Enter');
    const results = bob.page.getByRole('list', { name: 'Search results' });
    const checklist = results.getByRole('link').filter({ hasText: 'checklist is ready' });
    await checklist.waitFor();
    assert.equal(await results.getByRole('listitem').count(), 2);
    assert.deepEqual(await marks(checklist), ['deployment']);
    await checklist.getByText(group).waitFor();
    await checklist.getByText(ada.username, { exact: true }).waitFor();
    const literal = results.getByRole('link').filter({ hasText: 'Literal <b>deploy</b> tags & more' });
    await literal.waitFor();
    assert.deepEqual(await marks(literal), ['deploy']);
    assert.equal(await literal.locator('b').count(), 0, 'no element was made from the text');

    // Pages: 20, then More results.
    await search.fill('filler');
    await search.press('Enter');
    await bob.page.getByRole('status').filter({ hasText: '45 messages match “filler”.' }).waitFor();
    assert.equal(await results.getByRole('listitem').count(), 20);
    await bob.page.getByRole('button', { name: 'More results' }).click();
    await results.getByRole('listitem').nth(39).waitFor();
    await bob.page.getByRole('button', { name: 'More results' }).click();
    await results.getByRole('listitem').nth(44).waitFor();
    assert.equal(await bob.page.getByRole('button', { name: 'More results' }).count(), 0);

    // Nothing found; a query the server refuses.
    await search.fill('zebra');
    await search.press('Enter');
    await bob.page.getByRole('status').filter({ hasText: 'No messages match “zebra”.' }).waitFor();
    await search.fill('the');
    await search.press('Enter');
    await bob.page.getByRole('alert').filter({ hasText: 'Nothing to search for' }).waitFor();

    // Only this conversation, then the result opens the conversation at the message.
    await search.fill('deploy');
    await search.press('Enter');
    await bob.page.getByRole('combobox', { name: 'Search in' }).selectOption({ label: group });
    await bob.page.getByRole('status').filter({ hasText: `2 messages match “deploy” in ${group}.` }).waitFor();
    await checklist.click();
    await shownAndFocused(bob.page, messages(bob.page).filter({ hasText: 'The deployment checklist is ready' }));

    // A thread reply found by search opens in its thread.
    await search.fill('freeze');
    await search.press('Enter');
    await results.getByRole('link').filter({ hasText: 'Step one: freeze the branch' }).click();
    await shownAndFocused(bob.page, replies(bob.page).filter({ hasText: 'Step one: freeze the branch' }));
    ada.watched.assertClean();
    bob.watched.assertClean();
  });
});
