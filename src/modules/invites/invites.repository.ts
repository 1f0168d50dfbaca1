import type { ExpressionBuilder, Insertable } from 'kysely';
import type { DB, Db, RoomInviteRow, RoomInvitesTable } from '../../db/schema.js';

/** Usable at `now`: not revoked, not expired, not used up. Times are ISO-8601 text, which compares in time order. */
const usable = (now: string) => (eb: ExpressionBuilder<DB, 'room_invites'>) =>
  eb.and([
    eb('revoked_at', 'is', null),
    eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
    eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]),
  ]);

export const invitesRepository = {
  insert(db: Db, invite: Insertable<RoomInvitesTable>): Promise<RoomInviteRow> {
    return db.insertInto('room_invites').values(invite).returningAll().executeTakeFirstOrThrow();
  },

  /** The invite with this code if it can still be used at `now`. */
  findUsable(db: Db, code: string, now: string): Promise<RoomInviteRow | undefined> {
    return db.selectFrom('room_invites').selectAll().where('code', '=', code).where(usable(now)).executeTakeFirst();
  },

  /** One page of a room's usable invites, newest first, and their number. */
  async usablePage(db: Db, chatRoomId: number, now: string, o: { offset: number; limit: number }): Promise<{ count: number; rows: RoomInviteRow[] }> {
    const q = db.selectFrom('room_invites').where('chat_room_id', '=', chatRoomId).where(usable(now));
    const [total, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      q.selectAll().orderBy('id', 'desc').offset(o.offset).limit(o.limit).execute(),
    ]);
    return { count: Number(total.n), rows };
  },

  /** Counts one use if the invite is still usable; false when it is not (used up meanwhile). */
  async countUse(db: Db, id: number, now: string): Promise<boolean> {
    const res = await db
      .updateTable('room_invites')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', id)
      .where(usable(now))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  /** Revokes a usable invite of the room; false when there is none with this code. */
  async revoke(db: Db, chatRoomId: number, code: string, now: string): Promise<boolean> {
    const res = await db
      .updateTable('room_invites')
      .set({ revoked_at: now })
      .where('chat_room_id', '=', chatRoomId)
      .where('code', '=', code)
      .where(usable(now))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },
};
