// The one place changes become events: written in the change's transaction, published on
// the bus only after it commits (a rolled-back change never reaches a client).
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { Db, EventRow } from '../../db/schema.js';
import type { Message } from '../messages/messages.schemas.js';
import type { Room } from '../rooms/rooms.schemas.js';
import { roomChannel, userChannel } from '../../realtime/channels.js';
import { appendEvent, lockEvents, serializeEvent } from './events.repository.js';

type MemberChange = { user: number; username: string; by: number };

/** Every event type and its fields (besides id, type, chat_room and created_at). */
export interface RoomEvents {
  room_created: { room: Static<typeof Room>; members: number[] };
  room_updated: { room: Static<typeof Room> };
  /** `members`: who belonged to it, since the room and its memberships are gone. */
  room_deleted: { members: number[]; by: number };
  member_joined: MemberChange;
  member_left: MemberChange;
  new_message: { message: Static<typeof Message> };
  message_updated: { message: Static<typeof Message> };
  message_deleted: { message: Static<typeof Message> };
  read: { user: number; message: number };
}

export type RoomEventType = keyof RoomEvents;


interface Queued {
  type: RoomEventType;
  chatRoomId: number;
  userId: number | null;
  messageId: number | null;
  payload: Record<string, unknown>;
  notifyUsers: number[];
}

/** The events of one transaction, appended to the log just before it commits. */
export class EventBatch {
  readonly queued: Queued[] = [];

  add<K extends RoomEventType>(
    type: K,
    at: { chatRoomId: number; userId?: number | null; messageId?: number | null; notifyUsers?: number[] },
    payload: RoomEvents[K],
  ): void {
    this.queued.push({ type, chatRoomId: at.chatRoomId, userId: at.userId ?? null, messageId: at.messageId ?? null, payload, notifyUsers: at.notifyUsers ?? [] });
  }
}

/**
 * Runs `work` in a transaction that holds the event-log lock from its first statement, so
 * the ids it allocates (events and messages) follow commit order and no transaction waits
 * for the lock while holding row locks. Returns `work`'s result after publishing.
 */
export async function withEvents<T>(ctx: AppContext, work: (trx: Db, events: EventBatch) => Promise<T>): Promise<T> {
  const batch = new EventBatch();
  const { result, written } = await ctx.db.transaction().execute(async (trx) => {
    await lockEvents(trx);
    const result = await work(trx, batch);
    const written: Array<{ row: EventRow; notifyUsers: number[] }> = [];
    const createdAt = nowIso();
    for (const e of batch.queued) {
      written.push({ row: await appendEvent(trx, { ...e, createdAt }), notifyUsers: e.notifyUsers });
    }
    return { result, written };
  });
  for (const { row, notifyUsers } of written) await publish(ctx, row, notifyUsers);
  return result;
}

/** Live delivery is best effort: the change is committed, and replay from the log covers a lost publish. */
async function publish(ctx: AppContext, row: EventRow, notifyUsers: number[]): Promise<void> {
  const wire = serializeEvent(row);
  const channels = [roomChannel(row.chat_room_id), ...[...new Set(notifyUsers)].map(userChannel)];
  // One event's channels in parallel, events one after another: a transaction's events arrive in
  // log order (concurrent transactions may publish out of order; subscribers go by event id).
  await Promise.all(
    channels.map((channel) =>
      ctx.bus.publish(channel, wire).catch((err) => ctx.log.warn({ err, eventId: row.id, channel }, 'publishing an event failed')),
    ),
  );
}
