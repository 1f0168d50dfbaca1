// The durable, ordered event log: every change's events are appended in the change's own
// transaction; live delivery, `?since=` replay and pruning all read it here. Event ids come from
// the table's sequence (no lock); a room's events also get `seq`, taken under the room row's lock.
import { sql } from 'kysely';
import { forUpdate, isPostgres } from '../../db/dialect.js';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { Db, EventRow } from '../../db/schema.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { messageView } from '../messages/messages.view.js';
import { MESSAGE_EVENTS, type Emitted } from './events.types.js';

/**
 * The latest `seq` of each room a transaction holds locked (or has written events to), and the
 * rooms whose latest seq is not yet written to their row: a batch's seqs are counted here and
 * written once, before it commits (writeSeqs), not by one update per change.
 */
export class RoomSeqs {
  readonly latest = new Map<number, number>();
  readonly unwritten = new Set<number>();
}

const APPEND_CHUNK = 500;
/** Departures (anyone's) a resume reads at most to find the caller's; beyond it, the socket resyncs. */
const DEPARTURES_SCAN_MAX = 10_000;
/** Appends of up to this many rows (a send to a small room) use a statement prepared for that count. */
const PREPARED_ROWS = 8;
const COLUMNS = ['chat_room_id', 'user_id', 'message_id', 'type', 'payload', 'created_at', 'recipient_id', 'seq'] as const;

export type EventValues = Record<(typeof COLUMNS)[number], unknown>;

// insertRows[n - 1]: the insert of n rows, parameters named `<row>.<column>` (see db/prepared.ts).
const insertRows = Array.from({ length: PREPARED_ROWS }, (_, last) =>
  preparedQuery((db, p: Param<Record<string, unknown>>) =>
    db
      .insertInto('events')
      .values(Array.from({ length: last + 1 }, (_, i) => Object.fromEntries(COLUMNS.map((c) => [c, p(`${i}.${c}`)])) as never))
      .returningAll(),
  ),
);

function insertEvents(trx: Db, rows: EventValues[]): Promise<EventRow[]> {
  if (rows.length > PREPARED_ROWS) return trx.insertInto('events').values(rows as never).returningAll().execute();
  const params: Record<string, unknown> = {};
  rows.forEach((row, i) => {
    for (const c of COLUMNS) params[`${i}.${c}`] = row[c];
  });
  return insertRows[rows.length - 1](trx, params);
}

/** What the log stores of an event's fields: a message event keeps only its message id (in its own column). */
function storedPayload(e: Emitted): string {
  if (!MESSAGE_EVENTS.has(e.type)) return JSON.stringify(e.payload);
  const { message: _message, ...rest } = e.payload as { message: unknown };
  return JSON.stringify(rest);
}

const bumpSeq = preparedQuery((db, p: Param<{ id: number; n: number }>) =>
  db
    .updateTable('chat_rooms')
    .set((eb) => ({ event_seq: eb('event_seq', '+', p('n')) }))
    .where('id', '=', p('id'))
    .returning('event_seq'),
);

/** A `message_updated` without the message: the log tail reads the message when it sends the event. */
const readWhenSent = (e: Emitted) => e.type === 'message_updated' && e.messageId !== null && (e.payload as { message?: unknown }).message === undefined;

