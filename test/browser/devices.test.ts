// "Your devices" and device changes, in browser profiles: one user (Ada) in two browsers (two
// devices) and a contact (Bob) in an encrypted conversation with her. Bob sees "Ada added a new
// device" when her second browser arrives; her devices list shows both, this browser marked, with
// fingerprints that match across her browsers; removing the other one updates the list, tells Bob,
// and the removed browser says so and makes a new device (and reads new messages again). A socket
// closed by the server with 4410 (the device removed) is never reopened with that device's id. A
// browser whose device was removed while it was closed finds out when it opens.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { browserSkipReason, conversationLink, createGroup, launch, logInElsewhere, messages, send, signUp, site, watch, type Person, type Site } from './browser-helpers.js';

const skip = browserSkipReason();

const DEVICES_PATH = '/api/e2ee_keys/devices/';
/** The next successful registration of a new device (POST → 201) by this page. */
const registration = (page: Page) => page.waitForResponse((r) => new URL(r.url()).pathname === DEVICES_PATH && r.request().method() === 'POST' && r.status() === 201);

/** Opens "Your devices" and waits for its list. */
async function openDevices(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Devices', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Your devices' });
  await dialog.getByRole('list', { name: 'Devices' }).waitFor();
  return dialog;
}
const thisBrowser = (dialog: Locator) => dialog.getByRole('listitem').filter({ hasText: 'This browser' });
const otherDevices = (dialog: Locator) => dialog.getByRole('listitem').filter({ hasNotText: 'This browser' });
async function deviceIdOf(item: Locator): Promise<string> {
  const id = /device ([A-Za-z0-9_-]+)/.exec(await item.innerText())?.[1];
  assert.ok(id, 'a device id is shown');
  return id;
}
const fingerprintOf = async (item: Locator) => (await item.getByRole('group', { name: /^Key fingerprint of / }).innerText()).replace(/\s+/g, ' ').trim();
const closeDialog = (dialog: Locator) => dialog.getByRole('button', { name: 'Done' }).click();
const deviceParam = (url: string) => new URL(url).searchParams.get('device_id');

