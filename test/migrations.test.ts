// Migrations that change data, run on data as it was before them.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTestEnv, type TestEnv } from './helpers.js';

describe('migration 010: accounts deleted before their memberships ended', () => {
  let env: TestEnv;
  let database: Database;
  before(async () => {
    env = await createTestEnv();
    database = openDatabase({ databaseUrl: env.databaseUrl, sqlitePath: path.join(env.dataDir, 'chat.sqlite') });
    await migrateToLatest(database, '009-departures-index');
  });
  after(async () => {
    await database.close();
    await env.cleanup();
  });

  it('ends their memberships and gives their groups an owner who can log in', async () => {
    const { db } = database;
    const now = new Date().toISOString();
    const user = (name: string, extra: { deleted_at?: string; is_active?: number } = {}) =>
      db.insertInto('users').values({ username: name, username_key: name, email: `${name}@x.test`, email_key: `${name}@x.test`, password_hash: 'x', is_active: 1, date_joined: now, ...extra }).returning('id').executeTakeFirstOrThrow();
    const gone = await user('gone', { deleted_at: now, is_active: 0 });
    const idle = await user('idle', { is_active: 0 });
    const admin = await user('admin');
    const member = await user('member');
    const room = await db.insertInto('chat_rooms').values({ room_type: 'group', name: 'g', is_public: 0, created_by: gone.id, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
    const join = (u: { id: number }, role: 'owner' | 'admin' | 'member') => ({ chat_room_id: room.id, user_id: u.id, role, is_active: 1, joined_at: now });
    await db.insertInto('memberships').values([join(gone, 'owner'), join(idle, 'admin'), join(member, 'member'), join(admin, 'admin')]).execute();

    await migrateToLatest(database);
    const rows = await db.selectFrom('memberships').select(['user_id', 'role', 'is_active']).where('chat_room_id', '=', room.id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.user_id, r.role, r.is_active]), [
      [gone.id, 'member', 0],
      [idle.id, 'admin', 1],
      [member.id, 'member', 1],
      [admin.id, 'owner', 1],
    ]);
  });
});
