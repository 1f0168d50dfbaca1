// npm run screenshots: the main screens of the web client (with mentions, a thread, pins,
// search results, an end-to-end encrypted group and your devices), in Debian's Chromium, into
// docs/screenshots/. A throwaway server on SQLite is seeded with two people and a conversation.
// (Emoji render with an emoji font installed: apt-get install fonts-noto-color-emoji.)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { PASSWORD, signup } from '../test/helpers.js';
import { browserSkipReason, conversationLink, createGroup, launch, messages, send, signUp, site } from '../test/browser/browser-helpers.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/screenshots');
const reason = browserSkipReason();
if (reason) {
  process.stderr.write(`Cannot take screenshots: ${reason}\n`);
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });

const s = await site();
const browser = await launch();
const shot = async (page: Page, name: string) => {
  await page.screenshot({ path: path.join(out, `${name}.png`) });
  process.stdout.write(`docs/screenshots/${name}.png\n`);
};

try {
  const viewport = { width: 1280, height: 760 };
  const anon = await browser.newPage({ viewport, baseURL: s.base });
  await anon.goto('/');
  await anon.getByRole('button', { name: 'Log in' }).waitFor();
  await shot(anon, 'login');
  await anon.getByRole('link', { name: 'Create an account' }).click();
  await anon.getByRole('textbox', { name: 'Password' }).fill('1234');
  await anon.getByRole('textbox', { name: 'Username' }).fill('grace');
  await anon.getByRole('textbox', { name: 'Email' }).fill('not-an-email');
  await anon.getByRole('button', { name: 'Sign up' }).click();
  await anon.getByRole('alert').waitFor();
  await shot(anon, 'signup-error');

  const ada = await signUp(browser, s.base, { username: 'ada' });
  const bob = await signUp(browser, s.base, { username: 'bob' });
  const carol = await signUp(browser, s.base, { username: 'carol' });
  // A picture to share: a mock-up drawn by the browser itself.
  const painter = await browser.newPage({ viewport: { width: 480, height: 300 } });
  await painter.setContent(`<body style="margin:0;font:600 28px system-ui;background:linear-gradient(135deg,#2457c5,#7aa2f7);color:#fff;display:grid;place-items:center;height:100vh">
    <div style="background:#fff;color:#1b1d22;border-radius:16px;padding:28px 36px;box-shadow:0 10px 30px #0004">Welcome aboard 👋<div style="font:400 16px system-ui;margin-top:8px">Step 1 of 3 · Skip</div></div></body>`);
  const mockup = await painter.screenshot();
  await painter.close();
  for (const p of [ada, bob, carol]) await p.page.setViewportSize(viewport);
  await createGroup(ada.page, 'design-review', [bob.username, carol.username]);
  await send(ada.page, 'Morning! The new onboarding flow is ready for review.');
  await conversationLink(bob.page, 'design-review').click();
  await send(bob.page, 'Nice. Sharing the mock-up from yesterday:');
  await bob.page.getByLabel('Attach file').setInputFiles({ name: 'mockup.png', mimeType: 'image/png', buffer: mockup });
  await messages(ada.page).getByRole('img', { name: 'mockup.png' }).waitFor();
  await send(ada.page, 'Looks clean. Two questions:\n1. Do we keep the skip button?\n2. Which copy for the first screen?');
  const first = messages(bob.page).filter({ hasText: 'Morning!' }).first();
  await first.hover();
  await first.getByRole('button', { name: 'React' }).click();
  await first.getByRole('button', { name: 'like' }).click();
  await ada.page.getByLabel('Attach file').setInputFiles({ name: 'review-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes\n'.repeat(300)) });
  await messages(bob.page).getByRole('link', { name: 'review-notes.txt' }).waitFor();
  // Typed at a person's pace: the server relays typing once per 2 s, and the client repeats it every 3 s while typing.
  await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Keep the skip button', { delay: 200 });
  await ada.page.getByRole('status').filter({ hasText: 'is typing' }).waitFor();
  await ada.page.getByRole('button', { name: 'New direct message' }).click();
  const dm = ada.page.getByRole('dialog', { name: 'New direct message' });
  await dm.getByRole('combobox', { name: 'Username' }).fill(carol.username);
  await dm.getByRole('option', { name: carol.username }).click();
  await dm.getByRole('button', { name: 'Start' }).click();
  await send(ada.page, 'Can you join the review at 3?');
  await conversationLink(ada.page, 'design-review').click();
  await messages(ada.page).filter({ hasText: 'Keep' }).count();
  await shot(bob.page, 'conversation');
  await conversationLink(carol.page, 'ada').and(carol.page.getByRole('link', { name: 'ada, 1 unread' })).waitFor();
  await shot(carol.page, 'unread');

  await ada.page.getByRole('button', { name: 'New group' }).click();
  const dialog = ada.page.getByRole('dialog', { name: 'New group' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill('offsite-2027');
  await dialog.getByRole('combobox', { name: 'Add people' }).fill(bob.username.slice(0, 4));
  await dialog.getByRole('option').first().waitFor();
  await shot(ada.page, 'new-group');
  await ada.page.keyboard.press('Escape');
  await ada.page.keyboard.press('Escape');

  await ada.page.getByRole('button', { name: 'Members' }).click();
  const members = ada.page.getByRole('dialog', { name: 'Members' });
  await members.getByRole('button', { name: `Manage ${bob.username}` }).click();
  await members.getByRole('button', { name: 'Make admin' }).click();
  await members.getByRole('listitem').filter({ hasText: bob.username }).getByText('admin', { exact: true }).waitFor();
  await members.getByRole('button', { name: `Manage ${carol.username}` }).click();
  await members.getByRole('button', { name: 'Make owner' }).waitFor();
  await shot(ada.page, 'members');
  await ada.page.keyboard.press('Escape');

  await carol.page.getByRole('button', { name: /^Notifications/ }).click();
  await carol.page.getByRole('dialog', { name: 'Notifications' }).getByRole('listitem').first().waitFor();
  await shot(carol.page, 'notifications');

  const phone = await browser.newContext({ viewport: { width: 390, height: 780 }, baseURL: s.base, colorScheme: 'dark', storageState: await bob.context.storageState() });
  const mobile = await phone.newPage();
  await mobile.goto('/');
  await conversationLink(mobile, 'design-review').click();
  await messages(mobile).first().waitFor();
  await shot(mobile, 'mobile-dark');

  // Running the group: a ban list, invite links, an invitation, and the admin page.
  await signup(s.t.app, { username: 'dave', email: 'dave@example.com' });
  const erin = await signUp(browser, s.base, { username: 'erin' });
  await erin.page.setViewportSize(viewport);
  await ada.page.getByRole('button', { name: 'Members' }).click();
  await members.getByRole('combobox', { name: 'Add people' }).fill('dave');
  await members.getByRole('option', { name: 'dave' }).click();
  await members.getByRole('button', { name: 'Manage dave' }).click();
  await members.getByRole('button', { name: 'Ban', exact: true }).click();
  const ban = ada.page.getByRole('dialog', { name: 'Ban dave?' });
  await ban.getByRole('textbox', { name: 'Reason (optional)' }).fill('Posting ads for watches');
  await ban.getByRole('button', { name: 'Ban', exact: true }).click();
  await members.getByRole('button', { name: 'Ban list' }).click();
  await ada.page.getByRole('dialog', { name: 'Ban list' }).getByRole('listitem').first().waitFor();
  await shot(ada.page, 'bans');
  await ada.page.keyboard.press('Escape');
  await members.getByRole('button', { name: 'Invite links' }).waitFor();
  await members.getByRole('button', { name: 'Invite links' }).click();
  const invites = ada.page.getByRole('dialog', { name: 'Invite links' });
  await invites.getByRole('button', { name: 'Create link' }).click();
  await invites.getByRole('spinbutton', { name: 'Max uses' }).fill('10');
  await invites.getByRole('combobox', { name: 'Expires after' }).selectOption({ label: '7 days' });
  await invites.getByRole('button', { name: 'Create link' }).click();
  const newest = invites.getByRole('listitem').first();
  await newest.getByText(/of 10 times/).waitFor();
  await ada.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.base });
  await newest.getByRole('button', { name: 'Copy link' }).click();
  await newest.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  const link = await newest.getByRole('textbox', { name: 'Invite link' }).inputValue();
  await shot(ada.page, 'invites');
  await ada.page.keyboard.press('Escape');
  await members.getByRole('button', { name: 'Invite links' }).waitFor();
  await ada.page.keyboard.press('Escape');

  await erin.page.goto(link);
  await erin.page.getByRole('button', { name: 'Join design-review' }).waitFor();
  await shot(erin.page, 'invite');

  await s.t.ctx.db.updateTable('users').set({ is_staff: 1 }).where('username', '=', 'ada').execute();
  for (const name of ['frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory']) await signup(s.t.app, { username: name, email: `${name}@example.com` });
  await s.t.ctx.db.updateTable('users').set({ is_active: 0 }).where('username', 'in', ['dave', 'mallory']).execute();
  await ada.page.goto('/#/admin');
  await ada.page.reload(); // the session learns that Ada is staff now
  await ada.page.getByRole('heading', { name: 'Admin', exact: true }).waitFor();
  await ada.page.getByRole('cell', { name: 'Deactivated', exact: true }).first().waitFor();
  await shot(ada.page, 'admin');

  // Mentions, threads, pins and search.
  const act = async (page: Page, text: string, name: string) => {
    const m = messages(page).filter({ hasText: text }).first();
    await m.hover();
    await m.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name, exact: true }).click();
  };
  await conversationLink(ada.page, 'design-review').click();
  const adaBox = ada.page.getByRole('textbox', { name: 'Message', exact: true });
  await adaBox.pressSequentially('Thanks both! @');
  await ada.page.getByRole('listbox', { name: 'Mention a member' }).getByRole('option', { name: 'carol', exact: true }).waitFor();
  await shot(ada.page, 'mention-autocomplete');
  await adaBox.pressSequentially('car');
  await adaBox.press('Enter');
  await adaBox.pressSequentially('can you own the copy for the first screen?');
  await adaBox.press('Enter');

  await carol.page.keyboard.press('Escape');
  await conversationLink(carol.page, 'design-review').click();
  await act(bob.page, 'Looks clean', 'Open thread');
  const bobReply = bob.page.getByRole('complementary', { name: 'Thread' }).getByRole('textbox', { name: 'Thread reply' });
  await bobReply.fill('1. Yes, keep it: people come back to onboarding later.');
  await bobReply.press('Enter');
  const root = messages(carol.page).filter({ hasText: 'Looks clean' });
  await root.getByRole('button', { name: '1 reply', exact: true }).click();
  const carolThread = carol.page.getByRole('complementary', { name: 'Thread' });
  await carolThread.getByRole('log', { name: 'Thread replies' }).getByRole('article').first().waitFor();
  const carolReply = carolThread.getByRole('textbox', { name: 'Thread reply' });
  await carolReply.fill('2. The short one, "Welcome aboard". I will send two variants by noon.');
  await carolReply.press('Enter');
  await root.getByRole('button', { name: '2 replies', exact: true }).waitFor();
  await carol.page.getByRole('article', { name: /\(mentions you\)/ }).waitFor();
  await carolReply.click();
  await shot(carol.page, 'thread');

  await act(ada.page, 'Morning!', 'Pin');
  await act(ada.page, 'Looks clean', 'Pin');
  await messages(bob.page).filter({ hasText: 'Looks clean' }).getByText('Pinned', { exact: true }).waitFor();
  await bob.page.getByRole('button', { name: 'Close thread' }).click();
  await bob.page.getByRole('button', { name: 'Pinned messages', exact: true }).click();
  await bob.page.getByRole('dialog', { name: 'Pinned messages' }).getByRole('listitem').nth(1).waitFor();
  await shot(bob.page, 'pins');
  await bob.page.keyboard.press('Escape');

  const search = bob.page.getByRole('searchbox', { name: 'Search messages' });
  await search.fill('review');
  await search.press('Enter');
  await bob.page.getByRole('list', { name: 'Search results' }).getByRole('listitem').nth(1).waitFor();
  await shot(bob.page, 'search');

  // End-to-end encryption: an encrypted group with a picture, a late joiner, safety numbers, a changed key.
  const chartPage = await browser.newPage({ viewport: { width: 420, height: 240 } });
  await chartPage.setContent(`<body style="margin:0;font:600 18px system-ui;background:#fff;display:flex;align-items:flex-end;gap:18px;height:100vh;padding:24px;box-sizing:border-box">
    ${[60, 95, 130, 170, 150].map((h, i) => `<div style="width:48px;height:${h}px;background:${i === 3 ? '#2457c5' : '#7aa2f7'};border-radius:6px 6px 0 0"></div>`).join('')}</body>`);
  const chart = await chartPage.screenshot();
  await chartPage.close();
  await bob.page.keyboard.press('Escape');
  await createGroup(ada.page, 'payroll', [bob.username, carol.username], { isPublic: false, encrypted: true });
  await send(ada.page, 'Salary bands for next year are in. Keeping them here: only our browsers can read this room.');
  await conversationLink(bob.page, 'payroll').click();
  await messages(bob.page).filter({ hasText: 'Salary bands' }).waitFor();
  await send(bob.page, 'Thanks! The chart from the finance review:');
  await bob.page.getByLabel('Attach file').setInputFiles({ name: 'bands-2027.png', mimeType: 'image/png', buffer: chart });
  await messages(ada.page).getByRole('img', { name: 'bands-2027.png' }).waitFor();
  await ada.page.getByRole('button', { name: 'Members' }).click();
  await members.getByRole('combobox', { name: 'Add people' }).fill('erin');
  await members.getByRole('option', { name: 'erin' }).click();
  await members.getByRole('listitem').filter({ hasText: 'erin' }).waitFor();
  await ada.page.keyboard.press('Escape');
  await send(ada.page, 'Erin joins us from today. Erin: you can read from here on, not what came before.');
  await messages(bob.page).filter({ hasText: 'Erin joins us' }).waitFor();
  await messages(bob.page).getByRole('img', { name: 'bands-2027.png' }).waitFor();
  await shot(bob.page, 'e2ee-conversation');
  await erin.page.goto('/#/');
  await conversationLink(erin.page, 'payroll').click();
  await messages(erin.page).filter({ hasText: 'Erin joins us' }).waitFor();
  await messages(erin.page).filter({ hasText: 'Unable to decrypt' }).first().waitFor();
  await shot(erin.page, 'e2ee-late-joiner');

  await bob.page.getByRole('button', { name: 'Members' }).click();
  await bob.page.getByRole('dialog', { name: 'Members' }).getByRole('button', { name: 'Verify ada' }).click();
  await bob.page.getByRole('dialog', { name: 'Verify ada' }).getByRole('group', { name: /^Safety number/ }).first().waitFor();
  await shot(bob.page, 'safety-number');
  await bob.page.keyboard.press('Escape');
  await bob.page.keyboard.press('Escape');

  // Carol's browser shows up with other keys (the server swapped them, or she reinstalled): Ada is warned.
  const carolUser = await s.t.ctx.db.selectFrom('users').select('id').where('username', '=', 'carol').executeTakeFirstOrThrow();
  const other = Buffer.alloc(32, 7).toString('base64');
  await s.t.ctx.db.updateTable('e2ee_devices').set({ identity_key: other, signing_key: other }).where('user_id', '=', carolUser.id).execute();
  await ada.page.getByRole('button', { name: 'Members' }).click();
  await members.getByRole('button', { name: 'Verify carol' }).click();
  await ada.page.getByRole('dialog', { name: 'Verify carol' }).getByText('keys changed').waitFor();
  await ada.page.keyboard.press('Escape');
  await ada.page.keyboard.press('Escape');
  await ada.page.getByRole('alert').filter({ hasText: 'security keys changed' }).waitFor();
  await ada.page.mouse.move(5, 700);
  await shot(ada.page, 'e2ee-identity-warning');

  // Your devices: Ada logs in on a second browser (a new device); her first one lists both, and Bob's conversation says so.
  const laptop = await browser.newContext({ viewport, baseURL: s.base });
  const second = await laptop.newPage();
  const registered = second.waitForResponse((r) => new URL(r.url()).pathname === '/api/e2ee_keys/devices/' && r.request().method() === 'POST' && r.status() === 201);
  await second.goto('/');
  await second.getByRole('textbox', { name: 'Email' }).fill(ada.email);
  await second.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
  await second.getByRole('button', { name: 'Log in' }).click();
  await registered;
  await bob.page.getByRole('status').filter({ hasText: 'ada added a new device' }).waitFor();
  await shot(bob.page, 'device-notice');
  await ada.page.getByRole('button', { name: 'Devices', exact: true }).click();
  const devices = ada.page.getByRole('dialog', { name: 'Your devices' });
  await devices.getByRole('listitem').nth(1).getByRole('group', { name: /^Key fingerprint/ }).waitFor();
  await shot(ada.page, 'devices');
} finally {
  await browser.close();
  await s.close();
}
