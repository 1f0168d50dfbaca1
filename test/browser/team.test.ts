// Running a group in real pages: roles changed live, a moderator's deletion, removal and ban as the
// removed user sees them, invite links (copied, previewed, joined, refused), the ban list and a ban
// of someone outside the group, a members list longer than a page, ownership handed over, and the
// admin page for staff.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { call, ok, users } from '../chat-helpers.js';
import { PASSWORD, login, signup } from '../helpers.js';
import { browserSkipReason, conversationLink, createGroup, launch, messages, send, signUp, site, watch, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

describe('web client: running a group', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;
  let carol: Person;
  let inviteUrl = '';
  const group = 'team-room';

  const membersDialog = (page: Page) => page.getByRole('dialog', { name: 'Members' });
  const memberRow = (page: Page, username: string) => membersDialog(page).getByRole('list', { name: 'Members' }).getByRole('listitem').filter({ hasText: username });
  const openMembers = async (page: Page) => {
    await page.getByRole('button', { name: 'Members', exact: true }).click();
    await membersDialog(page).getByRole('list', { name: 'Members' }).waitFor();
  };
  const manage = async (page: Page, username: string, action: string) => {
    const dialog = membersDialog(page);
    const toggle = dialog.getByRole('button', { name: `Manage ${username}` });
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    await dialog.getByRole('group', { name: `Manage ${username}` }).getByRole('button', { name: action, exact: true }).click();
  };

  /** Esc in the invite links or the ban list goes back to the members panel. */
  const closeToMembers = async (page: Page) => {
    await page.keyboard.press('Escape');
    await membersDialog(page).getByRole('button', { name: 'Ban list' }).waitFor();
  };

  before(async () => {
    s = await site();
    browser = await launch();
    ada = await signUp(browser, s.base);
    bob = await signUp(browser, s.base);
    // Carol is removed, banned and refused: those answers (403, 404) are expected.
    carol = await signUp(browser, s.base, { expectStatuses: [403, 404] });
    await ada.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.base });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('the owner makes a member an admin: the roles change live on the member’s page, with the actions an admin has', async () => {
    await createGroup(ada.page, group, [bob.username, carol.username]);
    await conversationLink(bob.page, group).click();
    await openMembers(bob.page);
    await memberRow(bob.page, ada.username).getByText('owner', { exact: true }).waitFor();
    await memberRow(bob.page, bob.username).getByText('member', { exact: true }).waitFor();
    // A plain member manages nobody.
    assert.equal(await membersDialog(bob.page).getByRole('button', { name: /^Manage / }).count(), 0);
    assert.equal(await membersDialog(bob.page).getByRole('button', { name: 'Ban list' }).count(), 0);

    await openMembers(ada.page);
    await manage(ada.page, bob.username, 'Make admin');
    await memberRow(ada.page, bob.username).getByText('admin', { exact: true }).waitFor();

    // Bob's open panel follows: his role, and what an admin may do (plain members only).
    await memberRow(bob.page, bob.username).getByText('admin', { exact: true }).waitFor();
    await membersDialog(bob.page).getByRole('button', { name: `Manage ${carol.username}` }).click();
    const actions = membersDialog(bob.page).getByRole('group', { name: `Manage ${carol.username}` }).getByRole('button');
    assert.deepEqual(await actions.allInnerTexts(), ['Remove', 'Ban']);
    assert.equal(await membersDialog(bob.page).getByRole('button', { name: `Manage ${ada.username}` }).count(), 0);
    await membersDialog(bob.page).getByRole('button', { name: 'Ban list' }).waitFor();
    await bob.page.keyboard.press('Escape');
    await ada.page.keyboard.press('Escape');
    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('an admin deletes a member’s message: everyone sees who deleted it', async () => {
    await conversationLink(carol.page, group).click();
    await send(carol.page, 'Buy cheap watches here');
    const onBob = messages(bob.page).filter({ hasText: 'Buy cheap watches here' });
    await onBob.hover();
    await onBob.getByRole('button', { name: 'Delete' }).click();
    await bob.page.getByRole('dialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete message' }).click();
    await messages(carol.page).filter({ hasText: `Message deleted by ${bob.username}` }).waitFor();
    await messages(bob.page).filter({ hasText: `Message deleted by ${bob.username}` }).waitFor();
    // A plain member may not delete others' messages: Carol's menu on Bob's message has no Delete.
    await send(bob.page, 'Please keep it on topic.');
    const onCarol = messages(carol.page).filter({ hasText: 'Please keep it on topic.' });
    await onCarol.hover();
    await onCarol.getByRole('button', { name: 'Reply' }).waitFor();
    assert.equal(await onCarol.getByRole('button', { name: 'Delete' }).count(), 0);
    carol.watched.assertClean();
  });

  test('the owner removes a member: the conversation leaves their list at once and the open view says so', async () => {
    await openMembers(ada.page);
    await manage(ada.page, carol.username, 'Remove');
    await ada.page.getByRole('dialog', { name: `Remove ${carol.username}?` }).getByRole('button', { name: 'Remove', exact: true }).click();
    await memberRow(ada.page, carol.username).waitFor({ state: 'detached' });

    await conversationLink(carol.page, group).waitFor({ state: 'detached' });
    await carol.page.getByRole('status').filter({ hasText: `You were removed from ${group} by ${ada.username}.` }).waitFor();
    assert.equal(await carol.page.getByRole('textbox', { name: 'Message' }).count(), 0);
    await ada.page.keyboard.press('Escape');
    carol.watched.assertClean();
  });

  test('an invite link: created with limits, copied, previewed by someone outside the group, and joined', async () => {
    await openMembers(ada.page);
    await membersDialog(ada.page).getByRole('button', { name: 'Invite links' }).click();
    const invites = ada.page.getByRole('dialog', { name: 'Invite links' });
    await invites.getByRole('spinbutton', { name: 'Max uses' }).fill('5');
    await invites.getByRole('combobox', { name: 'Expires after' }).selectOption({ label: '7 days' });
    await invites.getByRole('button', { name: 'Create link' }).click();
    const item = invites.getByRole('list', { name: 'Active invite links' }).getByRole('listitem').first();
    await item.getByText(/^Used 0 of 5 times · expires /).waitFor();
    await item.getByRole('button', { name: 'Copy link' }).click();
    await item.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    inviteUrl = await ada.page.evaluate(() => navigator.clipboard.readText());
    assert.equal(inviteUrl, await item.getByRole('textbox', { name: 'Invite link' }).inputValue());
    assert.match(inviteUrl, new RegExp(`^${s.base}/#/invite/[\\w-]+$`));

    // Carol, removed earlier, comes back with it: the group's preview, then Join opens the conversation.
    await carol.page.goto(inviteUrl);
    await carol.page.getByRole('heading', { name: group, exact: true }).waitFor();
    await carol.page.getByText('2 members', { exact: true }).waitFor();
    await carol.page.getByRole('button', { name: `Join ${group}` }).click();
    await carol.page.getByRole('textbox', { name: 'Message' }).waitFor();
    await carol.page.getByRole('heading', { name: group, exact: true }).waitFor();
    await conversationLink(carol.page, group).waitFor();
    // Closing the invite links goes back to the members panel they were opened from.
    await closeToMembers(ada.page);
    await ada.page.keyboard.press('Escape');
    await membersDialog(ada.page).waitFor({ state: 'detached' });
    carol.watched.assertClean();
  });

  test('an invite opened logged out asks for a log-in first, then comes back to it', async () => {
    const eve = await signup(s.t.app);
    const context = await browser.newContext({ baseURL: s.base });
    const page = await context.newPage();
    const watched = watch(page);
    await page.goto(inviteUrl);
    await page.getByText('Log in to see your invitation.').waitFor();
    await page.getByRole('textbox', { name: 'Email' }).fill(eve.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: `Join ${group}` }).click();
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    await conversationLink(page, group).waitFor();
    watched.assertClean();
    await context.close();
  });

  test('a ban with a reason: the banned user is removed, the ban list shows why, the invite refuses them until unbanned', async () => {
    await openMembers(ada.page);
    await manage(ada.page, carol.username, 'Ban');
    const ban = ada.page.getByRole('dialog', { name: `Ban ${carol.username}?` });
    await ban.getByRole('textbox', { name: 'Reason (optional)' }).fill('Spamming the channel');
    await ban.getByRole('button', { name: 'Ban', exact: true }).click();
    await memberRow(ada.page, carol.username).waitFor({ state: 'detached' });

    await conversationLink(carol.page, group).waitFor({ state: 'detached' });
    await carol.page.getByRole('status').filter({ hasText: `You were banned from ${group} by ${ada.username}.` }).waitFor();

    await membersDialog(ada.page).getByRole('button', { name: 'Ban list' }).click();
    const bans = ada.page.getByRole('dialog', { name: 'Ban list' });
    const row = bans.getByRole('list', { name: 'Banned people' }).getByRole('listitem').filter({ hasText: carol.username });
    await row.getByText(/“Spamming the channel” · by /).waitFor();

    // The invite still shows the group, but joining is refused with the server's words.
    await carol.page.goto(inviteUrl);
    await carol.page.getByRole('button', { name: `Join ${group}` }).click();
    await carol.page.getByRole('alert').filter({ hasText: 'You are banned from this group.' }).waitFor();
    assert.equal(await conversationLink(carol.page, group).count(), 0);

    await row.getByRole('button', { name: `Unban ${carol.username}` }).click();
    await bans.getByText('Nobody is banned from this group.').waitFor();
    await carol.page.getByRole('button', { name: `Join ${group}` }).click();
    await carol.page.getByRole('textbox', { name: 'Message' }).waitFor();
    await conversationLink(carol.page, group).waitFor();
    await closeToMembers(ada.page);
    await ada.page.keyboard.press('Escape');
    await membersDialog(ada.page).waitFor({ state: 'detached' });
    ada.watched.assertClean();
  });

  test('someone outside the group is banned from the ban list: their invite is refused', async () => {
    const dave = await signUp(browser, s.base, { expectStatuses: [403] });
    await openMembers(ada.page);
    await membersDialog(ada.page).getByRole('button', { name: 'Ban list' }).click();
    const bans = ada.page.getByRole('dialog', { name: 'Ban list' });
    await bans.getByRole('combobox', { name: 'Ban someone' }).fill(dave.username);
    await bans.getByRole('option', { name: dave.username }).click();
    const ban = ada.page.getByRole('dialog', { name: `Ban ${dave.username}?` });
    await ban.getByText(`They cannot join ${group}, be added or use an invite until they are unbanned.`).waitFor();
    await ban.getByRole('textbox', { name: 'Reason (optional)' }).fill('Spams public groups');
    await ban.getByRole('button', { name: 'Ban', exact: true }).click();
    await bans.getByRole('list', { name: 'Banned people' }).getByRole('listitem').filter({ hasText: dave.username }).getByText(/“Spams public groups” · by /).waitFor();

    await dave.page.goto(inviteUrl);
    await dave.page.getByRole('button', { name: `Join ${group}` }).click();
    await dave.page.getByRole('alert').filter({ hasText: 'You are banned from this group.' }).waitFor();
    assert.equal(await conversationLink(dave.page, group).count(), 0);
    dave.watched.assertClean();
    await dave.context.close();
    await closeToMembers(ada.page);
    await ada.page.keyboard.press('Escape');
    await membersDialog(ada.page).waitFor({ state: 'detached' });
    ada.watched.assertClean();
  });

  test('a revoked invite shows the server’s message as an alert', async () => {
    await openMembers(ada.page);
    await membersDialog(ada.page).getByRole('button', { name: 'Invite links' }).click();
    const invites = ada.page.getByRole('dialog', { name: 'Invite links' });
    const list = invites.getByRole('list', { name: 'Active invite links' });
    await list.getByRole('listitem').first().getByRole('button', { name: 'Revoke' }).click();
    await invites.getByText('No invite links yet.').waitFor();
    await closeToMembers(ada.page);
    await ada.page.keyboard.press('Escape');
    await membersDialog(ada.page).waitFor({ state: 'detached' });

    const outsider = await signUp(browser, s.base, { expectStatuses: [404] });
    await outsider.page.goto(inviteUrl);
    await outsider.page.getByRole('alert').filter({ hasText: 'No such invite, or it has expired, been used up or been revoked.' }).waitFor();
    assert.equal(await outsider.page.getByRole('button', { name: `Join ${group}` }).count(), 0);
    outsider.watched.assertClean();
    await outsider.context.close();
  });

  test('a group of more than one page of members lists them all', async () => {
    const roomId = Number(/#\/c\/(\d+)/.exec(ada.page.url())![1]);
    const owner = await login(s.t.app, ada.email);
    const extra = await users(s.t, 21);
    for (const u of extra) await ok(call(s.t, { ...owner, id: 0, username: ada.username, email: ada.email }, 'POST', '/api/user_chats/', { chat_room: roomId, user: u.id }), 201);
    await openMembers(ada.page);
    const list = membersDialog(ada.page).getByRole('list', { name: 'Members' });
    await list.getByRole('listitem').filter({ hasText: extra[20].username }).waitFor();
    // Ada, Bob, Carol, Eve and the 21.
    assert.equal(await list.getByRole('listitem').count(), 25);
    await ada.page.keyboard.press('Escape');
  });

  test('the owner hands the group over after confirming: both pages show the new owner', async () => {
    await openMembers(bob.page);
    await openMembers(ada.page);
    await manage(ada.page, bob.username, 'Make owner');
    await ada.page.getByRole('dialog', { name: `Make ${bob.username} the owner?` }).getByRole('button', { name: 'Make owner' }).click();
    await memberRow(ada.page, ada.username).getByText('admin', { exact: true }).waitFor();
    await memberRow(bob.page, bob.username).getByText('owner', { exact: true }).waitFor();
    await memberRow(bob.page, ada.username).getByText('admin', { exact: true }).waitFor();
    // Ada, an admin now, can no longer change roles: nobody is hers to manage but plain members.
    assert.equal(await membersDialog(ada.page).getByRole('button', { name: `Manage ${bob.username}` }).count(), 0);
    await bob.page.keyboard.press('Escape');
    await ada.page.keyboard.press('Escape');
    ada.watched.assertClean();
    bob.watched.assertClean();
  });

  test('staff: the admin page with figures, user search, pages, deactivation and reactivation; nobody else sees it', async () => {
    assert.equal(await bob.page.getByRole('link', { name: 'Admin', exact: true }).count(), 0);
    await bob.page.goto('/#/admin');
    await bob.page.getByText('This page is not available.').waitFor();

    const staff = await signUp(browser, s.base);
    await s.t.ctx.db.updateTable('users').set({ is_staff: 1 }).where('username', '=', staff.username).execute();
    await staff.page.reload();
    await staff.page.getByRole('link', { name: 'Admin', exact: true }).click();
    await staff.page.getByRole('heading', { name: 'Admin', exact: true }).waitFor();
    await staff.page.getByRole('term').filter({ hasText: 'Users' }).waitFor();

    // Everyone, page by page (the 21 extra accounts make more than one page).
    await staff.page.getByRole('button', { name: 'Next page' }).click();
    await staff.page.getByText('Page 2', { exact: true }).waitFor();

    await staff.page.getByRole('searchbox', { name: 'Search users' }).fill(carol.username);
    await staff.page.getByRole('button', { name: 'Search', exact: true }).click();
    const row = staff.page.getByRole('row').filter({ hasText: carol.username });
    await row.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await row.getByRole('button', { name: `Deactivate ${carol.username}` }).click();
    await staff.page.getByRole('dialog', { name: `Deactivate ${carol.username}?` }).getByRole('button', { name: 'Deactivate' }).click();
    await row.getByRole('cell', { name: 'Deactivated', exact: true }).waitFor();
    await row.getByRole('button', { name: `Reactivate ${carol.username}` }).click();
    await staff.page.getByRole('dialog', { name: `Reactivate ${carol.username}?` }).getByRole('button', { name: 'Reactivate' }).click();
    await row.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    staff.watched.assertClean();
    bob.watched.assertClean();
  });
});
