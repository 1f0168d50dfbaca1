// The write path: a unit of work per change, group commit (changes arriving together share one
// transaction, each in its own savepoint), events published only after commit, writes that
// change nothing write nothing, and an edit that never rewrites earlier events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { call, chatApp, group, membershipOf, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';
import type { TestApp } from './helpers.js';
import type { AheadStep, BatchStep, UnitOfWork } from '../src/modules/events/unit-of-work.js';
import { messagesRepository } from '../src/modules/messages/messages.repository.js';

/** Reads through a connection of its own: it sees only what has committed. */
async function outsideReader(t: TestApp): Promise<{ count(content: string): Promise<number>; close(): Promise<void> }> {
  if (t.env.databaseUrl) {
    const client = new pg.Client({ connectionString: t.env.databaseUrl });
    await client.connect();
    return {
      count: async (content) => Number((await client.query('select count(*) as n from messages where content = $1', [content])).rows[0].n),
      close: () => client.end(),
    };
  }
  const db = new SQLite(t.ctx.config.sqlitePath, { readonly: true });
  return {
    count: async (content) => (db.prepare('select count(*) as n from messages where content = ?').get(content) as { n: number }).n,
    close: async () => {
      db.close();
    },
  };
}

describe('write path', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const insert = (t: TestApp, room: number, sender: number, content: string) => (trx: typeof t.ctx.db) => {
    const now = new Date().toISOString();
    return trx.insertInto('messages').values({ chat_room_id: room, sender_id: sender, content, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
  };

  it('commits the changes of one tick in one transaction and rolls back only the one that failed', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const outside = await outsideReader(t);
    try {
      let seenInside = -1;
      let seenOutside = -1;
      // Queued in the same tick: one transaction.
      const first = t.ctx.writer.run(room.id, async (uow) => {
        const row = await insert(t, room.id, a.id, 'gc one')(uow.trx);
        await uow.emit('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message: row.id });
        return row.id;
      });
      const failing = t.ctx.writer.run(room.id, async (uow) => {
        const row = await insert(t, room.id, a.id, 'gc doomed')(uow.trx);
        await uow.emit('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message: row.id });
        throw new Error('this change fails after writing');
      });
      const third = t.ctx.writer.run(room.id, async (uow) => {
        // The first change is visible in this transaction and not yet outside it: they share it.
        seenInside = Number((await uow.trx.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('content', '=', 'gc one').executeTakeFirstOrThrow()).n);
        seenOutside = await outside.count('gc one');
        return (await insert(t, room.id, a.id, 'gc three')(uow.trx)).id;
      });
      const [r1, r2, r3] = await Promise.allSettled([first, failing, third]);
      assert.equal(r1.status, 'fulfilled');
      assert.equal(r2.status, 'rejected');
      assert.match(String((r2 as PromiseRejectedResult).reason), /fails after writing/);
      assert.equal(r3.status, 'fulfilled');
      assert.deepEqual([seenInside, seenOutside], [1, 0], 'the first change had not committed when the third ran: one transaction');
      assert.equal(await outside.count('gc one'), 1, 'committed together');
      const contents = (await t.ctx.db.selectFrom('messages').select('content').where('content', 'like', 'gc %').orderBy('id').execute()).map((m) => m.content);
      assert.deepEqual(contents, ['gc one', 'gc three']);
      const reads = await t.ctx.db.selectFrom('events').select(['payload', 'seq']).where('type', '=', 'read').where('chat_room_id', '=', room.id).execute();
      assert.equal(reads.length, 1, 'the failed change left no event');
      const seqs = (await t.ctx.db.selectFrom('events').select('seq').where('chat_room_id', '=', room.id).orderBy('id').execute()).map((r) => r.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "the failed change's seq was given back: no gap");
    } finally {
      await outside.close();
    }
  });

  it('with WRITE_BATCH_MAX=1 each change commits on its own (the check above can fail)', async () => {
    // One lane too: the two changes then run in the order asked.
    const solo = await chatApp({ WRITE_BATCH_MAX: '1', WRITE_CONCURRENCY: '1' });
    const outside = await outsideReader(solo);
    try {
      const [a, b] = await users(solo, 2);
      const room = await privateRoom(solo, a, b);
      let seenOutside = -1;
      await Promise.all([
        solo.ctx.writer.run(room.id, async (uow) => insert(solo, room.id, a.id, 'solo one')(uow.trx)),
        solo.ctx.writer.run(room.id, async () => {
          seenOutside = await outside.count('solo one');
        }),
      ]);
      assert.equal(seenOutside, 1);
    } finally {
      await outside.close();
      await solo.close();
    }
  });

  it('a change alone in its tick fails without touching others', async () => {
    await assert.rejects(t.ctx.writer.run(null, async () => {
      throw new Error('alone');
    }), /alone/);
    assert.equal(await t.ctx.writer.run(null, async () => 42), 42);
  });

  it('a rolled-back change publishes nothing and runs no after-commit action', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const sock = await socketOf(t, b);
    let ran = false;
    await assert.rejects(t.ctx.writer.run(room.id, async (uow) => {
      await uow.emit('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message: 424242 });
      uow.onCommit(async () => {
        ran = true;
      });
      throw new Error('rolled back');
    }), /rolled back/);
    // A later change in the same room reaches the socket; the rolled-back one never did.
    const marker = await send(t, a, room.id, 'after the rollback');
    await sock.next((e) => e.type === 'new_message' && e.message.id === marker.id);
    await sock.close();
    assert.equal(ran, false);
    assert.ok(!sock.events.some((e) => e.type === 'read' && e.message === 424242));
    const logged = await t.ctx.db.selectFrom('events').select('id').where('type', '=', 'read').where('chat_room_id', '=', room.id).execute();
    assert.equal(logged.length, 0);
  });

  it('a read position that does not move writes nothing', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const first = await send(t, a, room.id, 'one');
    const second = await send(t, a, room.id, 'two');
    const mine = await membershipOf(t, b, room.id);
    // One after another, each answered after its transaction (or none): one move, then none.
    for (const message of [second.id, second.id, first.id, second.id]) {
      assert.equal((await ok(call(t, b, 'PATCH', `/api/user_chats/${mine.id}/`, { last_seen_message: message }))).last_seen_message, second.id);
    }
    const reads = await t.ctx.db.selectFrom('events').select('payload').where('type', '=', 'read').where('chat_room_id', '=', room.id).execute();
    assert.equal(reads.length, 1, 'one event for the one move');
  });

  it('an edit writes one event and rewrites none of the earlier ones', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, a, room.id, 'x'.repeat(60_000));
    for (let i = 0; i < 5; i++) await ok(call(t, a, 'PATCH', `/api/messages/${msg.id}/`, { content: `edit ${i} ${'y'.repeat(60_000)}` }));
    const rows = await t.ctx.db.selectFrom('events').select(['type', 'payload']).where('message_id', '=', msg.id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.type), ['new_message', ...Array(5).fill('message_updated')]);
    assert.ok(rows.every((r) => r.payload.length < 100), 'the log keeps no copy of the text');
    // Replayed, every event of the message shows it as it is now: the replaced text is nowhere.
    const replay = await socketOf(t, b, { since: 0 });
    // Replayed, or (what the log tail had not read yet when the socket opened) live just after.
    const shown = [];
    for (let i = 0; i < 6; i++) shown.push(await replay.next((e) => e.message?.id === msg.id));
    await replay.close();
    assert.deepEqual(shown.map((e) => e.type), ['new_message', ...Array(5).fill('message_updated')]);
    assert.ok(shown.every((e) => e.message.content.startsWith('edit 4 ')));
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
      const events = await t.ctx.db.selectFrom('events').select(['id', 'type', 'seq']).where('chat_room_id', '=', room.id).orderBy('id').execute();
      const leftAt = events.find((e) => e.type === 'member_left')!;
      if (sent.statusCode === 201) {
        const posted = events.find((e) => e.type === 'new_message');
        assert.ok(posted && posted.id < leftAt.id && posted.seq! < leftAt.seq!, `round ${round}: the message was committed after its sender left`);
      } else {
        assert.equal(sent.statusCode, 404, sent.body);
        assert.equal(events.filter((e) => e.type === 'new_message').length, 0);
      }
    }
  });

  /** A step that records the items of each run and does `each` for every item. */
  const recordingStep = (each: (trx: typeof t.ctx.db, uow: UnitOfWork, item: string) => Promise<void>) => {
    const calls: string[][] = [];
    const step: BatchStep<string> = {
      async run(trx, items) {
        calls.push(items.map((i) => i.item));
        for (const { uow, item } of items) await each(trx, uow, item);
      },
    };
    return { step, calls };
  };

  it('what the changes of a batch do together runs once, after them, with each change’s item; each change keeps what it emits there', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const { step, calls } = recordingStep(async (trx, uow, item) => {
      const row = await insert(t, room.id, a.id, item)(trx);
      await uow.emit('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message: row.id });
    });
    const change = (item: string) =>
      t.ctx.writer.run(room.id, async (uow) => {
        await uow.together(step, item);
        return item;
      });
    assert.deepEqual(await Promise.all([change('tog 1'), change('tog 2'), change('tog 3')]), ['tog 1', 'tog 2', 'tog 3']);
    assert.deepEqual(calls, [['tog 1', 'tog 2', 'tog 3']], 'one run for the batch, its items in the order of the changes');
    // Alone, a change runs it at once.
    await change('tog alone');
    assert.deepEqual(calls.at(-1), ['tog alone']);
    const reads = await t.ctx.db.selectFrom('events').select(['payload', 'seq']).where('type', '=', 'read').where('chat_room_id', '=', room.id).orderBy('id').execute();
    const ids = (await t.ctx.db.selectFrom('messages').select('id').where('content', 'like', 'tog %').orderBy('id').execute()).map((m) => m.id);
    assert.deepEqual(reads.map((r) => JSON.parse(r.payload).message), ids, 'every change’s event, in order');
    assert.deepEqual(reads.map((r) => r.seq! - reads[0].seq!), [0, 1, 2, 3], 'consecutive seqs');
  });

  it('a shared step that fails runs the batch again, each change on its own: only the change whose item fails is refused', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const { step, calls } = recordingStep(async (trx, _uow, item) => {
      if (item === 'shared bad') throw new Error('this item cannot be written');
      await insert(t, room.id, a.id, item)(trx);
    });
    const change = (item: string) => t.ctx.writer.run(room.id, (uow) => uow.together(step, item));
    const results = await Promise.allSettled([change('shared 1'), change('shared bad'), change('shared 3')]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /cannot be written/);
    assert.deepEqual(calls, [['shared 1', 'shared bad', 'shared 3'], ['shared 1'], ['shared bad'], ['shared 3']]);
    const contents = (await t.ctx.db.selectFrom('messages').select('content').where('content', 'like', 'shared %').orderBy('id').execute()).map((m) => m.content);
    assert.deepEqual(contents, ['shared 1', 'shared 3']);
  });

  it('messages sent together (their notifications written by one statement) notify each room’s own members: a muted member is skipped, a mention still told', async () => {
    const [sender, ...others] = await users(t, 6);
    const rooms = [];
    for (const other of others) rooms.push(await privateRoom(t, sender, other));
    const quiet = await membershipOf(t, others[1], rooms[1].id);
    await ok(call(t, others[1], 'PATCH', `/api/user_chats/${quiet.id}/`, { is_muted: true }));
    const quieter = await membershipOf(t, others[2], rooms[2].id);
    await ok(call(t, others[2], 'PATCH', `/api/user_chats/${quieter.id}/`, { is_muted: true }));
    const sent = await Promise.all(rooms.map((r, i) => send(t, sender, r.id, `together ${i}`, i === 2 ? { mentions: [others[2].id] } : {})));
    for (const [i, other] of others.entries()) {
      const { results } = await ok(call(t, other, 'GET', '/api/notifications/'));
      const told = results.filter((n: { message: number | null }) => n.message !== null).map((n: { type: string; message: number }) => [n.type, n.message]);
      const expected = i === 1 ? [] : [[i === 2 ? 'mention' : 'message', sent[i].id]];
      assert.deepEqual(told, expected, `the member of room ${i}`);
    }
    const events = await t.ctx.db.selectFrom('events').select(['recipient_id', 'payload']).where('type', '=', 'notification').where('recipient_id', 'in', others.map((o) => o.id)).execute();
    const byRecipient = events.filter((e) => JSON.parse(e.payload).notification.message !== null).map((e) => [e.recipient_id, JSON.parse(e.payload).notification.message]);
    assert.deepEqual(byRecipient.sort((x, y) => x[0] - y[0]), [0, 2, 3, 4].map((i) => [others[i].id, sent[i].id]), 'a notification event each, to its own member');
  });

  /** A step ahead that records the items of each run and gives `each`'s result for every item. */
  const recordingAhead = (each: (trx: typeof t.ctx.db, item: string, items: string[]) => Promise<number | undefined>) => {
    const calls: string[][] = [];
    const step: AheadStep<string, number> = {
      async run(trx, items) {
        calls.push(items);
        const out: Array<number | undefined> = [];
        for (const item of items) out.push(await each(trx, item, items));
        return out;
      },
    };
    return { step, calls };
  };

  it('a step ahead runs once for the changes of a batch, before any of them; those it gave a result run first, in their order', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    // Inserts the items it can (not the "slow" ones: those insert on their own).
    const { step, calls } = recordingAhead(async (trx, item) => (item.includes('slow') ? undefined : (await insert(t, room.id, a.id, item)(trx)).id));
    const change = (item: string) =>
      t.ctx.writer.runAhead(room.id, step, item, async (uow, id) => {
        const message = id ?? (await insert(t, room.id, a.id, item)(uow.trx)).id;
        await uow.emit('read', { chatRoomId: room.id, userId: a.id }, { user: a.id, message });
        return message;
      });
    const [slow, second, third] = await Promise.all([change('ahead slow 1'), change('ahead 2'), change('ahead 3')]);
    assert.deepEqual(calls, [['ahead slow 1', 'ahead 2', 'ahead 3']], 'one run for the batch, its items in the order of the changes');
    assert.ok(second < third && third < slow, 'the step inserted before the slow change did');
    await change('ahead alone');
    assert.deepEqual(calls.at(-1), ['ahead alone'], 'alone, a change runs the step for its own item');
    const reads = await t.ctx.db.selectFrom('events').select('payload').where('type', '=', 'read').where('chat_room_id', '=', room.id).orderBy('seq').execute();
    assert.deepEqual(reads.slice(0, 3).map((r) => JSON.parse(r.payload).message), [second, third, slow], 'events follow the order the changes ran in');
  });

  it('a step ahead that fails runs the batch again, each change with its own item: only the change whose item fails is refused', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const { step, calls } = recordingAhead(async (trx, item, items) => {
      if (items.includes('ahead bad')) throw new Error('this item cannot be written');
      return (await insert(t, room.id, a.id, item)(trx)).id;
    });
    const change = (item: string) => t.ctx.writer.runAhead(room.id, step, item, async (_uow, id) => id);
    const results = await Promise.allSettled([change('ahead ok 1'), change('ahead bad'), change('ahead ok 3')]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /cannot be written/);
    assert.deepEqual(calls, [['ahead ok 1', 'ahead bad', 'ahead ok 3'], ['ahead ok 1'], ['ahead bad'], ['ahead ok 3']]);
    const contents = (await t.ctx.db.selectFrom('messages').select('content').where('content', 'like', 'ahead ok %').orderBy('id').execute()).map((m) => m.content);
    assert.deepEqual(contents, ['ahead ok 1', 'ahead ok 3']);
  });

  /**
   * Runs `requests`, their sends handed to the writer in one tick once all have come (so that
   * they share one transaction); gives their responses and the sizes of the batches of checked
   * sends (insertAsMembers), how many sends were inserted one by one after it (insert), and the
   * sends' contents in the order they reached the writer.
   */
  async function together(requests: Array<() => ReturnType<typeof call>>) {
    const writer = t.ctx.writer;
    const runAhead = writer.runAhead;
    const { insertAsMembers, insert } = messagesRepository;
    const batches: number[] = [];
    const arrived: string[] = [];
    let oneByOne = 0;
    const waiting: Array<() => void> = [];
    writer.runAhead = function (this: typeof writer, ...args: Parameters<typeof runAhead>) {
      arrived.push((args[2] as { message: { content: string } }).message.content);
      return new Promise((resolve, reject) => {
        waiting.push(() => void runAhead.apply(this, args).then(resolve as (v: unknown) => void, reject));
        if (waiting.length === requests.length) for (const go of waiting) go();
      });
    } as typeof runAhead;
    messagesRepository.insertAsMembers = (db, sends) => {
      batches.push(sends.length);
      return insertAsMembers.call(messagesRepository, db, sends);
    };
    messagesRepository.insert = (...args) => {
      oneByOne++;
      return insert.apply(messagesRepository, args);
    };
    try {
      return { responses: await Promise.all(requests.map((r) => r())), batches, oneByOne, arrived };
    } finally {
      writer.runAhead = runAhead;
      Object.assign(messagesRepository, { insertAsMembers, insert });
    }
  }

  it('sends that arrive together are checked and inserted together (one statement on PostgreSQL), and each is answered as it would be alone', async () => {
    const [a, b, c] = await users(t, 3);
    const ab = await privateRoom(t, a, b);
    const bc = await privateRoom(t, b, c);
    const post = (user: typeof a, body: Record<string, unknown>) => () => call(t, user, 'POST', '/api/messages/', body);
    const { responses, batches, oneByOne, arrived } = await together([
      post(a, { chat_room: ab.id, content: 'jointly plain' }),
      post(a, { chat_room: ab.id, content: `jointly @${b.username}` }),
      post(a, { chat_room: ab.id, content: 'jointly, first of two', client_id: 'twice' }),
      post(a, { chat_room: ab.id, content: 'jointly, second of two', client_id: 'twice' }),
      post(b, { chat_room: bc.id, content: 'jointly in another room' }),
    ]);
    assert.deepEqual(batches, [5], 'one batch of checked sends, and no second try');
    // SQLite's statements run in-process: there each send inserts its own message.
    assert.equal(oneByOne, t.env.databaseUrl ? 0 : 4, 'messages inserted one by one');
    // Of the two with one client_id, the one that reached the writer first is stored; the other gets it back.
    const firstWon = arrived.indexOf('jointly, first of two') < arrived.indexOf('jointly, second of two');
    assert.deepEqual(responses.map((r) => r.statusCode), [201, 201, firstWon ? 201 : 200, firstWon ? 200 : 201, 201], responses.map((r) => r.body).join('\n'));
    const [plain, mention, one, two, other] = responses.map((r) => r.json());
    const [first, second] = firstWon ? [one, two] : [two, one];
    assert.deepEqual(mention.mentions, [b.id], '@name mentions the member');
    assert.equal(second.id, first.id, 'the repeated client_id answers with the first message');
    assert.equal(second.content, first.content);
    const stored = await t.ctx.db.selectFrom('messages').select(['id', 'content', 'chat_room_id']).where('content', 'like', 'jointly%').orderBy('id').execute();
    assert.deepEqual(stored.map((m) => m.id).sort((x, y) => x - y), [plain.id, mention.id, first.id, other.id].sort((x, y) => x - y), 'nothing else was stored');
    assert.deepEqual(stored.map((m) => m.content), arrived.filter((c) => c !== (firstWon ? 'jointly, second of two' : 'jointly, first of two')), 'ids follow the order the sends reached the writer');
    const events = await t.ctx.db.selectFrom('events').select('message_id').where('type', '=', 'new_message').where('chat_room_id', '=', ab.id).orderBy('seq').execute();
    assert.deepEqual(events.map((e) => e.message_id), stored.filter((m) => m.chat_room_id === ab.id).map((m) => m.id), 'the room’s events in the order of its messages');
    const { results } = await ok(call(t, b, 'GET', '/api/notifications/'));
    assert.deepEqual(results.filter((n: { type: string }) => n.type === 'mention').map((n: { message: number }) => n.message), [mention.id]);
  });

  it('sends refused among sends that arrive together get their own answers; the others are stored', async () => {
    const [a, b, c] = await users(t, 3);
    const ab = await privateRoom(t, a, b);
    const bc = await privateRoom(t, b, c);
    const root = await send(t, a, ab.id, 'root');
    const reply = await send(t, b, ab.id, 'a reply', { thread: root.id });
    const elsewhere = await send(t, b, bc.id, 'elsewhere');
    const post = (user: typeof a, body: Record<string, unknown>) => () => call(t, user, 'POST', '/api/messages/', body);
    const { responses, batches } = await together([
      post(a, { chat_room: ab.id, content: 'mixed, stored' }),
      post(a, { chat_room: bc.id, content: 'mixed, not a member' }),
      post(a, { chat_room: ab.id, content: 'mixed, replying elsewhere', reply_to: elsewhere.id }),
      post(b, { chat_room: ab.id, content: 'mixed, in the thread of a reply', thread: reply.id }),
      post(a, { chat_room: ab.id, content: 'mixed, in the thread', thread: root.id }),
    ]);
    assert.equal(batches[0], 5, 'they were checked together first');
    assert.deepEqual(responses.map((r) => r.statusCode), [201, 404, 400, 400, 201], responses.map((r) => r.body).join('\n'));
    assert.ok(responses[2].json().reply_to, responses[2].body);
    assert.ok(responses[3].json().thread, responses[3].body);
    const stored = await t.ctx.db.selectFrom('messages').select('content').where('content', 'like', 'mixed%').orderBy('id').execute();
    assert.deepEqual(stored.map((m) => m.content), ['mixed, stored', 'mixed, in the thread']);
    const thread = await ok(call(t, a, 'GET', `/api/messages/?thread=${root.id}`));
    assert.deepEqual(thread.results.map((m: { content: string }) => m.content), ['a reply', 'mixed, in the thread']);
  });

  it('replies to one thread sent together store one change of its root, which shows every reply', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const root = await send(t, a, room.id, 'a thread');
    const watcher = await socketOf(t, b);
    try {
      const post = (content: string) => () => call(t, a, 'POST', '/api/messages/', { chat_room: room.id, content, thread: root.id });
      const { responses } = await together([post('reply 1'), post('reply 2'), post('reply 3')]);
      assert.deepEqual(responses.map((r) => r.statusCode), [201, 201, 201]);
      const events = await t.ctx.db.selectFrom('events').select(['type', 'message_id']).where('chat_room_id', '=', room.id).orderBy('seq').execute();
      const replies = responses.map((r) => r.json().id);
      assert.deepEqual(events.slice(-4).map((e) => [e.type, e.message_id]), [...replies.map((id) => ['new_message', id]), ['message_updated', root.id]]);
      const updated = await watcher.next((e) => e.type === 'message_updated' && e.message.id === root.id);
      assert.equal(updated.message.thread_summary.reply_count, 3);
    } finally {
      await watcher.close();
    }
  });
});
