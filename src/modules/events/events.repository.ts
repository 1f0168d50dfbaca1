// The durable, ordered event log. Rows are written in the transaction of the change they
// describe; their ids are the event ids clients see (live and on `?since=` replay).
import { lockEventLog } from '../../db/dialect.js';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { Db, EventRow } from '../../db/schema.js';

export interface NewEvent {
  chatRoomId: number;
  /** Who made the change, when a user did. */
  userId?: number | null;
  /** The message the event is about, so deleting it can scrub its earlier events. */
  messageId?: number | null;
  type: string;
  /** The event's own fields (a JSON object); id, type, chat_room and created_at are added. */
  payload: Record<string, unknown>;
  createdAt: string;
  /** Set for an event addressed to one user only (a notification); chatRoomId is then NO_ROOM. */
  recipientId?: number | null;
}

/** chat_room_id of events that belong to no room (those addressed to one user). */
export const NO_ROOM = 0;

const APPEND_CHUNK = 500;
/** Appends of up to this many rows (a send to a small room) use a statement prepared for that count. */
const PREPARED_ROWS = 8;

const eventValues = (e: NewEvent) => ({
  chat_room_id: e.chatRoomId,
  user_id: e.userId ?? null,
  message_id: e.messageId ?? null,
  type: e.type,
  payload: JSON.stringify(e.payload),
  created_at: e.createdAt,
  recipient_id: e.recipientId ?? null,
});

type EventValues = ReturnType<typeof eventValues>;
const COLUMNS = ['chat_room_id', 'user_id', 'message_id', 'type', 'payload', 'created_at', 'recipient_id'] as const;

// insertRows[n - 1]: the insert of n rows, parameters named `<row>.<column>` (see db/prepared.ts).
const insertRows = Array.from({ length: PREPARED_ROWS }, (_, last) =>
  preparedQuery((db, p: Param<Record<string, unknown>>) =>
    db
      .insertInto('events')
      .values(Array.from({ length: last + 1 }, (_, i) => Object.fromEntries(COLUMNS.map((c) => [c, p(`${i}.${c}`)])) as EventValues))
      .returningAll(),
  ),
);

function insertEvents(trx: Db, rows: EventValues[]): Promise<EventRow[]> {
  if (rows.length > PREPARED_ROWS) return trx.insertInto('events').values(rows).returningAll().execute();
  const params: Record<string, unknown> = {};
  rows.forEach((row, i) => {
    for (const c of COLUMNS) params[`${i}.${c}`] = row[c];
  });
  return insertRows[rows.length - 1](trx, params);
}

const locked = new WeakSet<object>();

/** Takes the event-log lock once per transaction (see lockEventLog). */
export async function lockEvents(trx: Db): Promise<void> {
  if (locked.has(trx)) return;
  await lockEventLog(trx);
  locked.add(trx);
}

/**
 * Appends events in order, several rows per statement (a message to a large group makes one
 * notification event per member). Returns the rows in the order given: under the event-log
 * lock ids are allocated in insertion order, so sorting by id restores it.
 */
export async function appendEvents(trx: Db, list: NewEvent[]): Promise<EventRow[]> {
  if (list.length === 0) return [];
  await lockEvents(trx);
  const out: EventRow[] = [];
  for (let i = 0; i < list.length; i += APPEND_CHUNK) {
    const rows = await insertEvents(trx, list.slice(i, i + APPEND_CHUNK).map(eventValues));
    out.push(...rows.sort((a, b) => a.id - b.id));
  }
  return out;
}

/**
 * The event as clients receive it, serialized once: `{"id","type","chat_room","created_at",...payload}`.
 * An event addressed to one user has no room of its own (its payload may carry `chat_room`).
 */
export function serializeEvent(row: EventRow): string {
  const room = row.recipient_id === null ? `"chat_room":${row.chat_room_id},` : '';
  const head = `{"id":${row.id},"type":${JSON.stringify(row.type)},${room}"created_at":${JSON.stringify(row.created_at)}`;
  return row.payload.length > 2 ? `${head},${row.payload.slice(1)}` : `${head}}`;
}

export const eventsRepository = {
  /** Replaces the payload of a message's earlier events (a deleted message's content must not survive in the log). */
  async scrubMessage(db: Db, messageId: number, types: string[], payload: Record<string, unknown>): Promise<void> {
    await db
      .updateTable('events')
      .set({ payload: JSON.stringify(payload) })
      .where('message_id', '=', messageId)
      .where('type', 'in', types)
      .execute();
  },

  /** Drops a deleted room's events: nobody can see them any more, and they hold its messages. */
  async deleteForRoom(db: Db, chatRoomId: number): Promise<void> {
    await db.deleteFrom('events').where('chat_room_id', '=', chatRoomId).execute();
  },
};
