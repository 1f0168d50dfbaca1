import type { Db, RoomBanRow } from '../../db/schema.js';

export type BanWithNames = RoomBanRow & { username: string; banned_by_username: string | null };

export const bansRepository = {
  /** A user who can be banned: any account not deleted (a deactivated one too, should it come back). */
  account(db: Db, userId: number): Promise<{ id: number; username: string } | undefined> {
    return db.selectFrom('users').select(['id', 'username']).where('id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  },

  /** Whether `userId` is banned from the room: a banned user cannot join, be added or use an invite. */
  async isBanned(db: Db, chatRoomId: number, userId: number): Promise<boolean> {
    const row = await db.selectFrom('room_bans').select('id').where('chat_room_id', '=', chatRoomId).where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  },

  /** Bans (or re-bans, with the new reason) `userId`. */
  async upsert(db: Db, b: { chat_room_id: number; user_id: number; banned_by: number; reason: string; created_at: string }): Promise<void> {
    await db
      .insertInto('room_bans')
      .values(b)
      .onConflict((oc) => oc.columns(['chat_room_id', 'user_id']).doUpdateSet({ banned_by: b.banned_by, reason: b.reason, created_at: b.created_at }))
      .execute();
  },

  /** Lifts a ban; false when there was none. */
  async remove(db: Db, chatRoomId: number, userId: number): Promise<boolean> {
    const res = await db.deleteFrom('room_bans').where('chat_room_id', '=', chatRoomId).where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  },

  /** One page of a room's bans, newest first, and their number. */
  async page(db: Db, chatRoomId: number, o: { offset: number; limit: number }): Promise<{ count: number; rows: BanWithNames[] }> {
    const [total, rows] = await Promise.all([
      db.selectFrom('room_bans').select((eb) => eb.fn.countAll<number>().as('n')).where('chat_room_id', '=', chatRoomId).executeTakeFirstOrThrow(),
      db
        .selectFrom('room_bans as b')
        .innerJoin('users as u', 'u.id', 'b.user_id')
        .leftJoin('users as by', 'by.id', 'b.banned_by')
        .selectAll('b')
        .select(['u.username', 'by.username as banned_by_username'])
        .where('b.chat_room_id', '=', chatRoomId)
        .orderBy('b.id', 'desc')
        .offset(o.offset)
        .limit(o.limit)
        .execute(),
    ]);
    return { count: Number(total.n), rows };
  },
};
