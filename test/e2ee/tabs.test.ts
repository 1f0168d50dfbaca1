// Two tabs of one browser sending with the same device (one IndexedDB, Web Locks and a
// BroadcastChannel between them, as in Chromium): each encrypts from its own block of the room
// session's indices, so their messages never share an index, and whatever changes the session
// (a key shared with a new device, a rotation) reaches the other tab before its next message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserMissing, libraryPage } from './browser-harness.js';

declare global {
  interface Window {
    E2EE: typeof import('../../web/core/e2ee/index.js');
    tab: import('../../web/core/e2ee/index.js').E2ee;
  }
}

const skip = browserMissing();
type Sent = { id: number; sender: number; content: string };

describe('two tabs of one device (Chromium)', { skip: skip ?? false }, () => {
  let a: Page;
  let b: Page;
  let close: () => Promise<void>;
  before(async () => {
    ({ page: a, close } = await libraryPage());
    b = await a.context().newPage();
    await b.goto(a.url());
    await b.waitForFunction(() => 'E2EE' in window);
  });
  after(() => close?.());

  /** Loads the device in both tabs (tab A made it), each as `window.tab`. */
  async function bothTabs(db: string): Promise<void> {
    await a.evaluate(async (db) => {
      const { E2ee, IndexedDbStore } = window.E2EE;
      window.tab = (await E2ee.createDevice(await IndexedDbStore.open(db), 1, 2)).e2ee;
    }, db);
    await b.evaluate(async (db) => {
      const { E2ee, IndexedDbStore } = window.E2EE;
      window.tab = (await E2ee.load(await IndexedDbStore.open(db)))!;
    }, db);
  }

  /** `count` messages sent from a tab, one after another, started together with the other tab's. */
  const send = (page: Page, room: number, prefix: string, count: number) =>
    page.evaluate(
      async ({ room, prefix, count }) => {
        const out: Array<{ text: string; content: string }> = [];
        for (let i = 0; i < count; i++) out.push({ text: `${prefix}${i}`, content: await window.tab.encryptRoomMessage(room, `${prefix}${i}`) });
        return out;
      },
      { room, prefix, count },
    );

  /** A new reader (another user's device, in memory in tab A) given the room key now, besides the earlier ones. */
  async function newReader(room: number): Promise<void> {
    await a.evaluate(async (room) => {
      const { E2ee, MemoryStore } = window.E2EE;
      const { e2ee: reader, upload } = await E2ee.createDevice(new MemoryStore(), 2, 1);
      const w = window as unknown as { readers?: Array<{ user: number; device_id: string }> };
      w.readers = [...(w.readers ?? []), { user: 2, device_id: reader.deviceId }];
      const { unshared, rotated } = await window.tab.ensureRoomSession(room, w.readers);
      if (rotated && w.readers.length > 1) throw new Error('the session rotated');
      const shared = await window.tab.shareRoomKey(room, [{ ...upload, user: 2, one_time_prekey: upload.one_time_prekeys[0] }]);
      if (unshared.length !== 1 || shared.envelopes.length !== 1) throw new Error('the key was not shared');
      await reader.receiveEnvelope(shared.envelopes[0].envelope, { sender: 1, sender_device: window.tab.deviceId });
      (window as unknown as { reader: typeof reader }).reader = reader;
    }, room);
  }
  const read = (messages: Sent[], room: number) =>
    a.evaluate(
      async ({ messages, room }) => {
        const reader = (window as unknown as { reader: import('../../web/core/e2ee/index.js').E2ee }).reader;
        return (await reader.decryptRoomMessages(room, messages)).map((r) => ('plaintext' in r ? r.plaintext : `error:${r.error.code}`));
      },
      { messages, room },
    );

  test('tabs sending at once never share an index; a device given the key then reads every later message of both', async () => {
    // A session lasts 100 indices, blocks included (each tab reserves 16 at a time): this test stays within one.
    await bothTabs('e2ee-tabs-1');
    await a.evaluate(() => window.tab.ensureRoomSession(5, []));
    await newReader(5);
    const [fromA, fromB] = await Promise.all([send(a, 5, 'a', 20), send(b, 5, 'b', 20)]);
    const messages = [...fromA, ...fromB].map((m, i) => ({ id: i + 1, sender: 1, content: m.content }));
    // Every message decrypts (an index used twice would be refused as a replay).
    assert.deepEqual(await read(messages, 5), [...fromA, ...fromB].map((m) => m.text));

    // Tab A shares the key with a second reader while tab B keeps sending: whatever B sends after
    // the share has finished is readable by the new reader.
    const during = send(b, 5, 'during', 10);
    await newReader(5);
    const sharedAt = (await send(b, 5, 'after', 1))[0];
    await during;
    const later = [...(await send(b, 5, 'later', 4)), ...(await send(a, 5, 'alater', 3))];
    const texts = await read([sharedAt, ...later].map((m, i) => ({ id: 1000 + i, sender: 1, content: m.content })), 5);
    assert.deepEqual(texts, [sharedAt, ...later].map((m) => m.text));
  });

  test('after one tab rotates the session, the other cannot send on the old one', async () => {
    await bothTabs('e2ee-tabs-2');
    await a.evaluate(() => window.tab.ensureRoomSession(6, []));
    await send(b, 6, 'b', 3); // tab B holds a block of the session now
    await a.evaluate(() => window.tab.rotateRoomSession(6));
    const outcome = await b.evaluate(async () => {
      try {
        await window.tab.encryptRoomMessage(6, 'on the old session?');
        return 'sent';
      } catch (e) {
        return e instanceof window.E2EE.E2eeError ? 'refused: no current session' : String(e);
      }
    });
    assert.equal(outcome, 'refused: no current session');
    // Once a new session exists (tab B makes it), both tabs send on it.
    const ids = await b.evaluate(async () => (await window.tab.ensureRoomSession(6, [])).session_id);
    await send(a, 6, 'a', 1);
    assert.equal(await a.evaluate(async () => (await window.tab.roomSession(6))!.session_id), ids);
  });

  test('a key imported in one tab at an earlier index lets the other tab read the earlier messages', async () => {
    await bothTabs('e2ee-tabs-3');
    // Another user's device sends 20 messages and exports its key twice: at index 0, and at the
    // index it has reached (32: the export ended its block of 16 indices, 16 to 31).
    const s = await a.evaluate(async () => {
      const { E2ee, MemoryStore } = window.E2EE;
      const { e2ee: sender } = await E2ee.createDevice(new MemoryStore(), 3, 0);
      await sender.ensureRoomSession(7, []);
      const early = await sender.exportSessionKey(7);
      const messages = [];
      for (let i = 0; i < 20; i++) messages.push({ id: 100 + i, sender: 3, content: await sender.encryptRoomMessage(7, `m${i}`) });
      const late = await sender.exportSessionKey(7);
      messages.push({ id: 120, sender: 3, content: await sender.encryptRoomMessage(7, 'm20') });
      return { early, late, messages, from: { user: 3, device_id: sender.deviceId, signing_key: sender.publicIdentity.signing_key } };
    });
    assert.equal(s.late.index, 32);
    // Tab B knows only the late key, and reads with it (the session is now in its memory).
    const late = await b.evaluate(async (s) => {
      await window.tab.importSessionKey(s.late, s.from);
      return window.tab.decryptRoomMessage(7, s.messages[20]);
    }, s);
    assert.equal(late, 'm20');
    // Tab A imports the early key; tab B then reads an early message.
    await a.evaluate((s) => window.tab.importSessionKey(s.early, s.from).then(() => undefined), s);
    assert.equal(await b.evaluate((m) => window.tab.decryptRoomMessage(7, m), s.messages[5]), 'm5');
  });

  test('a tab that does not answer (a frozen page) holds a change up for 10 s at most: its lock is taken', async () => {
    await bothTabs('e2ee-tabs-4');
    await a.evaluate(() => window.tab.ensureRoomSession(8, []));
    // Tab B holds the out lock shared without listening to the channel, as a frozen page would.
    const deviceId = await a.evaluate(() => window.tab.deviceId);
    await b.evaluate((name) => new Promise<void>((held) => void navigator.locks.request(name, { mode: 'shared' }, () => (held(), new Promise(() => {}))).catch(() => undefined)), `chat-e2ee-out:${deviceId}`);
    // Without the steal, this would wait for ever (and the test time out).
    await a.evaluate(() => window.tab.rotateRoomSession(8));
    assert.equal(await a.evaluate(async () => await window.tab.roomSession(8)), null);
  });

  test('a tab closed while its change waits for the lock (its device replaced, or a log-out) runs nothing and asks no tab anything after', async () => {
    // Fresh tabs: tab C's timers are the test's to run (the change asks again every 50 ms while it waits).
    const [c, d] = [await a.context().newPage(), await a.context().newPage()];
    for (const p of [c, d]) await p.goto(a.url());
    const errors: string[] = [];
    c.on('pageerror', (e) => errors.push(e.message));
    await c.clock.install();
    const name = await c.evaluate(async () => {
      const { E2ee, IndexedDbStore } = window.E2EE;
      window.tab = (await E2ee.createDevice(await IndexedDbStore.open('e2ee-tabs-5'), 1, 2)).e2ee;
      return `chat-e2ee-out:${window.tab.deviceId}`;
    });
    // Tab D holds the lock (as a tab changing a session does) and counts the asks to let go.
    type Held = Window & { letGo?: () => void; asked?: number; rotating?: Promise<string> };
    await d.evaluate(async (name) => {
      const w = window as Held;
      w.asked = 0;
      new BroadcastChannel(name).onmessage = () => w.asked!++;
      await new Promise<void>((held) => void navigator.locks.request(name, { mode: 'exclusive' }, () => new Promise<void>((r) => ((w.letGo = r), held()))));
    }, name);
    await c.evaluate(() => void ((window as Held).rotating = window.tab.rotateRoomSession(9).then(() => 'rotated', (e: Error) => `refused: ${e.message}`)));
    await d.waitForFunction(() => (window as Held).asked! > 0);
    await c.evaluate(() => window.tab.close());
    await c.clock.runFor(1_000);
    await d.evaluate(() => (window as Held).letGo!());
    assert.equal(await c.evaluate(() => (window as Held).rotating), 'refused: The device was closed.');
    assert.deepEqual(errors, []);
    await Promise.all([c.close(), d.close()]);
  });
});
