// `npm run backup` while the server serves, then a restore: every message acknowledged before the
// backup is in it, the copy is one consistent moment (no gaps), and attachments come with it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, ok, send, users } from './chat-helpers.js';
import { createTestApp, DIALECT, login, PNG, type TestApp } from './helpers.js';
import { uploadMultipart } from './media-helpers.js';

const run = promisify(execFile);

describe('backup and restore (SQLite)', { skip: DIALECT !== 'sqlite' && 'SQLite only: PostgreSQL is backed up with pg_dump (README)' }, () => {
  let t: TestApp;
  let restored: TestApp | null = null;
  const dirs: string[] = [];
  before(async () => {
    t = await chatApp();
  });
  after(async () => {
    await restored?.close();
    await t.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('copies a serving database and its files; the restored server has every message', async () => {
    const [me, friend] = await users(t, 2);
    const room = await group(t, me, [friend], false);
    const withFile = await send(t, me, room.id, 'the plan');
    const attachment = await ok(uploadMultipart(t, me, { message: withFile.id, file_type: 'image', file: { data: PNG, filename: 'plan.png', type: 'image/png' } }), 201);
    const before: number[] = [withFile.id];
    for (let i = 0; i < 20; i++) before.push((await send(t, me, room.id, `before ${i}`)).id);

    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-backup-'));
    dirs.push(target);
    // Sends go on while the backup runs.
    let sending = true;
    const during = (async () => {
      const ids: number[] = [];
      while (sending) ids.push((await send(t, friend, room.id, `during ${ids.length}`)).id);
      return ids;
    })();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', target], { env: { ...process.env, ...t.env.env } });
    sending = false;
    const duringIds = await during;
    assert.match(stdout, /Backed up to/);

    // Restore: the copy becomes the data directory of a new server.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-restored-'));
    dirs.push(dataDir);
    fs.copyFileSync(path.join(target, 'chat.sqlite'), path.join(dataDir, 'chat.sqlite'));
    fs.cpSync(path.join(target, 'uploads'), path.join(dataDir, 'uploads'), { recursive: true });
    restored = await createTestApp({ DATA_DIR: dataDir });
    const session = await login(restored.app, me.email);
    const ids = (await restored.ctx.db.selectFrom('messages').select('id').where('chat_room_id', '=', room.id).orderBy('id', 'desc').execute()).map((m) => m.id);
    const latest = await restored.app.inject({ method: 'GET', url: `/api/messages/?chat_room=${room.id}&limit=1`, headers: session.auth });
    assert.equal(latest.json().results[0].id, ids[0], 'served by the restored server');
    for (const id of before) assert.ok(ids.includes(id), `message ${id}, acknowledged before the backup`);
    // One moment: every message up to the newest in the copy, none missing in between.
    const newest = Math.max(...ids);
    const expected = [...before, ...duringIds].filter((id) => id <= newest).sort((a, b) => b - a);
    assert.deepEqual(ids, expected);
    const file = await restored.app.inject({ method: 'GET', url: attachment.download_url, headers: session.auth });
    assert.equal(file.statusCode, 200);
    assert.deepEqual(file.rawPayload, PNG);
  });

  it('refuses a directory that is not empty, and PostgreSQL deployments', async () => {
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-backup-'));
    dirs.push(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'x');
    await assert.rejects(run(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts', target], { env: { ...process.env, ...t.env.env } }), (e: { code: number; stderr: string }) => e.code === 1 && /not empty/.test(e.stderr));
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', 'src/cli/backup.ts'], { env: { ...process.env, ...t.env.env, DATABASE_URL: 'postgres://x@127.0.0.1:1/x' } }),
      (e: { code: number; stderr: string }) => e.code === 1 && /pg_dump/.test(e.stderr),
    );
  });
});
