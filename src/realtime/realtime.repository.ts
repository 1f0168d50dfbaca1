import type { Db } from '../db/schema.js';

export const realtimeRepository = {
  /** The active members of a room. */
  async memberIds(db: Db, chatRoomId: number): Promise<number[]> {
    const rows = await db.selectFrom('memberships').select('user_id').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).execute();
    return rows.map((r) => r.user_id);
  },

  async setLastSeen(db: Db, userId: number, at: string): Promise<void> {
    await db.updateTable('users').set({ last_seen: at }).where('id', '=', userId).execute();
  },
};
