// SQLite rows as objects (db/connect.ts reads kept statements' rows as arrays and builds the
// objects itself): the same objects better-sqlite3 would give, also after a migration.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/db/connect.js';

describe('SQLite rows as objects', () => {
  let dir: string;
  let database: Database;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rows-'));
    database = openDatabase({ databaseUrl: null, sqlitePath: path.join(dir, 'chat.sqlite') });
    await sql`create table t (id integer primary key, name text, score real, data blob)`.execute(database.db);
  });
  after(async () => {
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives every column by name, with its type, from selects and from returning', async () => {
    const inserted = await sql`insert into t (name, score, data) values (${'ada'}, ${1.5}, ${Buffer.from([1, 2])}) returning *`.execute(database.db);
    assert.deepEqual(inserted.rows, [{ id: 1, name: 'ada', score: 1.5, data: Buffer.from([1, 2]) }]);
    await sql`insert into t (name) values (${'bob'})`.execute(database.db);
    const { rows } = await sql`select * from t order by id`.execute(database.db);
    assert.deepEqual(rows, [
      { id: 1, name: 'ada', score: 1.5, data: Buffer.from([1, 2]) },
      { id: 2, name: 'bob', score: null, data: null },
    ]);
  });

  it('keeps the last of two columns of the same name, as better-sqlite3 does', async () => {
    const { rows } = await sql`select 1 as a, 2 as b, 3 as a`.execute(database.db);
    assert.deepEqual(rows, [{ a: 3, b: 2 }]);
  });

  it('streams objects too', async () => {
    const names: unknown[] = [];
    for await (const row of database.db.selectFrom('t' as never).select(['id' as never, 'name' as never]).orderBy('id' as never).stream()) names.push(row);
    assert.deepEqual(names, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }]);
  });

  it('sees a column a migration added to a statement it keeps (`*`)', async () => {
    const all = () => sql`select * from t where id = ${1}`.execute(database.db);
    assert.deepEqual(Object.keys((await all()).rows[0] as object), ['id', 'name', 'score', 'data']);
    await sql`alter table t add column colour text default 'red'`.execute(database.db);
    assert.deepEqual((await all()).rows, [{ id: 1, name: 'ada', score: 1.5, data: Buffer.from([1, 2]), colour: 'red' }]);
  });
});
