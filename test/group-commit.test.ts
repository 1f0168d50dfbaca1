// Changes asked for in one turn of the event loop share one transaction (group commit); each
// runs in its own savepoint, so one failing rolls back only itself.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withEvents } from '../src/modules/events/events.service.js';
import { call, chatApp, group, privateRoom, users } from './chat-helpers.js';
import type { TestApp } from './helpers.js';

describe('group commit', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  it('commits the changes of one tick together and rolls back only the one that failed', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const now = new Date().toISOString();
    const insert = (content: string) => (trx: typeof t.ctx.db) =>
      trx.insertInto('messages').values({ chat_room_id: room.id, sender_id: a.id, content, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
    // Queued in the same tick: one flush, one transaction.
    const first = withEvents(t.ctx, async (trx, events) => {
      const row = await insert('gc one')(trx);
      events.add('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message: row.id });
      return row.id;
    });
    const failing = withEvents(t.ctx, async (trx, events) => {
      const row = await insert('gc doomed')(trx);
      events.add('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message: row.id });
      throw new Error('this change fails after writing');
    });
    const third = withEvents(t.ctx, async (trx) => (await insert('gc three')(trx)).id);
    const [r1, r2, r3] = await Promise.allSettled([first, failing, third]);
    assert.equal(r1.status, 'fulfilled');
    assert.equal(r2.status, 'rejected');
    assert.match(String((r2 as PromiseRejectedResult).reason), /fails after writing/);
    assert.equal(r3.status, 'fulfilled');
    const contents = (await t.ctx.db.selectFrom('messages').select('content').where('content', 'like', 'gc %').orderBy('id').execute()).map((m) => m.content);
    assert.deepEqual(contents, ['gc one', 'gc three']);
    const reads = await t.ctx.db.selectFrom('events').select('payload').where('type', '=', 'read').where('chat_room_id', '=', room.id).execute();
    assert.equal(reads.length, 1, 'the failed change left no event');
  });

  it('a change alone in its tick fails without touching others', async () => {
    await assert.rejects(withEvents(t.ctx, async () => {
      throw new Error('alone');
    }), /alone/);
    assert.equal(await withEvents(t.ctx, async () => 42), 42);
  });

  it('a send racing its sender leaving never lands after the leave', async () => {
    for (let round = 0; round < 20; round++) {
      const [owner, member] = await users(t, 2);
      const room = await group(t, owner, [member], false);
      // Issued together: whichever commits first, a message may only exist if it came before the leave.
      const [left, sent] = await Promise.all([
        call(t, member, 'POST', `/api/chat_rooms/${room.id}/leave/`),
        call(t, member, 'POST', '/api/messages/', { chat_room: room.id, content: `race ${round}` }),
      ]);
      assert.equal(left.statusCode, 204, left.body);
      const events = await t.ctx.db.selectFrom('events').select(['id', 'type']).where('chat_room_id', '=', room.id).orderBy('id').execute();
      const leftAt = events.find((e) => e.type === 'member_left')!.id;
      if (sent.statusCode === 201) {
        const posted = events.find((e) => e.type === 'new_message');
        assert.ok(posted && posted.id < leftAt, `round ${round}: the message was committed after its sender left`);
      } else {
        assert.equal(sent.statusCode, 404, sent.body);
        assert.equal(events.filter((e) => e.type === 'new_message').length, 0);
      }
    }
  });
});
