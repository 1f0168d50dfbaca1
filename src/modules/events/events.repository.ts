// The durable, ordered event log. Rows are written in the transaction of the change they
// describe; their ids are the event ids clients see (live and on `?since=` replay).
import { lockEventLog } from '../../db/dialect.js';
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
}

const locked = new WeakSet<object>();

/** Takes the event-log lock once per transaction (see lockEventLog). */
export async function lockEvents(trx: Db): Promise<void> {
  if (locked.has(trx)) return;
  await lockEventLog(trx);
  locked.add(trx);
}

/** Appends one event; `trx` must be the transaction making the change. */
export async function appendEvent(trx: Db, e: NewEvent): Promise<EventRow> {
  await lockEvents(trx);
  return trx
    .insertInto('events')
    .values({
      chat_room_id: e.chatRoomId,
      user_id: e.userId ?? null,
      message_id: e.messageId ?? null,
      type: e.type,
      payload: JSON.stringify(e.payload),
      created_at: e.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The event as clients receive it, serialized once: `{"id","type","chat_room","created_at",...payload}`. */
export function serializeEvent(row: EventRow): string {
  const head = `{"id":${row.id},"type":${JSON.stringify(row.type)},"chat_room":${row.chat_room_id},"created_at":${JSON.stringify(row.created_at)}`;
  return row.payload.length > 2 ? `${head},${row.payload.slice(1)}` : `${head}}`;
}

export const eventsRepository = {
  /** Events after `afterId` in the given rooms, oldest first (for replay). */
  listAfter(db: Db, opts: { afterId: number; roomIds: number[]; limit: number }): Promise<EventRow[]> {
    if (opts.roomIds.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', opts.afterId)
      .where('chat_room_id', 'in', opts.roomIds)
      .orderBy('id')
      .limit(opts.limit)
      .execute();
  },

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
