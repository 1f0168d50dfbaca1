// Uploaded files no row refers to (a process killed between writing the file and committing its
// row) are swept once they are old enough to be past any upload still on its way.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newKey } from '../src/lib/storage.js';
import { ORPHAN_AGE_MS, sweepOrphanedUploads } from '../src/modules/uploads/orphans.js';
import { chatApp, group, ok, send, users } from './chat-helpers.js';
import { PNG, type TestApp } from './helpers.js';
import { uploadMultipart } from './media-helpers.js';

describe('orphaned uploads', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const file = (key: string) => path.join(t.env.dataDir, 'uploads', key);
  const age = (key: string, ms: number) => {
    const when = new Date(Date.now() - ms);
    fs.utimesSync(file(key), when, when);
  };

  it('removes old files no row refers to, and nothing else', async () => {
    const [me] = await users(t, 1);
    const room = await group(t, me);
    const msg = await send(t, me, room.id, 'with a file');
    const attached = await ok(uploadMultipart(t, me, { message: msg.id, file_type: 'image', file: { data: PNG, filename: 'a.png', type: 'image/png' } }), 201);
    const row = await t.ctx.db.selectFrom('attachments').select('storage_key').where('id', '=', attached.id).executeTakeFirstOrThrow();
    const oldOrphan = newKey('attachments', 'png');
    const youngOrphan = newKey('attachments', 'png');
    const oldAvatarOrphan = newKey('avatars', 'png');
    for (const key of [oldOrphan, youngOrphan, oldAvatarOrphan]) await t.ctx.store.put(key, PNG);
    const unfinished = `${file(newKey('attachments', 'png'))}.123.tmp`;
    fs.writeFileSync(unfinished, 'half');
    const old = ORPHAN_AGE_MS + 60_000;
    for (const key of [oldOrphan, oldAvatarOrphan, row.storage_key]) age(key, old);
    fs.utimesSync(unfinished, new Date(Date.now() - old), new Date(Date.now() - old));

    assert.equal(await sweepOrphanedUploads(t.ctx), 2);
    assert.ok(!fs.existsSync(file(oldOrphan)) && !fs.existsSync(file(oldAvatarOrphan)), 'old orphans gone');
    assert.ok(!fs.existsSync(unfinished), 'an unfinished write gone');
    assert.ok(fs.existsSync(file(youngOrphan)), 'a young file may still be on its way to a row');
    assert.ok(fs.existsSync(file(row.storage_key)), 'an attached file stays');
    const download = await t.app.inject({ method: 'GET', url: attached.download_url, headers: me.auth });
    assert.equal(download.statusCode, 200);
  });
});