export const eventLog = {
  /**
   * A batch's events, per change, without the repeats: of several changes of one message read
   * when sent (a thread root's summary), only the last is kept, since each would be sent with
   * the row as it is then, the same for all.
   */
  withoutRepeats(perChange: Emitted[][]): Emitted[][] {
    const last = new Map<number, Emitted>();
    for (const events of perChange) for (const e of events) if (readWhenSent(e)) last.set(e.messageId!, e);
    if (last.size === 0) return perChange;
    return perChange.map((events) => events.filter((e) => !readWhenSent(e) || last.get(e.messageId!) === e));
  },

  /**
   * Locks the rooms' rows until the transaction ends, in id order (so two transactions never
   * wait on each other in a cycle), and returns their latest seqs. On PostgreSQL this also gives
   * the transaction its id before any event id is drawn, which the log's read position relies on.
   */
  async lockRooms(trx: Db, ids: number[]): Promise<RoomSeqs> {
    const seqs = new RoomSeqs();
    if (ids.length === 0) return seqs;
    const rows = await forUpdate(trx, trx.selectFrom('chat_rooms').select(['id', 'event_seq']).where('id', 'in', ids).orderBy('id')).execute();
    for (const r of rows) seqs.latest.set(r.id, Number(r.event_seq));
    return seqs;
  },

  /** Writes the rooms' seqs counted in memory since they were locked (one statement), before the commit. */
  async writeSeqs(trx: Db, seqs: RoomSeqs): Promise<void> {
    if (seqs.unwritten.size === 0) return;
    const rooms = [...seqs.unwritten];
    const latest = rooms.map((r) => seqs.latest.get(r)!);
    seqs.unwritten.clear();
    if (isPostgres(trx)) {
      await sql`update chat_rooms c set event_seq = v.seq from unnest(${rooms}::integer[], ${latest}::bigint[]) as v(id, seq) where c.id = v.id`.execute(trx);
    } else {
      await sql`update chat_rooms set event_seq = v.seq from (select value ->> 0 as id, value ->> 1 as seq from json_each(${JSON.stringify(rooms.map((r, i) => [r, latest[i]]))})) v where chat_rooms.id = v.id`.execute(trx);
    }
  },

  /**
   * One unit of work's events as log rows, in order, with their seqs: a room's events take its
   * next seqs, counted in `seqs` for a room the transaction holds locked (written by writeSeqs
   * before the commit), or else taken by an update of the room's row, which locks it. A room
   * deleted in this transaction continues from the seq it had when locked. Nothing is inserted
   * yet: a batch's rows go in by one `insert` (below).
   */
  async sequence(trx: Db, events: Emitted[], createdAt: string, seqs: RoomSeqs): Promise<EventValues[]> {
    const perRoom = new Map<number, number>();
    for (const e of events) if (e.recipientId === null) perRoom.set(e.chatRoomId, (perRoom.get(e.chatRoomId) ?? 0) + 1);
    const next = new Map<number, number>();
    for (const [room, n] of perRoom) {
      const locked = seqs.latest.get(room);
      let last: number;
      if (locked !== undefined) {
        last = locked + n;
        seqs.unwritten.add(room);
      } else {
        const [row] = await bumpSeq(trx, { id: room, n });
        last = row ? Number(row.event_seq) : n;
      }
      seqs.latest.set(room, last);
      next.set(room, last - n + 1);
    }
    return events.map((e) => {
      const seq = e.recipientId === null ? next.get(e.chatRoomId)! : null;
      if (seq !== null) next.set(e.chatRoomId, seq + 1);
      return {
        chat_room_id: e.chatRoomId,
        user_id: e.userId,
        message_id: e.messageId,
        type: e.type,
        payload: storedPayload(e),
        created_at: createdAt,
        recipient_id: e.recipientId,
        seq,
      };
    });
  },

  /**
   * Inserts rows made by `sequence` (a whole batch's), returned in the same order. On
   * PostgreSQL the transaction must have its id before it draws event ids (log-position.ts): a
   * transaction that locked or bumped no room takes one first.
   */
  async insert(trx: Db, values: EventValues[], seqs: RoomSeqs): Promise<EventRow[]> {
    if (values.length === 0) return [];
    if (seqs.latest.size === 0 && isPostgres(trx)) await sql`select pg_current_xact_id()`.execute(trx);
    const out: EventRow[] = [];
    for (let i = 0; i < values.length; i += APPEND_CHUNK) {
      const rows = await insertEvents(trx, values.slice(i, i + APPEND_CHUNK));
      // One statement draws its ids in the order of its rows.
      out.push(...rows.sort((a, b) => a.id - b.id));
    }
    return out;
  },

  /** Every event after `after` and at most `upto` (all rooms and recipients), oldest first. */
  range(db: Db, after: number, upto: number, limit: number): Promise<EventRow[]> {
    return db.selectFrom('events').selectAll().where('id', '>', after).where('id', '<=', upto).orderBy('id').limit(limit).execute();
  },

  /**
   * The events one user may replay after `after` (up to `upto`), oldest first: the room events
   * of `roomIds` and the events addressed to `recipientId` — never another user's.
   */
  forUser(db: Db, q: { after: number; upto: number; roomIds: number[]; recipientId: number; limit: number }): Promise<EventRow[]> {
    return db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', q.after)
      .where('id', '<=', q.upto)
      .where((eb) =>
        eb.or([
          ...(q.roomIds.length ? [eb.and([eb('chat_room_id', 'in', q.roomIds), eb('recipient_id', 'is', null)])] : []),
          eb('recipient_id', '=', q.recipientId),
        ]),
      )
      .orderBy('id')
      .limit(q.limit)
      .execute();
  },

  /**
   * The `member_left` of `userId` and the `room_deleted` of rooms they belonged to, in (after, upto]
   * and outside `roomIds`: a device resuming learns of the rooms it lost while away (its other
   * devices' leaves, removals, deletions), which it no longer follows. Reads the partial index of
   * departures only; null when the range holds more departures (of anyone) than it reads.
   */
  async departures(db: Db, q: { after: number; upto: number; roomIds: number[]; userId: number }): Promise<EventRow[] | null> {
    const rows = await db
      .selectFrom('events')
      .selectAll()
      // Literals, not parameters: SQLite uses a partial index only for terms it can read when planning.
      .where(sql.ref('type'), 'in', [sql.lit('member_left'), sql.lit('room_deleted')])
      .where('id', '>', q.after)
      .where('id', '<=', q.upto)
      .orderBy('id')
      .limit(DEPARTURES_SCAN_MAX + 1)
      .execute();
    if (rows.length > DEPARTURES_SCAN_MAX) return null;
    const following = new Set(q.roomIds);
    return rows.filter((r) => {
      if (following.has(r.chat_room_id)) return false;
      const p = JSON.parse(r.payload) as { user?: number; members?: number[] };
      return r.type === 'member_left' ? p.user === q.userId : (p.members ?? []).includes(q.userId);
    });
  },

  async lastId(db: Db): Promise<number> {
    const row = await db.selectFrom('events').select((eb) => eb.fn.max<number>('id').as('id')).executeTakeFirst();
    return row?.id ?? 0;
  },

  async oldestId(db: Db): Promise<number | null> {
    const row = await db.selectFrom('events').select((eb) => eb.fn.min<number>('id').as('id')).executeTakeFirst();
    return row?.id ?? null;
  },

  async prune(db: Db, before: string): Promise<number> {
    const res = await db.deleteFrom('events').where('created_at', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  /** Drops a deleted room's events: nobody can see them any more. */
  async deleteForRoom(db: Db, chatRoomId: number): Promise<void> {
    await db.deleteFrom('events').where('chat_room_id', '=', chatRoomId).execute();
  },

  /**
   * An event as clients receive it, from the row just appended and the event as emitted (a
   * message event carries the message the change wrote: no read needed). Null for a message
   * event emitted without its message: `wire` reads it.
   */
  wireOf(row: EventRow, event: Emitted): string | null {
    if (!MESSAGE_EVENTS.has(row.type)) return serialize(row);
    const { message } = event.payload as { message?: unknown };
    return message === undefined ? null : serialize(row, JSON.stringify(message));
  },

  /**
   * The events as clients receive them, each serialized once. A message event carries its
   * message as it is now (an edit or delete since shows; the replaced text is nowhere in the log);
   * one whose message is gone with its room is dropped (the room's `room_deleted` follows).
   */
  async wire(db: Db, rows: EventRow[]): Promise<Array<{ row: EventRow; wire: string }>> {
    const ids = [...new Set(rows.filter((r) => MESSAGE_EVENTS.has(r.type) && r.message_id !== null).map((r) => r.message_id!))];
    const messages = new Map((await messagesRepository.findByIds(db, ids)).map((m) => [m.id, JSON.stringify(messageView(m))]));
    const out: Array<{ row: EventRow; wire: string }> = [];
    for (const row of rows) {
      if (!MESSAGE_EVENTS.has(row.type)) out.push({ row, wire: serialize(row) });
      else {
        const message = row.message_id === null ? undefined : messages.get(row.message_id);
        if (message !== undefined) out.push({ row, wire: serialize(row, message) });
      }
    }
    return out;
  },
};

/**
 * `{"id","type","chat_room","seq","created_at",...payload}` (and `"message"` for a message event).
 * An event addressed to one user has no room of its own (its payload may carry `chat_room`).
 */
function serialize(row: EventRow, message?: string): string {
  const room = row.recipient_id === null ? `"chat_room":${row.chat_room_id},"seq":${row.seq},` : '';
  let out = `{"id":${row.id},"type":${JSON.stringify(row.type)},${room}"created_at":${JSON.stringify(row.created_at)}`;
  if (message !== undefined) out += `,"message":${message}`;
  return row.payload.length > 2 ? `${out},${row.payload.slice(1)}` : `${out}}`;
}
