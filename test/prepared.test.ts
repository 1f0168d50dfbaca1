// Queries compiled once and run with new parameters (the send path's statements).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { preparedQuery, type Param } from '../src/db/prepared.js';
import { chatApp, users } from './chat-helpers.js';
import type { TestApp } from './helpers.js';

describe('prepared queries', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  it('runs with each call’s own parameters, missing ones as null', async () => {
    const [a, b] = await users(t, 2);
    const byName = preparedQuery((db, p: Param<{ username: string; id: number | null }>) =>
      db.selectFrom('users').select(['id', 'username']).where((eb) => eb.or([eb('username', '=', p('username')), eb('id', '=', p('id'))])).orderBy('id'),
    );
    assert.deepEqual(await byName(t.ctx.db, { username: a.username, id: null }), [{ id: a.id, username: a.username }]);
    assert.deepEqual(await byName(t.ctx.db, { username: b.username, id: a.id }), [{ id: a.id, username: a.username }, { id: b.id, username: b.username }]);
    assert.deepEqual(await byName(t.ctx.db, { username: 'nobody at all' } as { username: string; id: number | null }), []);
  });

  it('refuses a parameter placed where it would become SQL text', async () => {
    const unsafe = preparedQuery((db, p: Param<{ column: string }>) => db.selectFrom('users').select(sql.raw<string>(p('column')).as('x')));
    await assert.rejects(unsafe(t.ctx.db, { column: 'id' }), /parameter became SQL text/);
  });
});

describe('PostgreSQL: statements prepared once per connection', { skip: process.env.TEST_DB === 'postgres' ? false : 'PostgreSQL only (TEST_DB=postgres)' }, () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  /** The statements this connection has prepared (PostgreSQL's own view). */
  const preparedOn = async (conn: typeof t.ctx.db) => (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(conn)).rows.map((r) => r.statement);

  it('a statement with parameters is prepared on its connection the first time, and run again from there', async () => {
    const [a] = await users(t, 1);
    await t.ctx.db.connection().execute(async (conn) => {
      const find = () => conn.selectFrom('users').select('username').where('id', '=', a.id).where('username', '<>', 'prepared-check').execute();
      assert.deepEqual(await find(), [{ username: a.username }]);
      assert.deepEqual(await find(), [{ username: a.username }]);
      const mine = (await preparedOn(conn)).filter((s) => s.includes("'prepared-check'") || s.includes('"username" <> $2'));
      assert.equal(mine.length, 1, 'prepared once');
    });
  });

  it('a schema change made elsewhere (another instance migrating) does not break prepared statements, in or out of a transaction', async () => {
    await sql`create table if not exists prepared_drift (id integer primary key, a text)`.execute(t.ctx.db);
    await sql`insert into prepared_drift values (1, 'one')`.execute(t.ctx.db);
    const other = new pg.Client({ connectionString: t.env.databaseUrl! });
    await other.connect();
    try {
      await t.ctx.db.connection().execute(async (conn) => {
        const all = () => sql<Record<string, unknown>>`select * from prepared_drift where id = ${1}`.execute(conn);
        assert.deepEqual((await all()).rows, [{ id: 1, a: 'one' }]);
        await other.query(`alter table prepared_drift add column b text default 'bee'`);
        assert.deepEqual((await all()).rows, [{ id: 1, a: 'one', b: 'bee' }], 'outside a transaction: run again');
      });
      // Inside the Writer's transaction (the pool hands back the connection just used): the change runs again.
      const change = () => t.ctx.writer.run(null, async (uow) => (await sql<Record<string, unknown>>`select * from prepared_drift where id = ${1}`.execute(uow.trx)).rows);
      assert.deepEqual(await change(), [{ id: 1, a: 'one', b: 'bee' }]);
      await other.query(`alter table prepared_drift add column c text default 'sea'`);
      assert.deepEqual(await change(), [{ id: 1, a: 'one', b: 'bee', c: 'sea' }]);
    } finally {
      await other.end();
      await sql`drop table if exists prepared_drift`.execute(t.ctx.db);
    }
  });
});
