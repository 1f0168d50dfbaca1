import type { Insertable } from 'kysely';
import { inJsonArray } from '../../db/dialect.js';
import { preparedQuery, type Param } from '../../db/prepared.js';
import type { Db, NotificationRow, NotificationsTable } from '../../db/schema.js';
import { fullName } from '../messages/messages.view.js';

const INSERT_CHUNK = 500;

export type MessageNotification = Pick<Insertable<NotificationsTable>, 'body' | 'chat_room_id' | 'message_id' | 'actor_id' | 'created_at'> & {
  chat_room_id: number;
  /** The sender, left out. */
  except: number;
  /** None but mentions when the room has more active members than this. */
  max_members: number;
  /** A JSON array of the mentioned members' ids: each gets a `mention` (with `mention_body`), muted or not. */
  mentioned: string;
  mention_body: string;
};

/** Who a room's notifications go to: its active members who have not muted it. */
const listeners = (db: Db, chatRoomId: number) =>
  db.selectFrom('memberships').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).where('is_muted', '=', 0);

/** Whether the room has more than `maxMembers` active members (reads at most maxMembers + 1 index entries). */
const isLargeRoom = (db: Db, chatRoomId: number, maxMembers: number) =>
  db.selectFrom('memberships').select('id').where('chat_room_id', '=', chatRoomId).where('is_active', '=', 1).limit(1).offset(maxMembers);

// One statement per message: a `mention` for each mentioned member, a `message` for every other
// active, unmuted member of a room that is not too large, never the sender (prepared once: see
// db/prepared.ts). The casts let PostgreSQL type the selected parameters.
const insertForMessage = preparedQuery((db, p: Param<MessageNotification>) =>
  db
    .insertInto('notifications')
    .columns(['type', 'body', 'chat_room_id', 'message_id', 'actor_id', 'created_at', 'user_id'])
    .expression((() => {
      const mentioned = inJsonArray(db, 'user_id', p('mentioned'), 'integer');
      return db
        .selectFrom('memberships')
        .select((eb) => [
          eb.case().when(mentioned).then(eb.val('mention')).else(eb.val('message')).end().as('type'),
          eb.case().when(mentioned).then(eb.val(p('mention_body'))).else(eb.val(p('body'))).end().as('body'),
          eb.cast<number>(eb.val(p('chat_room_id')), 'integer').as('chat_room_id'),
          eb.cast<number | null>(eb.val(p('message_id')), 'integer').as('message_id'),
          eb.cast<number | null>(eb.val(p('actor_id')), 'integer').as('actor_id'),
          eb.val(p('created_at')).as('created_at'),
          'user_id',
        ])
        .where('chat_room_id', '=', p('chat_room_id'))
        .where('is_active', '=', 1)
        .where('user_id', '<>', p('except'))
        .where((eb) => eb.or([mentioned, eb.and([eb('is_muted', '=', 0), eb.not(eb.exists(isLargeRoom(db, p('chat_room_id'), p('max_members'))))])]))
        .orderBy('user_id');
    })())
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

  /** The notifications of a new message (see insertForMessage), in user order. */
  async insertForMessage(db: Db, n: MessageNotification): Promise<NotificationRow[]> {
    return (await insertForMessage(db, n)).sort((a, b) => a.id - b.id);
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
