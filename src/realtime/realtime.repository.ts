import type { Db, EventRow } from '../db/schema.js';

export const realtimeRepository = {
  async activeRoomIds(db: Db, userId: number): Promise<number[]> {
    const rows = await db.selectFrom('memberships').select('chat_room_id').where('user_id', '=', userId).where('is_active', '=', 1).execute();
    return rows.map((r) => r.chat_room_id);
  },

  /** The active members of a room. */
  async memberIds(db: Db, chatRoomId: number): Promise<number[]> {
    const rows = await db.selectFrom('memberships').select('user_id').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).execute();
    return rows.map((r) => r.user_id);
  },

  /** Users who share an active room with `userId` (not themselves). */
  async roomMates(db: Db, userId: number): Promise<number[]> {
    const rows = await db
      .selectFrom('memberships as mine')
      .innerJoin('memberships as other', 'other.chat_room_id', 'mine.chat_room_id')
      .select('other.user_id')
      .distinct()
      .where('mine.user_id', '=', userId)
      .where('mine.is_active', '=', 1)
      .where('other.is_active', '=', 1)
      .where('other.user_id', '!=', userId)
      .execute();
    return rows.map((r) => r.user_id);
  },

  /**
   * Events after `afterId`, oldest first, at most `limit`: the room events of the given rooms,
   * and the events addressed to `recipientId` (notifications) when given. An event addressed to
   * a user is never returned for anyone else.
   */
  eventsAfter(db: Db, afterId: number, roomIds: number[], limit: number, recipientId?: number): Promise<EventRow[]> {
    if (roomIds.length === 0 && recipientId === undefined) return Promise.resolve([]);
    return db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', afterId)
      .where((eb) =>
        eb.or([
          ...(roomIds.length ? [eb.and([eb('chat_room_id', 'in', roomIds), eb('recipient_id', 'is', null)])] : []),
          ...(recipientId !== undefined ? [eb('recipient_id', '=', recipientId)] : []),
        ]),
      )
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  async oldestEventId(db: Db): Promise<number | null> {
    const row = await db.selectFrom('events').select((eb) => eb.fn.min<number>('id').as('id')).executeTakeFirst();
    return row?.id ?? null;
  },

  async pruneEvents(db: Db, before: string): Promise<number> {
    const res = await db.deleteFrom('events').where('created_at', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  async setLastSeen(db: Db, userId: number, at: string): Promise<void> {
    await db.updateTable('users').set({ last_seen: at }).where('id', '=', userId).execute();
  },
};
