// The IndexedDB store in a real Chromium: records sealed under a non-extractable AES-GCM key kept
// in the database as a CryptoKey, no secret readable from the raw records, and keys that survive
// a reload (a device reloaded from IndexedDB still decrypts and encrypts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserMissing, libraryPage } from './browser-harness.js';

declare global {
  interface Window {
    E2EE: typeof import('../../web/core/e2ee/index.js');
  }
}

const skip = browserMissing();

describe('IndexedDB store (Chromium)', { skip: skip ?? false }, () => {
  let page: Page;
  let close: () => Promise<void>;
  before(async () => {
    ({ page, close } = await libraryPage());
  });
  after(() => close?.());

  test('records are sealed under a non-extractable key and hold no readable secret', async () => {
    const r = await page.evaluate(async () => {
      const { E2ee, IndexedDbStore } = window.E2EE;
      const store = await IndexedDbStore.open('e2ee-test-sealed');
      const { e2ee } = await E2ee.createDevice(store, 1, 3);
      const record = await store.get<{ signing: { secret_key: string }; identity: { secret_key: string } }>('device');
      const secrets = [record!.signing.secret_key, record!.identity.secret_key];
      store.close();
      // Read the raw database as any script (or someone with the disk) could.
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('e2ee-test-sealed');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const all = <T>(name: string) =>
        new Promise<{ keys: IDBValidKey[]; values: T[] }>((resolve, reject) => {
          const tx = db.transaction(name);
          const keys = tx.objectStore(name).getAllKeys();
          const values = tx.objectStore(name).getAll();
          tx.oncomplete = () => resolve({ keys: keys.result, values: values.result as T[] });
          tx.onerror = () => reject(tx.error);
        });
      const records = await all<{ iv?: Uint8Array; ct?: ArrayBuffer; plain?: string }>('records');
      const meta = await all<CryptoKey>('meta');
      const key = meta.values[0];
      const rawText = records.values.map((v) => (v.ct ? Array.from(new Uint8Array(v.ct), (b) => String.fromCharCode(b)).join('') : JSON.stringify(v))).join('\n');
      let exported = 'refused';
      try {
        await crypto.subtle.exportKey('raw', key);
        exported = 'exported!';
      } catch {
        // expected: non-extractable
      }
      db.close();
      return {
        deviceId: e2ee.deviceId,
        keys: records.keys.map(String).sort(),
        allSealed: records.values.every((v) => v.iv instanceof Uint8Array && v.ct instanceof ArrayBuffer && !('plain' in v)),
        leaks: secrets.filter((s) => rawText.includes(s) || rawText.includes(atob(s))).length,
        mentionsSecretKey: rawText.includes('secret_key'),
        metaKeys: meta.keys,
        keyType: key instanceof CryptoKey ? `${key.algorithm.name} ${(key.algorithm as AesKeyAlgorithm).length} extractable=${key.extractable} ${key.usages.join(',')}` : typeof key,
        exported,
      };
    });
    assert.deepEqual(r.keys, ['device', 'opk:1', 'opk:2', 'opk:3']);
    assert.equal(r.allSealed, true);
    assert.equal(r.leaks, 0);
    assert.equal(r.mentionsSecretKey, false);
    assert.deepEqual(r.metaKeys, ['wrap-key']);
    assert.equal(r.keyType, 'AES-GCM 256 extractable=false encrypt,decrypt');
    assert.equal(r.exported, 'refused');
  });

  test('keys persist across a reload: the device reads old messages and sends new ones', async () => {
    const setup = await page.evaluate(async () => {
      const { E2ee, IndexedDbStore, MemoryStore } = window.E2EE;
      const store = await IndexedDbStore.open('e2ee-test-reload');
      const { e2ee: alice } = await E2ee.createDevice(store, 1, 2);
      const { e2ee: bob, upload } = await E2ee.createDevice(new MemoryStore(), 2, 2);
      await alice.ensureRoomSession(9, [{ user: 2, device_id: bob.deviceId }]);
      const shared = await alice.shareRoomKey(9, [{ ...upload, user: 2, one_time_prekey: upload.one_time_prekeys[0] }]);
      await bob.receiveEnvelope(shared.envelopes[0].envelope, { sender: 1, sender_device: alice.deviceId });
      const m = { id: 1, sender: 1, content: await alice.encryptRoomMessage(9, 'before reload') };
      store.close();
      return { deviceId: alice.deviceId, m };
    });
    await page.reload();
    await page.waitForFunction(() => 'E2EE' in window);
    const after = await page.evaluate(async (m) => {
      const { E2ee, IndexedDbStore } = window.E2EE;
      const alice = await E2ee.load(await IndexedDbStore.open('e2ee-test-reload'));
      return {
        deviceId: alice!.deviceId,
        old: await alice!.decryptRoomMessage(9, m),
        next: (await alice!.encryptRoomMessage(9, 'after reload')).startsWith('e2ee:1:'),
        session: (await alice!.roomSession(9))!.index,
      };
    }, setup.m);
    // The stored session is past two blocks of 16 indices, one reserved before the reload and one
    // after: the reloaded page never reuses an index the first page may have used.
    assert.deepEqual(after, { deviceId: setup.deviceId, old: 'before reload', next: true, session: 32 });
  });
});
