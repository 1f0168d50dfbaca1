// Migrations that change data, run on data as it was before them; and what the schema as a whole must hold.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTestEnv, type TestEnv } from './helpers.js';

/** A database of its own for the enclosing suite, migrated to `upTo` (or the newest step). */
function migratedDatabase(upTo?: Parameters<typeof migrateToLatest>[1]): () => Database {
  let env: TestEnv;
  let database: Database;
  before(async () => {
    env = await createTestEnv();
    database = openDatabase({ databaseUrl: env.databaseUrl, sqlitePath: path.join(env.dataDir, 'chat.sqlite') });
    await migrateToLatest(database, upTo);
  });
  after(async () => {
    await database.close();
    await env.cleanup();
  });
  return () => database;
}

describe('migration 010: accounts deleted before their memberships ended', () => {
  const database = migratedDatabase('009-departures-index');

  it('ends their memberships and gives their groups an owner who can log in', async () => {
    const { db } = database();
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

    await migrateToLatest(database());
    const rows = await db.selectFrom('memberships').select(['user_id', 'role', 'is_active']).where('chat_room_id', '=', room.id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.user_id, r.role, r.is_active]), [
      [gone.id, 'member', 0],
      [idle.id, 'admin', 1],
      [member.id, 'member', 1],
      [admin.id, 'owner', 1],
    ]);
  });
});

describe('the schema: foreign keys and deletes', () => {
  const database = migratedDatabase();

  /** `table.column` of every foreign key, and whether an index begins with that column. */
  async function foreignKeys(): Promise<Map<string, boolean>> {
    const { db, dialect } = database();
    const keys = new Map<string, boolean>();
    if (dialect === 'postgres') {
      const { rows } = await sql<{ child: string; parent: string; indexed: boolean }>`
        select c.conrelid::regclass::text || '.' || a.attname as child, c.confrelid::regclass::text as parent,
          exists(select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]) as indexed
        from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.contype = 'f'`.execute(db);
      for (const r of rows) keys.set(`${r.child} -> ${r.parent}`, r.indexed);
      return keys;
    }
    const { rows: tables } = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and sql not like 'create virtual%' and name not like 'sqlite_%'`.execute(db);
    for (const { name } of tables) {
      const { rows: fks } = await sql<{ from: string; table: string }>`select "from", "table" from pragma_foreign_key_list(${name})`.execute(db);
      const { rows: firsts } = await sql<{ name: string }>`select ii.name from pragma_index_list(${name}) il join pragma_index_info(il.name) ii where ii.seqno = 0`.execute(db);
      for (const fk of fks) keys.set(`${name}.${fk.from} -> ${fk.table}`, firsts.some((f) => f.name === fk.from));
    }
    return keys;
  }

  it('every foreign key to rows that are ever deleted has an index on its column: a delete looks up what points at it', async () => {
    const keys = await foreignKeys();
    assert.ok(keys.size > 20, `read the foreign keys: ${[...keys.keys()].join(', ')}`);
    // Accounts are never deleted, only marked (migration 010); a room's notifications are looked
    // up once per deleted room, not once per deleted row.
    const exempt = (key: string) => key.endsWith(' -> users') || key === 'notifications.chat_room_id -> chat_rooms';
    const unindexed = [...keys].filter(([key, indexed]) => !indexed && !exempt(key)).map(([key]) => key);
    assert.deepEqual(unindexed, [], 'without an index, each deleted row reads the whole referencing table');
  });
});