describe('web client: your devices, and device changes in encrypted conversations', { skip: skip ?? false }, () => {
  let s: Site;
  let browser: Browser;
  let ada: Person;
  let bob: Person;
  /** Ada's second browser. */
  let ada2: Person;
  const ROOM = 'device watch';
  const notice = (page: Page, text: string) => page.getByRole('status').filter({ hasText: text });

  /** Signs up and waits until the browser's device is registered. */
  const person = async () => {
    let registered!: Promise<unknown>;
    const p = await signUp(browser, s.base, { onPage: (page) => (registered = registration(page)) });
    await registered;
    return p;
  };
  const logIn = (who: Person) => logInElsewhere(browser, s.base, who);
  /** The server's open event sockets of a user, with the device each was opened for. */
  const socketsOf = (username: string) => {
    const gateway = (s.t.app as unknown as { gateway: { hub: { clients: Iterable<{ endpoint: string; deviceId: string | null; principal: { userId: number }; ws: { close(code: number, reason: string): void } }> } } }).gateway;
    return async () => {
      const user = await s.t.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow();
      return [...gateway.hub.clients].filter((c) => c.endpoint === 'general_updates' && c.principal.userId === user.id);
    };
  };
  /** Waits until `read` holds (polled: server-side state has no event to await). */
  const eventually = async (read: () => Promise<boolean>, what: string) => {
    const end = Date.now() + 15_000;
    while (!(await read())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /**
   * The browser whose device `oldId` was removed: it says so, registers a new device (`replaced`,
   * its registration), and opens its socket with the new id only, never again with the old one
   * (`opened`: the socket URLs the page opened since). Returns the new id.
   */
  const expectReplaced = async (who: Person, oldId: string, replaced: Promise<unknown>, opened: string[], sockets: () => Promise<Array<{ deviceId: string | null }>>) => {
    await who.page.getByRole('alert').filter({ hasText: 'This browser’s encryption keys were removed from your account on another device' }).waitFor();
    await replaced;
    const list = await openDevices(who.page);
    const newId = await deviceIdOf(thisBrowser(list));
    assert.notEqual(newId, oldId);
    await closeDialog(list);
    await eventually(async () => (await sockets()).some((c) => c.deviceId === newId), 'a socket with the new device');
    // The page's socket events reach the test after the server sees the socket: all of them up to the new device's.
    await eventually(async () => opened.some((u) => deviceParam(u) === newId), 'the page opening a socket with the new device');
    assert.ok(!(await sockets()).some((c) => c.deviceId === oldId), 'no socket for the removed device');
    assert.ok(!opened.some((u) => deviceParam(u) === oldId), `never reconnected with the removed device: ${opened.join(' ')}`);
    return newId;
  };

  before(async () => {
    s = await site();
    browser = await launch();
    ada = await person();
    bob = await person();
    await createGroup(ada.page, ROOM, [bob.username], { isPublic: false, encrypted: true });
    await conversationLink(bob.page, ROOM).click();
    await bob.page.locator('.room-header').getByText('End-to-end encrypted').waitFor();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a contact sees "<user> added a new device" when the user’s second browser joins; the user’s first browser sees it too', async () => {
    assert.equal(await notice(bob.page, 'added a new device').count(), 0);
    ada2 = await logIn(ada);
    await notice(bob.page, `${ada.username} added a new device`).waitFor();
    // A line in the conversation, not a dialog; with a way to verify the new device.
    assert.equal(await bob.page.getByRole('dialog').count(), 0);
    await notice(bob.page, `${ada.username} added a new device`).getByRole('button', { name: `Verify ${ada.username}` }).waitFor();
    await notice(ada.page, 'You added a new device').waitFor();
    // Only in the room it happened in, and not in the new browser itself.
    await conversationLink(ada2.page, ROOM).click();
    await ada2.page.getByRole('heading', { name: ROOM, exact: true }).waitFor();
    assert.equal(await notice(ada2.page, 'added a new device').count(), 0);
    // Dismissed, it goes.
    await bob.page.getByRole('button', { name: `Dismiss: ${ada.username} added a new device` }).click();
    await notice(bob.page, 'added a new device').waitFor({ state: 'detached' });
    for (const p of [ada, bob, ada2]) p.watched.assertClean();
  });

  test('Your devices lists both browsers, this one marked, each with when it was added and a fingerprint that matches across them', async () => {
    const atAda = await openDevices(ada.page);
    await otherDevices(atAda).first().waitFor();
    assert.equal(await atAda.getByRole('listitem').count(), 2);
    assert.equal(await thisBrowser(atAda).count(), 1);
    const atAda2 = await openDevices(ada2.page);
    await otherDevices(atAda2).first().waitFor();
    assert.equal(await atAda2.getByRole('listitem').count(), 2);

    const ada1Id = await deviceIdOf(thisBrowser(atAda));
    const ada2Id = await deviceIdOf(thisBrowser(atAda2));
    assert.notEqual(ada1Id, ada2Id);
    assert.equal(await deviceIdOf(otherDevices(atAda)), ada2Id);
    assert.equal(await deviceIdOf(otherDevices(atAda2)), ada1Id);
    for (const item of [thisBrowser(atAda), otherDevices(atAda)]) assert.match(await item.innerText(), /Added /);

    // Each browser shows the same digits for a device: what it holds for itself, what the other reads from the server.
    const own1 = await fingerprintOf(thisBrowser(atAda));
    const own2 = await fingerprintOf(thisBrowser(atAda2));
    assert.match(own1, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.notEqual(own1, own2);
    assert.equal(await fingerprintOf(otherDevices(atAda)), own2);
    assert.equal(await fingerprintOf(otherDevices(atAda2)), own1);

    // This browser cannot be removed from here; the other can.
    assert.equal(await thisBrowser(atAda).getByRole('button', { name: /^Remove/ }).count(), 0);
    await otherDevices(atAda).getByRole('button', { name: new RegExp(`^Remove .*\\(device ${ada2Id}\\)$`) }).waitFor();
    await closeDialog(atAda);
    await closeDialog(atAda2);
    ada.watched.assertClean();
    ada2.watched.assertClean();
  });

  test('removing the other browser updates the list and tells the contact; that browser says so, makes a new device and reads new messages', async () => {
    const atAda2 = await openDevices(ada2.page);
    const removedId = await deviceIdOf(thisBrowser(atAda2));
    await closeDialog(atAda2);
    const sockets = socketsOf(ada.username);
    const opened: string[] = [];
    ada2.page.on('websocket', (ws) => opened.push(ws.url()));
    const replaced = registration(ada2.page);

    const atAda = await openDevices(ada.page);
    await otherDevices(atAda).first().waitFor();
    const keptId = await deviceIdOf(thisBrowser(atAda));
    await atAda.getByRole('button', { name: new RegExp(`^Remove .*\\(device ${removedId}\\)$`) }).click();
    const confirm = ada.page.getByRole('dialog', { name: new RegExp(`^Remove .*\\(device ${removedId}\\)\\?$`) });
    await confirm.getByRole('button', { name: 'Remove device' }).click();
    await confirm.waitFor({ state: 'detached' });
    await atAda.getByRole('listitem').filter({ hasText: removedId }).waitFor({ state: 'detached' });
    assert.equal(await deviceIdOf(thisBrowser(atAda)), keptId);
    assert.equal(await s.t.ctx.db.selectFrom('e2ee_devices').select('device_id').where('device_id', '=', removedId).executeTakeFirst(), undefined, 'gone from the server');

    await notice(bob.page, `${ada.username} removed a device`).waitFor();

    // The removed browser: a clear message, and a new device of its own (registered, on its socket).
    const newId = await expectReplaced(ada2, removedId, replaced, opened, sockets);
    // Ada's first browser's list, still open, shows the new device when it is announced.
    await atAda.getByRole('listitem').filter({ hasText: newId }).waitFor();
    await closeDialog(atAda);

    // Bob's next message reaches the new device (its keys were shared with it).
    await send(bob.page, 'read by your replacement browser');
    await messages(ada2.page).filter({ hasText: 'read by your replacement browser' }).waitFor();
    await messages(ada.page).filter({ hasText: 'read by your replacement browser' }).waitFor();
    // Its own new device is no news to it (the event came before the message); one alert, dismissed.
    assert.equal(await notice(ada2.page, 'added a new device').count(), 0);
    assert.equal(await ada2.page.getByRole('alert').count(), 1);
    await ada2.page.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await ada2.page.getByRole('alert').waitFor({ state: 'detached' });
    for (const p of [ada, bob, ada2]) p.watched.assertClean();
  });

  test('a socket the server closes with 4410 (device removed) is not reopened with that device: the browser says so and makes a new one', async () => {
    const sockets = socketsOf(ada.username);
    const atAda2 = await openDevices(ada2.page);
    const oldId = await deviceIdOf(thisBrowser(atAda2));
    await closeDialog(atAda2);
    await eventually(async () => (await sockets()).some((c) => c.deviceId === oldId), 'the socket of the device');
    const opened: string[] = [];
    ada2.page.on('websocket', (ws) => opened.push(ws.url()));
    const replaced = registration(ada2.page);

    // As the server does when a device is removed (it may also send the room event; here only the close).
    for (const c of await sockets()) if (c.deviceId === oldId) c.ws.close(4410, 'device removed');

    await expectReplaced(ada2, oldId, replaced, opened, sockets);
    await send(bob.page, 'after the socket was closed');
    await messages(ada2.page).filter({ hasText: 'after the socket was closed' }).waitFor();
    await ada2.page.getByRole('button', { name: 'Dismiss', exact: true }).click();
    ada2.watched.assertClean();
  });

  test('a browser whose device was removed while it was closed finds out when it opens, and makes a new device', async () => {
    const atAda2 = await openDevices(ada2.page);
    const oldId = await deviceIdOf(thisBrowser(atAda2));
    await closeDialog(atAda2);
    await ada2.page.close();

    const atAda = await openDevices(ada.page);
    await atAda.getByRole('button', { name: new RegExp(`^Remove .*\\(device ${oldId}\\)$`) }).click();
    await ada.page.getByRole('dialog', { name: /^Remove .*\?$/ }).getByRole('button', { name: 'Remove device' }).click();
    await atAda.getByRole('listitem').filter({ hasText: oldId }).waitFor({ state: 'detached' });
    await closeDialog(atAda);

    // The same browser profile (its key store) opened again.
    const page = await ada2.context.newPage();
    const watched = watch(page);
    const opened: string[] = [];
    page.on('websocket', (ws) => opened.push(ws.url()));
    const replaced = registration(page);
    await page.goto('/');
    await page.getByRole('alert').filter({ hasText: 'This browser’s encryption keys were removed from your account on another device' }).waitFor();
    await replaced;
    const again = await openDevices(page);
    const newId = await deviceIdOf(thisBrowser(again));
    assert.notEqual(newId, oldId);
    await closeDialog(again);
    await eventually(async () => opened.some((u) => deviceParam(u) === newId), 'the page opening a socket with the new device');
    assert.ok(!opened.some((u) => deviceParam(u) === oldId), `never connected with the removed device: ${opened.join(' ')}`);
    assert.equal(await s.t.ctx.db.selectFrom('e2ee_devices').select('device_id').where('device_id', '=', oldId).executeTakeFirst(), undefined, 'not registered again');
    watched.assertClean();
    ada.watched.assertClean();
  });
});
