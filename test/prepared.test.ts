// Queries compiled once and run with new parameters (the send path's statements).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
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
