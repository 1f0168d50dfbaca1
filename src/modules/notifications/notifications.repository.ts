import type { Insertable } from 'kysely';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { Db, NotificationRow, NotificationsTable } from '../../db/schema.js';
import { fullName } from '../messages/messages.view.js';

const INSERT_CHUNK = 500;

export type AudienceNotification = Pick<Insertable<NotificationsTable>, 'type' | 'body' | 'chat_room_id' | 'message_id' | 'actor_id' | 'created_at'> & {
  chat_room_id: number;
  /** The one member left out (the sender). */
  except: number;
  /** None at all when the room has more active members than this. */
  max_members: number;
};

/** Who a room's notifications go to: its active members who have not muted it. */
const listeners = (db: Db, chatRoomId: number) =>
  db.selectFrom('memberships').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).where('is_muted', '=', 0);

/** Listeners of a room with at most `maxMembers` active members (the check reads at most maxMembers + 1 index entries). */
const listenersOfSmallRoom = (db: Db, chatRoomId: number, maxMembers: number) =>
  listeners(db, chatRoomId).where((eb) =>
    eb.not(
      eb.exists(
        db.selectFrom('memberships').select('id').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).limit(1).offset(maxMembers),
      ),
    ),
  );

// One statement per message: the notification of every active, unmuted member but the sender
// (prepared once: see db/prepared.ts). The casts let PostgreSQL type the selected parameters.
const insertForAudience = preparedQuery((db, p: Param<AudienceNotification>) =>
  db
    .insertInto('notifications')
    .columns(['type', 'body', 'chat_room_id', 'message_id', 'actor_id', 'created_at', 'user_id'])
    .expression(
      listenersOfSmallRoom(db, p('chat_room_id'), p('max_members'))
        .select((eb) => [
          eb.val(p('type')).as('type'),
          eb.val(p('body')).as('body'),
          eb.cast<number>(eb.val(p('chat_room_id')), 'integer').as('chat_room_id'),
          eb.cast<number | null>(eb.val(p('message_id')), 'integer').as('message_id'),
          eb.cast<number | null>(eb.val(p('actor_id')), 'integer').as('actor_id'),
          eb.val(p('created_at')).as('created_at'),
          'user_id',
        ])
        .where('user_id', '<>', p('except'))
        .orderBy('user_id'),
    )
    .returningAll(),
);

export const notificationsRepository = {
  /** Inserts in chunks, returning the rows in the order given. */
  async insertMany(db: Db, rows: Array<Insertable<NotificationsTable>>): Promise<NotificationRow[]> {
    const out: NotificationRow[] = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const inserted = await db.insertInto('notifications').values(rows.slice(i, i + INSERT_CHUNK)).returningAll().execute();
      out.push(...inserted.sort((a, b) => a.id - b.id));
    }
    return out;
  },

  /** A notification for each active member of the room who has not muted it, but `except`; in user order. None in a room larger than `max_members`. */
  async insertForAudience(db: Db, n: AudienceNotification): Promise<NotificationRow[]> {
    return (await insertForAudience(db, n)).sort((a, b) => a.id - b.id);
  },

  /** As insertForAudience, leaving out every user in `except` (a message that mentions people). */
  async insertForAudienceExcept(db: Db, n: Omit<AudienceNotification, 'except'>, except: number[]): Promise<NotificationRow[]> {
    const rows = await listenersOfSmallRoom(db, n.chat_room_id, n.max_members).select('user_id').where('user_id', 'not in', except).orderBy('user_id').execute();
    return this.insertMany(db, rows.map(({ user_id }) => ({ type: n.type, body: n.body, chat_room_id: n.chat_room_id, message_id: n.message_id, actor_id: n.actor_id, created_at: n.created_at, user_id })));
  },

  findOwn(db: Db, userId: number, id: number): Promise<NotificationRow | undefined> {
    return db.selectFrom('notifications').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  },

  /** The user's notifications, newest first. */
  async page(db: Db, userId: number, o: { isRead?: boolean; offset: number; limit: number }): Promise<{ count: number; rows: NotificationRow[] }> {
    let q = db.selectFrom('notifications').where('user_id', '=', userId);
    if (o.isRead !== undefined) q = q.where('is_read', '=', o.isRead ? 1 : 0);
    const [{ count }, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
      q.selectAll().orderBy('id', 'desc').offset(o.offset).limit(o.limit).execute(),
    ]);
    return { count: Number(count), rows };
  },

  setRead(db: Db, userId: number, id: number, isRead: boolean): Promise<NotificationRow | undefined> {
    return db
      .updateTable('notifications')
      .set({ is_read: isRead ? 1 : 0 })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
  },

  async markAllRead(db: Db, userId: number): Promise<number> {
    const res = await db.updateTable('notifications').set({ is_read: 1 }).where('user_id', '=', userId).where('is_read', '=', 0).executeTakeFirst();
    return Number(res.numUpdatedRows);
  },

  async deleteOwn(db: Db, userId: number, id: number): Promise<boolean> {
    const res = await db.deleteFrom('notifications').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  },

  async deleteForMessage(db: Db, messageId: number): Promise<void> {
    await db.deleteFrom('notifications').where('message_id', '=', messageId).execute();
  },

  /** Of `userIds` (or of every member when omitted), the active members of the room who have not muted it, minus `except`. */
  async audience(db: Db, chatRoomId: number, o: { only?: number[]; except?: number[] }): Promise<number[]> {
    if (o.only && o.only.length === 0) return [];
    let q = listeners(db, chatRoomId).select('user_id');
    if (o.only) q = q.where('user_id', 'in', o.only);
    if (o.except?.length) q = q.where('user_id', 'not in', o.except);
    return (await q.orderBy('user_id').execute()).map((r) => r.user_id);
  },

  /** Display names (first and last name, or the username) of the given users. */
  async names(db: Db, userIds: number[]): Promise<Map<number, string>> {
    if (userIds.length === 0) return new Map();
    const rows = await db.selectFrom('users').select(['id', 'first_name', 'last_name', 'username']).where('id', 'in', userIds).execute();
    return new Map(rows.map((r) => [r.id, fullName(r.first_name, r.last_name, r.username)]));
  },
};
